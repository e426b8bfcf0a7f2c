"""One `mode tcp` stream: the keepalived mode's relay (dataplane/proxy/tcp.py, its
RelayMachine and C pump) with HAProxy's way of reaching a server in front of it.

A stream is routed by its backend (backend.py: stick rules, the balance algorithm, the
queues); here it finds its server (`use-server`, stickiness, the algorithm), and with the
C pump the common stream goes from its pick to a spliced pair in one call (`_quick`).
The rest of its life is in the classes it is built on: waiting in a queue
(session_queue.py), connecting with retries (session_connect.py), the spliced life and the
end (session_base.py).  The relay machine's commands are carried out here.
"""

from __future__ import annotations

import _socket
import os
import socket
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.tcp import _DO, End, TcpRelay
from pylvs.model.proxy_spec import ConnFacts, ServerSpec
from pylvs.proto.relay import (
    ACCEPTED,
    CLIENT,
    FAILED,
    SERVER,
    Close,
    Connect,
    CountError,
    RelayMachine,
    StartTimer,
    StopTimer,
)
from pylvs.proto.relay.commands import CLOSE
from pylvs.proto.rules.engine import Txn
from pylvs.proto.sample.stream import Stream
from pylvs.proto.stick import discard
from pylvs.sched.haproxy import Server

from .backend import BackendRuntime
from .response_gate import ResponseGate
from .rules import stream_for
from .session_base import add_counts
from .session_queue import QueueingSession

if TYPE_CHECKING:
    from .frontend import FrontendListener

__all__ = ["HaSession", "add_counts"]


class HaSession(QueueingSession):
    __slots__ = ()

    def __init__(
        self,
        listener: FrontendListener,
        sock: _socket.socket,
        facts: ConnFacts,
        backend: BackendRuntime,
        stream: Stream | None = None,
        *,
        server: str | None = None,
        handed: tuple[Server, int, int] | None = None,
        first: bytes | None = None,
    ) -> None:
        # What TcpRelay.__init__ sets, without its IPVS scheduling.
        self.listener = listener  # type: ignore[assignment]
        self.home = listener
        ctx = self.ctx = listener.ctx
        now = self.born = ctx.clock()
        poller = listener.poller
        assert poller is not None
        self.poller = poller
        # `tcp-response content` rules see the server's bytes first (response_gate.py):
        # such a stream's relay stays in Python, where the gate can hold them
        rules = backend.rules
        gated = rules is not None and bool(rules.tcp_response) and listener.frontend.rules
        self.c_path = poller.pump is not None and not gated
        m = self.m = RelayMachine(backend.relay, fast=self.c_path)
        self.client = End(sock, CLIENT, m, connected=True)
        self.server = None
        self.conn = None
        self.connect_timer = None
        self.fds = 2
        # The relay counts bytes on the frontend (svc) and the server (dst); a backend's
        # bytes are its servers' (stats).
        self.svc = listener.frontend.counters
        self.dst = listener.frontend.counters
        self.be = backend
        self.fe = listener.frontend
        self.facts = facts
        self.idle, self.fin_idle = backend.idle(self.fe.client_s, self.fe.client_fin_s)
        self.picked = None
        self.direct = False
        self.retries = 0
        self.started = False
        self.sticking = None
        self.queued_at = 0.0
        self.queued_on = False  # False: not queued
        self.waiter = None
        self.stream = stream  # the rules' view of it (rules.py), None when nothing needs one
        self.first = first  # sent to the server first, in place of the client's first bytes
        self.gate = None
        if gated:
            assert rules is not None
            if stream is None:
                stream = self.stream = stream_for(self.fe, facts, backend, now)
            self.gate = ResponseGate(self, rules, Txn(stream))
        self.spliced = False  # the pump runs it (poller.splice)
        self.unseen = False  # the machine has not heard ACCEPTED yet (the splice's try)
        self.tls = None  # to a TLS server: False while shaking hands
        logger = self.fe.logger  # the traffic log (streamlog.py), None when not logging
        self.log = logger.start(self) if logger is not None else None
        listener.relays.add(self)
        backend.enter()
        if handed is not None:
            self._handed(*handed, now)
            return
        if server is None and backend.sticking is None:
            self._balance(now, None)
            return
        target = self._stick(now, server)
        if target is not None:
            self.direct = True
            self._to_server(target, now)
        else:
            self._balance(now, None)

    def _stick(self, now: float, server: str | None) -> Server | None:
        """`use-server`'s server, then the sticking rules (SF_DIRECT when either names one)."""
        assigned = self.be.pool.server(server) if server is not None else None
        if self.be.sticking is None:
            return assigned
        if self.stream is None:
            self.stream = stream_for(self.fe, self.facts, self.be, now)
        self.sticking = self.be.stick(self.stream, now, assigned)
        return self.sticking.server if self.sticking is not None else assigned

    # -- finding a server ------------------------------------------------------------

    def _balance(self, now: float, avoid: Server | None) -> None:
        got = self.be.assign(self.facts, now, avoid)
        if got is None:
            self._give_up("no server available")
        elif got is True:
            self._queue(None, now)
        else:
            assert isinstance(got, Server)
            self._picked(got, now)

    def _picked(self, server: Server, now: float) -> None:
        if self.c_path and not self.started and self._quick(server, now):
            return
        self._to_server(server, now)

    def _handed(self, server: Server, sfd: int, err: int, now: float) -> None:
        """A plain listener's stream the pump handed over (plain.py, _accept.h): it picked
        `server` and, unless `sfd` is -1 (not tried: as `_balance` goes on from a pick),
        made the first attempt: -2 no socket could be made, else the socket and what
        connect(2) said (under way, or failed: the retries follow)."""
        if sfd == -1:
            self._picked(server, now)
            return
        spec = self._quick_take(server, now)
        if sfd == -2:
            self._catch_up()
            self._final(os.strerror(err))
            return
        assert spec.address is not None
        family = socket.AF_INET if spec.address.version == 4 else socket.AF_INET6
        self._connected(_socket.socket(family, socket.SOCK_STREAM, 0, sfd), err)

    def _quick(self, server: Server, now: float) -> bool:
        """The common stream's way from its pick to a spliced pair in one stretch (what
        `_to_server`, `_go`, `_attempt`, `_established` and `_splice` do for a stream the
        machine has not met, a server with room and no queue, no PROXY header to send),
        with one call to the pump (connect_splice).  False: not such a stream, nothing
        done (it goes `_to_server`'s way)."""
        be = self.be
        srv = be.by_lb[id(server)]
        spec = srv.spec
        if (
            srv.queue
            or spec.address is None
            or (server.maxconn and srv.full(be.pool, now))
            or spec.proxy_version
            or self.first is not None  # a Lua rewrite to send first (inspect.py)
            or spec.path is not None
            or "%" in spec.host  # a scoped IPv6 address: Python's connect parses it
            or srv.tls.on  # TLS: the handshake comes first (tls_hooks.py)
        ):
            return False
        self._quick_take(server, now)
        port = spec.port_for(self.facts.dst_port)
        assert spec.address is not None and self.poller.pump is not None
        family = socket.AF_INET if spec.address.version == 4 else socket.AF_INET6
        self._quick_attempt(self.poller.pump, spec.host, port, family)
        return True

    def _quick_take(self, server: Server, now: float) -> ServerSpec:
        """`_quick`'s start: the server is the stream's, its table entry made, its first
        attempt about to be told to the machine (`unseen`)."""
        be = self.be
        srv = be.by_lb[id(server)]
        spec = srv.spec
        if self.log is not None:
            self.log.assigned()
        self.picked = server
        be.take(server)
        be.connecting(srv, False)  # its first attempt (_quick_attempt, or the pump's)
        self.dst = srv.counters
        self.started = True
        f = self.facts
        port = spec.port_for(f.dst_port)
        table = self.ctx.state.table
        conn = self.conn = table.new_conn(
            (6, f.src, f.src_port, f.dst, f.dst_port), None, srv.dest(port), now
        )
        conn.on_expire = self._expired
        self.unseen = True
        return spec

    def _to_server(self, server: Server, now: float) -> None:
        srv = self.be.runtime_of(server)
        if (
            srv.full(self.be.pool, now) or srv.queue
        ):  # its queue goes first (assign_server_and_queue)
            self._queue(server, now)
        else:
            self._go(server)

    def _go(self, server: Server) -> None:
        if self.log is not None:
            self.log.assigned()
        self.picked = server
        self.be.take(server)
        srv = self.be.runtime_of(server)
        self.dst = srv.counters
        if self.started:
            self._attempt()
            return
        self.started = True
        f = self.facts
        port = srv.spec.port_for(f.dst_port)
        table = self.ctx.state.table
        conn = table.new_conn(
            (6, f.src, f.src_port, f.dst, f.dst_port), None, srv.dest(port, f.dst), self.ctx.clock()
        )
        self.conn = conn
        conn.on_expire = self._expired
        if self.c_path:
            # The splice's try: ACCEPTED's Connect at once; its Record is made with the
            # splice's (no time passes between them) or by the machine (`_catch_up`).
            self.unseen = True
            self._attempt()
        else:
            self._on(ACCEPTED)

    def _give_up(self, why: str) -> None:
        """No server for this stream at all: close the client (HAProxy closes it in mode
        tcp; there is no 503 to send)."""
        self._cancel_waiter()
        if self.started:
            self._final(why)
            return
        client = self.client
        if client.watched:
            self.poller.forget(client.fd)
            client.watched = False
        client.sock.close()
        client.fd = -1
        self.listener.relays.discard(self)
        self.be.leave()
        self.fds, fds = 0, self.fds
        self.ctx.fds.give(fds)
        if self.sticking is not None:
            discard(self.sticking)
            self.sticking = None
        self._end_counters()
        if self.log is not None:
            self.log.gave_up(self, why)
        self.home.ended()

    # -- the machine's commands ----------------------------------------------------------

    def _start_timer(self, cmd: StartTimer) -> None:
        """The machine's connect timer is never armed: attempts keep their own."""

    def _count_error(self, cmd: CountError) -> None:
        """Counted by `_final` (failed_conns), where HAProxy counts it."""
        if self.log is not None:
            self.log.reason = cmd.reason

    def abort(self) -> None:
        if self.log is not None:
            self.log.why = "killed"
        if self.spliced:
            self._kill()
        elif self.started:
            TcpRelay.abort(self)
        else:
            self._leave_queue()
            self._give_up("stopping")

    def _refuse(self, why: str) -> None:
        self._give_up(why)

    def _close(self, cmd: Close) -> None:
        self._cancel_waiter()
        self._leave_queue()
        # The relay's rules reset the client when the server failed (IPVS passes a server's
        # RST on); HAProxy closes the client's side cleanly instead: a server that resets,
        # or that cannot be connected to, leaves the client a FIN (haproxy 2.6.12, captured).
        # A client that failed still has its server reset, as HAProxy does.
        server_failed = cmd.reset_client and not cmd.reset_server
        if server_failed:
            _drain(self.client.sock)
        TcpRelay._close(self, CLOSE[False, False] if server_failed else cmd)
        if self.log is not None:  # who broke it, for the termination state
            self.log.resets = (cmd.reset_client, cmd.reset_server)
        self._finish()

    def _read(self, src: End, events: int) -> None:
        gate = self.gate
        if gate is not None and src is self.server:
            gate.read(src)  # the response rules have not decided yet
            return
        TcpRelay._read(self, src, events)

    def response_refused(self, *, denied: bool) -> None:
        """A `tcp-response content reject` (`denied`) or `close`: both connections close at
        once and nothing of the response is passed on (tcp_inspect_response's deny:
        channel_abort of both; close kills the server side): the client gets a FIN
        (haproxy 2.6.12), as after a failed server (`_close`)."""
        if denied:
            if self.log is not None:
                self.log.why = "denied"
            self.be.denied_resp += 1
            self.fe.denied_resp += 1
        self._on(FAILED[SERVER])


HaSession._DO = {
    **_DO,
    Connect: HaSession._connect,
    Close: HaSession._close,
    StartTimer: HaSession._start_timer,
    StopTimer: HaSession._stop_timer,
    CountError: HaSession._count_error,
}


_DRAIN_MAX = 256 * 1024  # what a clean close reads at most of what the client already sent


def _drain(sock: _socket.socket) -> None:
    """Read what the client sent that nobody read yet: closing a socket with unread input
    makes the kernel send an RST, not a FIN (tcp_close in net/ipv4/tcp.c); HAProxy has read
    it into its buffer by then. A failure the moment the stream starts (a loopback server
    refusing inside connect) comes before the relay read anything."""
    left = _DRAIN_MAX
    try:
        while left > 0:
            got = sock.recv(min(left, 65536), socket.MSG_DONTWAIT)
            if not got:
                return
            left -= len(got)
    except OSError:  # nothing more now (EAGAIN), or the socket is gone already
        return
