"""The shared ServiceRuntime, filled from the kernel's IPVS instead of counted by pylvs.

The kernel schedules, counts and estimates; what a read of its table reports is put into
the same runtime objects the other planes fill (`ServiceRuntime`, `Destination`, `Stats`), so
`ipvsadm -L --stats --rate`, `status` and the snapshot read them as they read the proxy's.
`KernelStats` carries the kernel's rates as reported (ip_vs_est.c has already averaged and
rounded them) instead of running pylvs's estimator over the counters.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.dest import Destination
from pylvs.model.service import RealServer, VirtualService
from pylvs.model.stats import EST_INTERVAL, CounterValues, Rates, Stats


class KernelStats(Stats):
    """Counters and rates as the kernel last reported them."""

    __slots__ = ("_rates",)

    def __init__(self, now: float) -> None:
        super().__init__(now)
        self._rates = Rates()

    def put(self, values: CounterValues, rates: Rates) -> None:
        c = self.counters
        c.conns, c.inpkts, c.outpkts = values.conns, values.inpkts, values.outpkts
        c.inbytes, c.outbytes = values.inbytes, values.outbytes
        self._rates = rates

    def tick(self, now: float) -> float:
        return now + EST_INTERVAL  # the kernel runs the estimator

    def rates(self) -> Rates:
        return self._rates

    def zero(self, now: float) -> None:
        super().zero(now)
        self._rates = Rates()


class KernelServiceRuntime(ServiceRuntime):
    """A service as the kernel holds it; `mirror` puts a read of the kernel into it."""

    stats_class = KernelStats

    def mirror(
        self,
        service: VirtualService,
        dests: Sequence[tuple[RealServer, tuple[int, int, int], CounterValues, Rates]],
        values: CounterValues,
        rates: Rates,
        now: float,
    ) -> None:
        """The service, its dests in the kernel's list order (config, active / inactive /
        persistent counts, counters, rates) and its own counters and rates."""
        if service != self.service:
            self.edit(service)
        known = {d.key: d for d in self.all_dests()}
        ordered: list[Destination] = []
        for config, (active, inactive, persistent), d_values, d_rates in dests:
            dest = known.pop(config.key, None)
            if dest is None:
                dest = self.add_dest(config, now)
                self.dests.remove(dest)
            elif dest.config != config:
                dest.update(config)
            dest.available = True
            dest.recount(active, inactive, persistent)
            self._kernel_stats(dest).put(d_values, d_rates)
            ordered.append(dest)
        # What the kernel no longer lists is gone (it keeps deleted dests with connections
        # in a trash of its own, which it does not report).
        for gone in known.values():
            self._dest_stats.pop(gone, None)
        self.dests = ordered
        self._reindex()
        self.trash = []
        self.scheduler.rebuild(self.dests)
        stats = self.stats
        assert isinstance(stats, KernelStats)
        stats.put(values, rates)

    def _kernel_stats(self, dest: Destination) -> KernelStats:
        stats = self.stats_of(dest)
        assert isinstance(stats, KernelStats)
        return stats
