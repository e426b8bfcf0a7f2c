"""The Lua programs a configuration loads (HAProxy 2.6's `lua-load`, `lua-load-per-thread`,
`lua-prepend-path` and `tune.lua.*`; src/hlua.c): neutral data the runtime starts them from.

Defaults are hlua.c's: a session (fetch, converter, action) and a service may run 4 s of Lua,
a task forever; the hook that checks those budgets runs every 10,000 instructions
(`tune.lua.forced-yield`); memory is unlimited unless `tune.lua.maxmem` (MB) says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LuaSpec:
    loads: tuple[str, ...] = ()  # lua-load files, in order (the shared state)
    per_thread: tuple[str, ...] = ()  # lua-load-per-thread files (the thread's own state)
    prepend: tuple[tuple[str, str], ...] = ()  # lua-prepend-path: (path, "path"|"cpath")
    maxmem: int = 0  # bytes; 0: unlimited
    forced_yield: int = 10000  # instructions between two checks of the budgets
    session_timeout_ms: int = 4000
    task_timeout_ms: int = 0  # 0: none (TICK_ETERNITY)
    service_timeout_ms: int = 4000

    @property
    def empty(self) -> bool:
        return not self.loads and not self.per_thread


NO_LUA = LuaSpec()
