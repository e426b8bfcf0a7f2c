"""The Lua scripts of a running HAProxy-mode runtime (HAProxy 2.6 src/hlua.c, hlua_fcn.c).

`LuaEngine.start` loads the `lua-load` files into their states, builds `core.proxies`,
`core.frontends` and `core.backends` from the running proxies (hlua_fcn_post_init), runs the
`register_init` functions, then starts the `register_task` ones as coroutines on the loop.
It is the Process's `LuaCalls`: `lua.NAME` fetches and converters run through it, and the
`lua.NAME` actions of the rules (`run_action`).

Each call runs in a coroutine with its budget (`tune.lua.session-timeout`, checked every
`tune.lua.forced-yield` instructions): a fetch, converter or action that yields or runs too
long is stopped and logged as hlua.c's wrappers log it (SEND_ERR: the proxy's log at `err`
level, and stderr unless quiet), and the stream goes on without its sample or action.

A script's Server methods act through the stats socket's own commands (control/haproxy), so
their semantics and refusals are the socket's; calling any method of a server marks it
non-purgeable, as hlua_check_server does (`del server` then refuses it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pylvs.engine.lua.base import (
    _b,
    _Call,
    _now,
    _s,
    _tuple,
    to_lua,
    to_smp,
    wait_delay,
)
from pylvs.engine.lua.dates import parse_date
from pylvs.engine.lua.objects import ObjectsMixin
from pylvs.engine.lua.reply import forward_reply
from pylvs.engine.lua.services import ServicesMixin, _LuaCli
from pylvs.engine.lua.state import LuaMemoryError, LuaState
from pylvs.engine.lua.tcp_service import TcpServicesMixin
from pylvs.engine.lua.txn import TxnMixin
from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp


@dataclass
class _Pending:
    """A yielded action's coroutine, kept on its stream until the rule runs again."""

    rule: object
    co: Any
    ref: int


class LuaEngine(ObjectsMixin, TxnMixin, ServicesMixin, TcpServicesMixin):
    """The runtime's Lua (see the module doc)."""

    # -- start ---------------------------------------------------------------------------

    def load(self) -> str:
        """Load every file (as at start-up); "" or the first error."""
        for state_id, files in ((0, self.spec.loads), (1, self.spec.per_thread)):
            if not files:
                continue
            st = LuaState(
                state_id,
                self._bridge(),
                maxmem=self.spec.maxmem,
                forced_yield=self.spec.forced_yield,
                warn=lambda m: self._stderr(4, m.encode()),
            )
            for path, kind in self.spec.prepend:
                st.prepend_path(path, kind)
            self.states.append(st)
            self._post_init(st)
            for path in files:
                error = st.load(path)
                if error:
                    return error
        return ""

    def start(self) -> str:
        """register_init functions, then the tasks (hlua_post_init, hlua_register_task);
        "" or why an init function failed (HAProxy then does not start)."""
        for st in self.states:
            for fn in st.reg.inits:
                got = _tuple(st.api[b"start"](fn, self.spec.task_timeout_ms))
                while _s(got[1]) == "wait":  # nothing runs beside an init function
                    got = _tuple(st.api[b"resume"](got[0]))
                if _s(got[1]) == "error" and len(got) > 4:  # hlua_post_init_state's words
                    return f"Lua init: runtime error: '{_s(got[3])}' from {_s(got[4])}"
                if _s(got[1]) not in ("done", "exit"):
                    return f"Lua init: {self._why(got[1:])}."
        for st in self.states:
            for path, (fn, usage) in st.reg.cli.items():
                self.live.cli_extensions.append(_LuaCli(self, st, fn, tuple(path.split()), usage))
            for name, (_fn, mode) in st.reg.services.items():
                if mode == "http":
                    self.live.rt.http.services[f"lua.{name}"] = self._service(name)
        self.maps.starting = False  # Map.new is refused from now on (MODE_STARTING ends)
        self.sockets.allowed = True  # streams, services and tasks may connect
        loop = asyncio.get_running_loop()
        for st in self.states:
            for fn in st.reg.tasks:
                self.tasks.append(loop.create_task(self._task(st, fn)))
        return ""

    def stop(self) -> None:
        for task in [*self.tasks, *self.applets]:
            task.cancel()
        self.tasks.clear()
        self.sockets.close_all()

    async def _task(self, st: LuaState, fn: Any) -> None:
        """A register_task coroutine: runs until it returns, sleeping when it asks."""
        co, *status = st.api[b"spawn"](fn, self.spec.task_timeout_ms, *())
        while True:
            kind = _s(status[0])
            if kind != "wait":
                if kind != "done":
                    self._alert(f"Lua task: {self._why(tuple(status), 'unknown error')}.")
                return
            await self._wait(tuple(status))
            status = list(_tuple(st.api[b"resume"](co)))

    def _post_init(self, st: LuaState) -> None:
        """core.proxies / frontends / backends (hlua_fcn_post_init)."""
        spec = self.live.rt.spec
        proxies, frontends, backends = {}, {}, {}
        for name in sorted(self.live.ids, key=self.live.ids.__getitem__):
            fe = spec.frontend(name)
            be = spec.backend(name)
            servers = [
                st.table({b"name": s.spec.name.encode(), b"puid": str(s.spec.id).encode()})
                for s in (
                    self.live.rt.backends[name].servers if name in self.live.rt.backends else ()
                )
            ]
            listeners = self._listeners(name)
            fields = {b"name": name.encode(), b"uuid": str(self.live.ids[name]).encode()}
            px = st.api[b"proxy"](st.table(fields), st.table(servers), st.table(listeners))
            proxies[name.encode()] = px
            if fe is not None:
                frontends[name.encode()] = px
            if be is not None:
                backends[name.encode()] = px
        core = st.rt.globals()[b"core"]
        core[b"proxies"] = st.table(proxies)
        core[b"frontends"] = st.table(frontends)
        core[b"backends"] = st.table(backends)

    def _listeners(self, name: str) -> list[bytes]:
        snap = [p for p in self.live.snapshot().proxies if p.name == name]
        if not snap:
            return []
        return [
            (li.name or f"sock-{i}").encode() for i, li in enumerate(snap[0].listeners, start=1)
        ]

    # -- the bridge --------------------------------------------------------------------

    def _bridge(self) -> dict[str, Callable[..., Any]]:
        return {
            "log": lambda level, msg: self._log(None, int(level), _b(msg)),
            "now": _now,
            "date": parse_date,
            "clock": time.monotonic,
            "server": self._server,
            "server_call": self._server_call,
            "proxy_call": self._proxy_call,
            "listener_stats": self._listener_stats,
            "sample": self._sample,
            "http": self._http,
            "txn": self._txn,
            "applet": self._applet,
            "call": self._call,
            "priv": self._priv,
            "atcp": self._atcp,
            "chn": self._chn,
            "sock": self.sockets.call,
            "map_new": self.maps.new,
            "map_lookup": self.maps.lookup,
        }

    def _sample_call(
        self,
        table: str,
        name: str,
        s: Stream,
        first: Callable[[LuaState, int], Any],
        args: tuple[bytes, ...],
    ) -> tuple[tuple[Any, ...], str] | None:
        """A fetch's or converter's run (hlua_sample_fetch_wrapper / _conv_wrapper): the
        function with `first(...)` and the arguments; its end and the proxy to log at."""
        found = self._function(table, name)
        if found is None:
            return None
        st, fn = found
        proxy = s.backend.name if s.backend is not None else s.sess.frontend.name
        ref = self._open(_Call(s, s.request is not None, proxy=proxy))
        try:
            status = self._run(st, fn, self.spec.session_timeout_ms, (first(st, ref), *args))
        finally:
            del self.calls[ref]
        return status, proxy

    def fetch(self, name: str, s: Stream, args: tuple[bytes, ...]) -> Smp | None:
        def txn(st: LuaState, ref: int) -> Any:
            return st.api[b"txn"](ref, s.request is not None, False)

        got = self._sample_call("fetches", name, s, txn, args)
        if got is None:
            return None
        status, proxy = got
        if status[0] == "done":  # nothing returned: no sample (the stack was empty)
            return to_smp(status[1]) if len(status) > 1 else None
        self._alert(f"Lua sample-fetch '{name}': {self._why(status, 'yield not allowed')}.", proxy)
        return None

    def convert(self, name: str, s: Stream, smp: Smp, args: tuple[bytes, ...]) -> Smp | None:
        got = self._sample_call("converters", name, s, lambda _st, _ref: to_lua(smp), args)
        if got is None:
            return None
        status, proxy = got
        if status[0] == "done":
            return to_smp(status[1]) if len(status) > 1 else None
        why = self._why(status, "yield functions like core.tcp() or core.sleep() are not allowed")
        self._alert(f"Lua converter '{name}': {why}.", proxy)
        return None

    def run_action(self, name: str, x: Exec, args: tuple[bytes, ...]) -> Ret:
        """A `lua.NAME` rule (hlua_action): the function with the txn and the rule's
        arguments; its end value (act.CONTINUE, STOP, YIELD, ERROR, DONE, INVALID, ABORT)
        or CONTINUE.  In an HTTP rule set a `core.sleep` suspends the rules (YIELD with a
        wake-up time) and the same rule resumes the function when they run again."""
        found = self._function("actions", name)
        if found is None:
            return Ret.CONT
        st, fn = found
        s = x.stream
        http = x.rule_set.startswith("http-")
        pending = s.lua_pending
        if isinstance(pending, _Pending) and pending.rule is x.rule:
            s.lua_pending = None
            x.txn.wait_until = None  # the wake-up was ours: later waits set their own
            ref = pending.ref
            self.calls[ref] = _Call(s, http, exec=x, proxy=x.proxy)
            got = _tuple(st.api[b"resume"](pending.co))
            co, status = pending.co, tuple(_s(v) if i == 0 else v for i, v in enumerate(got))
        else:
            ref = self._open(_Call(s, http, exec=x, proxy=x.proxy))
            txn = st.api[b"txn"](ref, http, False)
            try:
                run = st.api[b"spawn" if http else b"start"]  # tcp rule sets cannot yield
                got = _tuple(run(fn, self.spec.session_timeout_ms, txn, *args))
            except LuaMemoryError:
                got = (None, b"nomem")
            co, status = got[0], tuple(_s(v) if i == 0 else v for i, v in enumerate(got[1:]))
        del self.calls[ref]
        if status[0] == "wait" and http:
            s.lua_pending = _Pending(x.rule, co, ref)
            delay = wait_delay(status)
            # a socket's operation: the rules look again soon (they have no other wake-up)
            x.txn.wait_until = s.now + (SOCKET_POLL if delay is None else delay)
            return Ret.YIELD
        if status[0] == "done":
            return self._returned(x, st, co, status[1] if len(status) > 1 else None)
        if status[0] == "exit":  # core.done(): the function ends, the rules go on
            return Ret.CONT
        if status[0] == "txndone":  # txn:done([reply]): the stream ends, with the reply
            if len(status) > 1 and http:
                return forward_reply(x, status[2:])
            x.txn.status = 0
            return Ret.ABRT
        self._alert(f"Lua function '{name}': {self._why(status)}.", x.proxy)
        return Ret.CONT

    def _returned(self, x: Exec, st: LuaState, co: Any, value: object) -> Ret:
        """An action's return value (hlua_action: lua_tointeger of it, ACT_RET_*): YIELD runs
        it again after act:wake_time's delay, DENY answers the rule set's deny (403 in
        http-request), the others as their action would."""
        code = int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
        ret = _ACT_RET.get(code, Ret.CONT)
        if code == 2 and x.rule_set.startswith("http-"):  # act.YIELD
            wake = st.api[b"wake"](co)
            x.stream.lua_pending = None  # the function ended: the rule starts it anew
            x.txn.wait_until = x.stream.now + (int(wake) if wake else 0) / 1000
            return Ret.YIELD
        if ret is Ret.DENY and x.rule_set == "http-request":
            x.txn.status = 403
        elif ret is Ret.DENY and x.rule_set == "http-response":
            x.txn.status = 502
        return ret


SOCKET_POLL = 0.002  # how often a waiting HTTP action looks at its socket's operation

# hlua.c's act.* constants (ACT_RET_*): CONTINUE 0, STOP 1, YIELD 2, ERROR 3, DONE 4,
# DENY 5, ABORT 6, INVALID 7
_ACT_RET = {
    0: Ret.CONT, 1: Ret.STOP, 2: Ret.YIELD, 3: Ret.ERR, 4: Ret.DONE, 5: Ret.DENY, 6: Ret.ABRT,
    7: Ret.INV,
}  # fmt: skip
