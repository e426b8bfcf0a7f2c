"""What every HAProxy-mode stream holds (session.py's HaSession is built on it) and how
it ends: the spliced life, when the pump runs the whole established stream, and the one
place every stream ends (`_finish`).

A stream whose server answered inside connect(2) with nothing queued either way is spliced
(dataplane/proxy/_splice.h: the pump runs its whole established life and reports once, at
the end, `spliced_end`).  Idle timeouts ride on the connection-table entry the relay
already re-arms on every chunk (the C pump's too): the entry's timeout is the stream's
(backend.idle), not IPVS's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.poller import DATA, SPLICE_CLIENT_FAILED, SPLICE_SERVER_FAILED
from pylvs.dataplane.proxy.tcp import End, TcpRelay
from pylvs.model.stats import Counters
from pylvs.proto.conntrack.states import ConnState, TcpEvent
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.relay import ACCEPTED
from pylvs.proto.rules import counters
from pylvs.proto.stick import discard

if TYPE_CHECKING:
    import asyncio

    from pylvs.model.proxy_spec import ConnFacts
    from pylvs.model.tls import TlsFacts
    from pylvs.proto.sample.stream import Stream
    from pylvs.proto.stick import Sticking
    from pylvs.sched.haproxy import Server

    from .backend import BackendRuntime
    from .frontend import Frontend, FrontendListener
    from .response_gate import ResponseGate
    from .streamlog import StreamLog


class SessionBase(TcpRelay):
    """The stream's state (set by HaSession.__init__), its spliced life and its end."""

    __slots__ = (
        "be",
        "born",
        "direct",
        "facts",
        "fe",
        "fin_idle",
        "first",
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

    home: FrontendListener
    born: float
    be: BackendRuntime
    fe: Frontend
    facts: ConnFacts
    idle: float
    fin_idle: float
    picked: Server | None
    direct: bool
    first: bytes | None  # a Lua script's rewrite of the request's start (inspect.py)
    retries: int
    started: bool
    sticking: Sticking | None
    queued_at: float
    queued_on: Server | bool | None  # False: not queued
    waiter: asyncio.TimerHandle | None
    stream: Stream | None
    gate: ResponseGate | None
    spliced: bool
    unseen: bool
    tls: TlsFacts | bool | None  # to a TLS server: False while shaking hands
    log: StreamLog | None

    if TYPE_CHECKING:
        # The stream's next steps after a failed attempt or a wait (session.py).

        def _balance(self, now: float, avoid: Server | None) -> None: ...

        def _go(self, server: Server) -> None: ...

        def _give_up(self, why: str) -> None: ...

    def _end_counters(self) -> None:
        """The tracked counters of the stream and its session go back (counters.py)."""
        s = self.stream
        if s is not None:
            s.now = self.ctx.clock()
            counters.stop_stream(s)
            counters.stop_session(s.sess, s.now)

    def _catch_up(self) -> None:
        """Tell the machine the ACCEPTED it missed; its Connect is the attempt under way."""
        if self.unseen:
            self._on(ACCEPTED)  # `unseen` makes its Connect a no-op
            self.unseen = False

    def _cancel_waiter(self) -> None:
        if self.waiter is not None:
            self.waiter.cancel()
            self.waiter = None

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
