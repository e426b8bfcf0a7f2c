"""The real `HostEffects`: rtnetlink, AF_PACKET frames, /proc/sys, nft.

Interface lookups and addresses — the failover path and the poll — go through a kept
rtnetlink socket (rtnl.py, tens of microseconds a call); routes and rules through pyroute2.

Addresses, routes and rules are the netlink requests keepalived sends (vrrp/vrrp_ipaddress.c
`netlink_ipaddress`, vrrp/vrrp_iproute.c `netlink_route`, vrrp/vrrp_iprule.c `netlink_rule`);
EEXIST on add and EADDRNOTAVAIL/ESRCH/ENOENT on delete are not errors (keepalived logs them and
carries on).  GARP/NA frames go out of a PF_PACKET socket bound to the interface, as
vrrp/vrrp_arp.c and vrrp/vrrp_ndisc.c send them.  The no_accept firewall is pylvs's own nftables
table `inet pylvs_vrrp` (keepalived's is `keepalived`, vrrp/vrrp_nftables.c): an input hook at
priority -1 that drops traffic to the blocked VIPs, letting IPv6 neighbour discovery through,
replaced atomically by one `nft -f -` transaction.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import os
import socket
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address
from typing import Any

from pyroute2 import IPRoute  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

from pylvs.system.effects import (
    NFT_TABLE,
    SCOPES,
    AddressSpec,
    HostEffects,
    HostError,
    Interface,
    IPAddress,
    LinkInfo,
    RouteSpec,
    RuleSpec,
)
from pylvs.system.rtnl import AddressRequest, NetlinkRefusedError, Rtnl, address_message

IFF_UP = 0x1
IFF_RUNNING = 0x40
IFF_NOARP = 0x80
IFA_F_NODAD = 0x02
IFA_F_NOPREFIXROUTE = 0x200
RTN_TYPES = {"unicast": 1, "local": 2, "broadcast": 3, "anycast": 4, "multicast": 5}
RTN_TYPES |= {"blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9, "nat": 10}
FR_ACTIONS = {"table": 1, "goto": 2, "nop": 3, "blackhole": 6, "unreachable": 7, "prohibit": 8}
GONE = (errno.EADDRNOTAVAIL, errno.ESRCH, errno.ENOENT, errno.ENODEV)


def _family(version: int) -> int:
    return socket.AF_INET if version == 4 else socket.AF_INET6


def sysctl_path(key: str) -> str:
    """`net.ipv4.conf.eth0.arp_ignore` or `net/ipv4/conf/eth0/arp_ignore` (use slashes when an
    interface name has a dot) -> the /proc/sys file."""
    rel = key if "/" in key else key.replace(".", "/")
    return os.path.join("/proc/sys", rel)


def nft_script(addresses: Iterable[IPAddress]) -> str:
    """The whole `inet pylvs_vrrp` table for these blocked addresses (empty: no table)."""
    v4 = sorted(str(a) for a in addresses if a.version == 4)
    v6 = sorted(str(a) for a in addresses if a.version == 6)
    head = f"table inet {NFT_TABLE}\ndelete table inet {NFT_TABLE}\n"
    if not v4 and not v6:
        return head

    def nft_set(name: str, kind: str, elems: list[str]) -> str:
        body = f"elements = {{ {', '.join(elems)} }}" if elems else ""
        return f"  set {name} {{ type {kind}; {body} }}\n"

    return (
        head
        + f"table inet {NFT_TABLE} {{\n"
        + nft_set("vips4", "ipv4_addr", v4)
        + nft_set("vips6", "ipv6_addr", v6)
        + "  chain in {\n"
        + "    type filter hook input priority -1; policy accept;\n"
        + "    ip6 daddr @vips6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
        + "    ip daddr @vips4 drop\n"
        + "    ip6 daddr @vips6 drop\n"
        + "  }\n}\n"
    )


class _Proxy:
    """Calls the IPRoute's methods in the worker thread that owns it."""

    def __init__(self, worker: ThreadPoolExecutor, ipr: Any) -> None:
        self._worker, self._ipr = worker, ipr

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._ipr, name)

        def call(*args: Any, **kw: Any) -> Any:
            # Results are materialised in the worker: pyroute2 may return lazy generators.
            def run() -> Any:
                out = method(*args, **kw)
                return out if isinstance(out, (int, str, bytes, type(None))) else list(out)

            return self._worker.submit(run).result()

        return call


class NetlinkHost(HostEffects):
    def __init__(self) -> None:
        # pyroute2 0.9's synchronous IPRoute runs its own asyncio loop, which cannot run
        # inside the daemon's: it lives in one worker thread, and each call waits for it.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pylvs-netlink")
        self._ipr: Any = _Proxy(self._worker, self._worker.submit(IPRoute).result())
        # The failover path and the poll: a kept rtnetlink socket (rtnl.py), no thread hop.
        self._rtnl = Rtnl()
        self._packet: dict[str, socket.socket] = {}
        self._blocked: frozenset[IPAddress] = frozenset()
        # Address requests and their messages built ahead (prepare_address): the ifindex is
        # in them, so one is dropped when the kernel answers ENODEV (the interface was
        # re-created with a new index).
        self._prepared: dict[AddressSpec, tuple[AddressRequest, bytes]] = {}

    def _index(self, dev: str) -> int:
        index = self._rtnl.index(dev)
        if index is None:
            raise HostError(f"Cannot find device {dev!r}")
        return index

    # --- reading ---------------------------------------------------------------------------

    def link(self, name: str) -> LinkInfo | None:
        index = self._rtnl.index(name)
        got = self._rtnl.flags_and_mac(name) if index is not None else None
        if index is None or got is None:
            return None
        flags, mac = got
        fwd = self.sysctl(f"net/ipv6/conf/{name}/forwarding")
        return LinkInfo(
            name,
            index,
            mac,
            bool(flags & IFF_UP and flags & IFF_RUNNING),
            bool(flags & IFF_NOARP),
            fwd == "1",
        )

    def addresses(self, dev: str) -> tuple[Interface, ...]:
        index = self._rtnl.index(dev)
        return () if index is None else self._rtnl.addresses(index)

    def has_route(self, route: RouteSpec) -> bool:
        for m in self._ipr.get_routes(family=_family(route.family), table=route.table):
            dst = m.get("RTA_DST")
            net = None if dst is None else ipaddress.ip_network(f"{dst}/{m['dst_len']}")
            if net != route.destination and not (route.destination is None and m["dst_len"] == 0):
                continue
            gw = m.get("RTA_GATEWAY")
            if (route.via is not None) and (gw is None or ipaddress.ip_address(gw) != route.via):
                continue
            if route.metric is not None and m.get("RTA_PRIORITY") != route.metric:
                continue
            if route.dev is not None and m.get("RTA_OIF") != self._index(route.dev):
                continue
            return True
        return False

    def has_rule(self, rule: RuleSpec) -> bool:
        for m in self._ipr.get_rules(family=_family(rule.family)):
            if rule.preference is not None and m.get("FRA_PRIORITY") != rule.preference:
                continue
            if (m.get("FRA_TABLE") or m["table"]) != rule.table:
                continue
            if not self._net_matches(rule.from_net, m.get("FRA_SRC"), m["src_len"]):
                continue
            if not self._net_matches(rule.to_net, m.get("FRA_DST"), m["dst_len"]):
                continue
            return True
        return False

    @staticmethod
    def _net_matches(want: object, addr: str | None, length: int) -> bool:
        if want is None:
            return addr is None
        return addr is not None and ipaddress.ip_network(f"{addr}/{length}") == want

    def sysctl(self, key: str) -> str | None:
        try:
            with open(sysctl_path(key), encoding="ascii") as f:
                return f.read().strip()
        except OSError:
            return None

    def blocked(self) -> frozenset[IPAddress]:
        return self._blocked

    # --- changing --------------------------------------------------------------------------

    def _request(
        self, what: str, call: Any, *args: Any, ignore: tuple[int, ...], **kw: Any
    ) -> None:
        try:
            call(*args, **kw)
        except NetlinkError as exc:
            if exc.code in ignore:
                return
            raise HostError(f"{what}: {os.strerror(exc.code)}") from exc

    def _address_request(self, spec: AddressSpec) -> AddressRequest:
        """keepalived `netlink_ipaddress`: IFA_LOCAL the address, IFA_ADDRESS the peer (or the
        address again), scope, label and broadcast for IPv4, nodad/noprefixroute flags."""
        a = spec.address
        flags = (IFA_F_NODAD if spec.nodad else 0) | (
            IFA_F_NOPREFIXROUTE if spec.noprefixroute else 0
        )
        v4 = a.version == 4
        return AddressRequest(
            index=self._index(spec.dev),
            family=_family(a.version),
            prefixlen=spec.peer.network.prefixlen if spec.peer else a.network.prefixlen,
            local=a.ip,
            address=spec.peer.ip if spec.peer else a.ip,
            scope=SCOPES.get(spec.scope, 0) if v4 else 0,
            flags=flags,
            label=spec.label if v4 else None,
            broadcast=spec.broadcast if v4 and isinstance(spec.broadcast, IPv4Address) else None,
            preferred_lft=spec.preferred_lft,
        )

    def _address_change(
        self, what: str, call: Any, req: AddressRequest, ignore: tuple[int, ...]
    ) -> None:
        try:
            call(req)
        except NetlinkRefusedError as exc:
            if exc.errno in ignore:
                return
            raise HostError(f"{what}: {exc.strerror}") from exc
        except OSError as exc:
            raise HostError(f"{what}: {exc.strerror or exc}") from exc

    def prepare_address(self, spec: AddressSpec) -> Callable[[], None] | None:
        if len(self._prepared) >= 256:
            self._prepared.clear()
        req = self._address_request(spec)
        body = address_message(req)
        self._prepared[spec] = (req, body)
        return functools.partial(self._add, spec, req, body)

    def add_address(self, spec: AddressSpec) -> None:
        ready = self._prepared.get(spec)
        if ready is None:
            self._add(spec, self._address_request(spec), None)
        else:
            self._add(spec, *ready)

    def _add(self, spec: AddressSpec, req: AddressRequest, body: bytes | None) -> None:
        try:
            self._rtnl.add_address(req, body)
            return
        except NetlinkRefusedError as exc:
            if exc.errno == errno.EEXIST:
                return
            if exc.errno != errno.ENODEV or spec not in self._prepared:
                what = f"add address {spec.address} dev {spec.dev}"
                raise HostError(f"{what}: {exc.strerror}") from exc
        except OSError as exc:
            what = f"add address {spec.address} dev {spec.dev}"
            raise HostError(f"{what}: {exc.strerror or exc}") from exc
        del self._prepared[spec]  # a stale interface index: look it up again
        self.add_address(spec)

    def remove_address(self, spec: AddressSpec) -> None:
        what = f"remove address {spec.address} dev {spec.dev}"
        try:
            req = self._address_request(spec)
        except HostError:
            return  # the device is gone, and its addresses with it
        self._address_change(what, self._rtnl.remove_address, req, GONE)

    def _route_args(self, r: RouteSpec) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "family": _family(r.family),
            "table": r.table,
            "type": RTN_TYPES.get(r.route_type, 1),
        }
        if r.destination is not None:
            kw["dst"] = str(r.destination)
        if r.via is not None:
            kw["gateway"] = str(r.via)
        if r.src is not None:
            kw["prefsrc"] = str(r.src)
        if r.dev is not None:
            kw["oif"] = self._index(r.dev)
        if r.metric is not None:
            kw["priority"] = r.metric
        if r.scope is not None:
            kw["scope"] = SCOPES.get(r.scope, 0)
        return kw

    def add_route(self, route: RouteSpec) -> None:
        what = f"add route {route.destination or 'default'}"
        self._request(
            what, self._ipr.route, "add", ignore=(errno.EEXIST,), **self._route_args(route)
        )

    def remove_route(self, route: RouteSpec) -> None:
        try:
            kw = self._route_args(route)
        except HostError:
            return
        self._request(
            f"remove route {route.destination}", self._ipr.route, "del", ignore=GONE, **kw
        )

    def _rule_args(self, r: RuleSpec) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "family": _family(r.family),
            "table": r.table,
            "action": FR_ACTIONS.get(r.action, 1),
        }
        if r.preference is not None:
            kw["priority"] = r.preference
        if r.from_net is not None:
            kw["src"], kw["src_len"] = str(r.from_net.network_address), r.from_net.prefixlen
        if r.to_net is not None:
            kw["dst"], kw["dst_len"] = str(r.to_net.network_address), r.to_net.prefixlen
        if r.fwmark is not None:
            kw["fwmark"] = r.fwmark
        if r.iif is not None:
            kw["iifname"] = r.iif
        if r.oif is not None:
            kw["oifname"] = r.oif
        return kw

    def add_rule(self, rule: RuleSpec) -> None:
        kw = self._rule_args(rule)
        self._request("add rule", self._ipr.rule, "add", ignore=(errno.EEXIST,), **kw)

    def remove_rule(self, rule: RuleSpec) -> None:
        self._request("remove rule", self._ipr.rule, "del", ignore=GONE, **self._rule_args(rule))

    def _packet_socket(self, dev: str) -> socket.socket:
        sock = self._packet.get(dev)
        if sock is None:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            try:
                sock.bind((dev, 0))
            except OSError:
                sock.close()
                raise
            self._packet[dev] = sock
        return sock

    def prepare_frames(self, dev: str) -> Callable[[bytes], None]:
        with contextlib.suppress(OSError):  # send_frame reports it
            self._packet_socket(dev)
        return functools.partial(self.send_frame, dev)

    def send_frame(self, dev: str, frame: bytes) -> None:
        try:
            self._packet_socket(dev).send(frame)
        except OSError as exc:
            sock = self._packet.pop(dev, None)
            if sock is not None:
                sock.close()
            raise HostError(f"send frame on {dev}: {exc.strerror or exc}") from exc

    def set_sysctl(self, key: str, value: str) -> None:
        try:
            with open(sysctl_path(key), "w", encoding="ascii") as f:
                f.write(value)
        except OSError as exc:
            raise HostError(f"set {key}: {exc.strerror or exc}") from exc

    def set_blocked(self, addresses: Iterable[IPAddress]) -> None:
        new = frozenset(addresses)
        if new == self._blocked:
            return
        try:
            done = subprocess.run(
                ["nft", "-f", "-"],
                input=nft_script(new),
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise HostError(f"nft: {exc}") from exc
        if done.returncode:
            raise HostError(f"nft: {done.stderr.strip()}")
        self._blocked = new

    def close(self) -> None:
        with contextlib.suppress(HostError):
            if self._blocked:
                self._blocked = frozenset({ipaddress.IPv4Address(0)})
                self.set_blocked(())
        for sock in self._packet.values():
            sock.close()
        self._packet.clear()
        self._ipr.close()
        self._rtnl.close()
        self._worker.shutdown(wait=True)
