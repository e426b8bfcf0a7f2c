"""`vrrp_sync_group`, `garp_group` and `track_group` blocks (reference §3.2, §3.5).

Follows keepalived 2.2.7 vrrp/vrrp_parser.c `vrrp_sync_group_handler`, `vrrp_group_handler`,
`vrrp_gnotify_*`, `garp_group_*` and `static_track_group_*`.  Group members are names of
vrrp_instances; keepalived checks them only after the whole file is read (vrrp/vrrp.c
`vrrp_complete_init`), so `post.py` does; tracker names are resolved while parsing, as
vrrp/vrrp_track.c does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pylvs.config.keepalived.tree import Statement, Word
from pylvs.config.keepalived.values import Context, parse_decimal
from pylvs.config.keepalived.vrrp.common import (
    Draft,
    Handler,
    block_words,
    check_interface,
    need_block,
    parse_tracked,
    run_block,
    set_bool,
    set_script,
)
from pylvs.config.keepalived.vrrp.model import GarpGroup, SyncGroup, TrackGroup
from pylvs.config.keepalived.vrrp.parts import VrrpParts


def _members(what: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, d: Draft) -> None:
        if "members" in d:
            ctx.error(stmt.loc, f"Group list already specified for {what} {d['name']}")
            return
        words = block_words(stmt) if stmt.block is not None else list(stmt.args)
        if not words:
            ctx.error(stmt.loc, f"Warning - {what} {d['name']} has empty group block")
        d["members"] = tuple(w.text for w in words)
        d["_member_words"] = tuple(words)

    return handler


def _tracked(
    key: str, what: str, span: tuple[int, int], known: Mapping[str, object] | None
) -> Handler:
    def handler(stmt: Statement, ctx: Context, d: Draft) -> None:
        check = None if known is None else known.__contains__
        d[key] = tuple(d.get(key, ())) + parse_tracked(
            stmt, ctx, str(d["name"]), check, span, what=what
        )

    return handler


def _global_tracking(stmt: Statement, ctx: Context, d: Draft) -> None:
    ctx.warning(
        stmt.loc,
        f"({d['name']}) global_tracking "
        "is deprecated. Use track_interface/script/file on the sync group",
    )
    d["global_tracking"] = True


def vrrp_sync_group(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    if not stmt.args:
        ctx.error(stmt.loc, "vrrp_sync_group must have a name - skipping")
        return
    name = stmt.args[0].text
    if name in parts.sync_groups:
        ctx.error(stmt.args[0].loc, f"vrrp sync group {name} already defined")
        return
    if stmt.block is None:
        ctx.error(stmt.loc, "'vrrp_sync_group' needs a { ... } block")
        return
    d: Draft = {"name": name}
    owner = f"vrrp group {name}"
    table: dict[str, Handler] = {
        "group": _members("sync group"),
        "track_interface": _tracked("track_interfaces", "tracked interface", (-253, 253), None),
        "track_script": _tracked("track_scripts", "track script", (-254, 254), parts.scripts),
        "track_file": _tracked("track_files", "track file", (-254, 254), parts.track_files),
        "track_process": _tracked(
            "track_processes", "track process", (-254, 254), parts.track_processes
        ),
        "track_bfd": _tracked("track_bfds", "track bfd", (-253, 253), parts.bfds),
        "notify_backup": set_script("notify_backup", owner),
        "notify_master": set_script("notify_master", owner),
        "notify_fault": set_script("notify_fault", owner),
        "notify_stop": set_script("notify_stop", owner),
        "notify": set_script("notify", owner),
        "smtp_alert": set_bool("smtp_alert"),
        "global_tracking": _global_tracking,
        "sync_group_tracking_weight": lambda s, c, dd: dd.__setitem__(
            "sync_group_tracking_weight", True
        ),
        "notify_priority_changes": set_bool("notify_priority_changes"),
    }
    run_block(stmt, ctx, table, d)
    d.pop("_member_words", None)
    parts.sync_groups[name] = SyncGroup(loc=stmt.loc, **d)


def _interval(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, d: Draft) -> None:
        if not stmt.args:
            ctx.error(stmt.loc, f"garp_group {stmt.name} needs a value")
            return
        value = parse_decimal(stmt.args[0], ctx, 0, 4294.967295, f"garp_group {stmt.name}")
        if value is not None:
            d[key] = value

    return handler


def garp_group(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    d: Draft = {}
    seen = {i for g in parts.garp_groups for i in g.interfaces}

    def add(words: Sequence[Word], ctx: Context) -> None:
        for w in words:
            name = w.text
            check_interface(w, ctx, "garp_group")
            if name in seen:
                ctx.error(w.loc, f"garp_group already specified for {name} - ignoring")
                continue
            seen.add(name)
            d["interfaces"] = (*d.get("interfaces", ()), name)

    def interface(s: Statement, c: Context, dd: Draft) -> None:
        if not s.args:
            c.error(s.loc, "garp_group interface needs a name")
            return
        add([s.args[0]], c)

    def interfaces(s: Statement, c: Context, dd: Draft) -> None:
        words = block_words(s)
        if not words:
            c.error(s.loc, "Warning - empty garp_group interfaces block")
        add(words, c)

    table: dict[str, Handler] = {
        "garp_interval": _interval("garp_interval"),
        "gna_interval": _interval("gna_interval"),
        "interface": interface,
        "interfaces": interfaces,
    }
    need_block(stmt, ctx)
    run_block(stmt, ctx, table, d)
    if not d.get("garp_interval") and not d.get("gna_interval"):
        ctx.error(stmt.end or stmt.loc, "garp group does not have any delay set - removing")
        return
    parts.garp_groups.append(GarpGroup(loc=stmt.loc, **d))


def track_group(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    if not stmt.args:
        ctx.error(stmt.loc, "track_group must have a name - skipping")
        return
    name = stmt.args[0].text
    if name in parts.track_groups:
        ctx.error(stmt.args[0].loc, f"track_group {name} already defined")
        return
    d: Draft = {"name": name}
    need_block(stmt, ctx)
    run_block(stmt, ctx, {"group": _members("track group")}, d)
    d.pop("_member_words", None)
    parts.track_groups[name] = TrackGroup(loc=stmt.loc, **d)
