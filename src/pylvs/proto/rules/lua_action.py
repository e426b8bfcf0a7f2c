"""A `lua.NAME` rule action: the function a Lua script registered with core.register_action,
run by the process's Lua engine (engine/lua; HAProxy 2.6 src/hlua.c action_register_lua and
hlua_action).  The rule's words after the name are the function's arguments (strings)."""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.rules.engine import Exec, Ret


@dataclass(frozen=True, slots=True)
class LuaAction:
    name: str  # without the `lua.` prefix
    args: tuple[bytes, ...] = ()

    def run(self, x: Exec) -> Ret:
        calls = x.stream.sess.process.lua
        if calls is None:  # no Lua engine: the function cannot run, the rule does nothing
            return Ret.CONT
        ret: Ret = calls.run_action(self.name, x, self.args)
        return ret
