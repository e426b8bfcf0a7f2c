"""Trackers (reference §3.4): vrrp_script, track_file (+ vrrp_track_file), vrrp_track_process,
bfd_instance.

Ranges, defaults and fallbacks follow keepalived 2.2.7: vrrp/vrrp_parser.c `vrrp_vscript_*`
(interval/timeout 0 -> 1, rise/fall invalid -> 1, weight -253..253), trackers/track_file.c
(weight -254..254, default 1), vrrp/vrrp_parser.c `vrrp_tprocess_*` and bfd/bfd_parser.c.
A tracker that keepalived removes (no script, no file, no process) is reported as an error and
left out, so references to it fail as they do in keepalived.
"""

from __future__ import annotations

from pylvs.config.keepalived.tree import Statement
from pylvs.config.keepalived.values import Context, parse_decimal, parse_int, parse_ip
from pylvs.config.keepalived.vrrp.common import (
    Draft,
    Handler,
    bool_word,
    first_arg,
    parse_script,
    run_block,
    set_decimal,
    set_flag,
    set_int,
)
from pylvs.config.keepalived.vrrp.model import BfdInstance, TrackFile, TrackProcess, VrrpScript
from pylvs.config.keepalived.vrrp.parts import VrrpParts

TIMER_MAX_SEC = 4294  # UINT_MAX / TIMER_HZ


def block_name(stmt: Statement, ctx: Context, what: str) -> str | None:
    if not stmt.args:
        ctx.error(stmt.loc, f"{what} must have a name - skipping")
        return None
    if stmt.block is None:
        ctx.error(stmt.loc, f"'{stmt.name}' needs a {{ ... }} block")
        return None
    return stmt.args[0].text


def _whole_seconds(key: str, name: str) -> Handler:
    """vrrp_script interval/timeout: keepalived 2.2.7 reads whole seconds 0..4294, 0 -> 1."""

    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        if word is None:
            return
        value = parse_decimal(word, ctx, 0, TIMER_MAX_SEC, f"({name}): vrrp script {stmt.name}")
        if value is None:
            return
        if value == 0:
            ctx.error(
                word.loc, f"({name}): vrrp script {stmt.name} must be greater than 0, setting to 1"
            )
            value = 1.0
        elif value != int(value):
            ctx.warning(word.loc, f"({name}): keepalived 2.2.7 reads whole seconds for {stmt.name}")
        draft[key] = value

    return handler


def _weight(key_w: str, key_r: str, lo: int, hi: int, what: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        if word is None:
            return
        value = parse_int(word, ctx, lo, hi, f"{what} weight")
        if value is not None:
            draft[key_w] = value
        if len(stmt.args) >= 2:
            if stmt.args[1].text == "reverse":
                draft[key_r] = True
            else:
                ctx.error(stmt.args[1].loc, f"{what} unknown weight option {stmt.args[1].text}")

    return handler


def _rise_fall(key: str, name: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        if word is None:
            return
        value = parse_int(word, ctx, 1, 2**31 - 1, f"({name}): vrrp script {key}")
        draft[key] = 1 if value is None else value  # keepalived: "invalid, defaulting to 1"

    return handler


def _script_keyword(stmt: Statement, ctx: Context, draft: Draft) -> None:
    script = parse_script(stmt, ctx)
    if script is not None:
        draft["script"] = script


def _script_user(stmt: Statement, ctx: Context, draft: Draft) -> None:
    # `user USER [GROUP]`: parse_script's user handling applies to words after the script.
    if not stmt.args:
        ctx.error(stmt.loc, "'user' needs a user name")
        return
    draft["user_stmt"] = stmt


def vrrp_script(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    name = block_name(stmt, ctx, "vrrp_script")
    if name is None:
        return
    draft: Draft = {}
    table: dict[str, Handler] = {
        "script": _script_keyword,
        "interval": _whole_seconds("interval", name),
        "timeout": _whole_seconds("timeout", name),
        "weight": _weight("weight", "weight_reverse", -253, 253, f"vrrp_script {name}"),
        "rise": _rise_fall("rise", name),
        "fall": _rise_fall("fall", name),
        "user": _script_user,
        "init_fail": set_flag("init_fail"),
    }
    run_block(stmt, ctx, table, draft)
    end = stmt.end or stmt.loc
    script = draft.pop("script", None)
    user_stmt: Statement | None = draft.pop("user_stmt", None)
    if script is None:
        ctx.error(end, f"No script set for vrrp_script {name} - removing")
        return
    if user_stmt is not None:
        from pylvs.config.keepalived.vrrp.common import user_group

        user, group = user_group(list(user_stmt.args), ctx)
        script = type(script)(script.argv, script.raw, user, group, script.loc)
    elif parts.script_user_missing:
        ctx.warning(
            end, f"Unable to set default user for vrrp script {name} (script_user does not exist)"
        )
    parts.scripts[name] = VrrpScript(name=name, script=script, loc=stmt.loc, **draft)


def _file_path(stmt: Statement, ctx: Context, draft: Draft) -> None:
    if "path" in draft:
        ctx.error(stmt.loc, "File already set for track file - ignoring")
        return
    word = first_arg(stmt, ctx)
    if word is not None:
        draft["path"] = word.text


def _init_file(stmt: Statement, ctx: Context, draft: Draft) -> None:
    draft["init_file"] = True
    for word in stmt.args:
        if word.text == "overwrite":
            draft["init_overwrite"] = True
            continue
        value = parse_int(word, ctx, -(2**31), 2**31 - 1, "Track file init value")
        if value is not None:
            draft["init_value"] = value


def track_file(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    if stmt.name == "vrrp_track_file":
        ctx.warning(stmt.loc, "'vrrp_track_file' is deprecated - please use 'track_file'")
    name = block_name(stmt, ctx, stmt.name)
    if name is None:
        return
    draft: Draft = {}
    table: dict[str, Handler] = {
        "file": _file_path,
        "weight": _weight("weight", "weight_reverse", -254, 254, f"track_file {name}"),
        "init_file": _init_file,
    }
    run_block(stmt, ctx, table, draft)
    path = draft.pop("path", None)
    if path is None:
        ctx.error(stmt.end or stmt.loc, f"No file set for track_file {name} - ignoring")
        return
    parts.track_files[name] = TrackFile(name=name, path=path, loc=stmt.loc, **draft)


def _process(stmt: Statement, ctx: Context, draft: Draft) -> None:
    if "process" in draft:
        ctx.error(stmt.loc, "Process already set for track process - ignoring")
        return
    word = first_arg(stmt, ctx)
    if word is None:
        return
    draft["process"] = word.text
    if len(stmt.args) > 1:
        draft["params"] = tuple(w.text for w in stmt.args[1:])


def _param_match(stmt: Statement, ctx: Context, draft: Draft) -> None:
    word = first_arg(stmt, ctx)
    if word is None:
        return
    if word.text in ("initial", "partial"):
        draft["param_match_partial"] = word.text == "partial"
    else:
        ctx.error(word.loc, f"Invalid param_match type {word.text} - ignoring")


def _delay(keys: tuple[str, ...]) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        value = None if word is None else parse_decimal(word, ctx, 0, TIMER_MAX_SEC, stmt.name)
        if value is not None:
            for key in keys:
                draft[key] = value

    return handler


def vrrp_track_process(stmt: Statement, ctx: Context, parts: VrrpParts) -> None:
    name = block_name(stmt, ctx, "vrrp_track_process")
    if name is None:
        return
    draft: Draft = {}
    table: dict[str, Handler] = {
        "process": _process,
        "param_match": _param_match,
        "weight": _weight("weight", "weight_reverse", -254, 254, f"vrrp_track_process {name}"),
        "quorum": set_int("quorum", 1, 65535, "quorum"),
        "quorum_max": set_int("quorum_max", 0, 65535, "quorum_max"),
        "delay": _delay(("fork_delay", "terminate_delay")),
        "terminate_delay": _delay(("terminate_delay",)),
        "fork_delay": _delay(("fork_delay",)),
        "full_command": set_flag("full_command"),
    }
    run_block(stmt, ctx, table, draft)
    process = draft.pop("process", None)
    if process is None:
        ctx.error(
            stmt.end or stmt.loc, f"track process '{name}' process name not specified - ignoring"
        )
        return
    qmax = draft.get("quorum_max")
    if qmax is not None and qmax < draft.get("quorum", 1):
        ctx.error(stmt.loc, "quorum_max is less than quorum - ignoring")
        del draft["quorum_max"]
    parts.track_processes[name] = TrackProcess(name=name, process=process, loc=stmt.loc, **draft)


def _bfd_ip(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        value = None if word is None else parse_ip(word, ctx, f"BFD {stmt.name}")
        if value is not None:
            draft[key] = value

    return handler


def _bfd_ms(key: str, lo: int) -> Handler:
    decimal = set_decimal(key, lo, 4294967, None)

    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        decimal(stmt, ctx, draft)
        if key in draft:
            draft[key] = round(draft[key])

    return handler


def _bfd_multihop(stmt: Statement, ctx: Context, draft: Draft) -> None:
    value = bool_word(stmt, ctx)
    if value is not None:
        draft["max_hops"] = 255 if value else 0


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
    draft: Draft = {}
    table: dict[str, Handler] = {
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
        "multihop": _bfd_multihop,
        "weight": _weight("weight", "weight_reverse", -253, 253, f"bfd_instance {name}"),
        "vrrp": set_flag("vrrp_only"),
        "checker": set_flag("checker_only"),
    }
    run_block(stmt, ctx, table, draft)
    if "neighbor_ip" not in draft:
        ctx.error(stmt.end or stmt.loc, f"BFD instance {name} has no neighbor_ip - removing")
        return
    parts.bfds[name] = BfdInstance(name=name, loc=stmt.loc, **draft)
