"""dh: destination hashing, as net/netfilter/ipvs/ip_vs_dh.c does it.

A 256-bucket table (CONFIG_IP_VS_DH_TAB_BITS = 8) is filled on every add / delete / edit by
handing the buckets out round robin in list order, one bucket per dest per turn: weights are not
used.  A packet's destination address picks bucket `(addr_fold * 2654435761) & 255`; the owner
is used only if it is available, has weight > 0 and is not overloaded, else no destination
(dh has no fallback).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import VirtualService
from pylvs.sched.base import Flow, Need
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.ipvs.hashing import GOLDEN_PRIME, addr_fold
from pylvs.sched.registry import register

TAB_BITS = 8
TAB_SIZE = 1 << TAB_BITS
TAB_MASK = TAB_SIZE - 1


def dh_bucket(fold: int) -> int:
    """ip_vs_dh_hashkey for a folded address."""
    return (fold * GOLDEN_PRIME) & TAB_MASK


@register
class DestinationHashing(Scheduler):
    name = "dh"
    need = Need.ADDRESS

    def __init__(self, service: VirtualService, rng: random.Random | None = None) -> None:
        super().__init__(service, rng)
        self.buckets: list[Destination | None] = [None] * TAB_SIZE

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        self.flags = service.flags

    def rebuild(self, dests: Sequence[Destination]) -> None:
        """ip_vs_dh_reassign."""
        n = len(dests)
        if n == 0:
            self.buckets = [None] * TAB_SIZE
            return
        self.buckets = [dests[i % n] for i in range(TAB_SIZE)]

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        dest = self.buckets[dh_bucket(addr_fold(flow.vaddr))]
        if dest is None or not dest.available or dest.weight <= 0 or dest.overloaded:
            return None
        return dest
