"""The host side effects VRRP (and later the engine) needs, behind one typed interface.

ARCHITECTURE principle 6 (Seesaw's "network control centre"): everything that changes or reads
the host — addresses, routes, rules, raw Ethernet frames, sysctls, link state, the no_accept
firewall — goes through a `HostEffects`.  `system.netlink.NetlinkHost` does it with pyroute2,
AF_PACKET and nft; `system.fake.FakeHost` keeps it in memory for unit tests.  Both pass the
contract suite (tests/unit/system/contract.py).

The records are keepalived's: an address is a `virtual_ipaddress` line (vrrp/vrrp_ipaddress.c
`netlink_ipaddress`: prefix, dev, label, scope, brd, peer, nodad, noprefixroute, preferred_lft;
the model's `AddressSpec`), a route a `virtual_routes` line (vrrp/vrrp_iproute.c), a rule a
`virtual_rules` line (vrrp/vrrp_iprule.c), with the routing table resolved to its number here
(iproute2's rt_tables is the host's).  Adding what is already there and removing what is not
are not errors: keepalived logs and carries on, and a restarted daemon may find its addresses
still set.
"""

from __future__ import annotations

import abc
import functools
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pylvs.model.vrrp_spec import AddressSpec as AddressSpec  # the host's records, in the model
from pylvs.model.vrrp_spec import VirtualRoute, VirtualRule

Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# rtnetlink scope numbers (include/uapi/linux/rtnetlink.h `enum rt_scope_t`).
SCOPES = {"global": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}
# Table names every iproute2 knows (/etc/iproute2/rt_tables defaults).
TABLES = {"main": 254, "local": 255, "default": 253, "unspec": 0}
NFT_TABLE = "pylvs_vrrp"  # `inet pylvs_vrrp`: pylvs's own table, never keepalived's


class HostError(Exception):
    """A host change failed (the message says what and why)."""


def table_number(name: str | None, rt_tables: str = "/etc/iproute2/rt_tables") -> int:
    """An `ip route table` word as a number: digits, a well-known name, or rt_tables."""
    if name is None:
        return TABLES["main"]
    if name.isdigit():
        return int(name)
    if name in TABLES:
        return TABLES[name]
    try:
        with open(rt_tables, encoding="utf-8") as f:
            for line in f:
                words = line.split("#", 1)[0].split()
                if len(words) == 2 and words[1] == name and words[0].isdigit():
                    return int(words[0])
    except OSError:
        pass
    raise HostError(f"unknown routing table {name!r}")


@dataclass(frozen=True, slots=True)
class RouteSpec:
    family: int
    destination: Network | None  # None: default
    route_type: str = "unicast"
    via: IPAddress | None = None
    src: IPAddress | None = None
    dev: str | None = None
    table: int = TABLES["main"]
    metric: int | None = None
    scope: str | None = None

    @classmethod
    def from_model(cls, r: VirtualRoute, default_dev: str | None) -> RouteSpec:
        family = next(
            (x.version for x in (r.destination, r.via, r.src) if x is not None),
            4,
        )
        return cls(
            family,
            r.destination,
            r.route_type,
            r.via,
            r.src,
            r.dev or (default_dev if r.route_type == "unicast" else None),
            table_number(r.table),
            r.metric,
            r.scope,
        )


@dataclass(frozen=True, slots=True)
class RuleSpec:
    family: int
    from_net: Network | None = None
    to_net: Network | None = None
    table: int = TABLES["main"]
    preference: int | None = None
    action: str = "table"
    fwmark: int | None = None
    iif: str | None = None
    oif: str | None = None

    @classmethod
    def from_model(cls, r: VirtualRule) -> RuleSpec:
        return cls(
            r.family,
            r.from_net,
            r.to_net,
            table_number(r.table),
            r.preference,
            r.action,
            r.fwmark,
            r.iif,
            r.oif,
        )


@dataclass(frozen=True, slots=True)
class LinkInfo:
    name: str
    index: int
    mac: bytes
    up: bool  # administratively up with carrier (keepalived IF_ISUP: IFF_UP and IFF_RUNNING)
    noarp: bool = False
    ipv6_forwarding: bool = False


class HostEffects(abc.ABC):
    """Everything VRRP does to, or asks of, the host."""

    # --- reading ---------------------------------------------------------------------------

    @abc.abstractmethod
    def link(self, name: str) -> LinkInfo | None:
        """The interface, or None when there is none of that name."""

    @abc.abstractmethod
    def addresses(self, dev: str) -> tuple[Interface, ...]:
        """The addresses on `dev`, primary first per family (as `ip addr` lists them)."""

    @abc.abstractmethod
    def has_route(self, route: RouteSpec) -> bool: ...

    @abc.abstractmethod
    def has_rule(self, rule: RuleSpec) -> bool: ...

    @abc.abstractmethod
    def sysctl(self, key: str) -> str | None:
        """`net.ipv4.conf.all.arp_ignore` style key; None when it does not exist."""

    @abc.abstractmethod
    def blocked(self) -> frozenset[IPAddress]:
        """The addresses the no_accept firewall drops traffic to."""

    # --- changing --------------------------------------------------------------------------

    @abc.abstractmethod
    def add_address(self, spec: AddressSpec) -> None: ...

    @abc.abstractmethod
    def remove_address(self, spec: AddressSpec) -> None: ...

    def prepare_address(self, spec: AddressSpec) -> Callable[[], None] | None:
        """Get ready to add `spec` soon (a backup about to become master): a host may build
        its request now and return what sends it (raising HostError as `add_address` does).
        None: nothing prepared, `add_address` it when the time comes."""
        return None

    def prepare_frames(self, dev: str) -> Callable[[bytes], None]:
        """Get ready to `send_frame` on `dev` soon (open what it sends through); returns
        what sends one frame there."""
        return functools.partial(self.send_frame, dev)

    @abc.abstractmethod
    def add_route(self, route: RouteSpec) -> None: ...

    @abc.abstractmethod
    def remove_route(self, route: RouteSpec) -> None: ...

    @abc.abstractmethod
    def add_rule(self, rule: RuleSpec) -> None: ...

    @abc.abstractmethod
    def remove_rule(self, rule: RuleSpec) -> None: ...

    @abc.abstractmethod
    def send_frame(self, dev: str, frame: bytes) -> None:
        """Send one whole Ethernet frame (GARP / unsolicited NA) out of `dev`."""

    @abc.abstractmethod
    def set_sysctl(self, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def set_blocked(self, addresses: Iterable[IPAddress]) -> None:
        """Replace the set of addresses whose incoming traffic is dropped (no_accept, as
        keepalived's nftables rules in vrrp/vrrp_nftables.c); an empty set removes the table."""

    def close(self) -> None:
        """Release sockets and remove the firewall table."""
        self.set_blocked(())

    def has_address(self, spec: AddressSpec) -> bool:
        return spec.address in self.addresses(spec.dev)
