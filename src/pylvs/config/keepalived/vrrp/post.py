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

from typing import Any

from pylvs.config.errors import Location
from pylvs.config.keepalived.values import Context
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

TIMER_HZ = 1_000_000
TIMER_CENTI_HZ = 10_000
VRRP_MAX_ADDR = 255


def _loc(d: dict[str, Any], key: str) -> Location:
    loc: Location = d["_locs"].get(key, d["loc"])
    return loc


def _strict_fixups(d: dict[str, Any], ctx: Context, g: GlobalDefs, strict: bool) -> None:
    """Defaults that strict mode overrides, and explicit settings it resets (§4.18).

    vrrp_strict is the author asking for RFC behaviour, which these adjustments carry out, so
    they (and the other strict-mode resets below) are warnings, not errors.
    """
    name = d["name"]
    lower_rep = g.vrrp_garp_lower_prio_repeat
    lower_delay = g.vrrp_garp_lower_prio_delay
    defaults = {
        "garp_lower_prio_repeat": (
            0,
            g.vrrp_garp_master_repeat if lower_rep is None else lower_rep,
        ),
        "garp_lower_prio_delay": (
            0,
            g.vrrp_garp_master_delay if lower_delay is None else lower_delay,
        ),
        "lower_prio_no_advert": (True, g.vrrp_lower_prio_no_advert),
        "higher_prio_send_advert": (False, g.vrrp_higher_prio_send_advert),
    }
    for key, (strict_value, normal) in defaults.items():
        if key not in d:
            d[key] = strict_value if strict else normal
        elif strict and d[key] != strict_value:
            ctx.warning(d["loc"], f"({name}) Strict mode requires {key} {strict_value} - resetting")
            d[key] = strict_value


def _advert(d: dict[str, Any], ctx: Context, version: int) -> None:
    name = d["name"]
    us = d.get("advert_int_us", TIMER_HZ)
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
    d["advert_int_us"] = us


def _auth(d: dict[str, Any], ctx: Context, strict: bool, version: int, family: int) -> None:
    auth = d.get("authentication")
    if auth is None:
        return
    name, loc = d["name"], _loc(d, "authentication")
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
        d["authentication"] = None
    elif auth.auth_type == "AH" and d["state"] == "MASTER" and d["priority"] != VRRP_PRIO_OWNER:
        ctx.error(
            loc, f"({name}) Initial state master is incompatible with AH authentication - clearing"
        )
        d["state"] = "BACKUP"


def _preempt(d: dict[str, Any], ctx: Context, strict: bool) -> None:
    name, loc = d["name"], d["loc"]
    if d["priority"] == VRRP_PRIO_OWNER and d.get("nopreempt"):
        ctx.error(loc, f"({name}) nopreempt is incompatible with priority 255. resetting nopreempt")
        d["nopreempt"] = False
    ploc = _loc(d, "preempt_delay")
    if d["state"] == "MASTER":
        if d.get("nopreempt"):
            ctx.error(
                _loc(d, "state"),
                f"({name}) Warning - nopreempt will not work with initial state MASTER - clearing",
            )
            d["nopreempt"] = False
        if d.get("preempt_delay"):
            ctx.error(
                ploc,
                f"({name}) Warning - preempt "
                "delay will not work with initial state MASTER - clearing",
            )
            d["preempt_delay"] = 0.0
    if d.get("preempt_delay"):
        if strict:
            ctx.warning(
                ploc, f"({name}) preempt_delay is incompatible with strict mode - resetting"
            )
            d["preempt_delay"] = 0.0
        if d.get("nopreempt"):
            ctx.error(
                ploc, f"({name}) preempt_delay is incompatible with nopreempt mode - resetting"
            )
            d["preempt_delay"] = 0.0


def _weights(d: dict[str, Any], ctx: Context, parts: VrrpParts, sync: SyncGroup | None) -> None:
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
    owner = d["priority"] == VRRP_PRIO_OWNER
    why = "SYNC group" if no_weight else "address owner"
    for key in (
        "track_interfaces",
        "track_scripts",
        "track_files",
        "track_processes",
        "track_bfds",
    ):
        kept: list[TrackedItem] = []
        for item in d.get(key, ()):
            weight, reverse = defaults.get(key, {}).get(item.name, (0, False))
            if item.weight is not None:
                weight, reverse = item.weight, item.reverse
            if weight and (no_weight or owner) and key != "track_processes":
                loc = item.loc or d["loc"]
                ctx.error(loc, f"({d['name']}) ignoring weight of tracked {item.name} due to {why}")
                keep_unweighted = (key == "track_interfaces" and no_weight) or (
                    key == "track_files" and weight == 1
                )
                if not keep_unweighted:
                    continue
                weight = 0
            kept.append(TrackedItem(item.name, weight, reverse, item.loc))
        d[key] = tuple(kept)


def complete_instance(
    d: dict[str, Any], ctx: Context, g: GlobalDefs, parts: VrrpParts, sync: SyncGroup | None
) -> VrrpInstance | None:
    name = d["name"]
    if "vrid" not in d:
        ctx.error(d["loc"], f"({name}) the virtual router id must be set")
        return None
    strict = d.get("strict_mode", g.vrrp_strict)
    family = d.get("family") or 4
    version = d.get("version", g.vrrp_version)
    if family == 6 and version == 2:
        if "version" in d or strict:
            ctx.error(d["loc"], f"({name}) cannot use IPv6 with VRRP version 2; setting version 3")
        version = 3
    vips = list(d.get("virtual_ipaddresses", ()))
    if not vips and not d.get("no_virtual_ipaddress"):
        if strict:
            ctx.error(d["loc"], f"({name}) No VIP specified; at least one is required")
        else:
            ctx.warning(d["loc"], f"({name}) No VIP specified; at least one is sensible")
    if "priority" not in d:
        d["priority"] = VRRP_PRIO_OWNER if d.get("state") == "MASTER" else VRRP_PRIO_DFL
    owner = d["priority"] == VRRP_PRIO_OWNER
    if "state" not in d:
        d["state"] = "MASTER" if owner else "BACKUP"
    elif strict and (d["state"] == "MASTER") != owner:
        ctx.warning(_loc(d, "state"), f"({name}) State MASTER must match being address owner")
        d["state"] = "MASTER" if owner else "BACKUP"
    _auth(d, ctx, strict, version, family)
    peers = d.get("unicast_peers", ())
    if peers and strict:
        ctx.error(
            d.get("_unicast_keyword", d["loc"]),
            f"({name}) Unicast peers are not supported in strict mode",
        )
    if peers and "interface" not in d and "mcast_src_ip" not in d:
        ctx.error(d["loc"], f"({name}): Unicast instances must have unicast_src_ip or interface")
    if not peers and "interface" not in d:
        ctx.error(d["loc"], f"({name}) no interface specified for a multicast instance")
    if family == 6 and vips and not vips[0].address.ip.is_link_local:
        msg = f"({name}) the first IPv6 VIP address must be link local"
        (ctx.error if strict else ctx.warning)(vips[0].loc or d["loc"], msg)
    if len(vips) > VRRP_MAX_ADDR:
        ctx.error(
            d["loc"], f"({name}) Number of VIPs ({len(vips)}) exceeds maximum {VRRP_MAX_ADDR}"
        )
        d["virtual_ipaddresses_excluded"] = (
            *vips[VRRP_MAX_ADDR:],
            *d.get("virtual_ipaddresses_excluded", ()),
        )
        d["virtual_ipaddresses"] = tuple(vips[:VRRP_MAX_ADDR])
    _preempt(d, ctx, strict)
    if d.get("down_timer_adverts", VRRP_DOWN_TIMER_ADVERTS) != VRRP_DOWN_TIMER_ADVERTS and strict:
        ctx.warning(
            d["loc"], f"({name}) down_timer_adverts is incompatible with strict mode - resetting"
        )
        d["down_timer_adverts"] = VRRP_DOWN_TIMER_ADVERTS
    if "accept" not in d:
        d["accept"] = True if owner else not strict
    if d["accept"] and not owner and strict and version == 2:
        ctx.warning(
            d["loc"],
            f"({name}) warning - accept mode "
            "for VRRP version 2 does not comply with RFC3768 - resetting",
        )
        d["accept"] = False
    if peers and "mcast_dst_ip" in d:
        ctx.error(
            _loc(d, "mcast_dst_ip"),
            f"({name}) multicast destination specified with unicast - ignoring",
        )
        del d["mcast_dst_ip"]
    _strict_fixups(d, ctx, g, strict)
    _advert(d, ctx, version)
    _weights(d, ctx, parts, sync)
    if "smtp_alert" not in d:
        alert = g.smtp_alert_vrrp if g.smtp_alert_vrrp is not None else g.smtp_alert
        d["smtp_alert"] = bool(alert)
    if "notify_priority_changes" not in d:
        npc = sync.notify_priority_changes if sync is not None else None
        d["notify_priority_changes"] = g.vrrp_notify_priority_changes if npc is None else npc
    d.setdefault("garp_master_delay", g.vrrp_garp_master_delay)
    d.setdefault("garp_master_repeat", g.vrrp_garp_master_repeat)
    d.setdefault("garp_master_refresh", g.vrrp_garp_master_refresh)
    d.setdefault("garp_master_refresh_repeat", g.vrrp_garp_master_refresh_repeat)
    d.setdefault("garp_extra_if", g.vrrp_garp_extra_if)
    d.setdefault("garp_extra_if_all", g.vrrp_garp_extra_if_all)
    d.setdefault("down_timer_adverts", g.vrrp_down_timer_adverts)
    d.setdefault("check_unicast_src", g.vrrp_check_unicast_src)
    d.setdefault("skip_check_adv_addr", g.vrrp_skip_check_adv_addr)
    d.setdefault("v3_checksum_as_v2", g.v3_checksum_as_v2)
    fields = {k: v for k, v in d.items() if not k.startswith("_")}
    fields.update(family=family, version=version, strict_mode=strict)
    fields["sync_group"] = sync.name if sync is not None else None
    return VrrpInstance(**fields)
