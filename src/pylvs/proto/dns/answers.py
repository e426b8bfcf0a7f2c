"""A resolution's answer items and the address each server takes from them (HAProxy 2.6
src/resolvers.c `resolv_validate_dns_response`'s answer tree, `resolv_check_response`,
`resolv_get_ip_from_response`).

The items of every valid response are kept, each with when it was last seen; an item not
seen for `hold obsolete` is dropped with its servers.  Items are ordered as HAProxy's eb32
tree orders them: by the XXH32 of the address with the record type as seed (ties in arrival
order), which decides which server of a `server-template` takes which address.

A server picks an address by score: 8 for the preferred family (`resolve-prefer`), 4 for a
preferred network (`resolve-net`), 2 when no other server of its backend holds the item (an
item held by another is skipped unless `resolve-opts allow-dup-ip`), 1 for its current
address; a server attached to an item still alive keeps it.  Time is an argument (ms).

An SRV answer's items are kept the same way, keyed by the XXH32 of the target (seed 33),
one per target and port (a known one takes the new weight); an additional A/AAAA record
goes to the first SRV item of its target that has none (`ar`), a known one refreshed —
HAProxy's walk, by which an SRV item keeps its old additional address until that one is
obsolete.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import xxhash

from pylvs.model.resolvers import ResolveOptions
from pylvs.proto.dns.wire import AAAA, SRV, IpAddress, Record

# get_ip's verdicts (RSLV_UPD_*)
KEEP = "no"  # the current address stays
CHANGE = "srvip_not_found"  # take `address`
NO_IP = "no_ip_found"


@dataclass(frozen=True, slots=True)
class Owner:
    """A server asking for addresses: its key and its backend (the duplicates' scope)."""

    backend: str
    server: str


@dataclass(eq=False)
class Item:
    """An A or AAAA record kept across responses, and the servers holding its address."""

    key: int
    address: IpAddress
    last_seen: int
    attached: list[Owner] = field(default_factory=list)


@dataclass(eq=False)
class SrvItem:
    """An SRV record kept across responses: its target (label form), port and weight, the
    additional record giving its address (`ar`), and the servers holding it."""

    key: int
    target: bytes
    port: int
    weight: int
    last_seen: int
    ar: Record | None = None
    ar_seen: int = 0
    attached: list[Owner] = field(default_factory=list)


class Answers:
    """A resolution's answer tree (A/AAAA and SRV items; CNAMEs only steer validation)."""

    def __init__(self) -> None:
        self.items: list[Item] = []  # tree order
        self.srv: list[SrvItem] = []  # tree order

    def merge_srv(
        self, records: tuple[Record, ...], additional: tuple[Record, ...], now_ms: int
    ) -> None:
        """An SRV response's records and additional records (resolv_validate_dns_response)."""
        for r in records:
            if r.type != SRV:
                continue
            known = next((i for i in self.srv if i.target == r.target and i.port == r.port), None)
            if known is not None:
                known.weight = r.weight
                known.last_seen = now_ms
                continue
            key = xxhash.xxh32_intdigest(r.target, seed=SRV)
            at = next((n for n, i in enumerate(self.srv) if i.key > key), len(self.srv))
            self.srv.insert(at, SrvItem(key, r.target, r.port, r.weight, now_ms))
        for ar in additional:
            seen = next(
                (
                    i
                    for i in self.srv
                    if i.ar is not None
                    and i.ar.type == ar.type
                    and i.ar_seen != now_ms
                    and i.target == ar.name
                    and i.ar.address == ar.address
                ),
                None,
            )
            if seen is not None:
                seen.ar_seen = now_ms
                continue
            free = next(
                (i for i in self.srv if i.ar is None and ar.name[: len(i.target)] == i.target),
                None,
            )
            if free is not None:
                free.ar, free.ar_seen = ar, now_ms

    def merge(self, records: tuple[Record, ...], now_ms: int) -> None:
        """A valid response's records: known ones are refreshed, new ones inserted."""
        for r in records:
            if r.address is None:
                continue
            found = next((i for i in self.items if i.address == r.address), None)
            if found is not None:
                found.last_seen = now_ms
                continue
            key = xxhash.xxh32_intdigest(r.address.packed, seed=r.type)
            item = Item(key, r.address, now_ms)
            at = next((n for n, i in enumerate(self.items) if i.key > key), len(self.items))
            self.items.insert(at, item)

    def expire(self, now_ms: int, hold_obsolete_ms: int) -> None:
        """resolv_check_response: items not seen for `hold obsolete` go, their servers
        detached (they pick again)."""
        self.items = [i for i in self.items if i.last_seen + hold_obsolete_ms >= now_ms]

    def purge(self) -> None:
        self.items.clear()
        self.srv.clear()

    def detach(self, owner: Owner) -> None:
        for i in self.items:
            if owner in i.attached:
                i.attached.remove(owner)

    def held_by(self, owner: Owner) -> Item | None:
        return next((i for i in self.items if owner in i.attached), None)

    def pick(
        self, owner: Owner | None, opts: ResolveOptions, current: IpAddress | None
    ) -> tuple[str, IpAddress | None]:
        """resolv_get_ip_from_response: the verdict and the address to take (no `owner`:
        do-resolve's look, which holds nothing and shares with everyone)."""
        if owner is not None and self.held_by(owner) is not None:
            return KEEP, None
        prefer = 6 if opts.prefer == "ipv6" else 4
        nets = [ipaddress.ip_network(n) for n in opts.networks]
        best: dict[int, IpAddress] = {}
        found: Item | None = None
        current_found = False
        max_score = -1
        for item in self.items:
            ip = item.address
            score = 8 if ip.version == prefer else 0
            if any(n.version == ip.version and ip in n for n in nets):
                score += 4
            used = owner is not None and any(
                o != owner and o.backend == owner.backend for o in item.attached
            )
            if used and not opts.allow_dup_ip:
                continue
            if not used:
                score += 2
            selected = ip == current
            if selected:
                score += 1
            if score > max_score:
                best[ip.version] = ip
                found = item
                current_found = selected
                if score == 15:
                    if owner is not None:
                        item.attached.append(owner)
                    return KEEP, None
                max_score = score
        if not best:
            return NO_IP, None
        other = 4 if prefer == 6 else 6
        chosen = best.get(prefer, best.get(other))
        if found is not None and owner is not None:
            self.detach(owner)
            found.attached.append(owner)
        return (KEEP, None) if current_found else (CHANGE, chosen)


def family_query(opts: ResolveOptions) -> int:
    """The query type asked first: A for `resolve-prefer ipv4`, else AAAA."""
    return 1 if opts.prefer == "ipv4" else AAAA
