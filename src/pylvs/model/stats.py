"""Traffic counters and the IPVS rate estimator, with the kernel's exact integer math.

`Counters` are the five per-service / per-destination counters of `struct ip_vs_counters`
(include/net/ip_vs.h): connections scheduled, packets and bytes in (client -> real server) and
out (real server -> client).  `Estimator` reproduces net/netfilter/ipvs/ip_vs_est.c (reference
§1.7): every 2 seconds it samples the counters and keeps an exponentially weighted average

    rate = delta_count << 9     (conns, packets: per second, scaled by 2**10)
    rate = delta_bytes << 4     (bytes: per second, scaled by 2**5)
    avg += (rate - avg) >> 2    (weight 1/4; the subtraction is signed 64-bit)

and `ipvsadm --rate` reads `(avg + 0x1FF) >> 10` (conns, packets) and `(avg + 0xF) >> 5`
(bytes).  `-Z` zeroes the counters and the estimator state (ip_vs_zero_stats).

Time is an argument: `tick(now)` runs as many 2-second samples as have elapsed since the
last one, so a late housekeeping timer still produces the kernel's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

EST_INTERVAL = 2.0  # seconds between samples (ip_vs_est.c: "every 2 seconds")

_U64 = (1 << 64) - 1


def _s64(value: int) -> int:
    """`value` wrapped to a signed 64-bit integer, as the kernel's (s64) casts do."""
    value &= _U64
    return value - (1 << 64) if value >> 63 else value


def _u64(value: int) -> int:
    return value & _U64


class Counters:
    """conns / inpkts / outpkts / inbytes / outbytes (struct ip_vs_counters)."""

    __slots__ = ("conns", "inbytes", "inpkts", "outbytes", "outpkts")

    def __init__(self) -> None:
        self.conns = 0
        self.inpkts = 0
        self.outpkts = 0
        self.inbytes = 0
        self.outbytes = 0

    def zero(self) -> None:
        self.conns = self.inpkts = self.outpkts = self.inbytes = self.outbytes = 0

    def values(self) -> CounterValues:
        return CounterValues(self.conns, self.inpkts, self.outpkts, self.inbytes, self.outbytes)

    def __repr__(self) -> str:
        return f"Counters({self.values()})"


@dataclass(frozen=True, slots=True)
class CounterValues:
    """A snapshot of `Counters` (what `ipvsadm -L --stats` prints)."""

    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0


@dataclass(frozen=True, slots=True)
class Rates:
    """What `ipvsadm -L --rate` prints: CPS, InPPS, OutPPS, InBPS, OutBPS."""

    cps: int = 0
    inpps: int = 0
    outpps: int = 0
    inbps: int = 0
    outbps: int = 0


class Estimator:
    """The 2-second EWMA of ip_vs_est.c over one `Counters`."""

    __slots__ = (
        "counters",
        "cps",
        "inbps",
        "inpps",
        "last_conns",
        "last_inbytes",
        "last_inpkts",
        "last_outbytes",
        "last_outpkts",
        "next_sample",
        "outbps",
        "outpps",
    )

    def __init__(self, counters: Counters, now: float) -> None:
        self.counters = counters
        self.next_sample = now + EST_INTERVAL
        self._reset_state()

    def _reset_state(self) -> None:
        c = self.counters
        self.last_conns = c.conns
        self.last_inpkts = c.inpkts
        self.last_outpkts = c.outpkts
        self.last_inbytes = c.inbytes
        self.last_outbytes = c.outbytes
        # The scaled averages (u64 in struct ip_vs_estimator).
        self.cps = 0
        self.inpps = 0
        self.outpps = 0
        self.inbps = 0
        self.outbps = 0

    def tick(self, now: float) -> float:
        """Run every 2 s sample due at or before `now`; returns the next sample's deadline."""
        while now >= self.next_sample:
            self.sample()
            self.next_sample += EST_INTERVAL
        return self.next_sample

    def sample(self) -> None:
        """One estimation step (ip_vs_est.c estimation_timer / ip_vs_chain_estimation)."""
        c = self.counters
        self.cps = _ewma(self.cps, (c.conns - self.last_conns) << 9)
        self.inpps = _ewma(self.inpps, (c.inpkts - self.last_inpkts) << 9)
        self.outpps = _ewma(self.outpps, (c.outpkts - self.last_outpkts) << 9)
        self.inbps = _ewma(self.inbps, (c.inbytes - self.last_inbytes) << 4)
        self.outbps = _ewma(self.outbps, (c.outbytes - self.last_outbytes) << 4)
        self.last_conns = c.conns
        self.last_inpkts = c.inpkts
        self.last_outpkts = c.outpkts
        self.last_inbytes = c.inbytes
        self.last_outbytes = c.outbytes

    def rates(self) -> Rates:
        """The read-out of ip_vs_read_estimator: rounded per-second rates."""
        return Rates(
            cps=_u64(self.cps + 0x1FF) >> 10,
            inpps=_u64(self.inpps + 0x1FF) >> 10,
            outpps=_u64(self.outpps + 0x1FF) >> 10,
            inbps=_u64(self.inbps + 0xF) >> 5,
            outbps=_u64(self.outbps + 0xF) >> 5,
        )

    def zero(self, now: float) -> None:
        """ip_vs_zero_estimator: forget the averages; the next sample is 2 s from `now`."""
        self._reset_state()
        self.next_sample = now + EST_INTERVAL


def _ewma(avg: int, rate: int) -> int:
    # avg += ((s64)rate - (s64)avg) >> 2, stored back into a u64.
    return _u64(avg + (_s64(_s64(rate) - _s64(avg)) >> 2))


class Stats:
    """Counters, their estimator and the proxy's error count for one service or destination.

    `errors` is not a kernel counter: it counts connections the user-space proxy had to reset
    because the real server refused, was unreachable or did not answer in time.
    """

    __slots__ = ("counters", "errors", "estimator")

    def __init__(self, now: float) -> None:
        self.counters = Counters()
        self.estimator = Estimator(self.counters, now)
        self.errors = 0

    def tick(self, now: float) -> float:
        return self.estimator.tick(now)

    def rates(self) -> Rates:
        return self.estimator.rates()

    def values(self) -> CounterValues:
        return self.counters.values()

    def zero(self, now: float) -> None:
        """`ipvsadm -Z`: counters, estimator and errors back to zero."""
        self.counters.zero()
        self.estimator.zero(now)
        self.errors = 0
