"""One Lua state as HAProxy 2.6 makes it (src/hlua.c hlua_init_state): Lua 5.4 with its
standard libraries, the `core` API (prelude.lua) and what the loaded scripts registered.

HAProxy has a shared state (`lua-load`, state-id 0) and one per thread (`lua-load-per-thread`,
state-id 1 for pylvs's one thread).  Scripts run at load; what they register is kept here
with the Lua function.  Python reaches Lua only through the prelude's `_pylvs` table, and Lua
reaches Python only through the `py` bridge of plain functions: Python objects are not
visible to scripts (no attribute access, no `python` module).  Strings cross as bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from lupa import lua54

from pylvs.engine.lua.maps import match_addr, parse_addr
from pylvs.engine.lua.preempt import preempt
from pylvs.proto.rules.replies import reason

LuaError = lua54.LuaError
LuaMemoryError = lua54.LuaMemoryError


def _no_attributes(obj: object, name: object, setting: bool) -> object:
    raise AttributeError("Python objects are not visible to Lua scripts")


def prelude() -> bytes:
    return resources.files("pylvs.engine.lua").joinpath("prelude.lua").read_bytes()


@dataclass
class Registered:
    """What the scripts of one state registered (core.register_*)."""

    fetches: dict[str, Any] = field(default_factory=dict)
    converters: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, tuple[Any, frozenset[str], int]] = field(default_factory=dict)
    services: dict[str, tuple[Any, str]] = field(default_factory=dict)
    inits: list[Any] = field(default_factory=list)
    tasks: list[Any] = field(default_factory=list)
    cli: dict[str, tuple[Any, str]] = field(default_factory=dict)


# Python's side of the bridge: name -> function, completed by the runtime (engine.py).
Bridge = dict[str, Callable[..., Any]]


class LuaState:
    """A Lua runtime with the prelude loaded (see the module doc)."""

    def __init__(
        self,
        state_id: int,
        bridge: Bridge,
        *,
        maxmem: int = 0,
        forced_yield: int = 10000,
        warn: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.state_id = state_id
        self.reg = Registered()
        self.warn = warn
        self.rt = lua54.LuaRuntime(
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=_no_attributes,
            encoding=None,
            max_memory=maxmem or None,
        )
        g = self.rt.globals()
        g.python = None  # lupa's module: no way from Lua back into Python's objects
        self.bridge = bridge
        bridge.setdefault("clock", time.monotonic)
        bridge.setdefault("reason", reason)
        bridge.setdefault("parse_addr", parse_addr)
        bridge.setdefault("match_addr", match_addr)
        bridge.setdefault("preempt", preempt)
        bridge["register"] = self._register
        self.py = self.rt.table_from({k.encode(): v for k, v in bridge.items()})
        load = self.rt.eval("load")
        chunk = load(prelude(), b"=pylvs-lua")
        chunk(self.py, state_id, forced_yield)
        self.api = g[b"_pylvs"]

    def set_bridge(self, name: str, fn: Callable[..., Any]) -> None:
        self.bridge[name] = fn
        self.py[name.encode()] = fn

    def table(self, value: dict[Any, Any] | list[Any]) -> Any:
        return self.rt.table_from(value)

    def _register(self, kind: bytes, name: bytes, fn: Any, extra: bytes | None, n: int) -> None:
        what = kind.decode()
        key = name.decode("latin-1")
        reg = self.reg
        if what == "fetch":
            self._again(reg.fetches, key, "sample-fetch")
            reg.fetches[key] = fn
        elif what == "converter":
            self._again(reg.converters, key, "converter")
            reg.converters[key] = fn
        elif what == "action":
            self._again(reg.actions, key, "action")
            kinds = frozenset((extra or b"").decode().split())
            reg.actions[key] = (fn, kinds, n)
        elif what == "service":
            self._again(reg.services, key, "service")
            reg.services[key] = (fn, (extra or b"").decode())
        elif what == "init":
            reg.inits.append(fn)
        elif what == "task":
            reg.tasks.append(fn)
        elif what == "cli":
            reg.cli[key] = (fn, (extra or b"").decode("latin-1"))

    def _again(self, table: dict[str, Any], name: str, what: str) -> None:
        if name in table:
            self.warn(
                f"Trying to register {what} 'lua.{name}' more than once. "
                "This will become a hard error in version 2.5."
            )

    def prepend_path(self, path: str, kind: str) -> None:
        """hlua_prepend_path: package.path (or cpath) = PATH .. ";" .. old."""
        package = self.rt.globals()[b"package"]
        package[kind.encode()] = path.encode() + b";" + bytes(package[kind.encode()])

    def load(self, path: str) -> str:
        """hlua_load_state: compile and run a file; "" or HAProxy's message."""
        loadfile = self.rt.globals()[b"loadfile"]
        try:
            got = loadfile(path.encode())
        except LuaMemoryError:
            return "Lua out of memory error\n"
        chunk, message = got if isinstance(got, tuple) else (got, None)
        if chunk is None:
            text = _text(message)
            return f"error in Lua file '{path}': {text}"
        try:
            chunk()
        except LuaMemoryError:
            return "Lua out of memory error\n"
        except LuaError as e:
            return f"Lua runtime error: {_lua_message(e)}\n"
        return ""


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _lua_message(e: BaseException) -> str:
    """The error object's text, without the traceback lupa appends."""
    text = str(e.args[0]) if e.args else str(e)
    if isinstance(e.args[0] if e.args else None, bytes):
        text = e.args[0].decode("utf-8", "replace")
    return text.split("\nstack traceback:", 1)[0]
