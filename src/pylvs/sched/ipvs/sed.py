"""sed: shortest expected delay, as net/netfilter/ipvs/ip_vs_sed.c does it.

The wlc loop with the expected delay `(activeconns + 1) / weight` as the load (inactive
connections do not count): the first non-overloaded dest with weight > 0 starts, a later
non-overloaded one wins only when `loh * w_dest > doh * w_least`; ties keep list order.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.ipvs.common import shortest_expected_delay
from pylvs.sched.registry import register


@register
class ShortestExpectedDelay(Scheduler):
    name = "sed"

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        return shortest_expected_delay(dests)
