"""ovf: weighted overflow, as net/netfilter/ipvs/ip_vs_ovf.c does it.

Dests that are overloaded, have weight 0, or have more active connections than their weight
are skipped; of the rest the highest weight wins, the first in list order on a tie
(`!h || w > hw`).  Only active connections count, so it suits TCP better than UDP.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.registry import register


@register
class WeightedOverflow(Scheduler):
    name = "ovf"

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
            w = dest.weight
            if dest.overloaded or dest.activeconns > w or w == 0:
                continue
            if best is None or w > hw:
                best = dest
                hw = w
        return best
