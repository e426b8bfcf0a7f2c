"""Typed, frozen model of the VRRP side of keepalived.conf (everything except virtual servers).

The section parsers of this package fill these records; `finish` resolves the values keepalived
derives after parsing (vrrp/vrrp.c `vrrp_complete_instance`, core/global_data.c
`init_global_data`), so every field here holds the value keepalived would run with.  Times are
seconds (float) except the advert interval, kept in microseconds as keepalived does
(`TIMER_HZ`), because the VRRP timers compute with it in integers (reference §4.4).
The global side (global_defs, process settings, scripts and the VrrpConfig holding it all) is
in global_model.py, re-exported here: a file without instances or trackers never imports this.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pylvs.config.errors import Location
from pylvs.config.keepalived.vrrp.global_model import (
    INADDR6_VRRP_GROUP,
    INADDR_VRRP_GROUP,
    VRRP_ADVER_DFL_US,
    VRRP_DOWN_TIMER_ADVERTS,
    VRRP_GARP_DELAY,
    VRRP_GARP_REP,
    VRRP_PRIO_DFL,
    VRRP_PRIO_OWNER,
    FifoSetting,
    GlobalDefs,
    LvsSyncDaemon,
    LvsTimeouts,
    NotifyScript,
    ProcessSettings,
    SmtpServer,
    TrackedItem,
    VrrpConfig,
)
from pylvs.model.service import Address

Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The global side is in global_model.py, apart (its docstring says why), and re-exported here.
__all__ = [
    "INADDR6_VRRP_GROUP",
    "INADDR_VRRP_GROUP",
    "VRRP_ADVER_DFL_US",
    "VRRP_DOWN_TIMER_ADVERTS",
    "VRRP_GARP_DELAY",
    "VRRP_GARP_REP",
    "VRRP_PRIO_DFL",
    "VRRP_PRIO_OWNER",
    "Authentication",
    "BfdInstance",
    "FifoSetting",
    "GarpGroup",
    "GlobalDefs",
    "Interface",
    "LinkbeatInterface",
    "LvsSyncDaemon",
    "LvsTimeouts",
    "Network",
    "NotifyScript",
    "ProcessSettings",
    "SmtpServer",
    "SyncGroup",
    "TrackFile",
    "TrackGroup",
    "TrackProcess",
    "TrackedItem",
    "UnicastPeer",
    "UpDownDelay",
    "VirtualAddress",
    "VirtualRoute",
    "VirtualRule",
    "VrrpConfig",
    "VrrpInstance",
    "VrrpScript",
]


@dataclass(frozen=True, slots=True)
class VrrpScript:
    """A vrrp_script: a command run every `interval` whose result moves priorities."""

    name: str
    script: NotifyScript
    interval: float = 1.0
    timeout: float | None = None  # None: the interval is the timeout
    weight: int = 0
    weight_reverse: bool = False
    rise: int = 1
    fall: int = 1
    init_fail: bool = False
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class TrackFile:
    """A track_file: a file whose number moves the priorities of who tracks it."""

    name: str
    path: str
    weight: int = 1
    weight_reverse: bool = False
    init_file: bool = False
    init_value: int = 0
    init_overwrite: bool = False
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class TrackProcess:
    """A vrrp_track_process: a process whose presence moves priorities."""

    name: str
    process: str
    params: tuple[str, ...] | None = None
    param_match_partial: bool = False
    weight: int = 0
    weight_reverse: bool = False
    quorum: int = 1
    quorum_max: int | None = None
    fork_delay: float = 0.0
    terminate_delay: float = 0.0
    full_command: bool = False
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class BfdInstance:
    """A bfd_instance: a BFD session whose state VRRP instances or checkers follow."""

    name: str
    neighbor_ip: Address | None = None
    source_ip: Address | None = None
    min_rx_ms: int = 10
    min_tx_ms: int = 10
    idle_tx_ms: int = 1000
    multiplier: int = 5
    passive: bool = False
    ttl: int = 255
    hoplimit: int = 64
    max_hops: int = 0
    weight: int = 0
    weight_reverse: bool = False
    vrrp_only: bool = False
    checker_only: bool = False
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class SyncGroup:
    """A vrrp_sync_group: instances that change state together, with their trackers and notifies."""

    name: str
    members: tuple[str, ...] = ()
    track_interfaces: tuple[TrackedItem, ...] = ()
    track_scripts: tuple[TrackedItem, ...] = ()
    track_files: tuple[TrackedItem, ...] = ()
    track_processes: tuple[TrackedItem, ...] = ()
    track_bfds: tuple[TrackedItem, ...] = ()
    notify_master: NotifyScript | None = None
    notify_backup: NotifyScript | None = None
    notify_fault: NotifyScript | None = None
    notify_stop: NotifyScript | None = None
    notify: NotifyScript | None = None
    notify_priority_changes: bool | None = None
    smtp_alert: bool | None = None
    global_tracking: bool = False
    sync_group_tracking_weight: bool = False
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class GarpGroup:
    """A garp_group: the gratuitous ARP/NA timing of a set of interfaces."""

    garp_interval: float | None = None
    gna_interval: float | None = None
    interfaces: tuple[str, ...] = ()
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class VirtualAddress:
    """One `virtual_ipaddress` / `static_ipaddress` line [vrrp/vrrp_ipaddress.c parse_ipaddress]."""

    address: Interface
    broadcast: Address | None = None
    dev: str | None = None
    scope: str = "global"
    label: str | None = None
    peer: Interface | None = None
    home: bool = False
    nodad: bool = False
    mngtmpaddr: bool = False
    noprefixroute: bool = False
    autojoin: bool = False
    no_track: bool = False
    preferred_lft: int | None = None  # None = forever
    use_vmac: bool = False
    track_group: str | None = None
    loc: Location | None = None

    @property
    def family(self) -> int:
        return self.address.version


@dataclass(frozen=True, slots=True)
class VirtualRoute:
    """One `virtual_routes` / `static_routes` line in `ip route` syntax [vrrp/vrrp_iproute.c]."""

    destination: Network | None  # None: `default`
    route_type: str = "unicast"
    via: Address | None = None
    src: Address | None = None
    dev: str | None = None
    table: str | None = None
    metric: int | None = None
    scope: str | None = None
    protocol: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # the other `ip route` options, as written
    no_track: bool = False
    track_group: str | None = None
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class VirtualRule:
    """One `virtual_rules` / `static_rules` line in `ip rule` syntax [vrrp/vrrp_iprule.c]."""

    family: int  # 4 or 6
    from_net: Network | None = None
    to_net: Network | None = None
    table: str | None = None
    preference: int | None = None
    action: str = "table"
    options: tuple[tuple[str, str], ...] = ()
    no_track: bool = False
    track_group: str | None = None
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class UnicastPeer:
    """A unicast_peer of a VRRP instance, with the TTL range its adverts must have."""

    address: Address
    min_ttl: int = 0
    max_ttl: int = 255
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Authentication:
    """VRRPv2 authentication: the password is the 8 bytes sent, zero padded (§4.15)."""

    auth_type: str  # "PASS" | "AH"
    password: bytes


@dataclass(frozen=True, slots=True)
class VrrpInstance:
    """A vrrp_instance, resolved: what the VRRP engine runs."""

    name: str
    vrid: int
    state: str  # "MASTER" | "BACKUP" (the initial, wanted state)
    priority: int
    interface: str | None = None
    family: int = 4
    version: int = 2
    advert_int_us: int = VRRP_ADVER_DFL_US
    vrf: str | None = None
    use_vmac: tuple[str, ...] | None = None
    use_vmac_addr: bool = False
    vmac_xmit_base: bool = False
    use_ipvlan: tuple[str, ...] | None = None
    dont_track_primary: bool = False
    track_interfaces: tuple[TrackedItem, ...] = ()
    track_scripts: tuple[TrackedItem, ...] = ()
    track_files: tuple[TrackedItem, ...] = ()
    track_processes: tuple[TrackedItem, ...] = ()
    track_bfds: tuple[TrackedItem, ...] = ()
    mcast_src_ip: Address | None = None
    mcast_dst_ip: Address | None = None
    track_src_ip: bool = False
    check_unicast_src: bool = False
    unicast_peers: tuple[UnicastPeer, ...] = ()
    unicast_fault_no_peer: bool = False
    unicast_ttl: int = 255
    old_unicast_checksum: str | None = None
    v3_checksum_as_v2: bool = False
    garp_master_delay: float = VRRP_GARP_DELAY
    garp_master_repeat: int = VRRP_GARP_REP
    garp_lower_prio_delay: float = VRRP_GARP_DELAY
    garp_lower_prio_repeat: int = VRRP_GARP_REP
    garp_master_refresh: float = 0.0
    garp_master_refresh_repeat: int = 1
    garp_extra_if: float = 0.0
    garp_extra_if_all: bool = False
    down_timer_adverts: int = VRRP_DOWN_TIMER_ADVERTS
    timer_expired_backup: int | None = None
    lower_prio_no_advert: bool = False
    higher_prio_send_advert: bool = False
    owner_ignore_adverts: bool = False
    authentication: Authentication | None = None
    virtual_ipaddresses: tuple[VirtualAddress, ...] = ()
    virtual_ipaddresses_excluded: tuple[VirtualAddress, ...] = ()
    no_virtual_ipaddress: bool = False
    promote_secondaries: bool = False
    virtual_routes: tuple[VirtualRoute, ...] = ()
    virtual_rules: tuple[VirtualRule, ...] = ()
    accept: bool = True
    nopreempt: bool = False
    preempt_delay: float = 0.0
    skip_check_adv_addr: bool = False
    strict_mode: bool = False
    debug: int = 0
    notify_master: NotifyScript | None = None
    notify_backup: NotifyScript | None = None
    notify_fault: NotifyScript | None = None
    notify_stop: NotifyScript | None = None
    notify_deleted: NotifyScript | None = None
    notify_deleted_enabled: bool = False
    notify: NotifyScript | None = None
    notify_master_rx_lower_pri: NotifyScript | None = None
    notify_priority_changes: bool = False
    smtp_alert: bool = False
    kernel_rx_buf_size: int | None = None
    sync_group: str | None = None
    loc: Location | None = None

    @property
    def unicast(self) -> bool:
        return bool(self.unicast_peers)


@dataclass(frozen=True, slots=True)
class LinkbeatInterface:
    """A linkbeat_interfaces entry: an interface and how its link state is read."""

    name: str
    method: str = "MII"
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class UpDownDelay:
    """An interface_up_down_delays entry."""

    interface: str
    down_delay: float
    up_delay: float
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class TrackGroup:
    """A track_group: VRRP instances tracked together."""

    name: str
    members: tuple[str, ...] = ()
    loc: Location | None = None
