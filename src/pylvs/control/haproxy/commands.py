"""The stats socket's command table and its session commands (src/cli.c).

`run(ctx, words, payload)` is what cli_parse_request does once a line is split: find the
keyword (an unknown one gets HAProxy's usage answer), refuse expert/experimental commands
outside those modes, and call the handler.  The handlers of this module are the session's
own: `help`, `prompt`, `quit`, `operator`, `user`, `show cli level`, `show cli sockets`,
`show version`, `show env`, `set timeout cli`, `set severity-output`, `expert-mode` and
`experimental-mode`, `show schema json`, `_getsocks`; the others live in proxies.py,
servers.py and streams.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pylvs.control.haproxy import (
    caches,
    keywords,
    patterns,
    peers,
    proxies,
    resolvers,
    servers,
    ssl,
    streams,
    variables,
)
from pylvs.control.haproxy.context import Context, Handler, Reply, Severity, err, msg
from pylvs.control.haproxy.schema import SCHEMA
from pylvs.proto.stick import Level


class Extension(Protocol):
    """A command a runtime adds to the socket's (its words, its `help` line)."""

    words: tuple[str, ...]
    usage: str

    def run(self, words: list[str]) -> Reply: ...


_LEVEL_TEXT = {Level.USER: "user", Level.OPERATOR: "operator", Level.ADMIN: "admin"}


def _word(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def help_(ctx: Context, words: list[str], payload: str | None) -> Reply:
    extensions: Sequence[Extension] = getattr(ctx.runtime, "cli_extensions", ())
    added = tuple((e.words, e.usage, "extension") for e in extensions)
    return msg(keywords.usage(words, keywords.available(ctx.state.experimental) + added))


def prompt(ctx: Context, words: list[str], payload: str | None) -> Reply:
    ctx.state.prompt = not ctx.state.prompt
    return Reply("")


def quit_(ctx: Context, words: list[str], payload: str | None) -> Reply:
    ctx.state.quit = True
    return Reply("")


def set_level(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`operator` / `user` [-]: lower the session's level ("-": no newline after)."""
    if _word(words, 1) == "-":
        ctx.state.nolf = True
    target = Level.OPERATOR if words[0] == "operator" else Level.USER
    denied = ctx.denied(target)
    if denied is not None:
        return denied
    ctx.state.level = target
    ctx.state.expert = ctx.state.experimental = False
    return Reply("")


def mode(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`expert-mode` / `experimental-mode` [on|off] [-]."""
    if _word(words, 1) and _word(words, 2) == "-":
        ctx.state.nolf = True
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    expert = words[0] == "expert-mode"
    current = ctx.state.expert if expert else ctx.state.experimental
    if not _word(words, 1):
        return msg(f"{words[0]} is {'ON' if current else 'OFF'}\n")
    if expert:
        ctx.state.expert = words[1] == "on"
    else:
        ctx.state.experimental = words[1] == "on"
    return Reply("")


def show_cli_level(ctx: Context, words: list[str], payload: str | None) -> Reply:
    return msg(_LEVEL_TEXT[ctx.state.level] + "\n")


def show_cli_sockets(ctx: Context, words: list[str], payload: str | None) -> Reply:
    lines = "".join(f"{s.address} {_LEVEL_TEXT[s.level]} all\n" for s in ctx.sockets)
    return Reply("# socket lvl processes\n" + lines)


def show_version(ctx: Context, words: list[str], payload: str | None) -> Reply:
    return msg(ctx.version + "\n")


def show_env(ctx: Context, words: list[str], payload: str | None) -> Reply:
    denied = ctx.denied(Level.OPERATOR)
    if denied is not None:
        return denied
    name = _word(words, 2)
    if name:
        if name not in ctx.env:
            return err("Variable not found\n")
        return Reply(f"{name}={ctx.env[name]}\n")
    return Reply("".join(f"{k}={v}\n" for k, v in ctx.env.items()))


# parse_time_err's input units, as (multiplier, divisor) of a second.
_UNITS = {"": (1, 1), "s": (1, 1), "us": (1, 1000000), "ms": (1, 1000), "m": (60, 1)}
_UNITS |= {"h": (3600, 1), "d": (86400, 1)}


def parse_seconds(text: str) -> int | None:
    """tools.c parse_time_err with seconds as the unit: digits, then us/ms/s/m/h/d (what
    follows the unit is only warned about), rounded up; None when HAProxy refuses it."""
    digits = len(text) - len(text.lstrip("0123456789"))
    if not digits:
        return None
    rest = text[digits:]
    unit = "us" if rest.startswith("us") else "ms" if rest.startswith("ms") else rest[:1]
    if unit not in _UNITS:
        return None
    mult, div = _UNITS[unit]
    value = int(text[:digits])
    result = (value * mult + div - 1) // div
    if result >= 0x80000000 or (not result and value):
        return None
    return result


def set_timeout(ctx: Context, words: list[str], payload: str | None) -> Reply:
    if _word(words, 2) != "cli":
        return err("'set timeout' only supports 'cli'.\n")
    if not _word(words, 3):
        return err("Expects an integer value.\n")
    value = parse_seconds(words[3])
    if value is None or value < 1:
        return err("Invalid timeout value.\n")
    ctx.state.timeout = float(value)
    return Reply("")


def set_severity_output(ctx: Context, words: list[str], payload: str | None) -> Reply:
    value = _word(words, 2)
    if value in ("none", "number", "string"):
        ctx.state.severity = Severity(value)
        return Reply("")
    return err("one of 'none', 'number', 'string' is a required argument\n")


def show_schema(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`show schema json`: the JSON schema of `show info|stat json`."""
    return Reply(SCHEMA)


def getsocks(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """`_getsocks` (`expose-fd listeners`, haproxy -x): pylvs keeps its listeners across
    reloads itself and hands no descriptors out."""
    return err("pylvs does not hand its listening sockets out (_getsocks).\n")


def unsupported(ctx: Context, words: list[str], payload: str | None) -> Reply:
    kw = keywords.find(words)
    name = " ".join(kw[0]) if kw is not None else " ".join(words)
    return err(f"'{name}' is a HAProxy command that pylvs does not support.\n")


def show_peers(ctx: Context, words: list[str], payload: str | None) -> Reply:
    ok, text = peers.show_peers(ctx.runtime.peers(), words)
    return Reply(text) if ok else err(text)


def show_resolvers(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """cli_parse_stat_resolvers + its dump (src/resolvers.c)."""
    name = words[2] if len(words) > 2 else ""
    text = resolvers.show_resolvers(ctx.runtime.resolvers_counters(), name or None)
    return Reply(text) if text is not None else err("Can't find that resolvers section\n")


def show_cache(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """cli_parse_show_cache (admin level) + its dump (src/cache.c)."""
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    found, now = ctx.runtime.caches()
    return Reply(caches.show_cache(found, now))


HANDLERS: dict[str, Handler] = {
    "help": help_,
    "prompt": prompt,
    "quit": quit_,
    "mode": mode,
    "getsocks": getsocks,
    "show_schema": show_schema,
    "set_level": set_level,
    "show_cli_level": show_cli_level,
    "show_cli_sockets": show_cli_sockets,
    "show_version": show_version,
    "show_env": show_env,
    "set_timeout": set_timeout,
    "set_severity_output": set_severity_output,
    "unsupported": unsupported,
    "show_info": proxies.show_info,
    "show_stat": proxies.show_stat,
    "show_servers_state": proxies.show_servers_state,
    "show_backend": proxies.show_backend,
    "shutdown_frontend": proxies.shutdown_frontend,
    "disable_frontend": proxies.disable_frontend,
    "enable_frontend": proxies.enable_frontend,
    "set_maxconn_frontend": proxies.set_maxconn_frontend,
    "set_maxconn_global": proxies.set_maxconn_global,
    "set_rate_limit": proxies.set_rate_limit,
    "clear_counters": proxies.clear_counters,
    "disable_server": servers.set_admin_state,
    "enable_server": servers.set_admin_state,
    "set_server": servers.set_server,
    "get_weight": servers.get_weight,
    "set_weight": servers.set_weight,
    "set_maxconn_server": servers.set_maxconn_server,
    "check_toggle": servers.check_toggle,
    "add_server": servers.add_server,
    "del_server": servers.del_server,
    "shutdown_sessions_server": servers.shutdown_sessions_server,
    "table": servers.table,
    "show_peers": show_peers,
    "show_resolvers": show_resolvers,
    "show_cache": show_cache,
    "patterns_show": patterns.show,
    "patterns_add": patterns.add,
    "patterns_del": patterns.delete,
    "patterns_clear": patterns.clear,
    "patterns_set": patterns.set_map,
    "show_sess": streams.show_sess,
    "shutdown_session": streams.shutdown_session,
    "show_errors": streams.show_errors,
    "get_var": variables.get_var,
    "ssl_ca_file": ssl.ca_file,
    "ssl_show_cert": ssl.show_cert,
    "ssl_cert": ssl.cert,
    "set_var": variables.set_var,
}


def run(ctx: Context, words: list[str], payload: str | None = None) -> Reply:
    """cli_parse_request after the split: the answer to one command.  A runtime may add
    commands (`cli_extensions`: the ones Lua scripts register, engine/lua), after the
    built-in ones as cli_register_kw appends them."""
    extensions: Sequence[Extension] = getattr(ctx.runtime, "cli_extensions", ())
    added = tuple((e.words, e.usage, "extension") for e in extensions)
    kw = keywords.find(words, keywords.available(experimental=True) + added)
    if kw is None:
        known = keywords.available(ctx.state.experimental) + added
        return msg(keywords.usage(words or [""], known))
    if kw[2] == "extension":
        return next(e for e in extensions if e.words == kw[0]).run(words)
    if not ctx.state.experimental and kw[0] in keywords.EXPERIMENTAL_WORDS:
        return variables.restricted(ctx, words, payload)
    return HANDLERS[kw[2]](ctx, words, payload)
