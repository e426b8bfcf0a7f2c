"""lc: least connection, as net/netfilter/ipvs/ip_vs_lc.c does it.

Among dests that are not overloaded and have weight != 0, the one with the smallest
`activeconns*256 + inactconns` (ip_vs_dest_conn_overhead; the `<<5` in the file's comment is
stale) wins; the weight's value is ignored and a tie keeps the first in list order (`doh < loh`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.registry import register


@register
class LeastConnection(Scheduler):
    name = "lc"

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
            doh = (dest.activeconns << 8) + dest.inactconns
            if least is None or doh < loh:
                least = dest
                loh = doh
        return least
