"""Trackers (reference §3.4): vrrp_script, track_file (+ vrrp_track_file), vrrp_track_process,
bfd_instance.

Ranges, defaults and fallbacks follow keepalived 2.2.7: vrrp/vrrp_parser.c `vrrp_vscript_*`
(interval/timeout 0 -> 1, rise/fall invalid -> 1, weight -253..253), trackers/track_file.c
(weight -254..254, default 1), vrrp/vrrp_parser.c `vrrp_tprocess_*` and bfd/bfd_parser.c.
A tracker that keepalived removes (no script, no file, no process) is reported as an error and
left out, so references to it fail as they do in keepalived.
"""

from __future__ import annotations

from typing import Any

from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.syntax import table
from pylvs.config.keepalived.vrrp.common import parse_script, set_flag, set_int
from pylvs.config.keepalived.vrrp.common import user_group as read_user_group
from pylvs.config.keepalived.vrrp.drafts import (
    BfdDraft,
    ScriptDraft,
    TrackFileDraft,
    TrackProcessDraft,
)
from pylvs.config.keepalived.vrrp.model import BfdInstance, TrackFile, TrackProcess, VrrpScript
from pylvs.config.keepalived.vrrp.parts import VrrpParts
from pylvs.config.keywords import Context, Keyword, Store, Table
from pylvs.config.keywords.values import address, boolean, integer, seconds
from pylvs.config.tree import Statement

TIMER_MAX_SEC = 4294  # UINT_MAX / TIMER_HZ


def block_name(stmt: Statement, ctx: Context, what: str) -> str | None:
    if not stmt.args:
        ctx.error(stmt.loc, f"{what} must have a name - skipping")
        return None
    if stmt.block is None:
        ctx.error(stmt.loc, f"'{stmt.name}' needs a {{ ... }} block")
        return None
    return stmt.args[0].text


def _weight(lo: int, hi: int, what: str) -> Keyword[Any]:
    """`weight W [reverse]` of a tracker block (the draft has `weight`, `weight_reverse`)."""

    def handler(stmt: Statement, ctx: Context, d: Any) -> None:
        value = integer(stmt.args[0], ctx, lo, hi, f"{what} {d.name} weight")
        if value is not None:
            d.weight = value
        if len(stmt.args) >= 2:
            if stmt.args[1].text == "reverse":
                d.weight_reverse = True
            else:
                ctx.error(
                    stmt.args[1].loc, f"{what} {d.name} unknown weight option {stmt.args[1].text}"
                )

    return Keyword(handler, 1)


# ---- vrrp_script -----------------------------------------------------------------------------


def _whole_seconds(attr: str) -> Keyword[ScriptDraft]:
    """vrrp_script interval/timeout: keepalived 2.2.7 reads whole seconds 0..4294, 0 -> 1."""

    def handler(stmt: Statement, ctx: Context, d: ScriptDraft) -> None:
        word = stmt.args[0]
        what = f"({d.name}): vrrp script {stmt.name}"
        value = seconds(word, ctx, what, 0, TIMER_MAX_SEC)
        if value is None:
            return
        if value == 0:
            ctx.error(word.loc, f"{what} must be greater than 0, setting to 1")
            value = 1.0
        elif value != int(value):
            ctx.warning(
                word.loc, f"({d.name}): keepalived 2.2.7 reads whole seconds for {stmt.name}"
            )
        setattr(d, attr, value)

    return Keyword(handler, 1)


def _rise_fall(attr: str) -> Keyword[ScriptDraft]:
    def read(stmt: Statement, ctx: Context) -> int | None:
        return integer(stmt.args[0], ctx, 1, 2**31 - 1, f"vrrp script {attr}")

    return Keyword(Store(attr, read, 1), 1)  # keepalived: "invalid, defaulting to 1"


def _script(stmt: Statement, ctx: Context, d: ScriptDraft) -> None:
    script = parse_script(stmt, ctx)
    if script is not None:
        d.script = script


def _script_user(stmt: Statement, _ctx: Context, d: ScriptDraft) -> None:
    d.user = stmt.args  # `user USER [GROUP]`: checked when the block is complete


SCRIPT_TABLE: Table[ScriptDraft] = table(
    "vrrp_script",
    {
        "script": Keyword(_script),
        "interval": _whole_seconds("interval"),
        "timeout": _whole_seconds("timeout"),
        "weight": _weight(-253, 253, "vrrp_script"),
        "rise": _rise_fall("rise"),
        "fall": _rise_fall("fall"),
        "user": Keyword(_script_user, 1),
        "init_fail": set_flag("init_fail"),
    },
    draft=ScriptDraft,
)


def vrrp_script(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    name = block_name(stmt, ctx, "vrrp_script")
    if name is None:
        return
    d = ScriptDraft(name)
    dispatch(stmt.block or (), ctx, SCRIPT_TABLE, d)
    end = stmt.end or stmt.loc
    script = d.script
    if script is None:
        ctx.error(end, f"No script set for vrrp_script {name} - removing")
        return
    if d.user is not None:
        user, group = read_user_group(list(d.user), ctx)
        script = type(script)(script.argv, script.raw, user, group, script.loc)
    elif parts.global_draft.script_user_missing:
        ctx.warning(
            end, f"Unable to set default user for vrrp script {name} (script_user does not exist)"
        )
    parts.scripts[name] = VrrpScript(
        name=name,
        script=script,
        interval=d.interval,
        timeout=d.timeout,
        weight=d.weight,
        weight_reverse=d.weight_reverse,
        rise=d.rise,
        fall=d.fall,
        init_fail=d.init_fail,
        loc=stmt.loc,
    )


# ---- track_file ------------------------------------------------------------------------------


def _file_path(stmt: Statement, ctx: Context, d: TrackFileDraft) -> None:
    if d.path is not None:
        ctx.error(stmt.loc, "File already set for track file - ignoring")
        return
    d.path = stmt.args[0].text


def _init_file(stmt: Statement, ctx: Context, d: TrackFileDraft) -> None:
    """`init_file [VALUE] [overwrite]` (track_file.c `track_file_init_handler`: the value is
    read in decimal, and one outside -254..254 is reported but kept)."""
    d.init_file = True
    for word in stmt.args:
        if word.text == "overwrite":
            d.init_overwrite = True
            continue
        value = integer(word, ctx, -(2**31), 2**31 - 1, f"Track file {d.name} init value")
        if value is None:
            value = 0
        elif not -254 <= value <= 254:
            ctx.error(
                word.loc,
                f"Track file {d.name} init value {value} is outside sensible range [-254, 254]",
            )
        d.init_value = value


TRACK_FILE_TABLE: Table[TrackFileDraft] = table(
    "track_file",
    {
        "file": Keyword(_file_path, 1),
        "weight": _weight(-254, 254, "track_file"),
        "init_file": Keyword(_init_file),
    },
    draft=TrackFileDraft,
)


def track_file(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    name = block_name(stmt, ctx, stmt.name)
    if name is None:
        return
    d = TrackFileDraft(name)
    dispatch(stmt.block or (), ctx, TRACK_FILE_TABLE, d)
    if d.path is None:
        ctx.error(stmt.end or stmt.loc, f"No file set for track_file {name} - ignoring")
        return
    parts.track_files[name] = TrackFile(
        name=name,
        path=d.path,
        weight=d.weight,
        weight_reverse=d.weight_reverse,
        init_file=d.init_file,
        init_value=d.init_value,
        init_overwrite=d.init_overwrite,
        loc=stmt.loc,
    )


# ---- vrrp_track_process ----------------------------------------------------------------------


def _process(stmt: Statement, ctx: Context, d: TrackProcessDraft) -> None:
    if d.process is not None:
        ctx.error(stmt.loc, "Process already set for track process - ignoring")
        return
    d.process = stmt.args[0].text
    if len(stmt.args) > 1:
        d.params = tuple(w.text for w in stmt.args[1:])


def _param_match(stmt: Statement, ctx: Context, d: TrackProcessDraft) -> None:
    word = stmt.args[0]
    if word.text in ("initial", "partial"):
        d.param_match_partial = word.text == "partial"
    else:
        ctx.error(word.loc, f"Invalid param_match type {word.text} - ignoring")


def _delay(*attrs: str) -> Keyword[TrackProcessDraft]:
    def handler(stmt: Statement, ctx: Context, d: TrackProcessDraft) -> None:
        value = seconds(stmt.args[0], ctx, stmt.name, 0, TIMER_MAX_SEC)
        if value is not None:
            for attr in attrs:
                setattr(d, attr, value)

    return Keyword(handler, 1)


PROCESS_TABLE: Table[TrackProcessDraft] = table(
    "vrrp_track_process",
    {
        "process": Keyword(_process, 1),
        "param_match": Keyword(_param_match, 1),
        "weight": _weight(-254, 254, "vrrp_track_process"),
        "quorum": set_int("quorum", 1, 65535, "quorum"),
        "quorum_max": set_int("quorum_max", 0, 65535, "quorum_max"),
        "delay": _delay("fork_delay", "terminate_delay"),
        "terminate_delay": _delay("terminate_delay"),
        "fork_delay": _delay("fork_delay"),
        "full_command": set_flag("full_command"),
    },
    draft=TrackProcessDraft,
)


def vrrp_track_process(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    name = block_name(stmt, ctx, "vrrp_track_process")
    if name is None:
        return
    d = TrackProcessDraft(name)
    dispatch(stmt.block or (), ctx, PROCESS_TABLE, d)
    if d.process is None:
        ctx.error(
            stmt.end or stmt.loc, f"track process '{name}' process name not specified - ignoring"
        )
        return
    if d.quorum_max is not None and d.quorum_max < d.quorum:
        ctx.error(stmt.loc, "quorum_max is less than quorum - ignoring")
        d.quorum_max = None
    parts.track_processes[name] = TrackProcess(
        name=name,
        process=d.process,
        params=d.params,
        param_match_partial=d.param_match_partial,
        weight=d.weight,
        weight_reverse=d.weight_reverse,
        quorum=d.quorum,
        quorum_max=d.quorum_max,
        fork_delay=d.fork_delay,
        terminate_delay=d.terminate_delay,
        full_command=d.full_command,
        loc=stmt.loc,
    )


# ---- bfd_instance ----------------------------------------------------------------------------


def _bfd_ip(attr: str) -> Keyword[BfdDraft]:
    return Keyword(Store(attr, lambda st, c: address(st.args[0], c, f"BFD {st.name} address")), 1)


def _bfd_ms(attr: str, lo: int) -> Keyword[BfdDraft]:
    def read(stmt: Statement, ctx: Context) -> int | None:
        value = seconds(stmt.args[0], ctx, stmt.name, lo, 4294967)
        return None if value is None else round(value)

    return Keyword(Store(attr, read), 1)


def _bfd_multihop(stmt: Statement, ctx: Context, d: BfdDraft) -> None:
    value = boolean(stmt, ctx)
    if value is not None:
        d.max_hops = 255 if value else 0


BFD_TABLE: Table[BfdDraft] = table(
    "bfd_instance",
    {
        "source_ip": _bfd_ip("source_ip"),
        "neighbor_ip": _bfd_ip("neighbor_ip"),
        "neighbour_ip": _bfd_ip("neighbor_ip"),
        "min_rx": _bfd_ms("min_rx_ms", 1),
        "min_tx": _bfd_ms("min_tx_ms", 1),
        "idle_tx": _bfd_ms("idle_tx_ms", 1000),
        "multiplier": set_int("multiplier", 1, 255),
        "passive": set_flag("passive"),
        "ttl": set_int("ttl", 1, 255),
        "hoplimit": set_int("hoplimit", 1, 255),
        "max_hops": set_int("max_hops", -1, 255),
        "multihop": Keyword(_bfd_multihop),
        "weight": _weight(-253, 253, "bfd_instance"),
        "vrrp": set_flag("vrrp_only"),
        "checker": set_flag("checker_only"),
    },
    draft=BfdDraft,
    newer=frozenset({"multihop"}),
)


def bfd_instance(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    name = block_name(stmt, ctx, "bfd_instance")
    if name is None:
        return
    if len(name) >= 32:
        ctx.error(stmt.args[0].loc, f"BFD name {name} too long")
        return
    if name in parts.bfds:
        ctx.error(stmt.args[0].loc, f"BFD {name} already specified")
        return
    d = BfdDraft(name)
    dispatch(stmt.block or (), ctx, BFD_TABLE, d)
    if d.neighbor_ip is None:
        ctx.error(stmt.end or stmt.loc, f"BFD instance {name} has no neighbor_ip - removing")
        return
    parts.bfds[name] = BfdInstance(
        name=name,
        neighbor_ip=d.neighbor_ip,
        source_ip=d.source_ip,
        min_rx_ms=d.min_rx_ms,
        min_tx_ms=d.min_tx_ms,
        idle_tx_ms=d.idle_tx_ms,
        multiplier=d.multiplier,
        passive=d.passive,
        ttl=d.ttl,
        hoplimit=d.hoplimit,
        max_hops=d.max_hops,
        weight=d.weight,
        weight_reverse=d.weight_reverse,
        vrrp_only=d.vrrp_only,
        checker_only=d.checker_only,
        loc=stmt.loc,
    )
