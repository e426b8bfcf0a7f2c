"""The lab's cluster as plain values: which nodes, which links, which addresses (pure).

The shape is seed 000's (chinaunix 2008, LVS-DR + Keepalived): a client, a MASTER and a
BACKUP director sharing one VIP by VRRP, and N web real servers.  Every node is a network
namespace named `pylvs-<lab id>-<node>`; the segments are bridges inside one more namespace,
`pylvs-<lab id>-switch`, so nothing at all is added to the host's own namespace and the
addresses below exist only inside the lab (two namespaces never see each other's routes, so
two labs may use the same plan side by side).

The address plan mirrors the seed's 61.164.122.0/24 in private space: VIP .8, real servers
from .9 (the seed's WEB1 .9 and WEB2 .10), directors .2 / .3, client .100.  In NAT mode (seed
001, course 002) the real servers sit on a second segment, 10.164.123.0/24, behind the
directors, with the floating gateway .1 that VRRP moves together with the VIP (the classic
keepalived LVS-NAT pair), and listen on 8080 (seed 001's VIP:80 -> RIP:8080 port mapping).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

PREFIX = "pylvs"
FRONT_NET = ipaddress.ip_network("10.164.122.0/24")
BACK_NET = ipaddress.ip_network("10.164.123.0/24")
VIP_HOST = 8
CLIENT_HOST = 100
DIRECTOR_HOSTS = (2, 3)
RS_FIRST_HOST = 9
NAT_GATEWAY_HOST = 1
MAX_REAL_SERVERS = 8
VIP_PORT = 80
NAT_RS_PORT = 8080
ID_RE = re.compile(r"^[a-z0-9]{1,10}$")
DEFAULT_ID = "lab"
# keepalived's vrrp_instance defaults for the seed's pair (seed 000: MASTER 100, BACKUP 99).
PRIORITIES = (100, 99)
VRID = 51


# The kernel planes a director can forward with: nftables (any kernel) or the kernel's IPVS
# (each director's namespace has a table of its own, as a real director has).
DATAPLANES = ("nftables", "ipvs")


class LabError(ValueError):
    """An option combination the lab cannot build (message is shown to the user)."""


class Mode(Enum):
    DR = "dr"
    NAT = "nat"


@dataclass(frozen=True, slots=True)
class LabOptions:
    """What `pylvs lab up` was asked for."""

    lab_id: str = DEFAULT_ID
    mode: Mode = Mode.DR
    real_servers: int = 2
    scheduler: str = "wrr"
    vrrp_version: int = 2
    advert_int: float = 1.0
    nopreempt: bool = False
    preempt_delay: float = 0.0
    persistence: int = 0
    weights: tuple[int, ...] = ()
    dataplane: str = "nftables"  # what the directors' `pylvs run --dataplane` forwards with
    sync: bool = False  # lvs_sync_daemon eth0 VI_1: the master syncs its connections
    # Seed 004: keepalived only moves the VIP and a haproxy.cfg does the balancing; here one
    # `pylvs run -f keepalived.conf -f haproxy.cfg` per director does both.
    haproxy: bool = False

    def __post_init__(self) -> None:
        if self.dataplane not in DATAPLANES:
            raise LabError(f"--dataplane is one of {', '.join(DATAPLANES)}")
        if not ID_RE.match(self.lab_id):
            raise LabError(f"lab id {self.lab_id!r}: use 1-10 lower-case letters or digits")
        if not 1 <= self.real_servers <= MAX_REAL_SERVERS:
            raise LabError(f"--real-servers must be 1..{MAX_REAL_SERVERS}")
        if self.vrrp_version not in (2, 3):
            raise LabError("--vrrp-version must be 2 or 3")
        if self.advert_int <= 0 or self.advert_int > 255:
            raise LabError("--advert-int must be in (0, 255] seconds")
        # RFC 3768 §5.3.7: v2 carries whole seconds; RFC 5798 §5.2.7: v3 centiseconds.
        if self.vrrp_version == 2 and self.advert_int != int(self.advert_int):
            raise LabError("VRRP version 2 advertises whole seconds: use --vrrp-version 3")
        if self.vrrp_version == 3 and round(self.advert_int * 100) != self.advert_int * 100:
            raise LabError("--advert-int has a resolution of 0.01 s (centiseconds)")
        if self.nopreempt and self.preempt_delay:
            # keepalived vrrp.c: preempt_delay is ignored with nopreempt.
            raise LabError("--nopreempt and --preempt-delay exclude each other")
        if not 0 <= self.preempt_delay <= 1000:
            raise LabError("--preempt-delay must be 0..1000 seconds")
        if self.persistence < 0:
            raise LabError("--persistence must be >= 0")
        if self.weights and len(self.weights) != self.real_servers:
            raise LabError(f"--weights needs {self.real_servers} value(s), one per real server")
        if any(not 0 <= w <= 65535 for w in self.weights):
            raise LabError("weights are 0..65535")
        if self.haproxy:
            self._check_haproxy()

    def _check_haproxy(self) -> None:
        if self.mode is not Mode.DR:
            # A proxy connects to the servers itself: they need neither the VIP nor the
            # directors as their gateway, so the lab keeps seed 004's one segment.
            raise LabError("--haproxy builds seed 004's one-segment cluster: leave out --mode nat")
        if self.sync:
            raise LabError("--sync syncs LVS connections; a --haproxy lab has no LVS table")
        if 0 in self.weights:
            raise LabError("--haproxy: HAProxy's server weights are 1..256")

    def weight(self, index: int) -> int:
        """Weight of real server `index` (1-based); seed 000 gives each 3, seed 004's
        haproxy.cfg 1."""
        if self.weights:
            return self.weights[index - 1]
        return 1 if self.haproxy else 3


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    segment: str
    address: ipaddress.IPv4Interface


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    role: str  # client | director | realserver
    interfaces: tuple[Interface, ...]
    gateway: ipaddress.IPv4Address | None = None


@dataclass(frozen=True, slots=True)
class Topology:
    options: LabOptions
    nodes: tuple[Node, ...]
    segments: tuple[str, ...]
    vip: ipaddress.IPv4Address
    nat_gateway: ipaddress.IPv4Interface | None
    rs_port: int

    @property
    def lab_id(self) -> str:
        return self.options.lab_id

    @property
    def mode(self) -> Mode:
        return self.options.mode

    def ns(self, node: str) -> str:
        """The namespace of `node` (also the bridge namespace, "switch")."""
        return f"{PREFIX}-{self.lab_id}-{node}"

    @property
    def switch(self) -> str:
        return self.ns("switch")

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise LabError(f"no node {name!r} in this lab (nodes: {', '.join(self.node_names)})")

    @property
    def node_names(self) -> tuple[str, ...]:
        return (*(n.name for n in self.nodes), "switch")

    @property
    def directors(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role == "director")

    @property
    def real_servers(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.role == "realserver")

    @property
    def client(self) -> Node:
        return self.node("client")

    def rip(self, rs: Node) -> ipaddress.IPv4Address:
        return rs.interfaces[0].address.ip


def _host(net: ipaddress.IPv4Network | ipaddress.IPv6Network, host: int) -> ipaddress.IPv4Interface:
    return ipaddress.IPv4Interface(f"{net.network_address + host}/{net.prefixlen}")


def plan(options: LabOptions) -> Topology:
    """The lab for `options`: nodes, their interfaces and addresses, the VIP."""
    nat = options.mode is Mode.NAT
    rs_net, rs_segment = (BACK_NET, "back") if nat else (FRONT_NET, "front")
    nodes = [Node("client", "client", (Interface("eth0", "front", _host(FRONT_NET, CLIENT_HOST)),))]
    for i, host in enumerate(DIRECTOR_HOSTS, 1):
        ifaces = [Interface("eth0", "front", _host(FRONT_NET, host))]
        if nat:
            ifaces.append(Interface("eth1", "back", _host(BACK_NET, host)))
        nodes.append(Node(f"dir{i}", "director", tuple(ifaces)))
    gateway = _host(BACK_NET, NAT_GATEWAY_HOST) if nat else None
    for i in range(1, options.real_servers + 1):
        addr = _host(rs_net, RS_FIRST_HOST + i - 1)
        nodes.append(
            Node(
                f"rs{i}",
                "realserver",
                (Interface("eth0", rs_segment, addr),),
                gateway=gateway.ip if gateway else None,
            )
        )
    return Topology(
        options=options,
        nodes=tuple(nodes),
        segments=("front", "back") if nat else ("front",),
        vip=ipaddress.IPv4Address(int(FRONT_NET.network_address) + VIP_HOST),
        nat_gateway=gateway,
        rs_port=NAT_RS_PORT if nat else VIP_PORT,
    )


def master_down_interval(options: LabOptions, priority: int) -> float:
    """Seconds a BACKUP of `priority` waits without adverts (keepalived vrrp.h
    VRRP_MS_DOWN_TIMER: 3 x advert_int + skew; skew v2 (256-p)/256 s, RFC 3768 §6.1;
    v3 (256-p) x advert_int / 256, RFC 5798 §6.1)."""
    return 3 * options.advert_int + skew_time(options, priority)


def skew_time(options: LabOptions, priority: int) -> float:
    if options.vrrp_version == 2:
        return (256 - priority) / 256
    return (256 - priority) * options.advert_int / 256


def diagram(topo: Topology) -> str:
    """The topology as the seeds draw it (SEEDS.md "The shared picture")."""
    d1, d2 = topo.directors
    client = topo.client.interfaces[0].address
    lines = [
        f"lab {topo.lab_id} ({topo.mode.value.upper()}), namespaces {topo.ns('*')}",
        "",
        f"                 client {client}",
        "                    |",
        f"         [ VIP {topo.vip}:{VIP_PORT} ]  held by the VRRP MASTER",
        "          /                      \\",
        f"  dir1 {d1.interfaces[0].address.ip} (prio {PRIORITIES[0]})"
        f"   dir2 {d2.interfaces[0].address.ip} (prio {PRIORITIES[1]})",
    ]
    if topo.nat_gateway is not None:
        lines += [
            f"  eth1 {d1.interfaces[1].address.ip}              eth1 {d2.interfaces[1].address.ip}",
            f"          \\    gateway {topo.nat_gateway.ip} (VRRP)  /",
        ]
    else:
        lines.append("          \\                      /")
    rs = ", ".join(f"{n.name} {topo.rip(n)}:{topo.rs_port}" for n in topo.real_servers)
    lines.append(f"  real servers: {rs}")
    lines.append(f"  segments: {', '.join(topo.segments)} (bridges in {topo.switch})")
    return "\n".join(lines) + "\n"
