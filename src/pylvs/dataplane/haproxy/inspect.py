"""A `mode tcp` stream before it has a backend: the `tcp-request content` rules with the
inspect delay, the switching rules, the backend's content rules and `use-server`
(proto/rules/tcp_flow.request; src/tcp_rules.c tcp_inspect_request, src/stream.c
process_switching_rules / process_server_rules; HAProxy 2.6).

The client's first bytes are looked at without being taken off the socket (MSG_PEEK, as the
PROXY header reader does): once the rules let the stream go, the relay forwards them to the
server like any later byte.  The socket is watched edge-triggered, so each new segment calls
the rules again; they become final when the inspect delay ends, the client shuts its side
(EPOLLRDHUP), or the buffer is full (HAProxy's channel_full: 16384 bytes less the 1024 kept
for rewrites).  A `reject` closes the client (a FIN, as haproxy 2.6.12 does once it has
read the request's bytes) and counts `denied_req`.  A `switch-mode http` hands the
connection to the HTTP driver (switch.py).
"""

from __future__ import annotations

import _socket
import asyncio
import dataclasses
import select
import socket
from typing import TYPE_CHECKING

from pylvs.model.proxy_spec import ConnFacts
from pylvs.proto.rules import counters, tcp_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, Go, Service, Upgrade, Wait
from pylvs.proto.sample.channel import Channels
from pylvs.proto.sample.stream import Stream

from . import accept, lua_channel, switch
from .session import HaSession

if TYPE_CHECKING:
    from .frontend import FrontendListener

BUFSIZE = 16384  # tune.bufsize
FULL = BUFSIZE - 1024  # less tune.maxrewrite: channel_full(req, global.tune.maxrewrite)
_WATCH = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLET


class Inspector:
    """One stream's content phase (see the module doc)."""

    __slots__ = ("client", "facts", "fd", "hup", "listener", "timer", "txn", "watched")

    def __init__(
        self, listener: FrontendListener, client: _socket.socket, facts: ConnFacts, txn: Txn
    ) -> None:
        self.listener = listener
        self.client = client
        self.fd = client.fileno()
        self.facts = facts
        self.txn = txn
        self.timer: asyncio.TimerHandle | None = None
        self.hup = False
        self.watched = False
        listener.inspecting.add(self)
        self.run(final=False)

    def _readable(self, events: int) -> None:
        if events & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR):
            self.hup = True
        self.run(final=False)

    def _expired(self) -> None:
        self.timer = None
        self.run(final=True)

    def run(self, *, final: bool) -> None:
        s = self.txn.stream
        try:
            data = self.client.recv(BUFSIZE, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            if not data and self.hup:
                final = True
        except (BlockingIOError, InterruptedError):
            data = b""
        except OSError:
            data, self.hup = b"", True
        s.req_payload = data
        if isinstance(s.lua_chn, Channels):  # as a Lua script rewrote it, with what came since
            s.req_payload = s.lua_chn.req.sync(data)
        s.now = self.listener.ctx.clock()
        fe = self.listener.frontend
        verdict = tcp_flow.request(
            self.txn,
            fe.runtime.routes,
            final=final or self.hup or len(data) >= FULL,
            usable=fe.runtime.usable,
        )
        accept.apply_commands(self.client, self.txn.commands)
        lua_channel.reply_to_client(s.lua_chn, self.client)  # a Lua script's txn.res:send
        if isinstance(verdict, Wait):
            self._wait(verdict.until, s.now)
        elif isinstance(verdict, Go):
            self._go(verdict)
        elif isinstance(verdict, Service):
            self._service(verdict.name)
        elif isinstance(verdict, Upgrade):  # switch-mode http
            self._stop()
            switch.to_http(
                self.listener, self.client, stream_facts(s, self.facts), self.txn, verdict.proto
            )
        else:
            self._stop()
            fe.denied_req += 1
            # what was read counts in bin all the same (stream_process_counters adds
            # req.total to the frontend's, and to its own backend side's: a `listen`)
            fe.counters.inbytes += len(data)
            own = fe.runtime.backends.get(fe.spec.name)
            if own is not None:
                own.counters.inbytes += len(data)
            self.end_counters()
            if isinstance(verdict, Drop) and verdict.silent:
                accept.reject(self.client, silent=True)
            else:
                accept.close_read(self.client)
            self.listener.dropped()

    def _wait(self, until: float | None, now: float) -> None:
        if not self.watched:
            poller = self.listener.poller
            assert poller is not None
            poller.add(self.fd, _WATCH, self._readable)
            self.watched = True
        if until is not None and self.timer is None:
            loop = self.listener.loop
            assert loop is not None
            self.timer = loop.call_later(max(0.0, until - now), self._expired)

    def _go(self, verdict: Go) -> None:
        self._stop()
        runtime = self.listener.frontend.runtime
        backend = runtime.backends.get(verdict.backend or "")
        if backend is None:  # a frontend with no backend to go to: HAProxy closes
            self.end_counters()
            self.client.close()
            self.listener.dropped()
            return
        self.listener.frontend.total += 1  # its rates counted at the start (frontend.py)
        stream = self.txn.stream
        chn = stream.lua_chn
        HaSession(
            self.listener,
            self.client,
            stream_facts(stream, self.facts),
            backend,
            stream,
            server=verdict.server,
            first=lua_channel.request_prefix(chn, self.client),
        )

    def _service(self, name: str) -> None:
        """`use-service lua.NAME`: the Lua tcp applet talks to the client (engine/lua
        tcp_service.py) and the connection closes when it ends."""
        self._stop()
        fe = self.listener.frontend
        fe.total += 1  # its rates counted at the start (frontend.py)

        def ended() -> None:
            self.end_counters()
            accept.close_read(self.client)
            self.listener.dropped()

        lua = self.txn.stream.sess.process.lua
        service = getattr(lua, "tcp_service", None)
        name = name.removeprefix("lua.")
        if service is None or not service(name, self.client, self.txn.stream, ended, fe.client_s):
            ended()

    def _stop(self) -> None:
        self.listener.inspecting.discard(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.watched:
            poller = self.listener.poller
            assert poller is not None
            poller.remove(self.fd)
            self.watched = False

    def end_counters(self) -> None:
        s = self.txn.stream
        counters.stop_stream(s)
        counters.stop_session(s.sess, s.now)

    def abort(self) -> None:
        """The runtime stops: close the client as it is."""
        self._stop()
        self.end_counters()
        close = self.client.close
        close()
        self.listener.dropped()


def start(
    listener: FrontendListener, client: _socket.socket, facts: ConnFacts, stream: Stream
) -> None:
    Inspector(listener, client, facts, Txn(stream))


def stream_facts(stream: Stream, facts: ConnFacts) -> ConnFacts:
    """The connection's facts with the stream's addresses, as content rules' `set-src` /
    `set-dst` left them (the server side reads sc_src/sc_dst of the client side)."""
    src, dst = stream.src, stream.dst
    if src is None or dst is None:
        return facts
    if (src, stream.src_port, dst, stream.dst_port) == (
        facts.src,
        facts.src_port,
        facts.dst,
        facts.dst_port,
    ):
        return facts
    return dataclasses.replace(
        facts, src=src, src_port=stream.src_port, dst=dst, dst_port=stream.dst_port
    )
