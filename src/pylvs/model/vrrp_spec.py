"""What a VRRP instance runs with besides its state machine's parameters.

An instance's interface, its address records (keepalived vrrp/vrrp_ipaddress.c: prefix, dev,
label, scope, brd, peer, nodad, noprefixroute, preferred_lft), routes and rules (`ip route` /
`ip rule` syntax, vrrp/vrrp_iproute.c, vrrp_iprule.c; the table as written, resolved by the host
side), accept mode, where adverts go, and the scripts it runs; the sync groups, the
`vrrp_script` and `track_file` trackers, and the gratuitous ARP pacing (garp_group,
vrrp_garp_interval / vrrp_gna_interval).  The machine's own values are model/vrrp.py.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pylvs.model.notify import ScriptSpec
from pylvs.model.vrrp import (
    INADDR6_VRRP_GROUP,
    INADDR_VRRP_GROUP,
    InstanceParams,
    Interface,
    IPAddress,
    Notifies,
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class AddressSpec:
    """An address as the host is to carry it (one `virtual_ipaddress` line, device resolved)."""

    address: Interface
    dev: str
    label: str | None = None
    scope: str = "global"
    broadcast: IPAddress | None = None
    peer: Interface | None = None
    nodad: bool = False
    noprefixroute: bool = False
    preferred_lft: int | None = None  # None: forever

    @property
    def family(self) -> int:
        return self.address.version


@dataclass(frozen=True, slots=True)
class VirtualRoute:
    """One `virtual_routes` line: `dev` None means the instance's interface for unicast
    routes; `table` is the name or number as written (None: main)."""

    destination: Network | None  # None: `default`
    route_type: str = "unicast"
    via: IPAddress | None = None
    src: IPAddress | None = None
    dev: str | None = None
    table: str | None = None
    metric: int | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class VirtualRule:
    """One `virtual_rules` line (`table` as written, None: main)."""

    family: int  # 4 or 6
    from_net: Network | None = None
    to_net: Network | None = None
    table: str | None = None
    preference: int | None = None
    action: str = "table"
    fwmark: int | None = None
    iif: str | None = None
    oif: str | None = None


@dataclass(frozen=True, slots=True)
class VrrpInstanceSpec:
    """One VRRP instance.

    addresses   the VIPs then the excluded VIPs, as the host carries them
    accept      False: traffic to the VIPs is dropped (keepalived no_accept)
    group       the multicast destination of adverts
    scripts     every notify script of the instance (to find the user an argv runs as)
    """

    params: InstanceParams
    interface: str
    addresses: tuple[AddressSpec, ...] = ()
    routes: tuple[VirtualRoute, ...] = ()
    rules: tuple[VirtualRule, ...] = ()
    accept: bool = True
    group: IPAddress = INADDR_VRRP_GROUP
    unicast_ttl: int = 255
    track_src_ip: bool = False
    dont_track_primary: bool = False
    smtp_alert: bool = False
    scripts: tuple[ScriptSpec, ...] = ()

    @property
    def name(self) -> str:
        return self.params.name


@dataclass(frozen=True, slots=True)
class SyncGroupSpec:
    """Instances that change state together, with the group's own notifications."""

    name: str
    members: tuple[str, ...]
    notifies: Notifies = field(default_factory=Notifies)
    smtp_alert: bool = False
    scripts: tuple[ScriptSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class VrrpScriptSpec:
    """A `vrrp_script` tracker: run every `interval`, killed after `timeout` (None: the
    interval), `rise` successes / `fall` failures change its state."""

    name: str
    script: ScriptSpec
    interval: float = 1.0
    timeout: float | None = None
    rise: int = 1
    fall: int = 1
    init_fail: bool = False


@dataclass(frozen=True, slots=True)
class TrackFileSpec:
    """A `track_file`: a file holding a number, read by VRRP trackers and FILE_CHECK;
    `init_file` creates it at start (with `init_value`; `init_overwrite` rewrites it)."""

    name: str
    path: str
    weight: int = 1
    reverse: bool = False
    init_file: bool = False
    init_value: int = 0
    init_overwrite: bool = False


@dataclass(frozen=True, slots=True)
class GarpGroupSpec:
    """Gratuitous ARP / NA pacing for some interfaces (None: the global interval)."""

    interfaces: tuple[str, ...]
    garp_interval: float | None = None
    gna_interval: float | None = None


@dataclass(frozen=True, slots=True)
class GarpSpec:
    """Minimum seconds between gratuitous ARPs (NAs) on an interface; 0: no pacing."""

    garp_interval: float = 0.0
    gna_interval: float = 0.0
    groups: tuple[GarpGroupSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class VrrpDefaults:
    """The defaults instances fall back on (keepalived global_defs: vrrp_mcast_group4/6,
    vrrp_version, vrrp_check_unicast_src, vrrp_skip_check_adv_addr, vrrp_strict).  Each
    instance's parameters already hold its resolved values; the data dumps show these."""

    mcast_group4: ipaddress.IPv4Address = INADDR_VRRP_GROUP
    mcast_group6: ipaddress.IPv6Address = INADDR6_VRRP_GROUP
    version: int = 2
    check_unicast_src: bool = False
    skip_check_adv_addr: bool = False
    strict: bool = False


@dataclass(frozen=True, slots=True)
class VrrpSpec:
    instances: tuple[VrrpInstanceSpec, ...] = ()
    sync_groups: tuple[SyncGroupSpec, ...] = ()
    scripts: tuple[VrrpScriptSpec, ...] = ()
    garp: GarpSpec = field(default_factory=GarpSpec)
    defaults: VrrpDefaults = field(default_factory=VrrpDefaults)
