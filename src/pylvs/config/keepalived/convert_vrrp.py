"""keepalived's VRRP side -> neutral VRRP specs (model/vrrp.py, model/vrrp_spec.py).

The reader (config/keepalived/vrrp) already holds the values keepalived runs with after
`vrrp_complete_instance`; this maps them onto `InstanceParams`: seconds become microseconds,
notify scripts become argv tuples, tracked items become `Tracker`s (a sync group's trackers
apply to each member, vrrp_track.c `initialise_vrrp_tracking_priorities`), strict mode's
forced settings are applied once more (§4.18, including `owner_ignore_adverts` for address
owners, which the reader leaves to the runtime), and each instance's interface, address
records, routes and rules are resolved against the instance (its interface is the default
device).  A sync group's `smtp_alert` falls back on `smtp_alert_vrrp`, then `smtp_alert`.
"""

from __future__ import annotations

import dataclasses

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.convert_checks import script
from pylvs.config.keepalived.vrrp import model as kv
from pylvs.model.notify import ScriptSpec
from pylvs.model.vrrp import (
    INADDR6_VRRP_GROUP,
    TIMER_HZ,
    VRRP_AUTH_NONE,
    VRRP_AUTH_PASS,
    ChecksumCompat,
    InstanceParams,
    IPAddress,
    Notifies,
    Peer,
    Tracker,
    TrackerKind,
    Vip,
)
from pylvs.model.vrrp_spec import (
    AddressSpec,
    GarpGroupSpec,
    GarpSpec,
    SyncGroupSpec,
    TrackFileSpec,
    VirtualRoute,
    VirtualRule,
    VrrpDefaults,
    VrrpInstanceSpec,
    VrrpScriptSpec,
    VrrpSpec,
)
from pylvs.proto.vrrp.packet import password_bytes

COMPAT = {
    None: ChecksumCompat.NONE,
    "never": ChecksumCompat.NEVER,
    "always": ChecksumCompat.CONFIG,
}


def _us(seconds: float) -> int:
    return round(seconds * TIMER_HZ)


def _argv(s: kv.NotifyScript | None) -> tuple[str, ...] | None:
    return None if s is None else s.argv


def _vips(addresses: tuple[kv.VirtualAddress, ...]) -> tuple[Vip, ...]:
    return tuple(Vip(a.address, a.dev) for a in addresses)


def _tracked(x: kv.VrrpInstance | kv.SyncGroup) -> tuple[Tracker, ...]:
    owners = (
        (TrackerKind.INTERFACE, x.track_interfaces),
        (TrackerKind.SCRIPT, x.track_scripts),
        (TrackerKind.FILE, x.track_files),
        (TrackerKind.PROCESS, x.track_processes),
        (TrackerKind.BFD, x.track_bfds),
    )
    return tuple(
        Tracker(kind, item.name, item.weight or 0, item.reverse)
        for kind, items in owners
        for item in items
    )


def has_fifo(g: kv.GlobalDefs) -> bool:
    return g.notify_fifo is not None or g.vrrp_notify_fifo is not None


def group_notifies(x: kv.VrrpInstance | kv.SyncGroup, g: kv.GlobalDefs) -> Notifies:
    """The state scripts of an instance or a vrrp_sync_group, and the FIFO flag."""
    return Notifies(
        master=_argv(x.notify_master),
        backup=_argv(x.notify_backup),
        fault=_argv(x.notify_fault),
        stop=_argv(x.notify_stop),
        generic=_argv(x.notify),
        fifo=has_fifo(g),
    )


def _notifies(inst: kv.VrrpInstance, g: kv.GlobalDefs) -> Notifies:
    return dataclasses.replace(
        group_notifies(inst, g),
        master_rx_lower_pri=_argv(inst.notify_master_rx_lower_pri),
        priority_changes=inst.notify_priority_changes,
    )


def instance_params(
    inst: kv.VrrpInstance, g: kv.GlobalDefs, group: kv.SyncGroup | None = None
) -> InstanceParams:
    """The state machine parameters of one vrrp_instance (ValueError: not runnable)."""
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
        notifies=_notifies(inst, g),
        startup_delay_us=_us(g.vrrp_startup_delay),
    )
    return params.strict() if inst.strict_mode else params


def address(a: kv.VirtualAddress, default_dev: str) -> AddressSpec:
    return AddressSpec(
        a.address,
        a.dev or default_dev,
        a.label,
        a.scope,
        a.broadcast,
        a.peer,
        a.nodad,
        a.noprefixroute,
        a.preferred_lft,
    )


def route(r: kv.VirtualRoute) -> VirtualRoute:
    return VirtualRoute(
        r.destination, r.route_type, r.via, r.src, r.dev, r.table, r.metric, r.scope
    )


def rule(r: kv.VirtualRule, problems: Problems, where: Location) -> VirtualRule:
    opts = dict(r.options)
    mark_text = opts.get("fwmark")
    mark = None
    if mark_text:
        try:
            mark = int(mark_text.split("/")[0], 0)
        except ValueError:
            problems.error(r.loc or where, f"invalid fwmark '{mark_text}' in a virtual rule")
    return VirtualRule(
        r.family,
        r.from_net,
        r.to_net,
        r.table,
        r.preference,
        r.action,
        mark,
        opts.get("iif"),
        opts.get("oif"),
    )


def _scripts(*scripts: kv.NotifyScript | None) -> tuple[ScriptSpec, ...]:
    return tuple(ScriptSpec(s.argv, s.user, s.group) for s in scripts if s is not None)


def instance(
    inst: kv.VrrpInstance,
    g: kv.GlobalDefs,
    group: kv.SyncGroup | None,
    problems: Problems,
    where: Location,
) -> VrrpInstanceSpec | None:
    """One vrrp_instance, or None (reported) when keepalived could not run it."""
    try:
        params = instance_params(inst, g, group)
    except ValueError as exc:
        problems.error(inst.loc or where, f"({inst.name}) cannot run: {exc}")
        return None
    ifname = inst.interface or g.default_interface or "eth0"
    dst: IPAddress = inst.mcast_dst_ip or (
        params.mcast_group4 if inst.family == 4 else g.vrrp_mcast_group6 or INADDR6_VRRP_GROUP
    )
    return VrrpInstanceSpec(
        params=params,
        interface=ifname,
        addresses=tuple(
            address(a, ifname) for a in inst.virtual_ipaddresses + inst.virtual_ipaddresses_excluded
        ),
        routes=tuple(route(r) for r in inst.virtual_routes),
        rules=tuple(rule(r, problems, inst.loc or where) for r in inst.virtual_rules),
        accept=inst.accept,
        group=dst,
        unicast_ttl=inst.unicast_ttl,
        track_src_ip=inst.track_src_ip,
        dont_track_primary=inst.dont_track_primary,
        smtp_alert=inst.smtp_alert,
        scripts=_scripts(
            inst.notify_master,
            inst.notify_backup,
            inst.notify_fault,
            inst.notify_stop,
            inst.notify,
            inst.notify_master_rx_lower_pri,
        ),
    )


def sync_group(gc: kv.SyncGroup, g: kv.GlobalDefs) -> SyncGroupSpec:
    mail = gc.smtp_alert if gc.smtp_alert is not None else g.smtp_alert_vrrp
    return SyncGroupSpec(
        name=gc.name,
        members=gc.members,
        notifies=group_notifies(gc, g),
        smtp_alert=bool(mail if mail is not None else g.smtp_alert),
        scripts=_scripts(
            gc.notify_master, gc.notify_backup, gc.notify_fault, gc.notify_stop, gc.notify
        ),
    )


def vrrp_script(s: kv.VrrpScript) -> VrrpScriptSpec:
    run = script(s.script)
    assert run is not None
    return VrrpScriptSpec(s.name, run, s.interval, s.timeout, s.rise, s.fall, s.init_fail)


def track_file(t: kv.TrackFile) -> TrackFileSpec:
    return TrackFileSpec(
        t.name, t.path, t.weight, t.weight_reverse, t.init_file, t.init_value, t.init_overwrite
    )


def garp(g: kv.GlobalDefs, groups: tuple[kv.GarpGroup, ...]) -> GarpSpec:
    return GarpSpec(
        g.vrrp_garp_interval,
        g.vrrp_gna_interval,
        tuple(GarpGroupSpec(gg.interfaces, gg.garp_interval, gg.gna_interval) for gg in groups),
    )


def vrrp_spec(
    config: kv.VrrpConfig, g: kv.GlobalDefs, problems: Problems, where: Location
) -> VrrpSpec:
    groups = {m: gc for gc in config.sync_groups for m in gc.members}
    instances = (instance(i, g, groups.get(i.name), problems, where) for i in config.instances)
    return VrrpSpec(
        instances=tuple(i for i in instances if i is not None),
        sync_groups=tuple(sync_group(gc, g) for gc in config.sync_groups),
        scripts=tuple(vrrp_script(s) for s in config.scripts),
        garp=garp(g, config.garp_groups),
        defaults=VrrpDefaults(
            g.vrrp_mcast_group4,
            g.vrrp_mcast_group6,
            g.vrrp_version,
            g.vrrp_check_unicast_src,
            g.vrrp_skip_check_adv_addr,
            g.vrrp_strict,
        ),
    )
