"""Lua HTTP services and CLI commands (HAProxy 2.6 src/hlua.c hlua_applet_http_fct,
hlua_cli_parse_fct): an HTTP applet runs as a coroutine on the loop and answers when it
ends (applet.py frames its message); a CLI command runs to its end at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pylvs.control.haproxy.context import Reply
from pylvs.dataplane.haproxy.http.exchange import Exchange
from pylvs.dataplane.haproxy.http.state import Service
from pylvs.engine.lua.applet import AppletState
from pylvs.engine.lua.base import EngineBase, _b, _Call, _s, _tuple, wait_delay
from pylvs.engine.lua.state import LuaState
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.proto.http.answers import Answer
from pylvs.proto.http.message import RequestHead
from pylvs.proto.sample.message import HttpMessage
from pylvs.proto.sample.stream import Stream


@dataclass
class _Service:
    """One run of an HTTP applet: its coroutine and where its answer goes."""

    st: LuaState
    name: str
    ref: int
    co: Any
    done: Callable[[bytes | Answer], None]
    method: bytes


class _LuaCli:
    """A core.register_cli command (hlua_cli_parse_fct / hlua_cli_io_handler_fct): the
    function gets an applet whose send() writes the answer, and every word of the command.
    It runs to its end at once: a command that sleeps or yields is refused (the stats
    socket answers each command before reading the next)."""

    def __init__(
        self, engine: EngineBase, st: LuaState, fn: Any, words: tuple[str, ...], usage: str
    ) -> None:
        self.engine, self.st, self.fn = engine, st, fn
        self.words = words
        self.usage = usage

    def run(self, words: list[str]) -> Reply:
        out: list[bytes] = []
        applet = self.st.api[b"cli_applet"](lambda data: out.append(_b(data)))
        args = [w.encode() for w in words]
        status = self.engine._run(
            self.st, self.fn, self.engine.spec.session_timeout_ms, (applet, *args)
        )
        if status[0] not in ("done", "exit"):
            why = self.engine._why(status, "yield not allowed")
            # logged only: the client gets what the function sent before (hlua_cli_io_handler)
            self.engine._alert(f"Lua cli '<lua.cli.{'.'.join(self.words)}>': {why}.")
        return Reply(b"".join(out).decode("utf-8", "replace"))


def _applet_fields(
    st: LuaState, request: RequestHead, edited: HttpMessage | None, length: int
) -> dict[bytes, object]:
    """AppletHTTP's request fields (hlua_applet_http_new): the request as the rules left it."""
    method = edited.method if edited is not None else request.method
    target = edited.uri if edited is not None else request.target
    fields = edited.fields if edited is not None else request.fields
    path, _q, query = target.partition(b"?")
    headers: dict[bytes, dict[int, bytes]] = {}
    for n, v in fields:
        values = headers.setdefault(n.lower(), {})
        values[len(values)] = v
    version = request.version  # the whole token, "HTTP/1.1" (hlua_applet_http_new)
    return {
        b"method": method,
        b"path": path,
        b"qs": query,
        b"version": version,
        b"length": _announced(fields, length),
        b"headers": st.table({k: st.table(v) for k, v in headers.items()}),
    }


def _bare_stream(live: LiveProxies, x: Exchange) -> Stream:
    """A stream for a request that ran no rules (its variables are its own)."""
    from pylvs.proto.sample.stream import ProxyRef, Session

    return Stream(Session(live.rt.process, ProxyRef(x.frontend, 0)))


class ServicesMixin(EngineBase):
    def _service(self, name: str) -> Callable[[Exchange], Service]:
        def serve(x: Exchange) -> Service:
            def begin(done: Callable[[bytes | Answer], None]) -> None:
                self._serve(name, x, done)

            return begin

        return serve

    def _serve(self, name: str, x: Exchange, done: Callable[[bytes | Answer], None]) -> None:
        """An HTTP applet's run (hlua_applet_http_fct), see applet.py."""
        found = self._function("services", name)
        request = x.request
        if found is None or request is None:
            done(Answer.page(503))
            return
        st, fn = found
        self.live.http.intercepted(x.frontend)  # an applet's answer (stream.c)
        stream = x.stream or _bare_stream(self.live, x)
        body = stream.req_body or b""
        applet = AppletState(request, body=body)
        ref = self._open(_Call(stream, True, proxy=x.frontend, applet=applet))
        fields = _applet_fields(st, request, stream.request, len(body))
        lua_applet = st.api[b"applet"](ref, st.table(fields))
        got = _tuple(st.api[b"spawn"](fn, self.spec.service_timeout_ms, lua_applet))
        self._step(_Service(st, name, ref, got[0], done, request.method), got[1:])

    def _step(self, run: _Service, status: tuple[Any, ...]) -> None:
        kind = _s(status[0])
        call = self.calls[run.ref]
        if kind == "wait":

            def again(*_: object) -> None:
                self._step(run, _tuple(run.st.api[b"resume"](run.co)))

            delay = wait_delay(status)
            op = self.sockets.waiting(int(status[1])) if delay is None else None
            if op is not None:  # a socket's operation: it wakes the applet when done
                op.add_done_callback(again)
            else:
                asyncio.get_running_loop().call_later(delay or 0, again)
            return
        del self.calls[run.ref]
        assert call.applet is not None
        if kind in ("done", "exit"):
            run.done(call.applet.answer(run.method))
            return
        self._alert(f"Lua applet http '<lua.{run.name}>': {self._why(status)}.", call.proxy)
        run.done(Answer.page(500))

    def _applet(self, ref: int, what: bytes, *args: Any) -> object:
        call = self.calls.get(ref)
        if call is None or call.applet is None:
            return None
        a = call.applet
        op = what.decode()
        if op == "start":
            order = [bytes(n) for n in args[2].values()] if args[2] is not None else []
            headers: dict[bytes, list[bytes]] = {}
            if args[3] is not None:
                for n, values in args[3].items():
                    headers[bytes(n)] = [bytes(v) for v in values.values()]
            status = int(args[0]) if args[0] is not None else None
            a.start(status, args[1], order, headers)
            return None
        if op == "send":
            a.sent.append(_b(args[0]))
            return None
        if op == "getline":
            return a.getline()
        if op == "receive":
            size = int(args[0]) if args and args[0] is not None else None
            return a.receive(size)
        return None


def _announced(
    fields: tuple[tuple[bytes, bytes], ...] | list[tuple[bytes, bytes]], got: int
) -> int:
    """applet.length: the body HAProxy knows of, its Content-Length when announced (what is
    received plus htx->extra), else what the proxy buffered."""
    for n, v in fields:
        if n.lower() == b"content-length" and v.strip().isdigit():
            return int(v.strip())
    return got
