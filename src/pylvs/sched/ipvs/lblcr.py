"""lblcr: LBLC with replication, as net/netfilter/ipvs/ip_vs_lblcr.c does it.

The cache maps a packet's destination address to a *set* of dests (newest first) with the time
it last changed.  On a hit (lastuse = now) the set's weighted-least-connection member is
found among members that are not overloaded, have weight > 0 and are available
(`ip_vs_dest_set_min`).  Then, if the set has more than one member and `now > lastmod +
expiration`, its weighted-most-connection member with weight > 0 is dropped
(`ip_vs_dest_set_max`, replacing when `moh * w_dest < doh * w_most`).  If the least member is
not locality-overloaded it is used; otherwise the wlc rule picks a dest over the whole service
and it joins the set.  A miss creates a one-member set.  Adding or dropping a member sets
lastmod = now.  Entries expire as locality.py describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pylvs.model.dest import Destination
from pylvs.model.service import Address
from pylvs.sched.base import Flow, Need
from pylvs.sched.ipvs.common import locality_overloaded, weighted_least
from pylvs.sched.ipvs.locality import LocalityScheduler
from pylvs.sched.registry import register


@dataclass(slots=True)
class LblcrEntry:
    lastuse: float
    lastmod: float
    members: list[Destination] = field(default_factory=list)

    def insert(self, dest: Destination, now: float) -> None:
        """ip_vs_dest_set_insert(check=true): at the head, unless already a member."""
        if any(m is dest for m in self.members):
            return
        self.members.insert(0, dest)
        self.lastmod = now

    def erase(self, dest: Destination, now: float) -> None:
        for i, m in enumerate(self.members):
            if m is dest:
                del self.members[i]
                self.lastmod = now
                return


@register
class LocalityBasedLeastConnectionReplication(LocalityScheduler[LblcrEntry]):
    name = "lblcr"
    need = Need.ADDRESS

    def _set_min(self, entry: LblcrEntry) -> Destination | None:
        members = self._members
        least: Destination | None = None
        loh = 0
        for dest in entry.members:
            if dest.overloaded:
                continue
            usable = dest.available and dest in members
            doh = (dest.activeconns << 8) + dest.inactconns
            if least is None:
                if dest.weight > 0 and usable:
                    least = dest
                    loh = doh
            elif loh * dest.weight > doh * least.weight and usable:
                least = dest
                loh = doh
        return least

    @staticmethod
    def _set_max(entry: LblcrEntry) -> Destination | None:
        most: Destination | None = None
        moh = 0
        for dest in entry.members:
            doh = (dest.activeconns << 8) + dest.inactconns
            if most is None:
                if dest.weight > 0:
                    most = dest
                    moh = doh
            elif moh * dest.weight < doh * most.weight and dest.weight > 0:
                most = dest
                moh = doh
        return most

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
        if entry is None:
            dest = weighted_least(dests)
            if dest is None:
                return None
            table.entries[flow.vaddr] = LblcrEntry(now, now, [dest])
            return dest
        entry.lastuse = now
        dest = self._set_min(entry)
        if len(entry.members) > 1 and now > entry.lastmod + table.expiration:
            most = self._set_max(entry)
            if most is not None:
                entry.erase(most, now)
        if dest is not None and not locality_overloaded(dest, dests):
            return dest
        dest = weighted_least(dests)
        if dest is None:
            return None
        entry.insert(dest, now)
        return dest

    def members(self, vaddr: Address) -> list[Destination]:
        """The cached server set for a destination address (newest first); [] if none."""
        entry = self.table.entries.get(vaddr)
        return list(entry.members) if entry is not None else []
