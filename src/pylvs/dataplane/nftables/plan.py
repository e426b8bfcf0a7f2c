"""What the renderers get: each service reduced to plain values (no live objects).

`ServicePlan` is one virtual service as the kernel path needs it: how packets reach it (its
key), how they are forwarded (NAT or DR), which destinations may take new flows and in what
proportion (`Pick`, computed by maps.py from the scheduler), persistence, and per destination
the conntrack / packet mark that ties a flow, its counters and its dest together.

Names of nft objects come from the service and dest keys, so re-rendering after a change
yields the same names and `ruleset.transaction` only touches what changed.  nft identifiers
allow letters, digits and `/ - _ .` (nftables src/scanner.l `identifier`), so the `:` of IPv6
addresses becomes `_`, which no address contains: the mapping stays one to one.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from pylvs.model.service import Address, ServiceKey

# ct mark / meta mark values pylvs gives its destinations: MARK_BASE | id, id in 1..0xFFFF.
# A fixed high half keeps pylvs's marks apart from small marks other tools set.
MARK_BASE = 0x6C760000
MAX_MARK_ID = 0xFFFF


class Mode(enum.Enum):
    NAT = "nat"  # Masq (and Local): DNAT, conntrack un-NATs the replies
    DR = "dr"  # Route: layer-2 forward to the real server's MAC from netdev ingress


class PickKind(enum.Enum):
    NUMGEN = "numgen"  # numgen inc mod N over slot ranges (rr, wrr, re-weighted counting ones)
    HASH = "hash"  # jhash of the flow fields mod N over a bucket table (sh, dh, mh)
    NONE = "none"  # no destination can take a new flow


@dataclass(frozen=True, slots=True)
class Pick:
    """How a new flow picks its destination: `slots` are (first, last, mark) ranges of 0..N-1."""

    kind: PickKind
    modulus: int = 0
    slots: tuple[tuple[int, int, int], ...] = ()
    fields: tuple[str, ...] = ()  # for HASH: "saddr", "sport", "daddr"

    def __post_init__(self) -> None:
        covered = sum(hi - lo + 1 for lo, hi, _ in self.slots)
        if self.kind is not PickKind.NONE and (not self.slots or covered != self.modulus):
            raise ValueError(f"slots cover {covered} of {self.modulus}")


NO_PICK = Pick(PickKind.NONE)


@dataclass(frozen=True, slots=True)
class DestPlan:
    mark: int
    address: Address
    port: int
    sticky: bool = True  # persistence may still send new flows here (listed, weight 0 too)
    mac: str = ""  # DR: the real server's link-layer address
    device: str = ""  # DR: the interface it is reached through
    device_mac: str = ""  # DR: that interface's own address (the new source MAC)

    @property
    def slug(self) -> str:
        return f"{slug_addr(self.address)}-{self.port}"


@dataclass(frozen=True, slots=True)
class ServicePlan:
    key: ServiceKey
    mode: Mode
    dests: tuple[DestPlan, ...]
    pick: Pick
    persist_timeout: int = 0  # seconds; 0 = not persistent
    netmask: int = 32  # persistence granularity (prefix length)
    flow_timeout: int = 900  # DR flow entries: tcp (or udp) timeout
    fin_timeout: int = 120  # DR flow entries after FIN / RST; NAT: conntrack's FIN_WAIT
    tcp_timeout: int = 900  # NAT: conntrack's ESTABLISHED (`--set tcp`)
    udp_timeout: int = 300  # NAT: conntrack's UDP flows (`--set udp`)

    @property
    def slug(self) -> str:
        return service_slug(self.key)

    @property
    def family(self) -> str:
        return "ip" if self.key.af == 2 else "ip6"


def slug_addr(address: Address) -> str:
    return str(address).replace(":", "_")


def service_slug(key: ServiceKey) -> str:
    """`tcp-10.0.0.1-80`, `udp-fd00__1-53`, `fwm-7` (`fwm6-7` for IPv6)."""
    if key.is_fwmark:
        return f"fwm{'' if key.af == 2 else '6'}-{key.fwmark}"
    assert key.protocol is not None and key.address is not None
    return f"{key.protocol.name.lower()}-{slug_addr(key.address)}-{key.port}"


def mark_value(ident: int) -> int:
    if not 1 <= ident <= MAX_MARK_ID:
        raise ValueError(f"mark id {ident} out of range")
    return MARK_BASE | ident


def hex_mark(mark: int) -> str:
    return f"0x{mark:08x}"


class MarkAllocator:
    """Stable mark ids per (service, dest): kept while the pair lives; after release reused
    only once every id was handed out, the longest released first."""

    def __init__(self) -> None:
        self._ids: dict[tuple[ServiceKey, tuple[Address, int]], int] = {}
        self._free: deque[int] = deque()
        self._next = 1

    def mark(self, key: ServiceKey, dest: tuple[Address, int]) -> int:
        ident = self._ids.get((key, dest))
        if ident is None:
            # A released mark may still be on flows (a NAT flow of a deleted service lives in
            # conntrack until it ends): ids never used go first, then the longest released.
            if self._next <= MAX_MARK_ID or not self._free:
                ident = self._next
                self._next += 1
            else:
                ident = self._free.popleft()
            self._ids[(key, dest)] = ident
        return mark_value(ident)

    def known(self, key: ServiceKey, dest: tuple[Address, int]) -> int | None:
        ident = self._ids.get((key, dest))
        return None if ident is None else mark_value(ident)

    def release(self, key: ServiceKey, dest: tuple[Address, int]) -> None:
        ident = self._ids.pop((key, dest), None)
        if ident is not None:
            self._free.append(ident)

    def owners(self) -> dict[int, tuple[ServiceKey, tuple[Address, int]]]:
        """mark -> (service, dest key)."""
        return {mark_value(i): pair for pair, i in self._ids.items()}
