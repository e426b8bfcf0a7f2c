"""`vrrp_sync_group`, `garp_group` and `track_group` blocks (reference §3.2, §3.5).

Follows keepalived 2.2.7 vrrp/vrrp_parser.c `vrrp_sync_group_handler`, `vrrp_group_handler`,
`vrrp_gnotify_*`, `garp_group_*` and `static_track_group_*`.  Group members are names of
vrrp_instances; keepalived checks them only after the whole file is read (vrrp/vrrp.c
`vrrp_complete_init`), so `resolve.py` does; tracker names are resolved while parsing, as
vrrp/vrrp_track.c does.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.syntax import table
from pylvs.config.keepalived.vrrp.common import (
    block_words,
    check_interface,
    parse_tracked,
    set_bool,
    set_flag,
    set_script,
)
from pylvs.config.keepalived.vrrp.drafts import GarpGroupDraft, GroupDraft
from pylvs.config.keepalived.vrrp.model import GarpGroup, SyncGroup, TrackGroup
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keywords import Block, Context, Keyword, Table
from pylvs.config.keywords.values import seconds
from pylvs.config.tree import Statement, Word


def _members(what: str) -> Keyword[GroupDraft]:
    def handler(stmt: Statement, ctx: Context, d: GroupDraft) -> None:
        if d.members is not None:
            ctx.error(stmt.loc, f"Group list already specified for {what} {d.name}")
            return
        words = block_words(stmt) if stmt.block is not None else list(stmt.args)
        if not words:
            ctx.error(stmt.loc, f"Warning - {what} {d.name} has empty group block")
        d.members = tuple(w.text for w in words)

    return Keyword(handler, block=Block.OPTIONAL)


def _tracked(
    attr: str,
    what: str,
    span: tuple[int, int],
    known: Collection[str] | None,
) -> Keyword[GroupDraft]:
    def handler(stmt: Statement, ctx: Context, d: GroupDraft) -> None:
        check = None if known is None else known.__contains__
        items = parse_tracked(stmt, ctx, d.name, check, span, what=what)
        setattr(d, attr, getattr(d, attr) + items)

    return Keyword(handler, block=Block.REQUIRED)


def _global_tracking(stmt: Statement, ctx: Context, d: GroupDraft) -> None:
    ctx.warning(
        stmt.loc,
        f"({d.name}) global_tracking "
        "is deprecated. Use track_interface/script/file on the sync group",
    )
    d.global_tracking = True


def _owner(d: GroupDraft) -> str:
    return f"vrrp group {d.name}"


def _sync_table(parts: VrrpParts) -> Table[GroupDraft]:
    """The trackers a sync group may name are those defined above it."""
    return table(
        "vrrp_sync_group",
        {
            "group": _members("sync group"),
            "track_interface": _tracked("track_interfaces", "tracked interface", (-253, 253), None),
            "track_script": _tracked(
                "track_scripts", "track script", (-254, 254), parts.scripts.keys()
            ),
            "track_file": _tracked(
                "track_files", "track file", (-254, 254), parts.track_files.keys()
            ),
            "track_process": _tracked(
                "track_processes", "track process", (-254, 254), parts.track_processes.keys()
            ),
            "track_bfd": _tracked("track_bfds", "track bfd", (-253, 253), parts.bfds.keys()),
            "notify_backup": set_script("notify_backup", _owner),
            "notify_master": set_script("notify_master", _owner),
            "notify_fault": set_script("notify_fault", _owner),
            "notify_stop": set_script("notify_stop", _owner),
            "notify": set_script("notify", _owner),
            "smtp_alert": set_bool("smtp_alert"),
            "global_tracking": Keyword(_global_tracking),
            "sync_group_tracking_weight": set_flag("sync_group_tracking_weight"),
            "notify_priority_changes": set_bool("notify_priority_changes"),
        },
        draft=GroupDraft,
    )


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
    d = GroupDraft(name)
    dispatch(stmt.block, ctx, _sync_table(parts), d)
    parts.sync_groups[name] = SyncGroup(
        name=name,
        members=d.members or (),
        track_interfaces=d.track_interfaces,
        track_scripts=d.track_scripts,
        track_files=d.track_files,
        track_processes=d.track_processes,
        track_bfds=d.track_bfds,
        notify_master=d.notify_master,
        notify_backup=d.notify_backup,
        notify_fault=d.notify_fault,
        notify_stop=d.notify_stop,
        notify=d.notify,
        notify_priority_changes=d.notify_priority_changes,
        smtp_alert=d.smtp_alert,
        global_tracking=d.global_tracking,
        sync_group_tracking_weight=d.sync_group_tracking_weight,
        loc=stmt.loc,
    )


def _interval(attr: str) -> Keyword[GarpGroupDraft]:
    def handler(stmt: Statement, ctx: Context, d: GarpGroupDraft) -> None:
        value = seconds(stmt.args[0], ctx, f"garp_group {stmt.name}", 0, 4294.967295)
        if value is not None:
            setattr(d, attr, value)

    return Keyword(handler, 1)


def _add_interfaces(words: Sequence[Word], ctx: Context, d: GarpGroupDraft) -> None:
    for w in words:
        check_interface(w, ctx, "garp_group")
        if w.text in d.seen:
            ctx.error(w.loc, f"garp_group already specified for {w.text} - ignoring")
            continue
        d.seen.add(w.text)
        d.interfaces = (*d.interfaces, w.text)


def _interface(s: Statement, c: Context, d: GarpGroupDraft) -> None:
    _add_interfaces([s.args[0]], c, d)


def _interfaces(s: Statement, c: Context, d: GarpGroupDraft) -> None:
    words = block_words(s)
    if not words:
        c.error(s.loc, "Warning - empty garp_group interfaces block")
    _add_interfaces(words, c, d)


GARP_TABLE: Table[GarpGroupDraft] = table(
    "garp_group",
    {
        "garp_interval": _interval("garp_interval"),
        "gna_interval": _interval("gna_interval"),
        "interface": Keyword(_interface, 1),
        "interfaces": Keyword(_interfaces, block=Block.REQUIRED),
    },
    draft=GarpGroupDraft,
)


def garp_group(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    d = GarpGroupDraft(seen={i for g in parts.garp_groups for i in g.interfaces})
    dispatch(stmt.block or (), ctx, GARP_TABLE, d)
    if not d.garp_interval and not d.gna_interval:
        ctx.error(stmt.end or stmt.loc, "garp group does not have any delay set - removing")
        return
    parts.garp_groups.append(
        GarpGroup(
            garp_interval=d.garp_interval,
            gna_interval=d.gna_interval,
            interfaces=d.interfaces,
            loc=stmt.loc,
        )
    )


TRACK_GROUP_TABLE: Table[GroupDraft] = table(
    "track_group", {"group": _members("track group")}, draft=GroupDraft
)


def track_group(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    if not stmt.args:
        ctx.error(stmt.loc, "track_group must have a name - skipping")
        return
    name = stmt.args[0].text
    if name in parts.track_groups:
        ctx.error(stmt.args[0].loc, f"track_group {name} already defined")
        return
    d = GroupDraft(name)
    dispatch(stmt.block or (), ctx, TRACK_GROUP_TABLE, d)
    parts.track_groups[name] = TrackGroup(name=name, members=d.members or (), loc=stmt.loc)
