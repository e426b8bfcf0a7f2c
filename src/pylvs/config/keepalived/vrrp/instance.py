"""`vrrp_instance NAME { ... }` keywords (reference §3.6) read into an `InstanceDraft`.

Each handler mirrors its keepalived 2.2.7 counterpart in vrrp/vrrp_parser.c (`vrrp_state_handler`,
`vrrp_prio_handler`, `vrrp_adv_handler`, `vrrp_auth_pass_handler`, ...) and vrrp/vrrp_data.c
(`alloc_vrrp_unicast_peer`, `alloc_vrrp_vip`): same ranges, same fallbacks (unknown state ->
BACKUP, bad priority -> 100, repeat 0 -> 1), same order-dependent family rule (the first
address seen - source, peer or VIP - fixes the instance family).  Values keepalived derives after
parsing (defaults from global_defs, strict mode, advert rounding) are resolved by `post.py`.
"""

from __future__ import annotations

from pylvs.config.errors import Kind
from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.syntax import table
from pylvs.config.keepalived.vrrp.addresses import parse_address, parse_route, parse_rule
from pylvs.config.keepalived.vrrp.common import (
    IFNAMSIZ,
    check_interface,
    need_block,
    parse_script,
    parse_tracked,
    set_bool,
    set_flag,
    set_int,
    set_script,
)
from pylvs.config.keepalived.vrrp.drafts import InstanceDraft
from pylvs.config.keepalived.vrrp.global_defs import extra_if, repeat
from pylvs.config.keepalived.vrrp.model import Authentication, UnicastPeer
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keywords import Block, Context, Keyword, Table
from pylvs.config.keywords.values import address, integer, seconds
from pylvs.config.tree import Statement, Word

UINT_MAX = 2**32 - 1
K = Keyword[InstanceDraft]


def _state(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    d.locs["state"] = word.loc
    if word.text == "MASTER":  # keepalived compares case-sensitively (strcmp)
        d.state = "MASTER"
    elif word.text == "BACKUP":
        if d.state == "MASTER":
            ctx.error(word.loc, f"({d.name}) state previously set as MASTER - ignoring BACKUP")
        else:
            d.state = "BACKUP"
    else:
        ctx.error(word.loc, f"({d.name}) unknown state '{word.text}', defaulting to BACKUP")
        d.state = "BACKUP"


def _interface(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    if len(word.text) >= IFNAMSIZ:
        ctx.error(word.loc, f"Interface name '{word.text}' too long - ignoring")
        return
    if word.text == "lo":
        ctx.error(word.loc, f"({d.name}) cannot use a loopback interface (lo) for vrrp - ignoring")
        return
    check_interface(word, ctx, f"vrrp_instance {d.name}")
    d.interface = word.text
    d.locs["interface"] = word.loc


def _set_family(d: InstanceDraft, ctx: Context, version: int, word: Word, what: str) -> bool:
    """The first address of an instance fixes its family; later ones must match."""
    if d.family is None:
        d.family = version
        d.locs["family"] = word.loc
        return True
    if d.family != version:
        ctx.error(
            word.loc, f"({d.name}) {what} [{word.text}] MUST be of the same family - skipping"
        )
        return False
    return True


def _src_ip(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    ip = address(word, ctx, f"({d.name}) src address")
    if ip is not None and _set_family(d, ctx, ip.version, word, "src address"):
        d.mcast_src_ip = ip


def _mcast_dst(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    ip = address(word, ctx, f"({d.name}) mcast dest address")
    if ip is None:
        return
    if not ip.is_multicast:
        ctx.error(word.loc, f"({d.name}) mcast_dst_ip {word.text} not multicast. Skipping...")
        return
    d.mcast_dst_ip = ip
    d.locs["mcast_dst_ip"] = word.loc


def _vrid(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    vrid = integer(word, ctx, 1, 255, f"({d.name}): VRID")
    if vrid is not None:
        d.vrid = vrid
        d.locs["vrid"] = word.loc


def _priority(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    prio = integer(word, ctx, 1, 255, f"({d.name}) priority")
    if prio is None:
        ctx.error(
            word.loc, f"({d.name}) Priority not valid! must be between 1 & 255. Using default 100"
        )
        prio = 100
    d.priority = prio


def _advert_int(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    value = seconds(word, ctx, f"({d.name}) advert interval", 0.01, 255)
    if value is not None:
        d.advert_int_us = round(value * 1_000_000)
        d.locs["advert_int"] = word.loc


def _preempt(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    ctx.warning(
        stmt.loc,
        "'preempt' is the default and deprecated; it only clears nopreempt",
        Kind.DEPRECATED,
    )
    d.nopreempt = False


def _preempt_delay(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    value = seconds(stmt.args[0], ctx, f"({d.name}) preempt_delay", 0, 1000)
    if value is not None:
        d.preempt_delay = value
        d.locs["preempt_delay"] = stmt.loc


def _notify_deleted(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    if d.notify_deleted_enabled:
        ctx.error(stmt.loc, f"({d.name}) notify_deleted already specified - ignoring")
        return
    d.notify_deleted_enabled = True
    if stmt.args:
        script = parse_script(stmt, ctx)
        if script is not None:
            d.notify_deleted = script


def _linkbeat_use_polling(stmt: Statement, ctx: Context, _d: InstanceDraft) -> None:
    ctx.warning(
        stmt.loc,
        "'linkbeat_use_polling' in vrrp_instance is deprecated - use linkbeat_interfaces block",
    )


def _lvs_syncd(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    ctx.warning(
        stmt.loc,
        f"({d.name}) lvs_sync_daemon_interface is deprecated - use global lvs_sync_daemon",
    )
    check_interface(stmt.args[0], ctx, "lvs_sync_daemon_interface")
    d.lvs_sync_daemon_interface = stmt.args[0]


def _native_ipv6(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    ctx.warning(
        stmt.loc, "'native_ipv6' is deprecated - the address family decides", Kind.DEPRECATED
    )
    if d.family == 4:
        ctx.error(stmt.loc, f"({d.name}) Cannot specify native_ipv6 with IPv4 addresses")
        return
    d.family = 6


def _timer_expired_backup(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    prio = 254
    if stmt.args:
        p = integer(stmt.args[0], ctx, 1, 254, "timer_expired_backup priority")
        if p is None:
            return
        prio = p
    d.timer_expired_backup = prio


def _old_unicast_checksum(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    if not stmt.args:
        d.old_unicast_checksum = "always"
    elif stmt.args[0].text == "never":
        d.old_unicast_checksum = "never"
    else:
        ctx.error(
            stmt.args[0].loc,
            f"({d.name}) Unknown old_unicast_chksum mode {stmt.args[0].text} - ignoring",
        )


def _use_vmac(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    if d.use_vmac is not None:
        ctx.error(stmt.loc, f"({d.name}) {stmt.name} already specified")
        return
    d.use_vmac = tuple(w.text for w in stmt.args)


def _use_ipvlan(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    if d.use_ipvlan is not None:
        ctx.error(stmt.loc, f"({d.name}) {stmt.name} already specified")
        return
    d.use_ipvlan = tuple(w.text for w in stmt.args)


def _vrf(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    word = stmt.args[0]
    if len(word.text) >= IFNAMSIZ:
        ctx.error(word.loc, f"({d.name}) VRF interface name '{word.text}' too long - ignoring")
        return
    check_interface(word, ctx, f"VRF of {d.name}")
    d.vrf = word.text


def _unicast_peer(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    peers = list(d.unicast_peers)
    d.unicast_keyword = stmt.loc
    for child in need_block(stmt, ctx):
        ip = address(child.keyword, ctx, f"({d.name}) unicast peer address")
        if ip is None or not _set_family(d, ctx, ip.version, child.keyword, "unicast peer address"):
            continue
        ttl = {"min_ttl": 0, "max_ttl": 255}
        args = child.args
        for i in range(0, len(args), 2):
            key = args[i].text
            if i + 1 >= len(args):
                ctx.error(args[i].loc, f"({d.name}) {key} is missing a value")
                break
            n = integer(args[i + 1], ctx, 0, 255, key)
            if key not in ttl:
                ctx.error(args[i].loc, f"({d.name}) unknown unicast_peer option {key}")
            elif n is not None:
                ttl[key] = n
                d.check_unicast_src = True  # min/max_ttl imply check_unicast_src
        if ttl["min_ttl"] > ttl["max_ttl"]:
            ctx.error(child.loc, f"({d.name}) min_ttl > max_ttl - all packets will be discarded")
        peers.append(UnicastPeer(ip, ttl["min_ttl"], ttl["max_ttl"], child.loc))
    d.unicast_peers = tuple(peers)


def _vips(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    for child in need_block(stmt, ctx):
        vip = parse_address(child, ctx, static=False)
        if vip is None:
            continue
        if not _set_family(d, ctx, vip.family, child.keyword, "address family of VIP"):
            continue
        d.virtual_ipaddresses = (*d.virtual_ipaddresses, vip)


def _excluded_vips(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    for child in need_block(stmt, ctx):
        vip = parse_address(child, ctx, static=False)
        if vip is not None:
            d.virtual_ipaddresses_excluded = (*d.virtual_ipaddresses_excluded, vip)


def _routes(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    for child in need_block(stmt, ctx):
        route = parse_route(child, ctx, static=False)
        if route is not None:
            d.virtual_routes = (*d.virtual_routes, route)


def _rules(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    for child in need_block(stmt, ctx):
        rule = parse_rule(child, ctx, static=False)
        if rule is not None:
            d.virtual_rules = (*d.virtual_rules, rule)


def _authentication(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
    auth_type: str | None = None
    password = b""
    for child in need_block(stmt, ctx):
        word = child.args[0] if child.args else None
        if child.name == "auth_type":
            if word is None:
                ctx.error(child.loc, "'auth_type' needs PASS or AH")
            elif word.text in ("PASS", "AH"):
                auth_type = word.text
            else:
                ctx.error(word.loc, f"({d.name}) unknown authentication type '{word.text}'")
        elif child.name == "auth_pass":
            if word is None:
                ctx.error(child.loc, "'auth_pass' needs a password")
                continue
            raw = word.text.encode()
            if len(raw) > 8:  # vrrp_auth_pass_handler: the field is 8 bytes (VRRP_AUTH_LEN)
                ctx.warning(word.loc, "Truncating auth_pass to 8 characters")
                raw = raw[:8]
            password = raw.ljust(8, b"\0")
        else:
            ctx.warning(child.loc, f"Unknown keyword '{child.name}'")
    if auth_type is not None:
        d.authentication = Authentication(auth_type, password)
        d.locs["authentication"] = stmt.loc


def _tracked(attr: str, what: str, span: tuple[int, int], kind: str) -> K:
    def handler(stmt: Statement, ctx: Context, d: InstanceDraft) -> None:
        names = d.known_trackers.get(kind)
        known = None if names is None else names.__contains__
        items = parse_tracked(stmt, ctx, d.name, known, span, what=what)
        if kind == "interface":
            for item in items:
                if ctx.host.interfaces is not None and item.name not in ctx.host.interfaces:
                    ctx.warning(
                        item.loc or stmt.loc,
                        f"({d.name}) tracked interface {item.name} doesn't exist on this host",
                    )
        setattr(d, attr, getattr(d, attr) + items)

    return Keyword(handler, block=Block.REQUIRED)


def _garp(attr: str, lo: int, hi: int) -> K:
    return set_int(attr, lo, hi, attr)


def _name(d: InstanceDraft) -> str:
    return d.name


INSTANCE_TABLE: Table[InstanceDraft] = table(
    "vrrp_instance",
    {
        "state": Keyword(_state, 1),
        "interface": Keyword(_interface, 1),
        "vrf": Keyword(_vrf, 1),
        "use_vmac": Keyword(_use_vmac),
        "use_vmac_addr": set_flag("use_vmac_addr"),
        "vmac_xmit_base": set_flag("vmac_xmit_base"),
        "use_ipvlan": Keyword(_use_ipvlan),
        "native_ipv6": Keyword(_native_ipv6),
        "dont_track_primary": set_flag("dont_track_primary"),
        "track_interface": _tracked(
            "track_interfaces", "tracked interface", (-254, 254), "interface"
        ),
        "track_script": _tracked("track_scripts", "track script", (-254, 254), "script"),
        "track_file": _tracked("track_files", "track file", (-254, 254), "file"),
        "track_process": _tracked("track_processes", "track process", (-254, 254), "process"),
        "track_bfd": _tracked("track_bfds", "track bfd", (-253, 253), "bfd"),
        "mcast_src_ip": Keyword(_src_ip, 1),
        "unicast_src_ip": Keyword(_src_ip, 1),
        "mcast_dst_ip": Keyword(_mcast_dst, 1),
        "track_src_ip": set_flag("track_src_ip"),
        "virtual_router_id": Keyword(_vrid, 1),
        "unicast_ttl": set_int("unicast_ttl", 0, 255, "TTL"),
        "version": set_int("version", 2, 3, "Version"),
        "priority": Keyword(_priority, 1),
        "advert_int": Keyword(_advert_int, 1),
        "virtual_ipaddress": Keyword(_vips, block=Block.REQUIRED),
        "virtual_ipaddress_excluded": Keyword(_excluded_vips, block=Block.REQUIRED),
        "no_virtual_ipaddress": set_flag("no_virtual_ipaddress"),
        "promote_secondaries": set_flag("promote_secondaries"),
        "linkbeat_use_polling": Keyword(_linkbeat_use_polling),
        "virtual_routes": Keyword(_routes, block=Block.REQUIRED),
        "virtual_rules": Keyword(_rules, block=Block.REQUIRED),
        "accept": set_flag("accept", True),
        "no_accept": set_flag("accept", False),
        "skip_check_adv_addr": set_bool("skip_check_adv_addr"),
        "strict_mode": set_bool("strict_mode"),
        "preempt": Keyword(_preempt),
        "nopreempt": set_flag("nopreempt"),
        "preempt_delay": Keyword(_preempt_delay, 1),
        "debug": set_int("debug", 0, 4, "Debug value"),
        "notify_backup": set_script("notify_backup", _name),
        "notify_master": set_script("notify_master", _name),
        "notify_fault": set_script("notify_fault", _name),
        "notify_stop": set_script("notify_stop", _name),
        "notify_deleted": Keyword(_notify_deleted),
        "notify": set_script("notify", _name),
        "notify_master_rx_lower_pri": set_script("notify_master_rx_lower_pri", _name),
        "smtp_alert": set_bool("smtp_alert"),
        "notify_priority_changes": set_bool("notify_priority_changes"),
        "lvs_sync_daemon_interface": Keyword(_lvs_syncd, 1),
        "garp_master_delay": _garp("garp_master_delay", 0, 4294),
        "garp_master_refresh": _garp("garp_master_refresh", 0, UINT_MAX),
        "garp_master_repeat": repeat("garp_master_repeat"),
        "garp_master_refresh_repeat": repeat("garp_master_refresh_repeat"),
        "garp_lower_prio_delay": _garp("garp_lower_prio_delay", 0, 4294),
        "garp_lower_prio_repeat": _garp("garp_lower_prio_repeat", 0, 2**31 - 1),
        "down_timer_adverts": _garp("down_timer_adverts", 1, 100),
        "garp_extra_if": extra_if("garp_extra_if", "garp_extra_if_all"),
        "vmac_garp_intvl": Keyword(
            extra_if("garp_extra_if", "garp_extra_if_all").handler,
            use_instead="garp_extra_if",
            deprecation=Kind.CONFIG,
        ),
        "lower_prio_no_advert": set_bool("lower_prio_no_advert"),
        "higher_prio_send_advert": set_bool("higher_prio_send_advert"),
        "owner_ignore_adverts": set_bool("owner_ignore_adverts"),
        "kernel_rx_buf_size": set_int("kernel_rx_buf_size", 0, 2**63 - 1),
        "authentication": Keyword(_authentication, block=Block.REQUIRED),
        "unicast_peer": Keyword(_unicast_peer, block=Block.REQUIRED),
        "unicast_fault_no_peer": set_flag("unicast_fault_no_peer"),
        "check_unicast_src": set_flag("check_unicast_src"),
        "old_unicast_checksum": Keyword(_old_unicast_checksum),
        "v3_checksum_as_v2": set_bool("v3_checksum_as_v2"),
        "timer_expired_backup": Keyword(_timer_expired_backup),
        "thread_timer_expired": Keyword(_timer_expired_backup, use_instead="timer_expired_backup"),
    },
    draft=InstanceDraft,
    newer=frozenset(
        {
            "no_virtual_ipaddress",
            "owner_ignore_adverts",
            "v3_checksum_as_v2",
            "timer_expired_backup",
            "thread_timer_expired",
        }
    ),
)


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
    known = {
        "script": parts.scripts.keys(),
        "file": parts.track_files.keys(),
        "process": parts.track_processes.keys(),
        "bfd": parts.bfds.keys(),
    }
    d = InstanceDraft(name, stmt.loc, known_trackers=known)
    dispatch(stmt.block, ctx, INSTANCE_TABLE, d)
    if d.unicast_ttl is not None and not d.unicast_peers:
        ctx.error(
            stmt.end or stmt.loc,
            f"({name}): Cannot use unicast_ttl without unicast peers - resetting",
        )
        d.unicast_ttl = None
    parts.instances.append(d)
