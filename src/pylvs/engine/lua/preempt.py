"""Forced yields (HAProxy 2.6 src/hlua.c hlua_hook, `tune.lua.forced-yield`): every N
instructions the running coroutine of a task, a service or an HTTP action yields, so a Lua
function that computes without sleeping lets the loop serve the other streams, then goes
on; its time budget is checked at each such yield.

Lua cannot yield from a hook written in Lua (debug.sethook's function runs behind a C
call), so this hook is C: lupa's Lua exports its API (lua_sethook, lua_isyieldable,
lua_yieldk) and ctypes makes a C function of `hook`.  A hook may yield only with no value
and only where the coroutine may yield (not inside a C function such as table.sort's
comparator): there it does nothing, as hlua_hook does, and the next count tries again.
When the API cannot be reached the prelude keeps its Lua hook, which only checks budgets.
"""

from __future__ import annotations

import ctypes
from typing import Any

from lupa import lua54

LUA_MASKCOUNT = 1 << 3
_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


def _load() -> tuple[Any, Any] | None:
    try:
        lib = ctypes.CDLL(lua54.__file__)
        sethook, yieldable, yieldk = lib.lua_sethook, lib.lua_isyieldable, lib.lua_yieldk
    except (OSError, AttributeError):
        return None
    sethook.argtypes = [ctypes.c_void_p, _HOOK, ctypes.c_int, ctypes.c_int]
    sethook.restype = None
    yieldable.argtypes = [ctypes.c_void_p]
    yieldable.restype = ctypes.c_int
    yieldk.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    yieldk.restype = ctypes.c_int

    @_HOOK  # type: ignore[untyped-decorator]
    def hook(state: int, _ar: int) -> None:
        if yieldable(state):
            yieldk(state, 0, None, None)  # in a hook: marks the yield, returns (ldo.c)

    return sethook, hook


_API = _load()


def preempt(thread: bytes, count: int) -> bool:
    """Make the coroutine `thread` (its address, as Lua's "%p" writes it) yield every
    `count` instructions; False when this Lua's API cannot be reached."""
    if _API is None:
        return False
    sethook, hook = _API
    try:
        address = int(bytes(thread).decode(), 16)
    except ValueError:
        return False
    sethook(address, hook, LUA_MASKCOUNT, max(int(count), 1))
    return True
