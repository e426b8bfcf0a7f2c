"""Top-level static_ipaddress / static_routes / static_rules, linkbeat_interfaces and
interface_up_down_delays blocks (reference §3.2, §3.7).

Static addresses, routes and rules are never moved by VRRP; they use the syntax of their virtual_*
counterparts plus `track_group` (vrrp/vrrp_parser.c `static_*_handler`).  linkbeat_interfaces
and interface_up_down_delays follow `alloc_linkbeat_interface` / `alloc_if_up_down_delay`
(delays in seconds, µs resolution, at most 255 s; the up delay defaults to the down delay).
"""

from __future__ import annotations

from pylvs.config.keepalived.vrrp.addresses import parse_address, parse_route, parse_rule
from pylvs.config.keepalived.vrrp.common import check_interface, need_block
from pylvs.config.keepalived.vrrp.model import LinkbeatInterface, UpDownDelay
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keywords import Context
from pylvs.config.keywords.values import seconds
from pylvs.config.tree import Statement

LINKBEAT_METHODS = ("MII", "ETHTOOL", "IOCTL")


def _check_track_group(name: str | None, stmt: Statement, ctx: Context, parts: VrrpParts) -> bool:
    if name is not None and name not in parts.track_groups:
        ctx.error(stmt.loc, f"track_group {name} not found")
        return False
    return True


def static_ipaddress(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    for child in need_block(stmt, ctx):
        addr = parse_address(child, ctx, static=True)
        if addr is not None and _check_track_group(addr.track_group, child, ctx, parts):
            parts.static_addresses.append(addr)


def static_routes(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    for child in need_block(stmt, ctx):
        route = parse_route(child, ctx, static=True)
        if route is not None and _check_track_group(route.track_group, child, ctx, parts):
            parts.static_routes.append(route)


def static_rules(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    for child in need_block(stmt, ctx):
        rule = parse_rule(child, ctx, static=True)
        if rule is not None and _check_track_group(rule.track_group, child, ctx, parts):
            parts.static_rules.append(rule)


def linkbeat_interfaces(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    for child in need_block(stmt, ctx):
        check_interface(child.keyword, ctx, "linkbeat interface")
        method = "MII"
        if child.args:
            word = child.args[0]
            if word.text.upper() in LINKBEAT_METHODS:
                method = word.text.upper()
            else:
                ctx.error(word.loc, f"extra characters {word.text} in linkbeat interface")
        parts.linkbeat_interfaces.append(LinkbeatInterface(child.name, method, child.loc))


def interface_up_down_delays(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    for child in need_block(stmt, ctx):
        check_interface(child.keyword, ctx, "up/down delay")
        if not child.args:
            ctx.error(child.loc, f"No timeouts specified for {child.name} up/down delays")
            continue
        if len(child.args) > 2:
            ctx.error(child.args[2].loc, f"Too many parameters for {child.name} up/down delays")
            continue
        down = seconds(child.args[0], ctx, f"down delay for {child.name}", 0, 255)
        if down is None:
            continue
        up = down
        if len(child.args) == 2:
            value = seconds(child.args[1], ctx, f"up delay for {child.name}", 0, 255)
            if value is None:
                continue
            up = value
        parts.up_down_delays.append(UpDownDelay(child.name, down, up, child.loc))
