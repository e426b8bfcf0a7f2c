"""wlc: weighted least connection (the default), as net/netfilter/ipvs/ip_vs_wlc.c does it.

The first dest that is not overloaded and has weight > 0 starts as `least`; a later
non-overloaded dest takes over when `loh * w_dest > doh * w_least` with overhead
`activeconns*256 + inactconns` (64-bit products in the kernel, exact integers here).  Ties keep
the earlier dest in list order; a weight-0 dest never wins because its side of the product is 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.ipvs.common import weighted_least
from pylvs.sched.registry import register


@register
class WeightedLeastConnection(Scheduler):
    name = "wlc"

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        return weighted_least(dests)
