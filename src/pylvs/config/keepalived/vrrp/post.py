"""Post-parse completion of one vrrp_instance: the values keepalived derives once the file is read.

A line-by-line port of the decisions in keepalived 2.2.7 vrrp/vrrp.c `vrrp_complete_instance`
(reference §4): priority default (255 if state MASTER else 100) and state default, strict-mode
adjustments (§4.18), authentication only for v2 (§4.15), nopreempt / preempt_delay conflicts
(§4.12), accept-mode default, garp defaults from global_defs, advert interval rounding (v2 whole
seconds <= 255, v3 10 ms <= 40.95 s, §4.4), the 255-VIP limit, and tracker weights ignored for
address owners and sync-group members.  keepalived reports these without a line; pylvs points
at the keyword concerned (or the instance name).
"""

from __future__ import annotations

from typing import TypeVar

from pylvs.config.errors import Location
from pylvs.config.keepalived.vrrp.drafts import InstanceDraft
from pylvs.config.keepalived.vrrp.model import (
    VRRP_DOWN_TIMER_ADVERTS,
    VRRP_PRIO_DFL,
    VRRP_PRIO_OWNER,
    GlobalDefs,
    SyncGroup,
    TrackedItem,
    VrrpInstance,
)
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keywords import Context

V = TypeVar("V")

TIMER_HZ = 1_000_000
TIMER_CENTI_HZ = 10_000
VRRP_MAX_ADDR = 255


def _loc(d: InstanceDraft, key: str) -> Location:
    return d.locs.get(key, d.loc)


def _strict_fixups(d: InstanceDraft, ctx: Context, g: GlobalDefs, strict: bool) -> None:
    """Defaults that strict mode overrides, and explicit settings it resets (§4.18).

    vrrp_strict is the author asking for RFC behaviour, which these adjustments carry out, so
    they (and the other strict-mode resets below) are warnings, not errors.
    """
    lower_rep = g.vrrp_garp_lower_prio_repeat
    lower_delay = g.vrrp_garp_lower_prio_delay
    rep = g.vrrp_garp_master_repeat if lower_rep is None else lower_rep
    delay = g.vrrp_garp_master_delay if lower_delay is None else lower_delay
    d.garp_lower_prio_repeat = _strict(
        d,
        ctx,
        strict=strict,
        key="garp_lower_prio_repeat",
        value=d.garp_lower_prio_repeat,
        strict_value=0,
        normal=rep,
    )
    d.garp_lower_prio_delay = _strict(
        d,
        ctx,
        strict=strict,
        key="garp_lower_prio_delay",
        value=d.garp_lower_prio_delay,
        strict_value=0,
        normal=delay,
    )
    d.lower_prio_no_advert = _strict(
        d,
        ctx,
        strict=strict,
        key="lower_prio_no_advert",
        value=d.lower_prio_no_advert,
        strict_value=True,
        normal=g.vrrp_lower_prio_no_advert,
    )
    d.higher_prio_send_advert = _strict(
        d,
        ctx,
        strict=strict,
        key="higher_prio_send_advert",
        value=d.higher_prio_send_advert,
        strict_value=False,
        normal=g.vrrp_higher_prio_send_advert,
    )


def _strict(
    d: InstanceDraft,
    ctx: Context,
    *,
    strict: bool,
    key: str,
    value: V | None,
    strict_value: V,
    normal: V,
) -> V:
    """An instance value that strict mode fixes: its default, or the value strict mode needs."""
    if value is None:
        return strict_value if strict else normal
    if strict and value != strict_value:
        ctx.warning(d.loc, f"({d.name}) Strict mode requires {key} {strict_value} - resetting")
        return strict_value
    return value


def _advert(d: InstanceDraft, ctx: Context, version: int) -> int:
    name = d.name
    us = TIMER_HZ if d.advert_int_us is None else d.advert_int_us
    loc = _loc(d, "advert_int")
    if version == 2:
        if us >= 256 * TIMER_HZ:
            ctx.error(
                loc, f"({name}) VRRPv2 advertisement interval is out of range. Setting to 255s"
            )
            us = 255 * TIMER_HZ
        elif us % TIMER_HZ:
            ctx.error(
                loc,
                f"({name}) VRRPv2 advertisement "
                f"interval {us / TIMER_HZ:f}s must be an integer. rounding",
            )
            us += TIMER_HZ // 2
            us -= us % TIMER_HZ
            us = us or TIMER_HZ
    elif us >= 4096 * TIMER_CENTI_HZ:
        ctx.error(loc, f"({name}) VRRPv3 advertisement interval is out of range. Setting to 40.95s")
        us = 4095 * TIMER_CENTI_HZ
    elif us % TIMER_CENTI_HZ:
        ctx.error(
            loc, f"({name}) VRRPv3 advertisement interval must be in units of 10ms - rounding"
        )
        us += TIMER_CENTI_HZ // 2
        us -= us % TIMER_CENTI_HZ
        us = us or TIMER_CENTI_HZ
    return us


def _auth(d: InstanceDraft, ctx: Context, strict: bool, version: int, family: int) -> None:
    auth = d.authentication
    if auth is None:
        return
    name, loc = d.name, _loc(d, "authentication")
    reason = None
    if strict:
        reason = "Strict mode does not support authentication. Ignoring."
    elif version == 3:
        reason = "VRRP version 3 does not support authentication. Ignoring."
    elif not auth.password:
        reason = "Authentication specified but no password given. Ignoring"
    elif family == 6 and auth.auth_type == "AH":
        reason = "Cannot use AH authentication with IPv6. ignoring"
    if reason is not None:
        (ctx.warning if strict else ctx.error)(loc, f"({name}) {reason}")
        d.authentication = None
    elif auth.auth_type == "AH" and d.state == "MASTER" and d.priority != VRRP_PRIO_OWNER:
        ctx.error(
            loc, f"({name}) Initial state master is incompatible with AH authentication - clearing"
        )
        d.state = "BACKUP"


def _preempt(d: InstanceDraft, ctx: Context, strict: bool) -> None:
    name, loc = d.name, d.loc
    if d.priority == VRRP_PRIO_OWNER and d.nopreempt:
        ctx.error(loc, f"({name}) nopreempt is incompatible with priority 255. resetting nopreempt")
        d.nopreempt = False
    ploc = _loc(d, "preempt_delay")
    if d.state == "MASTER":
        if d.nopreempt:
            ctx.error(
                _loc(d, "state"),
                f"({name}) Warning - nopreempt will not work with initial state MASTER - clearing",
            )
            d.nopreempt = False
        if d.preempt_delay:
            ctx.error(
                ploc,
                f"({name}) Warning - preempt "
                "delay will not work with initial state MASTER - clearing",
            )
            d.preempt_delay = 0.0
    if d.preempt_delay:
        if strict:
            ctx.warning(
                ploc, f"({name}) preempt_delay is incompatible with strict mode - resetting"
            )
            d.preempt_delay = 0.0
        if d.nopreempt:
            ctx.error(
                ploc, f"({name}) preempt_delay is incompatible with nopreempt mode - resetting"
            )
            d.preempt_delay = 0.0


_TRACKED = ("track_interfaces", "track_scripts", "track_files", "track_processes", "track_bfds")


def _own_interface(d: InstanceDraft, ctx: Context) -> None:
    """vrrp.c `vrrp_complete_instance`: tracking the instance's own interface is dropped."""
    kept = []
    for item in d.track_interfaces:
        if item.name == d.interface:
            ctx.warning(
                item.loc or d.loc,
                f"({d.name}) Ignoring track_interface {item.name} since own interface",
            )
        else:
            kept.append(item)
    d.track_interfaces = tuple(kept)


def _weights(d: InstanceDraft, ctx: Context, parts: VrrpParts, sync: SyncGroup | None) -> None:
    """Resolve default tracker weights; owners and sync members ignore weights (vrrp.c)."""
    defaults = {
        "track_scripts": {n: (s.weight, s.weight_reverse) for n, s in parts.scripts.items()},
        "track_files": {n: (f.weight, f.weight_reverse) for n, f in parts.track_files.items()},
        "track_processes": {
            n: (p.weight, p.weight_reverse) for n, p in parts.track_processes.items()
        },
        "track_bfds": {n: (b.weight, b.weight_reverse) for n, b in parts.bfds.items()},
    }
    no_weight = sync is not None and not sync.sync_group_tracking_weight
    owner = d.priority == VRRP_PRIO_OWNER
    why = "SYNC group" if no_weight else "address owner"
    for key in _TRACKED:
        kept: list[TrackedItem] = []
        items: tuple[TrackedItem, ...] = getattr(d, key)
        for item in items:
            weight, reverse = defaults.get(key, {}).get(item.name, (0, False))
            if item.weight is not None:
                weight, reverse = item.weight, item.reverse
            if weight and (no_weight or owner) and key != "track_processes":
                loc = item.loc or d.loc
                ctx.error(loc, f"({d.name}) ignoring weight of tracked {item.name} due to {why}")
                keep_unweighted = (key == "track_interfaces" and no_weight) or (
                    key == "track_files" and weight == 1
                )
                if not keep_unweighted:
                    continue
                weight = 0
            kept.append(TrackedItem(item.name, weight, reverse, item.loc))
        setattr(d, key, tuple(kept))


def _defaults(d: InstanceDraft, ctx: Context, strict: bool, version: int) -> str:
    """Priority and state defaults and the checks on peers, interface and VIPs; the state."""
    name = d.name
    vips = list(d.virtual_ipaddresses)
    if not vips and not d.no_virtual_ipaddress:
        if strict:
            ctx.error(d.loc, f"({name}) No VIP specified; at least one is required")
        else:
            ctx.warning(d.loc, f"({name}) No VIP specified; at least one is sensible")
    if d.priority is None:
        d.priority = VRRP_PRIO_OWNER if d.state == "MASTER" else VRRP_PRIO_DFL
    owner = d.priority == VRRP_PRIO_OWNER
    if d.state is None:
        d.state = "MASTER" if owner else "BACKUP"
    elif strict and (d.state == "MASTER") != owner:
        ctx.warning(_loc(d, "state"), f"({name}) State MASTER must match being address owner")
        d.state = "MASTER" if owner else "BACKUP"
    family = d.family or 4
    _auth(d, ctx, strict, version, family)
    peers = d.unicast_peers
    if peers and strict:
        ctx.error(
            d.unicast_keyword or d.loc, f"({name}) Unicast peers are not supported in strict mode"
        )
    if peers and d.interface is None and d.mcast_src_ip is None:
        ctx.error(d.loc, f"({name}): Unicast instances must have unicast_src_ip or interface")
    if not peers and d.interface is None:
        ctx.error(d.loc, f"({name}) no interface specified for a multicast instance")
    if family == 6 and vips and not vips[0].address.ip.is_link_local:
        msg = f"({name}) the first IPv6 VIP address must be link local"
        (ctx.error if strict else ctx.warning)(vips[0].loc or d.loc, msg)
    if len(vips) > VRRP_MAX_ADDR:
        ctx.error(d.loc, f"({name}) Number of VIPs ({len(vips)}) exceeds maximum {VRRP_MAX_ADDR}")
        d.virtual_ipaddresses_excluded = (
            *vips[VRRP_MAX_ADDR:],
            *d.virtual_ipaddresses_excluded,
        )
        d.virtual_ipaddresses = tuple(vips[:VRRP_MAX_ADDR])
    return d.state


def _accept(d: InstanceDraft, ctx: Context, strict: bool, version: int) -> bool:
    owner = d.priority == VRRP_PRIO_OWNER
    accept = d.accept
    if accept is None:
        accept = True if owner else not strict
    if accept and not owner and strict and version == 2:
        ctx.warning(
            d.loc,
            f"({d.name}) warning - accept mode "
            "for VRRP version 2 does not comply with RFC3768 - resetting",
        )
        accept = False
    return accept


def complete_instance(
    d: InstanceDraft, ctx: Context, g: GlobalDefs, parts: VrrpParts, sync: SyncGroup | None
) -> VrrpInstance | None:
    name = d.name
    if d.vrid is None:
        ctx.error(d.loc, f"({name}) the virtual router id must be set")
        return None
    strict = g.vrrp_strict if d.strict_mode is None else d.strict_mode
    family = d.family or 4
    version = g.vrrp_version if d.version is None else d.version
    if family == 6 and version == 2:
        if d.version is not None or strict:
            ctx.error(d.loc, f"({name}) cannot use IPv6 with VRRP version 2; setting version 3")
        version = 3
    state = _defaults(d, ctx, strict, version)
    _preempt(d, ctx, strict)
    down_timer_adverts = d.down_timer_adverts
    if down_timer_adverts is not None and down_timer_adverts != VRRP_DOWN_TIMER_ADVERTS and strict:
        ctx.warning(
            d.loc, f"({name}) down_timer_adverts is incompatible with strict mode - resetting"
        )
        down_timer_adverts = VRRP_DOWN_TIMER_ADVERTS
    accept = _accept(d, ctx, strict, version)
    if d.unicast_peers and d.mcast_dst_ip is not None:
        ctx.error(
            _loc(d, "mcast_dst_ip"),
            f"({name}) multicast destination specified with unicast - ignoring",
        )
        d.mcast_dst_ip = None
    _strict_fixups(d, ctx, g, strict)
    advert_int_us = _advert(d, ctx, version)
    _own_interface(d, ctx)
    _weights(d, ctx, parts, sync)
    return _build(
        d,
        g,
        sync,
        state=state,
        family=family,
        version=version,
        strict=strict,
        accept=accept,
        advert_int_us=advert_int_us,
        down_timer_adverts=(
            g.vrrp_down_timer_adverts if down_timer_adverts is None else down_timer_adverts
        ),
    )


def _or(value: V | None, default: V) -> V:
    return default if value is None else value


def _build(
    d: InstanceDraft,
    g: GlobalDefs,
    sync: SyncGroup | None,
    *,
    state: str,
    family: int,
    version: int,
    strict: bool,
    accept: bool,
    advert_int_us: int,
    down_timer_adverts: int,
) -> VrrpInstance:
    assert d.vrid is not None and d.priority is not None
    smtp_alert = d.smtp_alert
    if smtp_alert is None:
        smtp_alert = bool(g.smtp_alert if g.smtp_alert_vrrp is None else g.smtp_alert_vrrp)
    npc = d.notify_priority_changes
    if npc is None:
        npc = sync.notify_priority_changes if sync is not None else None
    return VrrpInstance(
        name=d.name,
        vrid=d.vrid,
        state=state,
        priority=d.priority,
        interface=d.interface,
        family=family,
        version=version,
        advert_int_us=advert_int_us,
        vrf=d.vrf,
        use_vmac=d.use_vmac,
        use_vmac_addr=d.use_vmac_addr,
        vmac_xmit_base=d.vmac_xmit_base,
        use_ipvlan=d.use_ipvlan,
        dont_track_primary=d.dont_track_primary,
        track_interfaces=d.track_interfaces,
        track_scripts=d.track_scripts,
        track_files=d.track_files,
        track_processes=d.track_processes,
        track_bfds=d.track_bfds,
        mcast_src_ip=d.mcast_src_ip,
        mcast_dst_ip=d.mcast_dst_ip,
        track_src_ip=d.track_src_ip,
        check_unicast_src=_or(d.check_unicast_src, g.vrrp_check_unicast_src),
        unicast_peers=d.unicast_peers,
        unicast_fault_no_peer=d.unicast_fault_no_peer,
        unicast_ttl=_or(d.unicast_ttl, 255),
        old_unicast_checksum=d.old_unicast_checksum,
        v3_checksum_as_v2=_or(d.v3_checksum_as_v2, g.v3_checksum_as_v2),
        garp_master_delay=_or(d.garp_master_delay, g.vrrp_garp_master_delay),
        garp_master_repeat=_or(d.garp_master_repeat, g.vrrp_garp_master_repeat),
        garp_lower_prio_delay=_or(d.garp_lower_prio_delay, g.vrrp_garp_master_delay),
        garp_lower_prio_repeat=_or(d.garp_lower_prio_repeat, g.vrrp_garp_master_repeat),
        garp_master_refresh=_or(d.garp_master_refresh, g.vrrp_garp_master_refresh),
        garp_master_refresh_repeat=_or(
            d.garp_master_refresh_repeat, g.vrrp_garp_master_refresh_repeat
        ),
        garp_extra_if=_or(d.garp_extra_if, g.vrrp_garp_extra_if),
        garp_extra_if_all=_or(d.garp_extra_if_all, g.vrrp_garp_extra_if_all),
        down_timer_adverts=down_timer_adverts,
        timer_expired_backup=d.timer_expired_backup,
        lower_prio_no_advert=_or(d.lower_prio_no_advert, g.vrrp_lower_prio_no_advert),
        higher_prio_send_advert=_or(d.higher_prio_send_advert, g.vrrp_higher_prio_send_advert),
        owner_ignore_adverts=d.owner_ignore_adverts,
        authentication=d.authentication,
        virtual_ipaddresses=d.virtual_ipaddresses,
        virtual_ipaddresses_excluded=d.virtual_ipaddresses_excluded,
        no_virtual_ipaddress=d.no_virtual_ipaddress,
        promote_secondaries=d.promote_secondaries,
        virtual_routes=d.virtual_routes,
        virtual_rules=d.virtual_rules,
        accept=accept,
        nopreempt=d.nopreempt,
        preempt_delay=d.preempt_delay,
        skip_check_adv_addr=_or(d.skip_check_adv_addr, g.vrrp_skip_check_adv_addr),
        strict_mode=strict,
        debug=d.debug,
        notify_master=d.notify_master,
        notify_backup=d.notify_backup,
        notify_fault=d.notify_fault,
        notify_stop=d.notify_stop,
        notify_deleted=d.notify_deleted,
        notify_deleted_enabled=d.notify_deleted_enabled,
        notify=d.notify,
        notify_master_rx_lower_pri=d.notify_master_rx_lower_pri,
        notify_priority_changes=g.vrrp_notify_priority_changes if npc is None else npc,
        smtp_alert=smtp_alert,
        kernel_rx_buf_size=d.kernel_rx_buf_size,
        sync_group=sync.name if sync is not None else None,
        loc=d.loc,
    )
