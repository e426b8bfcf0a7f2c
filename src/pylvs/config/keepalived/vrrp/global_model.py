"""The global side of the VRRP model: global_defs, the process settings, scripts, and the
VrrpConfig that holds the whole side (vrrp/model.py says what the model is; it re-exports these).

Apart so that reading a keepalived.conf without VRRP instances, trackers or static blocks (a big
LVS site's) does not create the classes of those blocks: they are vrrp/model.py's, imported with
the parsers that make them (vrrp/__init__.py `_later`); their classes were a tenth of the
start-up of `pylvs check` (bench/config_bench.py, issue 18 #10).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pylvs.config.errors import Location
from pylvs.model.service import Address

if TYPE_CHECKING:
    from pylvs.config.keepalived.vrrp.model import (
        BfdInstance,
        GarpGroup,
        LinkbeatInterface,
        SyncGroup,
        TrackFile,
        TrackGroup,
        TrackProcess,
        UpDownDelay,
        VirtualAddress,
        VirtualRoute,
        VirtualRule,
        VrrpInstance,
        VrrpScript,
    )

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
