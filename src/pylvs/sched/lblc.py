"""lblc: locality-based least connection, as net/netfilter/ipvs/ip_vs_lblc.c does it.

The cache maps a packet's destination address (`flow.vaddr`) to the dest last chosen for it.
On a hit the entry's lastuse becomes `now` and its dest is used if it is still available (in
the service), has weight > 0 and is not "locality-overloaded" (more active connections than its
weight while some dest has fewer than half its weight; the kernel does not look at the overload
flag here).  Otherwise the wlc rule picks a dest and the entry is created or repointed, with
lastuse = now.  Entries expire as locality.py describes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.model.dest import Destination
from pylvs.model.service import Address, VirtualService
from pylvs.sched.base import Flow, Scheduler, register
from pylvs.sched.common import locality_overloaded, weighted_least
from pylvs.sched.locality import DEFAULT_EXPIRATION, LocalityTable


@dataclass(slots=True)
class LblcEntry:
    dest: Destination
    lastuse: float


@register
class LocalityBasedLeastConnection(Scheduler):
    name = "lblc"

    def __init__(
        self,
        service: VirtualService,
        rng: random.Random | None = None,
        *,
        expiration: float = DEFAULT_EXPIRATION,
        now: float | None = None,
    ) -> None:
        super().__init__(service, rng)
        self.table: LocalityTable[LblcEntry] = LocalityTable(expiration, now)
        self._members: set[Destination] = set()

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        self.flags = service.flags

    def rebuild(self, dests: Sequence[Destination]) -> None:
        # A deleted dest leaves the list; the kernel sees it as !IP_VS_DEST_F_AVAILABLE.
        self._members = set(dests)

    def schedule(self, dests: Sequence[Destination], flow: Flow, now: float) -> Destination | None:
        table = self.table
        table.advance(now)
        entry = table.entries.get(flow.vaddr)
        if entry is not None:
            entry.lastuse = now
            cached = entry.dest
            if (
                cached.available
                and cached in self._members
                and cached.weight > 0
                and not locality_overloaded(cached, dests)
            ):
                return cached
        dest = weighted_least(dests)
        if dest is None:
            return None
        if entry is None or entry.dest is not dest:
            # ip_vs_lblc_new: a new entry (or a replacement for one pointing elsewhere).
            table.entries[flow.vaddr] = LblcEntry(dest, now)
        return dest

    def cached(self, vaddr: Address) -> Destination | None:
        """The dest cached for a destination address, if any."""
        entry = self.table.entries.get(vaddr)
        return entry.dest if entry is not None else None
