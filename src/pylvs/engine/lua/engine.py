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
import email.utils
import itertools
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pylvs.control.haproxy import commands
from pylvs.control.haproxy.context import CliState, Context
from pylvs.control.haproxy.names import STAT_NAMES
from pylvs.control.haproxy.rows import backend_row, frontend_row, listener_row, server_row
from pylvs.engine.lua.loader import stderr_line
from pylvs.engine.lua.state import LuaMemoryError, LuaState
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.model.lua_spec import LuaSpec
from pylvs.proto.rules.engine import Exec, Ret
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.message import HttpMessage
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp
from pylvs.proto.sample.vars import VarError, parse_var_name

log = logging.getLogger(__name__)

LOG_ERR = 3


@dataclass
class _Call:
    """What a running Lua call is about (its `txn` / applet refers to it by number)."""

    stream: Stream
    http: bool
    exec: Exec | None = None
    proxy: str = ""


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


class LuaEngine:
    """The runtime's Lua (see the module doc)."""

    def __init__(self, spec: LuaSpec, live: LiveProxies, *, quiet: bool = False) -> None:
        self.spec = spec
        self.live = live
        self.quiet = quiet
        self.calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self.states: list[LuaState] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.errors = 0  # calls that ended in an error, a timeout or a refused yield
        self.compiled: dict[tuple[str, str, tuple[bytes, ...]], Any] = {}

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

    def start(self) -> None:
        """register_init functions, then the tasks (hlua_post_init, hlua_register_task)."""
        for st in self.states:
            for fn in st.reg.inits:
                status = self._run(st, fn, self.spec.task_timeout_ms, ())
                if status[0] != "done":
                    self._alert(f"Lua init: {self._why(status)}.")
        loop = asyncio.get_running_loop()
        for st in self.states:
            for fn in st.reg.tasks:
                self.tasks.append(loop.create_task(self._task(st, fn)))

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks.clear()

    async def _task(self, st: LuaState, fn: Any) -> None:
        """A register_task coroutine: runs until it returns, sleeping when it asks."""
        co, *status = st.api[b"start"](fn, self.spec.task_timeout_ms, *())
        while True:
            kind = _s(status[0])
            if kind != "wait":
                if kind != "done":
                    self._alert(f"Lua task: {self._why(tuple(status))}.")
                return
            await asyncio.sleep(max(int(status[1] or 0), 0) / 1000)
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
            "date": _parse_date,
            "clock": time.monotonic,
            "server": self._server,
            "server_call": self._server_call,
            "proxy_call": self._proxy_call,
            "listener_stats": self._listener_stats,
            "sample": self._sample,
            "http": self._http,
            "txn": self._txn,
            "applet": lambda *_a: None,
            "call": self._call,
        }

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

    # -- servers and proxies -------------------------------------------------------------

    def _server(self, backend: bytes, name: bytes) -> None:
        # hlua_check_server: a server a script called a method of is SRV_F_NON_PURGEABLE
        self.live.dynamic.pinned.add((backend.decode(), name.decode()))

    def _cli(self, line: str) -> str:
        ctx = Context(self.live, CliState())
        return commands.run(ctx, line.split()).text

    def _server_call(self, backend: bytes, name: bytes, what: bytes, *args: bytes | None) -> object:
        be, sv = backend.decode(), name.decode()
        op = what.decode()
        a = [x.decode() for x in args if x is not None]
        target = f"{be}/{sv}"
        if op == "stats":
            return self._server_stats(be, sv)
        if op == "addr":
            view = self._server_view(be, sv)
            if view is None:
                return None
            _px, s = view
            return _b(f"{s.address}:{s.port}" if s.address else "<unknown>")
        if op == "get_weight":
            view = self._server_view(be, sv)
            return None if view is None else view[1].uweight
        if op == "get_maxconn":
            view = self._server_view(be, sv)
            return None if view is None else view[1].maxconn
        if op == "is_draining":
            view = self._server_view(be, sv)
            return False if view is None else view[1].status.startswith("DRAIN")
        lines = {
            "set_weight": f"set weight {target} {a[0] if a else ''}",
            "set_maxconn": f"set maxconn server {target} {a[0] if a else ''}",
            "state": f"set server {target} state {a[0] if a else ''}",
            "shut_sess": f"shutdown sessions server {target}",
            "health": f"set server {target} health {a[0] if a else ''}",
            "agent": f"set server {target} agent {a[0] if a else ''}",
            "cli": f"{a[0] if a else ''} {target}",
            "set_addr": f"set server {target} addr {' port '.join(a)}",
        }
        answer = self._cli(lines[op])
        # hlua_server_set_weight and its siblings return the error text, or nil
        return None if not answer.strip() or "changed" in answer else _b(answer.strip())

    def _server_view(self, be: str, sv: str) -> tuple[Any, Any] | None:
        for px in self.live.snapshot().proxies:
            if px.name == be:
                for s in px.servers:
                    if s.name == sv:
                        return px, s
        return None

    def _server_stats(self, be: str, sv: str) -> object:
        snap = self.live.snapshot()
        for px in snap.proxies:
            if px.name == be:
                for s in px.servers:
                    if s.name == sv:
                        return self._row(server_row(px, s, snap.now, False))
        return None

    def _row(self, row: list[Any]) -> object:
        out: dict[bytes, object] = {}
        for name, f in zip(STAT_NAMES, row, strict=False):
            if f is not None:
                out[name.encode()] = _b(f.value) if isinstance(f.value, str) else f.value
        return self.states[0].table(out) if self.states else None

    def _proxy_call(self, name: bytes, what: bytes) -> object:
        px_name = name.decode()
        snap = self.live.snapshot()
        px = next((p for p in snap.proxies if p.name == px_name), None)
        op = what.decode()
        if px is None:
            return None
        if op == "stats":
            row = frontend_row(px) if px.frontend is not None else backend_row(px, snap.now, False)
            return self._row(row)
        if op == "mode":
            return _b(px.mode)
        if op == "cap":
            caps = [c for c, v in (("frontend", px.frontend), ("backend", px.backend)) if v]
            return _b(",".join(caps))
        line = {
            "pause": f"disable frontend {px_name}",
            "resume": f"enable frontend {px_name}",
            "stop": f"shutdown frontend {px_name}",
            "shut_bcksess": "",
        }[op]
        if line:
            self._cli(line)
        return None

    def _listener_stats(self, proxy: bytes, listener: bytes) -> object:
        snap = self.live.snapshot()
        for px in snap.proxies:
            if px.name == proxy.decode():
                for i, li in enumerate(px.listeners, start=1):
                    if _b(li.name or f"sock-{i}") == listener:
                        return self._row(listener_row(px, li, False))
        return None

    # -- core.* ----------------------------------------------------------------------------

    def _call(self, what: bytes, *args: Any) -> object:
        op = what.decode()
        if op == "get_var":
            return self._get_var(None, args[0])
        if op == "get_info":
            return None
        if op == "pattern":
            verb, file, key = (x.decode() for x in args[:3])
            value = args[3].decode() if len(args) > 3 and args[3] is not None else ""
            words = {
                "set-map": f"set map {file} {key} {value}",
                "del-map": f"del map {file} {key}",
                "add-acl": f"add acl {file} {key}",
                "del-acl": f"del acl {file} {key}",
            }[verb]
            self._cli(words)
        return None

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

    def fetch(self, name: str, s: Stream, args: tuple[bytes, ...]) -> Smp | None:
        found = self._function("fetches", name)
        if found is None:
            return None
        st, fn = found
        proxy = s.backend.name if s.backend is not None else s.sess.frontend.name
        ref = self._open(_Call(s, s.request is not None, proxy=proxy))
        try:
            txn = st.api[b"txn"](ref, s.request is not None, False)
            status = self._run(st, fn, self.spec.session_timeout_ms, (txn, *args))
        finally:
            del self.calls[ref]
        if status[0] == "done":
            return to_smp(status[1] if len(status) > 1 else None)
        self._alert(f"Lua sample-fetch '{name}': {self._why(status, 'yield not allowed')}.", proxy)
        return None

    def convert(self, name: str, s: Stream, smp: Smp, args: tuple[bytes, ...]) -> Smp | None:
        found = self._function("converters", name)
        if found is None:
            return None
        st, fn = found
        proxy = s.backend.name if s.backend is not None else s.sess.frontend.name
        ref = self._open(_Call(s, s.request is not None, proxy=proxy))
        try:
            status = self._run(st, fn, self.spec.session_timeout_ms, (to_lua(smp), *args))
        finally:
            del self.calls[ref]
        if status[0] == "done":
            return to_smp(status[1] if len(status) > 1 else None)
        why = self._why(status, "yield functions like core.tcp() or core.sleep() are not allowed")
        self._alert(f"Lua converter '{name}': {why}.", proxy)
        return None

    def run_action(self, name: str, x: Exec, args: tuple[bytes, ...]) -> Ret:
        """A `lua.NAME` rule (hlua_action): the function with the txn and the rule's
        arguments; its end value (act.CONTINUE, STOP, YIELD, ERROR, DONE, INVALID, ABORT)
        or CONTINUE."""
        found = self._function("actions", name)
        if found is None:
            return Ret.CONT
        st, fn = found
        s = x.stream
        ref = self._open(_Call(s, x.rule_set.startswith("http-"), exec=x, proxy=x.proxy))
        try:
            txn = st.api[b"txn"](ref, x.rule_set.startswith("http-"), False)
            status = self._run(st, fn, self.spec.session_timeout_ms, (txn, *args))
        finally:
            del self.calls[ref]
        if status[0] == "done":
            value = status[1] if len(status) > 1 else None
            return _ACT_RET.get(value, Ret.CONT) if isinstance(value, int) else Ret.CONT
        if status[0] == "exit":  # txn:done() / core.done(): the stream's answer is final
            return Ret.DONE
        what = "yield not allowed" if status[0] == "wait" else ""
        self._alert(f"Lua function '{name}': {self._why(status, what)}.", x.proxy)
        return Ret.CONT

    def _why(self, status: tuple[Any, ...], wait: str = "yield not allowed") -> str:
        kind = status[0]
        if kind == "error":
            return _s(status[1])
        if kind == "timeout":
            return "execution timeout"
        if kind == "nomem":
            return "out of memory error"
        if kind == "wait":
            return wait
        return "returns an unknown error"

    # -- txn ------------------------------------------------------------------------------

    def _sample(self, ref: int, kind: bytes, name: bytes, strings: bool, *args: Any) -> object:
        call = self.calls.get(ref)
        if call is None:
            return None
        compiler = getattr(self.live.rt.rules, "sample_compiler", None)
        if compiler is None:
            return None
        key = (kind.decode(), name.decode(), tuple(_b(a) for a in args))
        if kind == b"fetch":
            expr = self.compiled.get(key)
            if expr is None:
                expr = compiler("fetch", key[1], key[2])
                if isinstance(expr, str):
                    return None, expr.encode()
                self.compiled[key] = expr
            smp = expr.eval(call.stream)
        else:
            value, rest = (args[0] if args else None), key[2][1:]
            ckey = (key[0], key[1], rest)
            expr = self.compiled.get(ckey)
            if expr is None:
                expr = compiler("conv", key[1], rest)
                if isinstance(expr, str):
                    return None, expr.encode()
                self.compiled[ckey] = expr
            got = expr.convert(call.stream, to_smp(value))
            smp = got if isinstance(got, Smp) else None
        if strings:
            if smp is None:
                return b""
            cast = smp if smp.type in (ty.STR, ty.BIN) else ty.cast(smp, ty.STR)
            return b"" if cast is None else cast.text
        return to_lua(smp)

    def _get_var(self, call: _Call | None, name: bytes) -> object:
        try:
            var = parse_var_name(name.decode())
        except VarError:
            return None
        if call is None:
            if var.scope != "proc":
                return None
            return to_lua(self.live.rt.process.vars.get(var.name))
        scope = call.stream.scope(var.scope)
        return None if scope is None else to_lua(scope.get(var.name))

    def _txn(self, ref: int, what: bytes, *args: Any) -> object:
        call = self.calls.get(ref)
        if call is None:
            return None
        op = what.decode()
        if op == "get_var":
            return self._get_var(call, args[0])
        if op in ("set_var", "unset_var"):
            try:
                var = parse_var_name(_b(args[0]).decode())
            except VarError:
                return False
            scope = call.stream.scope(var.scope)
            if scope is None:
                return False
            if op == "unset_var":
                scope.unset(var.name)
                return True
            ifexist = len(args) > 2 and bool(args[2])
            if ifexist and scope.get(var.name) is None:
                return False
            return bool(scope.set(var.name, to_smp(args[1])))
        if op == "log":
            level, msg = int(args[0]), _b(args[1])
            self._log(call.proxy, 6 if level < 0 else level, msg)
            return None
        if op == "set_loglevel":
            call.stream.log_level = int(args[0])
            return None
        return None

    def _http(self, ref: int, side: bytes, what: bytes, *args: bytes | None) -> object:
        call = self.calls.get(ref)
        if call is None:
            return None
        msg = call.stream.request if side == b"req" else call.stream.response
        if msg is None:
            return None
        op = what.decode()
        if op == "get_headers":
            out: dict[bytes, dict[int, bytes]] = {}
            for n, v in msg.fields:
                values = out.setdefault(n, {})
                values[len(values)] = v
            st = self.states[0]
            return st.table({k: st.table(v) for k, v in out.items()})
        _edit(msg, op, [x for x in args if x is not None])
        return None


# hlua.c's act.* constants (ACT_RET_*): CONTINUE 0, STOP 1, YIELD 2, ERROR 3, DONE 4,
# DENY 5, ABORT 6, INVALID 7
_ACT_RET = {
    0: Ret.CONT, 1: Ret.STOP, 2: Ret.CONT, 3: Ret.ERR, 4: Ret.DONE, 5: Ret.DENY, 6: Ret.ABRT,
    7: Ret.INV,
}  # fmt: skip


def _s(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _tuple(value: object) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def _now() -> tuple[int, int]:
    t = time.time()
    return int(t), int((t % 1) * 1_000_000)


def _pid() -> int:
    import os

    return os.getpid()


def _parse_date(kind: bytes, text: bytes | None) -> int | None:
    """core.http_date & co: a date string to seconds since the epoch (nil if it is not one)."""
    if text is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return None
    return int(parsed.timestamp())


def _edit(msg: HttpMessage, op: str, a: list[bytes]) -> None:
    """txn.http's setters (hlua.c hlua_http_req_set_* and the header functions)."""
    if op == "add_header":
        msg.add(a[0], a[1])
    elif op == "set_header":
        msg.set(a[0], a[1])
    elif op == "del_header":
        wanted = a[0].lower()
        msg.delete(lambda n: n == wanted)
    elif op == "set_method":
        msg.set_start(method=a[0])
    elif op == "set_uri":
        msg.set_start(uri=a[0])
    elif op == "set_path":
        _path, q, query = msg.uri.partition(b"?")
        msg.set_start(uri=a[0] + (q + query if q else b""))
    elif op == "set_query":
        msg.set_start(uri=msg.uri.partition(b"?")[0] + b"?" + a[0])
    elif op == "set_status":
        msg.set_start(status=int(a[0]), reason=a[1] if len(a) > 1 else None)
    elif op in ("rep_header", "rep_value"):
        wanted = a[0].lower()
        rx = re.compile(a[1])
        for i, (n, v) in enumerate(list(msg.fields)):
            if n == wanted:
                msg.replace_at(i, rx.sub(a[2].replace(b"\\", b"\\\\"), v))
