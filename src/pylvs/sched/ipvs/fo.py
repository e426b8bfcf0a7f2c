"""fo: weighted fail over, as net/netfilter/ipvs/ip_vs_fo.c does it.

The non-overloaded dest with the highest weight gets every new connection; the comparison is
strict (`weight > hw`, starting from hw = 0), so weight 0 never wins and a tie goes to the
first dest in list order.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.registry import register


@register
class WeightedFailOver(Scheduler):
    name = "fo"

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        best: Destination | None = None
        hw = 0
        for dest in dests:
            if not dest.overloaded and dest.weight > hw:
                best = dest
                hw = dest.weight
        return best
