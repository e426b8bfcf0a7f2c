"""The proxy's descriptors: the process limit raised at start, a cap below it, and what
happens at the cap.

At start (`raise_limit`) the soft RLIMIT_NOFILE goes up to what the proxy needs, at most the
hard limit, as HAProxy does (haproxy.c, 2.6: `rlimit_nofile = maxsock`, where maxsock is
2 x maxconn plus its listeners, checks and CLI; with no maxconn set, maxconn is derived from
the hard limit, so the soft limit goes up to it).  IPVS has no maxconn: without one the proxy
takes the hard limit.

`Descriptors` counts the proxy's own sockets (the two ends of each relay, one per UDP flow)
against a cap: the soft limit, less what the rest of the daemon has open (measured from
/proc/self/fd, at start, on each `keep_free` and whenever the cap is hit), less the
daemon's reserve (pylvs.dataplane.descriptors).  At the cap the TCP listeners stop accepting,
as HAProxy's listeners do at maxconn: new clients wait in the kernel's listen backlog
instead of taking the descriptors health checks need, and are accepted as relays end; a new
UDP flow is dropped.  Reaching the cap is logged once, and so is the recovery.
"""

from __future__ import annotations

import logging
import os
import resource
from collections.abc import Callable

log = logging.getLogger("pylvs.proxy")

# Kept free when nothing says more (a plane used without a daemon around it).
DEFAULT_RESERVE = 32
# What the kernel allows at most when the hard limit is "unlimited" (fs.nr_open's default).
NR_OPEN = 1 << 20
# Relays that must fit before paused listeners resume: a listener woken for one connection
# that hits the cap again at once would only spin.
RESUME_GAP = 4


def raise_limit(maxconn: int | None = None, reserve: int = DEFAULT_RESERVE) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to 2 x `maxconn` + the open descriptors + `reserve`
    (None: to the hard limit), never above the hard limit nor below where it is.
    Returns (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = NR_OPEN if hard == resource.RLIM_INFINITY else hard
    want = ceiling
    if maxconn is not None:
        want = min(ceiling, 2 * maxconn + open_descriptors() + reserve)
    if soft != resource.RLIM_INFINITY and want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (OSError, ValueError) as exc:
            log.warning("proxy: cannot raise the descriptor limit %d to %d: %s", soft, want, exc)
            return soft, soft
        log.info("proxy: descriptor limit raised from %d to %d", soft, want)
        return soft, want
    return soft, soft


def open_descriptors() -> int:
    """How many descriptors the process has open (not counting the one this count uses)."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1
    except OSError:
        return 0


def soft_limit() -> int:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else NR_OPEN


class Descriptors:
    """The proxy's own descriptors against its cap (`take`, `give`), and the listeners that
    wait for descriptors (`wait`)."""

    def __init__(
        self,
        *,
        limit: Callable[[], int] = soft_limit,
        count: Callable[[], int] = open_descriptors,
    ) -> None:
        self._limit = limit
        self._count = count
        self.reserve = DEFAULT_RESERVE
        self.own = 0  # sockets of relays and flows open now (and reserved for a connect)
        self.cap = 1 << 30  # until measured
        self.full = False
        self.reached = 0  # times the cap was reached (metrics)
        self._waiting: list[Callable[[], None]] = []

    def keep_free(self, reserve: int) -> None:
        """Keep `reserve` descriptors free on top of what the rest of the daemon has open."""
        self.reserve = max(0, reserve)
        self.measure()

    def measure(self) -> None:
        """Recompute the cap from the limit and what the rest of the daemon has open.

        The reserve is halved where the limit is too small to hold it beside a useful
        number of connections (HAProxy runs with DEFAULT_MAXCONN then, and warns)."""
        limit = self._limit()
        others = max(0, self._count() - self.own)
        free = max(0, limit - others)
        reserve = min(self.reserve, free // 2)
        if reserve < self.reserve:
            log.warning(
                "proxy: descriptor limit %d is too low: only %d of the %d descriptors meant for "
                "checks, control and VRRP are kept free; raise the hard limit (ulimit -Hn)",
                limit,
                reserve,
                self.reserve,
            )
        self.cap = free - reserve

    def take(self, n: int) -> bool:
        """Count `n` more of the proxy's descriptors, unless that passes the cap."""
        if self.own + n <= self.cap:
            self.own += n
            return True
        self.measure()  # the rest of the daemon may hold fewer than last measured
        if self.own + n <= self.cap:
            self.own += n
            return True
        if not self.full:
            self.full = True
            self.reached += 1
            log.warning(
                "proxy: descriptor limit reached: %d in use by connections, limit %d, %d kept "
                "free for checks, control and VRRP; new connections wait in the listen backlog",
                self.own,
                self._limit(),
                self.reserve,
            )
        return False

    def give(self, n: int) -> None:
        """`n` of the proxy's descriptors were closed."""
        self.own -= n
        if self.full and self.own + RESUME_GAP <= self.cap:
            self.full = False
            log.warning(
                "proxy: descriptors available again (%d in use by connections, cap %d): "
                "accepting new connections",
                self.own,
                self.cap,
            )
            waiting, self._waiting = self._waiting, []
            for resume in waiting:
                resume()

    def wait(self, resume: Callable[[], None]) -> None:
        """Call `resume` once descriptors are available again."""
        self._waiting.append(resume)

    def forget(self, resume: Callable[[], None]) -> None:
        if resume in self._waiting:
            self._waiting.remove(resume)

    def tick(self) -> None:
        """Housekeeping: while at the cap, measure again (the rest of the daemon may have
        closed some), and resume waiting listeners if room appeared."""
        if self.full:
            self.measure()
            self.give(0)
