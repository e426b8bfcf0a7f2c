"""Drafts of global_defs and the process settings (vrrp/drafts.py says what a draft is; it
re-exports these): apart from the drafts of instances and trackers for the reason
vrrp/global_model.py is apart from vrrp/model.py.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pylvs.config.errors import Location
from pylvs.config.keepalived.vrrp.global_model import (
    INADDR6_VRRP_GROUP,
    INADDR_VRRP_GROUP,
    VRRP_DOWN_TIMER_ADVERTS,
    FifoSetting,
    LvsSyncDaemon,
    LvsTimeouts,
    NotifyScript,
    SmtpServer,
)


@dataclass(slots=True)
class GlobalDraft:
    """The global_defs block as read (None = not set: keepalived's default applies)."""

    notification_email: tuple[str, ...] = ()
    notification_email_from: str | None = None
    smtp_server: SmtpServer | None = None
    smtp_helo_name: str | None = None
    smtp_connect_timeout: int = 30
    smtp_alert: bool | None = None
    smtp_alert_vrrp: bool | None = None
    smtp_alert_checker: bool | None = None
    no_email_faults: bool = False
    checker_log_all_failures: bool = False
    router_id: str | None = None
    pylvs_http: str | None = None  # pylvs's own: the HTTP surface's ADDR:PORT
    vrrp_mcast_group4: ipaddress.IPv4Address = INADDR_VRRP_GROUP
    vrrp_mcast_group6: ipaddress.IPv6Address = INADDR6_VRRP_GROUP
    default_interface: str | None = None
    lvs_sync_daemon: LvsSyncDaemon | None = None
    lvs_sync_daemon_loc: Location | None = None
    lvs_timeouts: LvsTimeouts = field(default_factory=LvsTimeouts)
    lvs_flush: bool = False
    lvs_flush_on_stop: str | None = None
    # None: unset (vrrp_min_garp changes the defaults of these three)
    vrrp_garp_master_delay: float | None = None
    vrrp_garp_master_repeat: int | None = None
    vrrp_garp_master_refresh: float | None = None
    vrrp_garp_lower_prio_delay: float | None = None
    vrrp_garp_lower_prio_repeat: int | None = None
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
    # A *_fifo_script read before its *_fifo: kept until the end, as keepalived does.
    pending_fifo_scripts: dict[str, NotifyScript] = field(default_factory=dict)
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
    # Recognised keywords kept as written (GlobalDefs.other).
    other: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # Set by `script_user` when the user does not exist on this host: keepalived then cannot
    # give scripts without their own `user` a uid ("Unable to set default user").
    script_user_missing: bool = False


@dataclass(slots=True)
class ProcessDraft:
    """The process-wide global_defs options as read (namespaces, instance name, pid dir)."""

    net_namespace: str | None = None
    net_namespace_ipvs: str | None = None
    namespace_with_ipsets: bool = False
    instance: str | None = None
    use_pid_dir: bool = False
    linkbeat_use_polling: bool = False
    child_wait_time: int = 5
