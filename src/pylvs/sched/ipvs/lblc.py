"""lblc: locality-based least connection, as net/netfilter/ipvs/ip_vs_lblc.c does it.

The cache maps a packet's destination address (`flow.vaddr`) to the dest last chosen for it.
On a hit the entry's lastuse becomes `now` and its dest is used if it is still available (in
the service), has weight > 0 and is not "locality-overloaded" (more active connections than its
weight while some dest has fewer than half its weight; the kernel does not look at the overload
flag here).  Otherwise the wlc rule picks a dest and the entry is created or repointed, with
lastuse = now.  Entries expire as locality.py describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.model.dest import Destination
from pylvs.model.service import Address
from pylvs.sched.base import Flow, Need
from pylvs.sched.ipvs.common import locality_overloaded, weighted_least
from pylvs.sched.ipvs.locality import LocalityScheduler
from pylvs.sched.registry import register


@dataclass(slots=True)
class LblcEntry:
    dest: Destination
    lastuse: float


@register
class LocalityBasedLeastConnection(LocalityScheduler[LblcEntry]):
    name = "lblc"
    need = Need.ADDRESS

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
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
