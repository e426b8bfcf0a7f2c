"""nq: never queue, as net/netfilter/ipvs/ip_vs_nq.c does it.

Dests that are overloaded or have weight 0 are skipped.  The first remaining dest (list order)
with no active connection is returned at once; otherwise the sed minimum of
`(activeconns + 1) / weight`, replacing only when `loh * w_dest > doh * w_least`.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.registry import register


@register
class NeverQueue(Scheduler):
    name = "nq"

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        least: Destination | None = None
        loh = 0
        for dest in dests:
            if dest.overloaded or dest.weight == 0:
                continue
            if dest.activeconns == 0:
                return dest
            doh = dest.activeconns + 1
            if least is None or loh * dest.weight > doh * least.weight:
                least = dest
                loh = doh
        return least
