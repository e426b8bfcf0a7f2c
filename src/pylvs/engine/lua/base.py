"""What the Lua engine's parts share (engine.py): the calls in progress, the states, the
runtime they act on, and how a call ends up logged (HAProxy 2.6 src/hlua.c SEND_ERR,
hlua_sendlog).  The conversions between Lua values and samples are hlua_lua2smp and
hlua_smp2lua."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from pylvs.control.haproxy import commands
from pylvs.control.haproxy.context import CliState, Context
from pylvs.engine.lua.applet import AppletState
from pylvs.engine.lua.cosocket import LuaSockets
from pylvs.engine.lua.loader import stderr_line
from pylvs.engine.lua.maps import LuaMaps
from pylvs.engine.lua.state import LuaMemoryError, LuaState
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.model.lua_spec import LuaSpec
from pylvs.proto.rules.engine import Exec
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp

LOG_ERR = 3


@dataclass
class _Call:
    """What a running Lua call is about (its `txn` / applet refers to it by number)."""

    stream: Stream
    http: bool
    exec: Exec | None = None
    proxy: str = ""
    applet: AppletState | None = None
    tcp: Any = None  # a tcp applet's TcpApplet (tcp_service.py)


def _b(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def to_smp(value: object) -> Smp:
    """hlua_lua2smp: integers and booleans as such, strings as strings, anything else false."""
    if isinstance(value, bool):
        return Smp(ty.BOOL, int(value))
    if isinstance(value, int):
        return Smp(ty.SINT, value)
    if isinstance(value, float):
        return Smp(ty.SINT, int(value) if value.is_integer() else 0)
    if isinstance(value, bytes):
        return Smp(ty.STR, value)
    return Smp(ty.BOOL, 0)


def to_lua(smp: Smp | None) -> object:
    """hlua_smp2lua: integers, strings; addresses as text; nothing as nil."""
    if smp is None:
        return None
    if smp.type in (ty.SINT, ty.BOOL):
        return smp.num
    if smp.type in (ty.STR, ty.BIN, ty.METH):
        return smp.text
    cast = ty.cast(smp, ty.STR)
    return None if cast is None else cast.text


class EngineBase:
    """The shared state and helpers of the engine's parts."""

    def __init__(self, spec: LuaSpec, live: LiveProxies, *, quiet: bool = False) -> None:
        self.spec = spec
        self.live = live
        self.quiet = quiet
        self.calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self.states: list[LuaState] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.applets: set[asyncio.Task[None]] = set()  # the running tcp services
        self.errors = 0  # calls that ended in an error, a timeout or a refused yield
        self.compiled: dict[tuple[str, str, tuple[bytes, ...]], Any] = {}
        self.maps = LuaMaps(live.patterns)  # Map.new's maps, on the runtime's patterns
        self.sockets = LuaSockets()  # core.tcp()'s connections

    def _log(self, proxy: str | None, level: int, msg: bytes) -> None:
        """hlua_sendlog: the proxy's (else global) log targets, and stderr unless quiet."""
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in msg)
        self.live.rt.send_log(proxy, level, text)
        self._stderr(level, msg)

    def _stderr(self, level: int, msg: bytes) -> None:
        if self.quiet or level == 7:
            return
        sys.stderr.write(stderr_line(level, msg))
        sys.stderr.flush()

    def _alert(self, text: str, proxy: str | None = None) -> None:
        """SEND_ERR: the proxy's log at `err`, and an alert on stderr unless quiet."""
        self.errors += 1
        self.live.rt.send_log(proxy, LOG_ERR, text)
        if not self.quiet:
            sys.stderr.write(f"[ALERT]    ({_pid()}) : {text}\n")
            sys.stderr.flush()

    def _cli(self, line: str) -> str:
        ctx = Context(self.live, CliState())
        return commands.run(ctx, line.split()).text

    # -- fetches, converters, actions (LuaCalls) -----------------------------------------------

    def _open(self, call: _Call) -> int:
        ref = next(self._ids)
        self.calls[ref] = call
        return ref

    def _run(self, st: LuaState, fn: Any, budget_ms: int, args: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            got = _tuple(st.api[b"start"](fn, budget_ms, *args))
        except LuaMemoryError:
            return ("nomem",)
        return tuple(_s(x) if i == 1 else x for i, x in enumerate(got))[1:]

    def _function(self, table: str, name: str) -> tuple[LuaState, Any] | None:
        for st in self.states:
            fn = getattr(st.reg, table).get(name)
            if fn is not None:
                return st, fn[0] if isinstance(fn, tuple) else fn
        return None

    async def _wait(self, status: tuple[Any, ...]) -> None:
        """A task's or tcp applet's wait: its sleep, or its socket's operation."""
        delay = wait_delay(status)
        if delay is not None:
            await asyncio.sleep(delay)
            return
        op = self.sockets.waiting(int(status[1]))
        if op is not None:
            await asyncio.wait({op})

    def _why(self, status: tuple[Any, ...], wait: str = "yield not allowed") -> str:
        kind = _s(status[0])
        if kind == "error":
            return _s(status[1])
        if kind == "timeout":
            return "execution timeout"
        if kind == "nomem":
            return "out of memory error"
        if kind == "wait":
            return wait
        return "returns an unknown error"


def wait_delay(status: tuple[Any, ...]) -> float | None:
    """A waiting call's delay in seconds (core.sleep), or None when it waits for one of
    its sockets (core.tcp(): the socket's operation wakes it)."""
    if len(status) > 2 and _s(status[2]) == "sock":
        return None
    return max(int(status[1] or 0), 0) / 1000


def _s(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _tuple(value: object) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def _now() -> tuple[int, int]:
    t = time.time()
    return int(t), int((t % 1) * 1_000_000)


def _pid() -> int:
    return os.getpid()
