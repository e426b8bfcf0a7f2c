"""One `mode tcp` stream: the keepalived mode's relay (dataplane/proxy/tcp.py, its
RelayMachine and C pump) with HAProxy's way of reaching a server in front of it.

A stream is routed by its backend (backend.py: stick rules, the balance algorithm, the
queues).  While it waits in a queue the client's socket is only watched for a hang-up (a
client that leaves with nothing sent, or any client with `option abortonclose`, leaves the
queue: back_handle_st_con's abort); `timeout queue` closes it.  Once it has a server the
relay machine starts (ACCEPTED) and its Connect is carried out here, with src/backend.c's
retries: a refused, reset or timed-out attempt (`timeout connect`) is retried up to
`retries` times (back_handle_st_cer), on another server when `option redispatch` says so
(stream_choose_redispatch: the server is down, the redispatch interval is reached, or the
stream was not sticky, the algorithm is round-robin-like and more than one server is
usable), else on the same server after min(1 s, timeout connect) when the attempt ended in
an error (the turn-around).  The machine only hears of the success (CONNECTED) or the final
failure (ConnectFailed: the client is closed).  On success the PROXY header goes first
(send-proxy / send-proxy-v2) and the stick stores are made (process_store_rules).

With the C pump the common stream never meets the relay machine: its first connect is tried
at once, and a stream whose server answered inside connect(2) with nothing queued either way
is spliced (dataplane/proxy/_splice.h: the pump runs its whole established life and reports
once, at the end).  Anything else (a connect in progress, a failure, bytes queued) first tells
the machine what it missed (ACCEPTED, its Connect already done) and goes the machine's way.

Idle timeouts ride on the connection-table entry the relay already re-arms on every chunk
(the C pump's too): the entry's timeout is the stream's (backend.idle), not IPVS's.
"""

from __future__ import annotations

import _socket
import asyncio
import errno
import functools
import os
import socket
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.poller import DATA, SPLICE_CLIENT_FAILED, SPLICE_SERVER_FAILED
from pylvs.dataplane.proxy.sockets import unix_connect
from pylvs.dataplane.proxy.tcp import _DO, _NONBLOCK_STREAM, End, TcpRelay
from pylvs.model.proxy_spec import ConnFacts, ServerSpec
from pylvs.model.stats import Counters
from pylvs.model.tls import TlsFacts
from pylvs.proto.conntrack.states import ConnState, TcpEvent
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.relay import (
    ACCEPTED,
    CLIENT,
    CONNECTED,
    FAILED,
    SERVER,
    Close,
    Connect,
    ConnectFailed,
    CountError,
    RelayMachine,
    StartTimer,
    StopTimer,
)
from pylvs.proto.relay.commands import CLOSE
from pylvs.proto.rules import counters
from pylvs.proto.rules.engine import Txn
from pylvs.proto.sample.stream import Stream
from pylvs.proto.stick import Sticking, discard
from pylvs.sched.haproxy import Server

from . import tls_hooks
from .backend import BackendRuntime
from .proxy_header import server_header
from .response_gate import ResponseGate
from .rules import stream_for
from .timers import StreamTimers

if TYPE_CHECKING:
    from pylvs.dataplane.proxy._pump import Pump

    from .frontend import FrontendListener

_TURNAROUND_MAX = 1.0  # back_handle_st_cer: MIN(1 s, timeout connect)


class HaSession(TcpRelay):
    __slots__ = (
        "be",
        "born",
        "direct",
        "facts",
        "fe",
        "fin_idle",
        "gate",
        "home",
        "idle",
        "log",
        "picked",
        "queued_at",
        "queued_on",
        "retries",
        "spliced",
        "started",
        "sticking",
        "stream",
        "tls",
        "unseen",
        "waiter",
    )

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
        self.picked: Server | None = None
        self.direct = False
        self.retries = 0
        self.started = False
        self.sticking: Sticking | None = None
        self.queued_at = 0.0
        self.queued_on: Server | bool | None = False  # False: not queued
        self.waiter: asyncio.TimerHandle | None = None
        self.stream = stream  # the rules' view of it (rules.py), None when nothing needs one
        self.gate: ResponseGate | None = None
        if gated:
            assert rules is not None
            if stream is None:
                stream = self.stream = stream_for(self.fe, facts, backend, now)
            self.gate = ResponseGate(self, rules, Txn(stream))
        self.spliced = False  # the pump runs it (poller.splice)
        self.unseen = False  # the machine has not heard ACCEPTED yet (the splice's try)
        self.tls: TlsFacts | bool | None = None  # to a TLS server: False while shaking hands
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

    def _end_counters(self) -> None:
        """The tracked counters of the stream and its session go back (counters.py)."""
        s = self.stream
        if s is not None:
            s.now = self.ctx.clock()
            counters.stop_stream(s)
            counters.stop_session(s.sess, s.now)

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
            or (server.maxconn and srv.full(be.pool, now))
            or spec.proxy_version
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

    def _queue(self, server: Server | None, now: float) -> bool:
        """Wait for a slot of `server` (None: of any server of the backend)."""
        if not self.be.enqueue(self, server):
            if self.direct and self.be.spec.redispatch:
                self.direct = False
                self._balance(now, server)
            else:
                self._give_up("server queue full")
            return False
        self.queued_at = now
        self.queued_on = server
        if not self.started:
            # Not the machine's yet: only a hang-up is watched for (abortonclose).
            self.client.watched = True
            self.client.mask = 0x2000  # EPOLLRDHUP
            self.poller.add(self.client.fd, 0x2000, self._queued_event)
        loop = self.listener.loop
        assert loop is not None
        if self.be.queue_s is not None:
            self.waiter = loop.call_later(self.be.queue_s, self._queue_expired)
        return True

    def dequeued(self, server: Server) -> None:
        """A slot of `server` is this stream's (backend.process_queue)."""
        self.queued_on = False
        self._cancel_waiter()
        if not self.started:
            self.poller.remove(self.client.fd)
            self.client.watched = False
            self.client.mask = 0
        self._go(server)

    def redispatch_queued(self) -> None:
        """Its server went down while it waited for it (pendconn_redistribute): out of that
        queue, the algorithm chooses again (a new wait starts if it queues again)."""
        self._leave_queue()
        self._cancel_waiter()
        if not self.started:  # watched for a hang-up only while queued: _queue does it again
            self.poller.remove(self.client.fd)
            self.client.watched = False
            self.client.mask = 0
        self.direct = False
        self._balance(self.ctx.clock(), None)

    def _queued_event(self, events: int) -> None:
        """The client hung up while queued."""
        try:
            pending = self.client.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            pending = b""
        if pending and not self.be.spec.abortonclose:
            # Its data and EOF go to the server once a slot is free; stop the event.
            self.poller.modify(self.client.fd, 0)
            return
        self._leave_queue()
        self._give_up("client aborted while queued")

    def _queue_expired(self) -> None:
        self.waiter = None
        self._leave_queue()
        self._give_up("timeout queue")

    def _leave_queue(self) -> None:
        if self.queued_on is not False:
            server = self.queued_on if isinstance(self.queued_on, Server) else None
            self.be.unqueue(self, server)
            self.queued_on = False

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

    def _catch_up(self) -> None:
        """Tell the machine the ACCEPTED it missed; its Connect is the attempt under way."""
        if self.unseen:
            self._on(ACCEPTED)  # `unseen` makes its Connect a no-op
            self.unseen = False

    # -- connecting, with retries ------------------------------------------------------

    def _connect(self, cmd: Connect) -> None:
        if not self.unseen:
            self._attempt()

    def _attempt(self) -> None:
        server = self.picked
        assert server is not None
        srv = self.be.runtime_of(server)
        spec = srv.spec
        if spec.path is not None:  # unix@ / abns@
            try:
                sock, err = unix_connect(spec.path)
            except OSError as exc:
                self._catch_up()
                self._final(exc.strerror or str(exc))
                return
            self._connected(sock, err)  # EAGAIN too: a unix connect does not wait
            return
        # a transparent backend's target has no address: the client's destination
        address = spec.address if spec.address is not None else self.facts.dst
        host = spec.host if spec.address is not None else str(address)
        port = spec.port_for(self.facts.dst_port)
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        pump = self.poller.pump
        if (
            pump is not None
            and self.unseen
            and not spec.proxy_version
            and "%" not in host  # a scoped IPv6 address: Python's connect parses it
            and not srv.tls.on
        ):
            self._quick_attempt(pump, host, port, family)
            return
        try:
            sock = _socket.socket(family, _NONBLOCK_STREAM)
        except OSError as exc:
            self._catch_up()
            self._final(exc.strerror or str(exc))
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            err = sock.connect_ex((host, port))
        except OSError as exc:
            err = exc.errno or errno.EINVAL
        self._connected(sock, err)

    def _quick_attempt(self, pump: Pump, host: str, port: int, family: int) -> None:
        """The first attempt of a stream the machine has not met, in one call to the pump:
        connected at once (loopback), it is spliced already (`_established` says what
        is left to do); else it goes on as `_attempt` does."""
        notify = self.fin_idle != self.idle
        sfd, err = pump.connect_splice(
            self.client.fd, host, port, family == socket.AF_INET6, notify
        )
        if sfd == -2:  # no socket: as `_attempt`'s socket() failing
            self._catch_up()
            self._final(os.strerror(err))
            return
        sock = _socket.socket(family, socket.SOCK_STREAM, 0, sfd)
        if err:  # under way (EINPROGRESS) or failed
            self._connected(sock, err)
            return
        end = self.server = End(sock, SERVER, self.m, True)
        client = self.client
        end.other, client.other = client, end
        # `_established` and `_splice` for a spliced pair: no header, nothing queued.
        self._server_answered()
        self.unseen = False
        self.spliced = True
        conn = self.conn
        assert conn is not None
        table = self.ctx.state.table
        if isinstance(table, StreamTimers):  # the HAProxy runtime's: both events at once
            table.established(conn, self.idle, self.ctx.clock())
        else:
            table.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, self.ctx.clock())
            self._record(TcpEvent.BACKEND_CONNECTED)
        client.fast = end.fast = DATA
        self.poller.spliced_by_pump(client.fd, end.fd, self, (client, end))

    def _connected(self, sock: _socket.socket, err: int) -> None:
        """What a connect(2) of `sock` gave (`err`)."""
        connected = err == 0
        if err == errno.EINPROGRESS:
            # On loopback the handshake ran inside connect(2): a peer name means ESTABLISHED.
            try:
                sock.getpeername()
                connected = True
            except OSError:  # still SYN_SENT
                pass
        if not connected:
            self._catch_up()
        old = self.server
        end = self.server = End(sock, SERVER, self.m, connected)
        end.other, self.client.other = self.client, end
        if old is not None:  # what the client sent meanwhile
            end.queue, end.queued = old.queue, old.queued
        if err and err != errno.EINPROGRESS:
            # The End stays when its socket is closed (`_drop_server_end`): what the client
            # sends meanwhile waits on it for the next attempt (with no End, the client's
            # own End would be its peer).
            self._failed(os.strerror(err), error=True)
            return
        if connected:
            self._established(end)
            return
        end.watched = True
        end.mask = 0x4  # EPOLLOUT
        self.poller.add(end.fd, 0x4, functools.partial(self._event, end))
        loop = self.listener.loop
        assert loop is not None
        self.connect_timer = loop.call_later(self.be.connect_s, self._connect_timed_out)

    def _connecting_event(self, server: End) -> bool:
        err = server.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._failed(os.strerror(err), error=True)
            return False
        try:
            server.sock.getpeername()
        except OSError:
            return False
        self._stop_timer()
        self._established(server)
        return not self.m.state.done

    def _connect_timed_out(self) -> None:
        self.connect_timer = None
        self._failed("connect timeout", error=False)

    def _proxy_header(self, spec: ServerSpec) -> bytes | None:
        """The PROXY header for the server (proxy_header.py); a stream that ran no rules
        gets its rules' view for a `unique-id` TLV (HAProxy builds it for every stream)."""
        rules = self.fe.rules
        if self.stream is None and rules is not None and "unique-id" in spec.proxy_v2_options:
            self.stream = stream_for(self.fe, self.facts, self.be, self.ctx.clock())
        return server_header(spec, self.facts, self.stream, rules.unique_id if rules else None)

    def _established(self, end: End) -> None:
        end.connected = True
        srv = self.be.runtime_of(self.picked)  # type: ignore[arg-type]
        spec = srv.spec
        if srv.tls.on and self.tls is None:  # the handshake, then here again
            tls_hooks.connect_tcp(self, end, srv, self.fe.runtime.tls)
            return
        # a TLS server's header went first, in clear (tls_hooks.connect_tcp)
        header = self._proxy_header(spec) if spec.proxy_version and self.tls is None else None
        if header is not None:
            try:
                sent = end.sock.send(header, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._failed("send-proxy failed", error=True)
                return
            if sent < len(header):
                end.queue.insert(0, header[sent:])
                end.queued += len(header) - sent
        self._server_answered()
        if self.unseen and not end.queue:
            self._splice(end)
            return
        self._catch_up()
        self._on(CONNECTED)

    def _server_answered(self) -> None:
        """What a stream's connect makes: the stick stores (process_store_rules), the log's
        connect time."""
        if self.sticking is not None:
            assert self.picked is not None and self.stream is not None
            self.be.store(self.sticking, self.stream, self.picked, self.ctx.clock())
            self.sticking = None
        if self.log is not None:
            self.log.connected(self)

    # -- spliced: the pump runs the stream (poller.splice) --------------------------------

    def _splice(self, server: End) -> None:
        self.unseen = False
        self.spliced = True
        conn = self.conn
        assert conn is not None
        self.ctx.state.table.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, self.ctx.clock())
        self._record(TcpEvent.BACKEND_CONNECTED)
        client = self.client
        client.fast = server.fast = DATA
        self.poller.splice(
            client.fd, server.fd, self, (client, server), notify=self.fin_idle != self.idle
        )

    def half_closed(self, end: End) -> None:
        """The stream's first EOF (asked for when its half-closed timeout differs)."""
        conn = self.conn
        assert conn is not None
        conn.timeout = self.fin_idle
        conn.expires = self.ctx.clock() + self.fin_idle
        self.ctx.state.table.moved(conn)

    def spliced_end(self, how: int, counts: tuple[int, int, int, int, float]) -> None:
        """The pump closed both sockets; `counts`: what it relayed since the last harvest
        (added here as `counted` would, without re-arming a timer that is over)."""
        cp, cb, sp, sb, _ = counts
        add_counts(self.svc, self.dst, (cp, cb, sp, sb))
        if self.log is not None:  # a side that failed: its peer was reset (as Close says)
            self.log.resets = (how == SPLICE_SERVER_FAILED, how == SPLICE_CLIENT_FAILED)
        self._unsplice()
        self._finish()

    def _unsplice(self) -> None:
        """The sockets were closed by the pump: forget their numbers."""
        self.spliced = False
        for end in (self.client, self.server):
            assert end is not None
            end.sock.detach()
            end.fd = -1
            end.fast = 0
        server = self.server
        assert server is not None
        del self.client.other, server.other
        self.listener.relays.discard(self)
        fds, self.fds = self.fds, 0
        self.ctx.fds.give(fds)

    def _kill(self) -> None:
        """End a spliced stream now, both sides reset (the machine's ABORTED/EXPIRED)."""
        self.poller.kill(self.client.fd, reset=True)
        self._unsplice()
        self._finish()

    def _expired(self, conn: Conn) -> None:
        if self.log is not None:
            self.log.why = "timeout"
        if self.spliced:
            self._kill()
        else:
            TcpRelay._expired(self, conn)

    def _record(self, event: TcpEvent) -> None:
        """The table entry sees `event`; the stream's idle timeout is its timer."""
        conn = self.conn
        assert conn is not None
        table = self.ctx.state.table
        now = self.ctx.clock()
        table.tcp_event(conn, event, now)
        idle = self.idle if conn.state is ConnState.ESTABLISHED else self.fin_idle
        conn.timeout = idle
        conn.expires = now + idle
        table.moved(conn)

    def _drop_server_end(self) -> None:
        self._stop_timer()
        self.tls = None  # the next attempt shakes hands anew
        end = self.server
        if end is None:
            return
        if end.watched:
            self.poller.forget(end.fd)
            end.watched = False
        end.sock.close()
        end.fd = -1
        # The End stays: what the client sends meanwhile queues on it, for the next one.

    def _failed(self, reason: str, *, error: bool) -> None:
        """One attempt failed (back_handle_st_cer)."""
        self._drop_server_end()
        be = self.be
        server = self.picked
        assert server is not None
        # 2.6.12 counts the attempt after the check (bc6b23813, backported to 2.6): retries
        # are attempts after the first.
        if self.retries >= be.spec.retries:
            self._final(reason)
            return
        self.retries += 1
        if be.redispatches_on(server, self.retries, direct=self.direct):
            be.redispatches += 1
            self.picked = None
            be.release(server)
            self.direct = False
            self._balance(self.ctx.clock(), server)
            return
        be.retries += 1
        be.runtime_of(server).retries += 1
        if error:
            delay = min(_TURNAROUND_MAX, be.connect_s)
            loop = self.listener.loop
            assert loop is not None
            self.waiter = loop.call_later(delay, self._retry)
        else:
            self._attempt()

    def _retry(self) -> None:
        self.waiter = None
        self._attempt()

    def _final(self, reason: str) -> None:
        """No more attempts: the backend counts a failed connection, the client goes."""
        self._catch_up()
        self.be.failed_conns += 1
        if self.picked is not None:
            self.be.runtime_of(self.picked).failed_conns += 1
        self._on(ConnectFailed(reason))

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

    def _cancel_waiter(self) -> None:
        if self.waiter is not None:
            self.waiter.cancel()
            self.waiter = None

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

    def _finish(self) -> None:
        """The stream is over, its sockets closed: the backend, the frontend and the table
        forget it (the one place every stream ends, spliced or not)."""
        if self.gate is not None:
            self.gate.stop()
        conn = self.conn
        if conn is not None:
            self.ctx.state.table.drop(conn)
        if self.sticking is not None:
            discard(self.sticking)
            self.sticking = None
        server, self.picked = self.picked, None
        if server is not None:
            self.be.release(server)
        self.be.leave()
        self._end_counters()
        if self.log is not None:
            self.picked = server  # the line names it
            self.log.ended(self, *self.log.resets)
            self.picked = None
        self.home.ended()


HaSession._DO = {
    **_DO,
    Connect: HaSession._connect,
    Close: HaSession._close,
    StartTimer: HaSession._start_timer,
    StopTimer: HaSession._stop_timer,
    CountError: HaSession._count_error,
}


def add_counts(svc: Counters, dst: Counters, counts: tuple[int, int, int, int]) -> None:
    """A spliced stream's last counts (client packets and bytes in, server packets and
    bytes out) on its frontend's counters and its server's, as `counted` would add them."""
    cp, cb, sp, sb = counts
    svc.inpkts += cp
    svc.inbytes += cb
    dst.inpkts += cp
    dst.inbytes += cb
    svc.outpkts += sp
    svc.outbytes += sb
    dst.outpkts += sp
    dst.outbytes += sb


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
