"""Build the VRRP state machine's parameters from the keepalived.conf model.

The config model (pylvs.config.keepalived.vrrp.model) already holds the values keepalived runs
with after `vrrp_complete_instance`; this maps them onto `InstanceParams`: seconds become
microseconds, notify scripts become argv tuples, tracked items become `Tracker`s (a sync
group's trackers apply to each member, vrrp_track.c `initialise_vrrp_tracking_priorities`),
and strict mode's forced settings are applied once more (§4.18), including
`owner_ignore_adverts` for address owners which the model leaves to the runtime.
"""

from __future__ import annotations

from pylvs.config.keepalived.vrrp.model import (
    GlobalDefs,
    NotifyScript,
    SyncGroup,
    TrackedItem,
    VirtualAddress,
    VrrpInstance,
)
from pylvs.proto.vrrp.commands import Vip
from pylvs.proto.vrrp.packet import VRRP_AUTH_NONE, VRRP_AUTH_PASS, password_bytes
from pylvs.proto.vrrp.priority import Tracker, TrackerKind
from pylvs.proto.vrrp.settings import InstanceParams, Notifies
from pylvs.proto.vrrp.validate import ChecksumCompat, Peer

TIMER_HZ = 1_000_000
COMPAT = {
    None: ChecksumCompat.NONE,
    "never": ChecksumCompat.NEVER,
    "always": ChecksumCompat.CONFIG,
}


def _us(seconds: float) -> int:
    return round(seconds * TIMER_HZ)


def _argv(script: NotifyScript | None) -> tuple[str, ...] | None:
    return None if script is None else script.argv


def _vips(addresses: tuple[VirtualAddress, ...]) -> tuple[Vip, ...]:
    return tuple(Vip(a.address, a.dev) for a in addresses)


def _trackers(
    owner_items: tuple[tuple[TrackerKind, tuple[TrackedItem, ...]], ...],
) -> tuple[Tracker, ...]:
    return tuple(
        Tracker(kind, item.name, item.weight or 0, item.reverse)
        for kind, items in owner_items
        for item in items
    )


def _tracked(x: VrrpInstance | SyncGroup) -> tuple[Tracker, ...]:
    return _trackers(
        (
            (TrackerKind.INTERFACE, x.track_interfaces),
            (TrackerKind.SCRIPT, x.track_scripts),
            (TrackerKind.FILE, x.track_files),
            (TrackerKind.PROCESS, x.track_processes),
            (TrackerKind.BFD, x.track_bfds),
        )
    )


def has_fifo(g: GlobalDefs) -> bool:
    return g.notify_fifo is not None or g.vrrp_notify_fifo is not None


def instance_params(
    inst: VrrpInstance, g: GlobalDefs, group: SyncGroup | None = None
) -> InstanceParams:
    """The state machine parameters of one vrrp_instance."""
    auth_type, auth_data = VRRP_AUTH_NONE, bytes(8)
    if inst.authentication is not None:
        if inst.authentication.auth_type != "PASS":
            raise ValueError(f"({inst.name}) IPsec AH authentication is not supported")
        auth_type, auth_data = VRRP_AUTH_PASS, password_bytes(inst.authentication.password)
    peers = tuple(Peer(p.address, p.min_ttl, p.max_ttl) for p in inst.unicast_peers)
    owner_ignore = inst.owner_ignore_adverts or any(
        key == "vrrp_owner_ignore_adverts" for key, _ in g.other
    )
    params = InstanceParams(
        name=inst.name,
        vrid=inst.vrid,
        priority=inst.priority,
        initial_state=inst.state,
        family=inst.family,
        version=inst.version,
        adver_int_us=inst.advert_int_us,
        down_timer_adverts=inst.down_timer_adverts,
        vips=_vips(inst.virtual_ipaddresses),
        evips=_vips(inst.virtual_ipaddresses_excluded),
        auth_type=auth_type,
        auth_data=auth_data,
        unicast_peers=peers,
        check_unicast_src=inst.check_unicast_src
        or any(p.min_ttl != 0 or p.max_ttl != 255 for p in peers),
        v3_checksum_as_v2=inst.v3_checksum_as_v2,
        checksum_compat=COMPAT.get(inst.old_unicast_checksum, ChecksumCompat.NONE),
        mcast_group4=g.vrrp_mcast_group4,
        source_address=inst.mcast_src_ip,
        owner_ignore_adverts=owner_ignore,
        skip_check_adv_addr=inst.skip_check_adv_addr,
        nopreempt=inst.nopreempt,
        preempt_delay_us=_us(inst.preempt_delay),
        lower_prio_no_advert=inst.lower_prio_no_advert,
        higher_prio_send_advert=inst.higher_prio_send_advert,
        garp_master_delay_us=_us(inst.garp_master_delay),
        garp_master_repeat=inst.garp_master_repeat,
        garp_master_refresh_us=_us(inst.garp_master_refresh),
        garp_master_refresh_repeat=inst.garp_master_refresh_repeat,
        garp_lower_prio_delay_us=_us(inst.garp_lower_prio_delay),
        garp_lower_prio_repeat=inst.garp_lower_prio_repeat,
        trackers=_tracked(inst) + (_tracked(group) if group is not None else ()),
        notifies=Notifies(
            master=_argv(inst.notify_master),
            backup=_argv(inst.notify_backup),
            fault=_argv(inst.notify_fault),
            stop=_argv(inst.notify_stop),
            generic=_argv(inst.notify),
            master_rx_lower_pri=_argv(inst.notify_master_rx_lower_pri),
            fifo=has_fifo(g),
            priority_changes=inst.notify_priority_changes,
        ),
        startup_delay_us=_us(g.vrrp_startup_delay),
    )
    return params.strict() if inst.strict_mode else params


def group_notifies(group: SyncGroup, g: GlobalDefs) -> Notifies:
    """A vrrp_sync_group's notify scripts and the FIFO flag."""
    return Notifies(
        master=_argv(group.notify_master),
        backup=_argv(group.notify_backup),
        fault=_argv(group.notify_fault),
        stop=_argv(group.notify_stop),
        generic=_argv(group.notify),
        fifo=has_fifo(g),
    )
