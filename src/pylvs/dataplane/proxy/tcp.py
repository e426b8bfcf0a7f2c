"""The TCP side of the proxy: one listener per virtual service, one relay per client.

A relay is two asyncio Protocols (client side, server side) over one `Conn` of the connection
table.  On accept the service schedules a destination (ip_vs_schedule semantics, persistence
included); the client is left unread until the real server has accepted, so nothing needs to
be buffered.  Then bytes are copied both ways:

* half-close: EOF from one side becomes `write_eof()` (shutdown(SHUT_WR)) towards the other;
  once both sides have sent EOF both sockets are closed;
* backpressure: each transport's write buffer has high/low water marks; above the high mark
  the *other* side stops being read (`pause_reading`) until the buffer drains below the low one,
  so a slow reader never makes the proxy buffer more than about one mark per direction;
* errors: a refused, unreachable or too slow real server (connect timeout), or no
  destination at all, resets the client (RST through SO_LINGER 0) and is counted in the
  service's and destination's `errors`; a reset from either side is passed on as a reset.

Every path ends with the relay marked `done` and removed from its listener; the connection
table entry is never removed by the relay itself: as in IPVS it moves to TIME_WAIT / CLOSE and
expires on its timer, and a table entry that expires first closes the relay (idle timeout).
The events fed to the table are described in pylvs.proto.conntrack.states.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from typing import cast

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import Address
from pylvs.model.stats import Counters
from pylvs.proto.conntrack.states import ConnState, TcpEvent
from pylvs.proto.conntrack.table import Conn
from pylvs.sched.base import Flow

from .context import ProxyContext, log
from .sockets import reset

_ConnectTask = asyncio.Task[tuple[asyncio.Transport, "ServerSide"]]

# Clients come back from the same addresses: parse each peer address text once.  Bounded so a
# flood of distinct sources cannot grow it; addresses are immutable, so sharing them is safe.
_parse_address = functools.lru_cache(maxsize=4096)(ipaddress.ip_address)


class TcpListener:
    """A TCP virtual service: the listening server and the relays it started."""

    def __init__(self, ctx: ProxyContext, runtime: ServiceRuntime, sock: socket.socket) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.address: tuple[Address, int] = (ipaddress.ip_address(host), port)
        self.server: asyncio.Server | None = None
        self.relays: set[ClientSide] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        loop = self.loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: ClientSide(self), sock=self.sock)

    def close(self) -> None:
        """Stop accepting; relays already running go on."""
        if self.server is not None:
            self.server.close()
        else:
            self.sock.close()

    def abort_all(self) -> None:
        for relay in list(self.relays):
            relay.abort()


class ClientSide(asyncio.Protocol):
    """The client's connection; also the relay's state."""

    # Slots: one of these lives per proxied connection (memory, attribute speed).
    __slots__ = (
        "client",
        "client_eof",
        "client_lost",
        "client_paused",
        "conn",
        "connect_timer",
        "connecting",
        "done",
        "dst",
        "listener",
        "pending",
        "server",
        "server_eof",
        "server_gone",
        "server_paused",
        "svc",
        "timed_out",
    )

    def __init__(self, listener: TcpListener) -> None:
        self.listener = listener
        self.client: asyncio.Transport | None = None
        self.server: asyncio.Transport | None = None
        self.conn: Conn | None = None
        self.svc: Counters = listener.runtime.stats.counters
        self.dst: Counters = self.svc
        self.client_eof = False
        self.server_eof = False
        # What the client sent before the real server accepted (uvloop may deliver data
        # although reading was paused in connection_made).
        self.pending: list[bytes] = []
        self.connecting: _ConnectTask | None = None
        self.connect_timer: asyncio.TimerHandle | None = None
        self.timed_out = False
        # Which transports have gone (connection_lost); the server's also when it never came.
        self.client_lost = False
        self.server_gone = False
        self.client_paused = False  # server's write buffer is full: client not read
        self.server_paused = False  # client's write buffer is full: server not read
        self.done = False

    # -- client socket events ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self.client = transport
        listener = self.listener
        ctx = listener.ctx
        rt = listener.runtime
        peer = transport.get_extra_info("peername")
        try:
            client = _parse_address(peer[0])
            cport = int(peer[1])
        except (TypeError, ValueError, IndexError):
            self._refuse("unparsable peer address")
            return
        vaddr, vport = listener.address
        now = ctx.clock()
        conn = rt.open_conn(ctx.state.table, Flow(client, cport, vaddr, vport, 6), now)
        if conn is None:
            self._refuse(f"no destination available for {rt.key}")
            return
        self.conn = conn
        conn.on_expire = self._expired
        self.dst = rt.stats_of(conn.dest).counters
        ctx.state.table.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, now)
        listener.relays.add(self)
        # Nothing is read from the client until the real server has accepted.
        transport.pause_reading()
        transport.set_write_buffer_limits(high=ctx.high_water, low=ctx.low_water)
        self._connect(conn)

    def data_received(self, data: bytes) -> None:
        if self.done or self.conn is None:
            return
        n = len(data)
        self.svc.inpkts += 1
        self.svc.inbytes += n
        self.dst.inpkts += 1
        self.dst.inbytes += n
        self._touch(self.conn, TcpEvent.CLIENT_DATA)
        if self.server is None:
            self.pending.append(data)
            if self.client is not None:
                self.client.pause_reading()
            return
        self.server.write(data)

    def eof_received(self) -> bool:
        if self.done or self.conn is None:
            return False
        self.client_eof = True
        if self.server is None:
            return True  # recorded and passed on once the real server has accepted
        self.listener.ctx.state.table.tcp_event(
            self.conn, TcpEvent.CLIENT_EOF, self.listener.ctx.clock()
        )
        if self.server_eof:
            self._finish()
        else:
            self.server.write_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done:
            self._broken(TcpEvent.CLIENT_RESET, self.server)
        self.listener.relays.discard(self)
        self.client_lost = True
        self._forget()

    def pause_writing(self) -> None:
        self.server_paused = True
        if self.server is not None:
            self.server.pause_reading()

    def resume_writing(self) -> None:
        self.server_paused = False
        if self.server is not None and not self.server_eof and not self.done:
            self.server.resume_reading()

    # -- real server events (called by ServerSide) --------------------------------------

    def server_made(self, transport: asyncio.Transport) -> None:
        if self.done or self.conn is None or self.client is None:
            transport.close()
            return
        ctx = self.listener.ctx
        self.server = transport
        transport.set_write_buffer_limits(high=ctx.high_water, low=ctx.low_water)
        ctx.state.table.tcp_event(self.conn, TcpEvent.BACKEND_CONNECTED, ctx.clock())
        if self.pending:
            transport.writelines(self.pending)
            self.pending = []
        if self.client_eof:
            ctx.state.table.tcp_event(self.conn, TcpEvent.CLIENT_EOF, ctx.clock())
            transport.write_eof()
            return
        if self.server_paused:
            transport.pause_reading()
        if not self.client_paused:
            self.client.resume_reading()

    def server_data(self, data: bytes) -> None:
        if self.done or self.client is None or self.conn is None:
            return
        n = len(data)
        self.svc.outpkts += 1
        self.svc.outbytes += n
        self.dst.outpkts += 1
        self.dst.outbytes += n
        self._touch(self.conn, TcpEvent.SERVER_DATA)
        self.client.write(data)

    def server_eof_received(self) -> bool:
        if self.done or self.conn is None or self.client is None:
            return False
        self.server_eof = True
        self.listener.ctx.state.table.tcp_event(
            self.conn, TcpEvent.SERVER_EOF, self.listener.ctx.clock()
        )
        if self.client_eof:
            self._finish()
        else:
            self.client.write_eof()
        return True

    def server_lost(self) -> None:
        if not self.done:
            self._broken(TcpEvent.SERVER_RESET, self.client)
        self.server_gone = True
        self._forget()

    def server_pause_writing(self) -> None:
        self.client_paused = True
        if self.client is not None:
            self.client.pause_reading()

    def server_resume_writing(self) -> None:
        self.client_paused = False
        if self.client is not None and not self.client_eof and not self.done:
            self.client.resume_reading()

    # -- relay lifetime ----------------------------------------------------------------

    def _connect(self, conn: Conn) -> None:
        """Connect to the real server: one task straight on create_connection.

        The task is owned by the plane (cancelled on stop).  The connect timeout is one timer
        handle cancelling it, which is what asyncio.timeout would do, without a wrapper
        coroutine and a second task-level timeout object per connection.
        """
        ctx = self.listener.ctx
        loop = self.listener.loop
        assert loop is not None
        task = loop.create_task(
            loop.create_connection(functools.partial(ServerSide, self), conn.dest.host, conn.dport)
        )
        self.connecting = task
        ctx.tasks.add(task)
        task.add_done_callback(self._connect_done)
        self.connect_timer = loop.call_later(ctx.connect_timeout, self._connect_timeout)

    def _connect_timeout(self) -> None:
        self.connect_timer = None
        task = self.connecting
        if task is not None and not task.done():
            self.timed_out = True
            task.cancel()

    def _connect_done(self, task: _ConnectTask) -> None:
        self.listener.ctx.tasks.discard(task)
        self.connecting = None
        timer = self.connect_timer
        if timer is not None:
            self.connect_timer = None
            timer.cancel()
        conn = self.conn
        assert conn is not None
        if task.cancelled():
            if self.timed_out:
                self._backend_failed(conn, TimeoutError())
            else:
                self.abort()  # the plane is stopping
        else:
            exc = task.exception()
            if exc is None:
                return  # connected: ServerSide reports from now on
            if isinstance(exc, OSError):
                self._backend_failed(conn, exc)
            else:
                log.error(
                    "%s: connecting to %s:%d failed",
                    self.listener.runtime.key,
                    conn.daddr,
                    conn.dport,
                    exc_info=exc,
                )
                self.abort()
        if self.server is None:
            self.server_gone = True  # no server transport will report
            self._forget()

    def _backend_failed(self, conn: Conn, exc: BaseException) -> None:
        if self.done:
            return
        rt = self.listener.runtime
        rt.stats.errors += 1
        rt.stats_of(conn.dest).errors += 1
        what = "timed out" if isinstance(exc, TimeoutError) else str(exc)
        log.debug("%s: real server %s:%d failed: %s", rt.key, conn.daddr, conn.dport, what)
        self._broken(TcpEvent.SERVER_RESET, self.client)

    def _refuse(self, why: str) -> None:
        self.done = True
        self.listener.runtime.stats.errors += 1
        log.debug("%s: reset client: %s", self.listener.runtime.key, why)
        reset(self.client)

    def _touch(self, conn: Conn, event: TcpEvent) -> None:
        # Fast path of tcp_event for data in ESTABLISHED: only the timer moves.
        if conn.state is ConnState.ESTABLISHED:
            conn.expires = self.listener.ctx.clock() + conn.timeout
        else:
            self.listener.ctx.state.table.tcp_event(conn, event, self.listener.ctx.clock())

    def _finish(self) -> None:
        """Both sides sent EOF: flush and close both."""
        self.done = True
        if self.client is not None:
            self.client.close()
        if self.server is not None:
            self.server.close()
        self.listener.relays.discard(self)

    def _broken(self, event: TcpEvent, other: asyncio.Transport | None) -> None:
        """One side reset or failed: record it and reset the other side."""
        self.done = True
        if self.conn is not None:
            self.listener.ctx.state.table.tcp_event(self.conn, event, self.listener.ctx.clock())
        reset(other)
        self.listener.relays.discard(self)

    def _forget(self) -> None:
        """Once the relay is over and both sockets are gone, unhook it from its table entry.

        The entry lives on (TIME_WAIT, CLOSE) for up to minutes; without this it would keep
        the whole relay (protocols, transports) alive until then, for nothing: expiring a
        finished relay has nothing left to close.
        """
        if self.done and self.client_lost and self.server_gone and self.conn is not None:
            self.conn.on_expire = None

    def _expired(self, conn: Conn) -> None:
        """The table entry timed out (idle): IPVS forgets the connection, so do we."""
        self.abort()

    def abort(self) -> None:
        """Reset both sides now (stop, expiry)."""
        self.done = True
        reset(self.client)
        reset(self.server)
        self.listener.relays.discard(self)


class ServerSide(asyncio.Protocol):
    """The proxy's connection to the real server; forwards everything to its relay."""

    __slots__ = ("relay",)

    def __init__(self, relay: ClientSide) -> None:
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.relay.server_made(cast(asyncio.Transport, transport))

    def data_received(self, data: bytes) -> None:
        self.relay.server_data(data)

    def eof_received(self) -> bool:
        return self.relay.server_eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.server_lost()

    def pause_writing(self) -> None:
        self.relay.server_pause_writing()

    def resume_writing(self) -> None:
        self.relay.server_resume_writing()
