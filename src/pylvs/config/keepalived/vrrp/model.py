"""Typed, frozen model of the VRRP side of keepalived.conf (everything except virtual servers).

The section parsers of this package fill these records; `finish` resolves the values keepalived
derives after parsing (vrrp/vrrp.c `vrrp_complete_instance`, core/global_data.c
`init_global_data`), so every field here holds the value keepalived would run with.  Times are
seconds (float) except the advert interval, kept in microseconds as keepalived does
(`TIMER_HZ`), because the VRRP timers compute with it in integers (reference §4.4).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pylvs.config.errors import Location
from pylvs.model.service import Address

Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# keepalived/include/vrrp.h
VRRP_PRIO_OWNER = 255
VRRP_PRIO_DFL = 100
VRRP_ADVER_DFL_US = 1_000_000
VRRP_DOWN_TIMER_ADVERTS = 3
VRRP_GARP_DELAY = 5
VRRP_GARP_REP = 5
INADDR_VRRP_GROUP = ipaddress.IPv4Address("224.0.0.18")
INADDR6_VRRP_GROUP = ipaddress.IPv6Address("ff02::12")


@dataclass(frozen=True, slots=True)
class NotifyScript:
    """A script keepalived runs: `argv` after the quoting rules of §3.1, as `user[:group]`."""

    argv: tuple[str, ...]
    raw: str
    user: str | None = None
    group: str | None = None
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class TrackedItem:
    """An entry of a track_* block; weight None means "the tracker's own weight"."""

    name: str
    weight: int | None = None
    reverse: bool = False
    loc: Location | None = None


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
class SmtpServer:
    """global_defs smtp_server: host and port."""

    host: str  # an address or a host name, as written
    port: int = 25


@dataclass(frozen=True, slots=True)
class LvsSyncDaemon:
    """global_defs lvs_sync_daemon: the IPVS connection sync daemon's settings."""

    interface: str
    instance: str | None = None
    syncid: int | None = None
    maxlen: int | None = None
    port: int | None = None
    ttl: int | None = None
    group: Address | None = None


@dataclass(frozen=True, slots=True)
class LvsTimeouts:
    """global_defs lvs_timeouts: IPVS's TCP, TCP FIN and UDP timeouts."""

    tcp: int | None = None
    tcpfin: int | None = None
    udp: int | None = None


@dataclass(frozen=True, slots=True)
class FifoSetting:
    """A notify FIFO of global_defs: its path, owner and the script reading it."""

    path: str
    user: str | None = None
    group: str | None = None
    script: NotifyScript | None = None


@dataclass(frozen=True, slots=True)
class ProcessSettings:
    """Top-level keywords outside global_defs [core/global_parser.c `init_global_keywords`]."""

    net_namespace: str | None = None
    net_namespace_ipvs: str | None = None
    namespace_with_ipsets: bool = False
    instance: str | None = None
    use_pid_dir: bool = False
    linkbeat_use_polling: bool = False
    child_wait_time: int = 5


@dataclass(frozen=True, slots=True)
class GlobalDefs:
    """The global_defs block, resolved (keepalived's defaults where it is silent)."""

    notification_email: tuple[str, ...] = ()
    notification_email_from: str | None = None  # None: the runtime computes user@host
    smtp_server: SmtpServer | None = None
    smtp_helo_name: str | None = None
    smtp_connect_timeout: int = 30
    smtp_alert: bool | None = None
    smtp_alert_vrrp: bool | None = None
    smtp_alert_checker: bool | None = None
    no_email_faults: bool = False
    checker_log_all_failures: bool = False
    router_id: str | None = None  # None: the local host name
    pylvs_http: str | None = None  # pylvs's own: the HTTP surface's ADDR:PORT
    vrrp_mcast_group4: ipaddress.IPv4Address = INADDR_VRRP_GROUP
    vrrp_mcast_group6: ipaddress.IPv6Address = INADDR6_VRRP_GROUP
    default_interface: str | None = None
    lvs_sync_daemon: LvsSyncDaemon | None = None
    lvs_timeouts: LvsTimeouts = LvsTimeouts()
    lvs_flush: bool = False
    lvs_flush_on_stop: str | None = None  # None | "all" | "vs"
    vrrp_garp_master_delay: float = VRRP_GARP_DELAY
    vrrp_garp_master_repeat: int = VRRP_GARP_REP
    vrrp_garp_lower_prio_delay: float | None = None  # None: = master delay
    vrrp_garp_lower_prio_repeat: int | None = None  # None: = master repeat
    vrrp_garp_master_refresh: float = 0.0
    vrrp_garp_master_refresh_repeat: int = 1
    vrrp_garp_interval: float = 0.0
    vrrp_gna_interval: float = 0.0
    vrrp_min_garp: bool = False
    vrrp_garp_extra_if: float = 0.0
    vrrp_garp_extra_if_all: bool = False
    vrrp_down_timer_adverts: int = VRRP_DOWN_TIMER_ADVERTS
    vrrp_lower_prio_no_advert: bool = False
    vrrp_higher_prio_send_advert: bool = False
    vrrp_version: int = 2
    v3_checksum_as_v2: bool = False
    vrrp_check_unicast_src: bool = False
    vrrp_skip_check_adv_addr: bool = False
    vrrp_strict: bool = False
    vrrp_notify_priority_changes: bool = False
    vrrp_startup_delay: float = 0.0
    script_user: str | None = None
    script_group: str | None = None
    enable_script_security: bool = False
    notify_fifo: FifoSetting | None = None
    vrrp_notify_fifo: FifoSetting | None = None
    lvs_notify_fifo: FifoSetting | None = None
    max_auto_priority: int | None = None
    min_auto_priority_delay: int = 1_000_000
    random_seed: int | None = None
    nftables: str | None = None
    nftables_priority: int = -1
    nftables_counters: bool = False
    nftables_ifindex: bool = False
    nftables_ipvs: str | None = None
    nftables_ipvs_priority: int = -1
    nftables_ipvs_start_fwmark: int = 1000
    vmac_prefix: str = "vrrp"
    startup_script: NotifyScript | None = None
    startup_script_timeout: int = 10
    shutdown_script: NotifyScript | None = None
    shutdown_script_timeout: int = 10
    process: ProcessSettings = ProcessSettings()
    # Recognised keywords pylvs does not act on (snmp, dbus, cpu affinity, ...), as written.
    other: tuple[tuple[str, tuple[str, ...]], ...] = ()


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


@dataclass(frozen=True, slots=True)
class VrrpConfig:
    """The VRRP side of a keepalived.conf: instances, trackers, groups, static routes."""

    instances: tuple[VrrpInstance, ...] = ()
    scripts: tuple[VrrpScript, ...] = ()
    track_files: tuple[TrackFile, ...] = ()
    track_processes: tuple[TrackProcess, ...] = ()
    bfd_instances: tuple[BfdInstance, ...] = ()
    sync_groups: tuple[SyncGroup, ...] = ()
    garp_groups: tuple[GarpGroup, ...] = ()
    static_addresses: tuple[VirtualAddress, ...] = ()
    static_routes: tuple[VirtualRoute, ...] = ()
    static_rules: tuple[VirtualRule, ...] = ()
    track_groups: tuple[TrackGroup, ...] = ()
    linkbeat_interfaces: tuple[LinkbeatInterface, ...] = ()
    up_down_delays: tuple[UpDownDelay, ...] = ()
