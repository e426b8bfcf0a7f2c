"""HAProxy's Lua keywords in `global` and the names Lua scripts register (src/hlua.c, 2.6).

`lua-load FILE` runs the script while the configuration is read, as HAProxy does: its
`core.register_fetches|converters|action|service` calls make `lua.NAME` fetches, converters,
actions and services known to the sections after it.  The reader is pure, so running Lua is
the caller's: `HostFacts.lua` makes a `LuaHost` (engine/lua/loader.py) that loads the files
and tells which names they registered.  Without one (a caller that does not check), every
`lua.NAME` is taken as written and the runtime, which loads the same files, is the judge.

The names of the read in progress are in a context variable (`registered()`), because the
sample parser reads expressions without a Context: it is set by the reader for the duration
of a read (`reading`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pylvs.config.keywords import Context
from pylvs.config.tree import Statement
from pylvs.model.lua_spec import LuaSpec

# hlua.c hlua_register_fetches: ARG12(0,STR,...), SMP_T_STR, SMP_USE_HTTP_ANY; converters
# take the same twelve optional strings, a string in and out (hlua_register_converters).
LUA_ARGS = ("STR",) * 12
HTTP_ANY = ("HRQHV", "HRQHP", "HRQBO", "HRSHV", "HRSHP", "HRSBO")
ACTION_KINDS = ("tcp-req", "tcp-res", "http-req", "http-res")
# The rule sets each kind of Lua action may be used in (hlua_register_action: the action
# keyword lists it registers into).
RULE_SETS = {
    "tcp-req": ("tcp-request content",),
    "tcp-res": ("tcp-response content",),
    "http-req": ("http-request",),
    "http-res": ("http-response",),
}


@dataclass
class LuaNames:
    """What the loaded scripts registered (without the `lua.` prefix)."""

    fetches: set[str] = field(default_factory=set)
    converters: set[str] = field(default_factory=set)
    actions: dict[str, tuple[frozenset[str], int]] = field(default_factory=dict)  # kinds, nargs
    services: dict[str, str] = field(default_factory=dict)  # name -> "tcp" | "http"


class LuaHost(Protocol):
    """Runs `lua-load` files for the reader (one per read)."""

    names: LuaNames

    def load(self, path: str, per_thread: bool, prepend: tuple[tuple[str, str], ...]) -> str:
        """Load and run one file; "" or HAProxy's error message."""
        ...


# None: not checked (every `lua.NAME` is taken); else what the read's scripts registered.
_NAMES: contextvars.ContextVar[LuaNames | None] = contextvars.ContextVar("lua_names", default=None)


@contextlib.contextmanager
def reading(checked: bool) -> Iterator[None]:
    """The span of one read: `checked` when a LuaHost runs the scripts."""
    token = _NAMES.set(LuaNames() if checked else None)
    try:
        yield
    finally:
        _NAMES.reset(token)


@contextlib.contextmanager
def using(names: LuaNames | None) -> Iterator[None]:
    """The span of work on a read configuration (its conversion, the rules' compilation)
    with the names its scripts registered (None: unchecked)."""
    token = _NAMES.set(names)
    try:
        yield
    finally:
        _NAMES.reset(token)


def registered() -> LuaNames | None:
    return _NAMES.get()


def known_fetch(name: str) -> bool:
    """Whether `lua.NAME` (given with its prefix) is a fetch here."""
    names = _NAMES.get()
    return names is None or name[4:] in names.fetches


def known_converter(name: str) -> bool:
    names = _NAMES.get()
    return names is None or name[4:] in names.converters


def known_action(action: str, rule_set: str) -> bool:
    """Whether `lua.NAME` may be used as an action of `rule_set`."""
    names = _NAMES.get()
    if names is None:
        return True
    got = names.actions.get(action[4:])
    return got is not None and any(rule_set in RULE_SETS[k] for k in got[0])


def action_nargs(action: str) -> int | None:
    names = _NAMES.get()
    got = None if names is None else names.actions.get(action[4:])
    return None if got is None else got[1]


def known_service(name: str, mode: str) -> bool:
    names = _NAMES.get()
    return names is None or names.services.get(name[4:]) == mode


# -- the global keywords ----------------------------------------------------------------------


class LuaDraft(Protocol):
    lua: LuaSpec
    lua_host: LuaHost | None


def load(st: Statement, ctx: Context, g: LuaDraft) -> None:
    """`lua-load FILE` / `lua-load-per-thread FILE` (hlua_load, hlua_load_per_thread)."""
    per_thread = st.name == "lua-load-per-thread"
    if not st.args or not st.args[0].text:
        what = "a file" if per_thread else "a file name"
        ctx.error(st.loc, f"'{st.name}' expects {what} as parameter.")
        return
    path = st.args[0].text
    if per_thread:
        g.lua = dataclasses.replace(g.lua, per_thread=(*g.lua.per_thread, path))
    else:
        g.lua = dataclasses.replace(g.lua, loads=(*g.lua.loads, path))
    host = _host(ctx, g)
    if host is None:
        return
    error = host.load(path, per_thread, g.lua.prepend)
    if error:
        ctx.error(st.loc, error.rstrip("\n"))


def _host(ctx: Context, g: LuaDraft) -> LuaHost | None:
    make: Callable[[], LuaHost] | None = ctx.host.lua
    if make is None:
        return None
    if g.lua_host is None:
        g.lua_host = make()
        names = _NAMES.get()
        if names is not None:  # the host fills the read's own set
            g.lua_host.names = names
    return g.lua_host


def prepend_path(st: Statement, ctx: Context, g: LuaDraft) -> None:
    """`lua-prepend-path PATH [path|cpath]` (hlua_config_prepend_path)."""
    if len(st.args) > 2:
        ctx.error(st.loc, f"'{st.name}' cannot handle unexpected argument '{st.args[2].text}'.")
        return
    if not st.args or not st.args[0].text:
        ctx.error(st.loc, f"'{st.name}' expects to receive a <path> as argument")
        return
    kind = st.args[1].text if len(st.args) > 1 else "path"
    if kind not in ("path", "cpath"):
        ctx.error(st.args[1].loc, f"'{st.name}' expects <type> to either be 'path' or 'cpath'")
        return
    g.lua = dataclasses.replace(g.lua, prepend=(*g.lua.prepend, (st.args[0].text, kind)))


def tune(st: Statement, ctx: Context, g: LuaDraft) -> None:
    """`tune.lua.maxmem MB`, `tune.lua.forced-yield N`, `tune.lua.*-timeout TIME`."""
    from pylvs.config.haproxy.values import time_ms

    word = st.args[0] if st.args else None
    if st.name == "tune.lua.maxmem":
        text = word.text if word is not None else ""
        if not text:
            ctx.error(st.loc, f"'{st.name}' expects an integer argument (Lua memory size in MB).")
            return
        digits, bad = _strtoll(text)
        if bad:
            ctx.error(
                word.loc if word else st.loc, f"{st.name}: invalid number {text} (error at '{bad}')"
            )
            return
        g.lua = dataclasses.replace(g.lua, maxmem=max(digits, 0) * 1024 * 1024)
    elif st.name == "tune.lua.forced-yield":
        digits, bad = _strtoll(word.text if word is not None else "")
        if bad or word is None:
            ctx.error(st.loc, f"{st.name}: invalid number")
            return
        g.lua = dataclasses.replace(g.lua, forced_yield=max(digits, 1))
    else:
        if word is None:
            ctx.error(st.loc, f"{st.name}: invalid timeout")
            return
        ms = time_ms(word, ctx, st.name)
        if ms is None:
            return
        if st.name == "tune.lua.session-timeout":
            g.lua = dataclasses.replace(g.lua, session_timeout_ms=ms)
        elif st.name == "tune.lua.task-timeout":
            g.lua = dataclasses.replace(g.lua, task_timeout_ms=ms)
        else:
            g.lua = dataclasses.replace(g.lua, service_timeout_ms=ms)


def _strtoll(text: str) -> tuple[int, str]:
    """strtoll(text, &end, 10): the number and the first character it stopped at ("" at
    the end)."""
    i = 0
    while i < len(text) and text[i] in " \t":
        i += 1
    start = i
    if i < len(text) and text[i] in "+-":
        i += 1
    digits = i
    while i < len(text) and text[i].isascii() and text[i].isdigit():
        i += 1
    if i == digits:  # no digits: strtoll leaves end at the start
        return 0, text[:1] or ""
    value = int(text[start:i]) if i - start < 40 else 0
    return value, text[i] if i < len(text) else ""


KEYWORDS = ("lua-load", "lua-load-per-thread", "lua-prepend-path")
TUNE_KEYWORDS = (
    "tune.lua.maxmem",
    "tune.lua.forced-yield",
    "tune.lua.session-timeout",
    "tune.lua.task-timeout",
    "tune.lua.service-timeout",
)
