"""`lua.NAME` fetches and converters: what a Lua script registered, run by the process's
Lua engine (engine/lua; HAProxy 2.6 src/hlua.c hlua_sample_fetch_wrapper and
hlua_sample_conv_wrapper).

The compiled expression only knows the name: the function is looked up when it runs, in the
`LuaCalls` the runtime put on the Process (`Process.lua`).  A process without one, or a name
no script registered, gives no sample, as a Lua function that fails does.  Arguments are
strings (ARG12(0,STR,...)); the result is a string sample unless the function returned a
number or a boolean (hlua_lua2smp).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pylvs.proto.sample.expr import Args, ConvImpl, FetchImpl
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp


class LuaCalls(Protocol):
    """What the Lua engine offers the sample machinery."""

    def fetch(self, name: str, s: Stream, args: tuple[bytes, ...]) -> Smp | None: ...

    def convert(self, name: str, s: Stream, smp: Smp, args: tuple[bytes, ...]) -> Smp | None: ...

    # a `lua.NAME` rule action (proto/rules/lua_action.py): `x` is the rule's Exec, the
    # answer its Ret (typed loosely here: proto/sample sits below proto/rules)
    def run_action(self, name: str, x: Any, args: tuple[bytes, ...]) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Sig:
    args: tuple[str, ...]
    out: str
    input: str = "STR"


SIG = _Sig(("STR",) * 12, "STR")


def _given(args: Args) -> tuple[bytes, ...]:
    out = []
    for a in args:
        if a is None:
            break
        out.append(a if isinstance(a, bytes) else str(a).encode())
    return tuple(out)


def fetch_impl(name: str) -> FetchImpl:
    short = name[4:]

    def run(s: Stream, args: Args) -> Smp | None:
        calls = s.sess.process.lua
        return None if calls is None else calls.fetch(short, s, _given(args))

    return FetchImpl(run)


def conv_impl(name: str) -> ConvImpl:
    short = name[4:]

    def run(s: Stream, smp: Smp, args: Args) -> Smp | None:
        calls = s.sess.process.lua
        return None if calls is None else calls.convert(short, s, smp, _given(args))

    return ConvImpl(run)
