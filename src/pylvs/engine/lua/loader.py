"""Running `lua-load` files while a haproxy.cfg is read (config/haproxy/lua.py `LuaHost`):
the reader learns from it which `lua.NAME` keywords the scripts registered.

The runtime loads the same files again into the states it runs (engine.py), so a script runs
twice in `pylvs run`'s process: once for the reader and once for the runtime.  The reader's
run is quiet there (`quiet=True`); in `pylvs check` and `pylvs haproxy -c` it is the only one
and prints what the scripts log at load, as `haproxy -c` does (hlua_sendlog: on stderr,
`[info] DDD/HHMMSS (PID) : message`; debug only in debug mode).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from pylvs.engine.lua.cosocket import LuaSockets
from pylvs.engine.lua.dates import parse_date
from pylvs.engine.lua.maps import LuaMaps, read_file
from pylvs.engine.lua.state import LuaState
from pylvs.proto.sample.pattern_ref import PatternStore

LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


def stderr_line(level: int, message: bytes, now: float | None = None) -> str:
    """hlua_sendlog's stderr line: non-printable bytes as dots."""
    tm = time.localtime(now)
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in message)
    return (
        f"[{LEVELS[level]}] {tm.tm_yday - 1:03d}/{tm.tm_hour:02d}{tm.tm_min:02d}"
        f"{tm.tm_sec:02d} ({os.getpid()}) : {text}\n"
    )


def _now() -> tuple[int, int]:
    t = time.time()
    return int(t), int((t % 1) * 1_000_000)


class LuaLoader:
    """A `LuaHost`: the states scripts are loaded into for one read."""

    def __init__(self, *, quiet: bool = False, debug: bool = False) -> None:
        self.names: Any = None  # the reader's LuaNames (config/haproxy/lua.py), set by it
        self.quiet = quiet
        self.debug = debug
        self.states: dict[int, LuaState] = {}
        store = PatternStore(read_file)  # the maps scripts load (Map.new), for this read
        self.maps = LuaMaps(lambda: store)

    def _state(self, state_id: int, prepend: tuple[tuple[str, str], ...]) -> LuaState:
        st = self.states.get(state_id)
        if st is None:
            bridge: dict[str, Callable[..., Any]] = {
                "log": self._log,
                "now": _now,
                "date": parse_date,
                "map_new": self.maps.new,
                "map_lookup": self.maps.lookup,
                "sock": LuaSockets().call,  # no stream at load: connect fails
            }
            st = LuaState(state_id, bridge, warn=self._warn)
            for path, kind in prepend:
                st.prepend_path(path, kind)
            self.states[state_id] = st
        return st

    def _log(self, level: int, message: bytes) -> None:
        if self.quiet or (level == 7 and not self.debug):
            return
        sys.stderr.write(stderr_line(level, message))
        sys.stderr.flush()

    def _warn(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"[WARNING]  ({os.getpid()}) : {message}\n")

    def load(self, path: str, per_thread: bool, prepend: tuple[tuple[str, str], ...]) -> str:
        st = self._state(1 if per_thread else 0, prepend)
        error = st.load(path)
        reg = st.reg
        if self.names is None:
            return error
        self.names.fetches.update(reg.fetches)
        self.names.converters.update(reg.converters)
        for name, (_fn, kinds, nargs) in reg.actions.items():
            self.names.actions[name] = (kinds, nargs)
        for name, (_fn, mode) in reg.services.items():
            self.names.services[name] = mode
        return error


def factory(*, quiet: bool) -> Callable[[], LuaLoader]:
    """What HostFacts.lua holds: a fresh loader per read."""
    return lambda: LuaLoader(quiet=quiet)
