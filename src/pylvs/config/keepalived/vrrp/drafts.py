"""Typed drafts of the VRRP-side sections: what the file said, before keepalived's derivations.

A draft field is None while the keyword has not been seen (keepalived's "unset" sentinels),
so the post-parse rules (`post.py`, `resolve.py`) can tell a default from an explicit value:
an instance's `garp_master_delay` left unset takes global_defs' value, `accept` unset depends
on strict mode and priority, and so on.  Fields with no such rule carry the model's default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from pylvs.config.errors import Location
from pylvs.config.keepalived.vrrp.global_drafts import GlobalDraft, ProcessDraft
from pylvs.config.keepalived.vrrp.model import (
    Authentication,
    NotifyScript,
    TrackedItem,
    UnicastPeer,
    VirtualAddress,
    VirtualRoute,
    VirtualRule,
)
from pylvs.config.tree import Word
from pylvs.model.service import Address

# The global drafts are in global_drafts.py, apart (as global_model.py is), and re-exported.
__all__ = [
    "BfdDraft",
    "GarpGroupDraft",
    "GlobalDraft",
    "GroupDraft",
    "InstanceDraft",
    "ProcessDraft",
    "ScriptDraft",
    "TrackFileDraft",
    "TrackProcessDraft",
]


@dataclass(slots=True)
class ScriptDraft:
    """A vrrp_script block as read."""

    name: str
    script: NotifyScript | None = None
    user: tuple[Word, ...] | None = None  # `user USER [GROUP]`: resolved at the end
    interval: float = 1.0
    timeout: float | None = None
    weight: int = 0
    weight_reverse: bool = False
    rise: int = 1
    fall: int = 1
    init_fail: bool = False


@dataclass(slots=True)
class TrackFileDraft:
    """A vrrp_track_file (track_file) block as read."""

    name: str
    path: str | None = None
    weight: int = 1
    weight_reverse: bool = False
    init_file: bool = False
    init_value: int = 0
    init_overwrite: bool = False


@dataclass(slots=True)
class TrackProcessDraft:
    """A vrrp_track_process block as read."""

    name: str
    process: str | None = None
    params: tuple[str, ...] | None = None
    param_match_partial: bool = False
    weight: int = 0
    weight_reverse: bool = False
    quorum: int = 1
    quorum_max: int | None = None
    fork_delay: float = 0.0
    terminate_delay: float = 0.0
    full_command: bool = False


@dataclass(slots=True)
class BfdDraft:
    """A bfd_instance block as read."""

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


@dataclass(slots=True)
class GroupDraft:
    """vrrp_sync_group and track_group (only `name` and `members` for the latter)."""

    name: str
    members: tuple[str, ...] | None = None
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


@dataclass(slots=True)
class GarpGroupDraft:
    """A garp_group block as read."""

    garp_interval: float | None = None
    gna_interval: float | None = None
    interfaces: tuple[str, ...] = ()
    seen: set[str] = field(default_factory=set)  # interfaces of every garp_group so far


@dataclass(slots=True)
class InstanceDraft:
    """A vrrp_instance block as read, before keepalived's post-parse rules."""

    name: str
    loc: Location
    # Where some keywords were, for problems the post-parse rules find about them.
    locs: dict[str, Location] = field(default_factory=dict)
    vrid: int | None = None
    state: str | None = None
    priority: int | None = None
    interface: str | None = None
    family: int | None = None  # fixed by the first address seen (source, peer or VIP)
    version: int | None = None
    advert_int_us: int | None = None
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
    check_unicast_src: bool | None = None
    unicast_peers: tuple[UnicastPeer, ...] = ()
    unicast_fault_no_peer: bool = False
    unicast_ttl: int | None = None
    old_unicast_checksum: str | None = None
    v3_checksum_as_v2: bool | None = None
    garp_master_delay: float | None = None
    garp_master_repeat: int | None = None
    garp_lower_prio_delay: float | None = None
    garp_lower_prio_repeat: int | None = None
    garp_master_refresh: float | None = None
    garp_master_refresh_repeat: int | None = None
    garp_extra_if: float | None = None
    garp_extra_if_all: bool | None = None
    down_timer_adverts: int | None = None
    timer_expired_backup: int | None = None
    lower_prio_no_advert: bool | None = None
    higher_prio_send_advert: bool | None = None
    owner_ignore_adverts: bool = False
    authentication: Authentication | None = None
    virtual_ipaddresses: tuple[VirtualAddress, ...] = ()
    virtual_ipaddresses_excluded: tuple[VirtualAddress, ...] = ()
    no_virtual_ipaddress: bool = False
    promote_secondaries: bool = False
    virtual_routes: tuple[VirtualRoute, ...] = ()
    virtual_rules: tuple[VirtualRule, ...] = ()
    accept: bool | None = None
    nopreempt: bool = False
    preempt_delay: float = 0.0
    skip_check_adv_addr: bool | None = None
    strict_mode: bool | None = None
    debug: int = 0
    notify_master: NotifyScript | None = None
    notify_backup: NotifyScript | None = None
    notify_fault: NotifyScript | None = None
    notify_stop: NotifyScript | None = None
    notify_deleted: NotifyScript | None = None
    notify_deleted_enabled: bool = False
    notify: NotifyScript | None = None
    notify_master_rx_lower_pri: NotifyScript | None = None
    notify_priority_changes: bool | None = None
    smtp_alert: bool | None = None
    kernel_rx_buf_size: int | None = None
    unicast_keyword: Location | None = None
    lvs_sync_daemon_interface: Word | None = None
    # The trackers defined above this instance, by kind ("script", "file", "process", "bfd"):
    # keepalived resolves a track_* name while parsing, so a later definition is not found.
    known_trackers: Mapping[str, Collection[str]] = field(default_factory=dict)
