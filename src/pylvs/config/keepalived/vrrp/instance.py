"""`vrrp_instance NAME { ... }` keywords (reference §3.6) parsed into a draft.

Each handler mirrors its keepalived 2.2.7 counterpart in vrrp/vrrp_parser.c (`vrrp_state_handler`,
`vrrp_prio_handler`, `vrrp_adv_handler`, `vrrp_auth_pass_handler`, ...) and vrrp/vrrp_data.c
(`alloc_vrrp_unicast_peer`, `alloc_vrrp_vip`): same ranges, same fallbacks (unknown state ->
BACKUP, bad priority -> 100, repeat 0 -> 1), same order-dependent family rule (the first
address seen - source, peer or VIP - fixes the instance family).  Values keepalived derives after
parsing (defaults from global_defs, strict mode, advert rounding) are resolved by `post.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pylvs.config.keepalived.tree import Statement, Word
from pylvs.config.keepalived.values import Context, parse_decimal, parse_int, parse_ip
from pylvs.config.keepalived.vrrp.addresses import parse_address, parse_route, parse_rule
from pylvs.config.keepalived.vrrp.common import (
    IFNAMSIZ,
    Draft,
    Handler,
    check_interface,
    first_arg,
    need_block,
    parse_script,
    parse_tracked,
    run_block,
    set_bool,
    set_flag,
    set_int,
    set_script,
)
from pylvs.config.keepalived.vrrp.global_defs import _extra_if, _repeat
from pylvs.config.keepalived.vrrp.model import Authentication, UnicastPeer
from pylvs.config.keepalived.vrrp.parts import VrrpParts

UINT_MAX = 2**32 - 1


def _name(d: Draft) -> str:
    return str(d["name"])


def _state(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is None:
        return
    d.setdefault("_locs", {})["state"] = word.loc
    if word.text == "MASTER":  # keepalived compares case-sensitively (strcmp)
        d["state"] = "MASTER"
    elif word.text == "BACKUP":
        if d.get("state") == "MASTER":
            ctx.error(word.loc, f"({_name(d)}) state previously set as MASTER - ignoring BACKUP")
        else:
            d["state"] = "BACKUP"
    else:
        ctx.error(word.loc, f"({_name(d)}) unknown state '{word.text}', defaulting to BACKUP")
        d["state"] = "BACKUP"


def _interface(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is None:
        return
    if len(word.text) >= IFNAMSIZ:
        ctx.error(word.loc, f"Interface name '{word.text}' too long - ignoring")
        return
    if word.text == "lo":
        ctx.error(
            word.loc, f"({_name(d)}) cannot use a loopback interface (lo) for vrrp - ignoring"
        )
        return
    check_interface(word, ctx, f"vrrp_instance {_name(d)}")
    d["interface"] = word.text
    d.setdefault("_locs", {})["interface"] = word.loc


def _set_family(d: Draft, ctx: Context, version: int, word: Word, what: str) -> bool:
    """The first address of an instance fixes its family; later ones must match."""
    family = d.get("family")
    if family is None:
        d["family"] = version
        d.setdefault("_locs", {})["family"] = word.loc
        return True
    if family != version:
        ctx.error(
            word.loc, f"({_name(d)}) {what} [{word.text}] MUST be of the same family - skipping"
        )
        return False
    return True


def _src_ip(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    ip = None if word is None else parse_ip(word, ctx, f"({_name(d)}) src address")
    if word is not None and ip is not None and _set_family(d, ctx, ip.version, word, "src address"):
        d["mcast_src_ip"] = ip


def _mcast_dst(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    ip = None if word is None else parse_ip(word, ctx, f"({_name(d)}) mcast dest address")
    if word is None or ip is None:
        return
    if not ip.is_multicast:
        ctx.error(word.loc, f"({_name(d)}) mcast_dst_ip {word.text} not multicast. Skipping...")
        return
    d["mcast_dst_ip"] = ip
    d.setdefault("_locs", {})["mcast_dst_ip"] = word.loc


def _vrid(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is None:
        return
    vrid = parse_int(word, ctx, 1, 255, f"({_name(d)}): VRID")
    if vrid is not None:
        d["vrid"] = vrid
        d.setdefault("_locs", {})["vrid"] = word.loc


def _priority(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is None:
        return
    prio = parse_int(word, ctx, 1, 255, f"({_name(d)}) priority")
    if prio is None:
        ctx.error(
            word.loc, f"({_name(d)}) Priority not valid! must be between 1 & 255. Using default 100"
        )
        prio = 100
    d["priority"] = prio


def _advert_int(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is None:
        return
    value = parse_decimal(word, ctx, 0.01, 255, f"({_name(d)}) advert interval")
    if value is not None:
        d["advert_int_us"] = round(value * 1_000_000)
        d.setdefault("_locs", {})["advert_int"] = word.loc


def _preempt(stmt: Statement, ctx: Context, d: Draft) -> None:
    ctx.warning(stmt.loc, "'preempt' is the default and deprecated; it only clears nopreempt")
    d["nopreempt"] = False


def _preempt_delay(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    value = (
        None if word is None else parse_decimal(word, ctx, 0, 1000, f"({_name(d)}) preempt_delay")
    )
    if value is not None:
        d["preempt_delay"] = value
        d.setdefault("_locs", {})["preempt_delay"] = stmt.loc


def _notify_deleted(stmt: Statement, ctx: Context, d: Draft) -> None:
    if "notify_deleted_enabled" in d:
        ctx.error(stmt.loc, f"({_name(d)}) notify_deleted already specified - ignoring")
        return
    d["notify_deleted_enabled"] = True
    if stmt.args:
        script = parse_script(stmt, ctx)
        if script is not None:
            d["notify_deleted"] = script


def _deprecated(new: str, key: str | None = None) -> Handler:
    def handler(stmt: Statement, ctx: Context, d: Draft) -> None:
        ctx.warning(stmt.loc, f"'{stmt.name}' in vrrp_instance is deprecated - {new}")
        if key is not None:
            d[key] = True

    return handler


def _lvs_syncd(stmt: Statement, ctx: Context, d: Draft) -> None:
    ctx.warning(
        stmt.loc,
        f"({_name(d)}) lvs_sync_daemon_interface is deprecated - use global lvs_sync_daemon",
    )
    word = first_arg(stmt, ctx)
    if word is not None:
        check_interface(word, ctx, "lvs_sync_daemon_interface")
        d["_lvs_sync_daemon_interface"] = word


def _native_ipv6(stmt: Statement, ctx: Context, d: Draft) -> None:
    ctx.warning(stmt.loc, "'native_ipv6' is deprecated - the address family decides")
    if d.get("family") == 4:
        ctx.error(stmt.loc, f"({_name(d)}) Cannot specify native_ipv6 with IPv4 addresses")
        return
    d["family"] = 6


def _timer_expired_backup(stmt: Statement, ctx: Context, d: Draft) -> None:
    if stmt.name == "thread_timer_expired":
        ctx.warning(
            stmt.loc, "'thread_timer_expired' is deprecated - please use 'timer_expired_backup'"
        )
    prio = 254
    if stmt.args:
        p = parse_int(stmt.args[0], ctx, 1, 254, "timer_expired_backup priority")
        if p is None:
            return
        prio = p
    d["timer_expired_backup"] = prio


def _old_unicast_checksum(stmt: Statement, ctx: Context, d: Draft) -> None:
    if not stmt.args:
        d["old_unicast_checksum"] = "always"
    elif stmt.args[0].text == "never":
        d["old_unicast_checksum"] = "never"
    else:
        ctx.error(
            stmt.args[0].loc,
            f"({_name(d)}) Unknown old_unicast_chksum mode {stmt.args[0].text} - ignoring",
        )


def _words(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, d: Draft) -> None:
        if key in d:
            ctx.error(stmt.loc, f"({_name(d)}) {stmt.name} already specified")
            return
        d[key] = tuple(w.text for w in stmt.args)

    return handler


def _vrf(stmt: Statement, ctx: Context, d: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is None:
        return
    if len(word.text) >= IFNAMSIZ:
        ctx.error(word.loc, f"({_name(d)}) VRF interface name '{word.text}' too long - ignoring")
        return
    check_interface(word, ctx, f"VRF of {_name(d)}")
    d["vrf"] = word.text


def _unicast_peer(stmt: Statement, ctx: Context, d: Draft) -> None:
    peers = list(d.get("unicast_peers", ()))
    d["_unicast_keyword"] = stmt.loc
    for child in need_block(stmt, ctx):
        ip = parse_ip(child.keyword, ctx, f"({_name(d)}) unicast peer address")
        if ip is None or not _set_family(d, ctx, ip.version, child.keyword, "unicast peer address"):
            continue
        ttl = {"min_ttl": 0, "max_ttl": 255}
        args = child.args
        for i in range(0, len(args), 2):
            key = args[i].text
            if i + 1 >= len(args):
                ctx.error(args[i].loc, f"({_name(d)}) {key} is missing a value")
                break
            n = parse_int(args[i + 1], ctx, 0, 255, key)
            if key not in ttl:
                ctx.error(args[i].loc, f"({_name(d)}) unknown unicast_peer option {key}")
            elif n is not None:
                ttl[key] = n
                d["check_unicast_src"] = True  # min/max_ttl imply check_unicast_src
        if ttl["min_ttl"] > ttl["max_ttl"]:
            ctx.error(child.loc, f"({_name(d)}) min_ttl > max_ttl - all packets will be discarded")
        peers.append(UnicastPeer(ip, ttl["min_ttl"], ttl["max_ttl"], child.loc))
    d["unicast_peers"] = tuple(peers)


def _vips(key: str, *, excluded: bool) -> Handler:
    def handler(stmt: Statement, ctx: Context, d: Draft) -> None:
        addrs = list(d.get(key, ()))
        for child in need_block(stmt, ctx):
            vip = parse_address(child, ctx, static=False)
            if vip is None:
                continue
            if not excluded and not _set_family(
                d, ctx, vip.family, child.keyword, "address family of VIP"
            ):
                continue
            addrs.append(vip)
        d[key] = tuple(addrs)

    return handler


def _routes(stmt: Statement, ctx: Context, d: Draft) -> None:
    routes = list(d.get("virtual_routes", ()))
    for child in need_block(stmt, ctx):
        route = parse_route(child, ctx, static=False)
        if route is not None:
            routes.append(route)
    d["virtual_routes"] = tuple(routes)


def _rules(stmt: Statement, ctx: Context, d: Draft) -> None:
    rules = list(d.get("virtual_rules", ()))
    for child in need_block(stmt, ctx):
        rule = parse_rule(child, ctx, static=False)
        if rule is not None:
            rules.append(rule)
    d["virtual_rules"] = tuple(rules)


def _authentication(stmt: Statement, ctx: Context, d: Draft) -> None:
    auth: Draft = {}
    for child in need_block(stmt, ctx):
        word = child.args[0] if child.args else None
        if child.name == "auth_type":
            if word is None:
                ctx.error(child.loc, "'auth_type' needs PASS or AH")
            elif word.text in ("PASS", "AH"):
                auth["auth_type"] = word.text
            else:
                ctx.error(word.loc, f"({_name(d)}) unknown authentication type '{word.text}'")
        elif child.name == "auth_pass":
            if word is None:
                ctx.error(child.loc, "'auth_pass' needs a password")
                continue
            raw = word.text.encode()
            if len(raw) > 8:  # vrrp_auth_pass_handler: the field is 8 bytes (VRRP_AUTH_LEN)
                ctx.warning(word.loc, "Truncating auth_pass to 8 characters")
                raw = raw[:8]
            auth["password"] = raw.ljust(8, b"\0")
        else:
            ctx.warning(child.loc, f"Unknown keyword '{child.name}' - ignoring")
    if "auth_type" in auth:
        d["authentication"] = Authentication(auth["auth_type"], auth.get("password", b""))
        d.setdefault("_locs", {})["authentication"] = stmt.loc


def _tracked(key: str, what: str, span: tuple[int, int], parts: VrrpParts, kind: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, d: Draft) -> None:
        tables: dict[str, Mapping[str, object]] = {
            "script": parts.scripts,
            "file": parts.track_files,
            "process": parts.track_processes,
            "bfd": parts.bfds,
        }
        table = tables.get(kind)
        known = None if table is None else table.__contains__
        items = parse_tracked(stmt, ctx, _name(d), known, span, what=what)
        if kind == "interface":
            for item in items:
                if ctx.host.interfaces is not None and item.name not in ctx.host.interfaces:
                    ctx.warning(
                        item.loc or stmt.loc,
                        f"({_name(d)}) tracked interface {item.name} doesn't exist on this host",
                    )
        d[key] = tuple(d.get(key, ())) + items

    return handler


def _keywords(parts: VrrpParts, name: str) -> dict[str, Handler]:
    return {
        "state": _state,
        "interface": _interface,
        "vrf": _vrf,
        "use_vmac": _words("use_vmac"),
        "use_vmac_addr": set_flag("use_vmac_addr"),
        "vmac_xmit_base": set_flag("vmac_xmit_base"),
        "use_ipvlan": _words("use_ipvlan"),
        "native_ipv6": _native_ipv6,
        "dont_track_primary": set_flag("dont_track_primary"),
        "track_interface": _tracked(
            "track_interfaces", "tracked interface", (-254, 254), parts, "interface"
        ),
        "track_script": _tracked("track_scripts", "track script", (-254, 254), parts, "script"),
        "track_file": _tracked("track_files", "track file", (-254, 254), parts, "file"),
        "track_process": _tracked(
            "track_processes", "track process", (-254, 254), parts, "process"
        ),
        "track_bfd": _tracked("track_bfds", "track bfd", (-253, 253), parts, "bfd"),
        "mcast_src_ip": _src_ip,
        "unicast_src_ip": _src_ip,
        "mcast_dst_ip": _mcast_dst,
        "track_src_ip": set_flag("track_src_ip"),
        "virtual_router_id": _vrid,
        "unicast_ttl": set_int("unicast_ttl", 0, 255, f"({name}): TTL"),
        "version": set_int("version", 2, 3, f"({name}): Version"),
        "priority": _priority,
        "advert_int": _advert_int,
        "virtual_ipaddress": _vips("virtual_ipaddresses", excluded=False),
        "virtual_ipaddress_excluded": _vips("virtual_ipaddresses_excluded", excluded=True),
        "no_virtual_ipaddress": set_flag("no_virtual_ipaddress"),
        "promote_secondaries": set_flag("promote_secondaries"),
        "linkbeat_use_polling": _deprecated("use linkbeat_interfaces block"),
        "virtual_routes": _routes,
        "virtual_rules": _rules,
        "accept": set_flag("accept", True),
        "no_accept": set_flag("accept", False),
        "skip_check_adv_addr": set_bool("skip_check_adv_addr"),
        "strict_mode": set_bool("strict_mode"),
        "preempt": _preempt,
        "nopreempt": set_flag("nopreempt"),
        "preempt_delay": _preempt_delay,
        "debug": set_int("debug", 0, 4, f"({name}) Debug value"),
        "notify_backup": set_script("notify_backup", name),
        "notify_master": set_script("notify_master", name),
        "notify_fault": set_script("notify_fault", name),
        "notify_stop": set_script("notify_stop", name),
        "notify_deleted": _notify_deleted,
        "notify": set_script("notify", name),
        "notify_master_rx_lower_pri": set_script("notify_master_rx_lower_pri", name),
        "smtp_alert": set_bool("smtp_alert"),
        "notify_priority_changes": set_bool("notify_priority_changes"),
        "lvs_sync_daemon_interface": _lvs_syncd,
        "garp_master_delay": set_int("garp_master_delay", 0, 4294, f"({name}): garp_master_delay"),
        "garp_master_refresh": set_int(
            "garp_master_refresh", 0, UINT_MAX, f"({name}): garp_master_refresh"
        ),
        "garp_master_repeat": _repeat("garp_master_repeat"),
        "garp_master_refresh_repeat": _repeat("garp_master_refresh_repeat"),
        "garp_lower_prio_delay": set_int(
            "garp_lower_prio_delay", 0, 4294, f"({name}): garp_lower_prio_delay"
        ),
        "garp_lower_prio_repeat": set_int(
            "garp_lower_prio_repeat", 0, 2**31 - 1, f"({name}): garp_lower_prio_repeat"
        ),
        "down_timer_adverts": set_int(
            "down_timer_adverts", 1, 100, f"({name}): down_timer_adverts"
        ),
        "garp_extra_if": _extra_if("garp_extra_if", "garp_extra_if_all"),
        "vmac_garp_intvl": _extra_if("garp_extra_if", "garp_extra_if_all"),
        "lower_prio_no_advert": set_bool("lower_prio_no_advert"),
        "higher_prio_send_advert": set_bool("higher_prio_send_advert"),
        "owner_ignore_adverts": set_bool("owner_ignore_adverts"),
        "kernel_rx_buf_size": set_int("kernel_rx_buf_size", 0, 2**63 - 1),
        "authentication": _authentication,
        "unicast_peer": _unicast_peer,
        "unicast_fault_no_peer": set_flag("unicast_fault_no_peer"),
        "check_unicast_src": set_flag("check_unicast_src"),
        "old_unicast_checksum": _old_unicast_checksum,
        "v3_checksum_as_v2": set_bool("v3_checksum_as_v2"),
        "timer_expired_backup": _timer_expired_backup,
        "thread_timer_expired": _timer_expired_backup,
    }


def vrrp_instance(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    if not stmt.args:
        ctx.error(stmt.loc, "vrrp_instance must have a name")
        return
    name = stmt.args[0].text
    if name in parts.instance_names():
        ctx.error(stmt.args[0].loc, f"vrrp instance {name} already defined")
        return
    if stmt.block is None:
        ctx.error(stmt.loc, "'vrrp_instance' needs a { ... } block")
        return
    draft: Draft = {"name": name, "loc": stmt.loc, "_locs": {}}
    run_block(stmt, ctx, _keywords(parts, name), draft)
    if "unicast_ttl" in draft and not draft.get("unicast_peers"):
        ctx.error(
            stmt.end or stmt.loc,
            f"({name}): Cannot use unicast_ttl without unicast peers - resetting",
        )
        del draft["unicast_ttl"]
    parts.instances.append(draft)
