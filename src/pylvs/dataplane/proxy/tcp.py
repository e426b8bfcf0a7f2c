"""The TCP side of the proxy: one listener per virtual service, one relay per client.

Sockets are driven through the proxy's own epoll set (`poller.Poller`, why: see there).  On
accept the service schedules a destination (ip_vs_schedule semantics, persistence included)
and a relay starts.  Every decision of a relay (half-close, backpressure, resets, the connect
timeout, the connection-table events, holding a deleted server's connection, handing sockets
to the C fast path and taking them back) is its machine's, `pylvs.proto.relay.RelayMachine`:
`TcpRelay` is the driver that turns socket events into the machine's events and carries out
its commands.  The driver keeps the bytes: each chunk is read into the poller's shared buffer
and written out straight away; only what the other side cannot take at once is queued, and
the machine is told only then (so an established relay's chunks cost no machine call).

A non-blocking connect to the real server starts at once; on loopback and fast LANs it has
usually completed before connect(2) returns, which one getpeername(2) tells, so the common
case costs no extra round.  Every path ends with both sockets closed and the relay removed
from its listener; the connection-table entry is never removed by the relay itself: as in
IPVS it moves to TIME_WAIT / CLOSE and expires on its timer, and a table entry that expires
first closes the relay (idle timeout).
"""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import errno
import functools
import ipaddress
import os
import select
import socket
from collections.abc import Callable
from typing import Any, ClassVar

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import Address
from pylvs.model.stats import Counters
from pylvs.proto import relay as proto_relay
from pylvs.proto.conntrack.states import ConnState, TcpEvent
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.relay import (
    ABORTED,
    ACCEPTED,
    CLIENT,
    CONNECT_TIMED_OUT,
    CONNECTED,
    EOF_READ,
    EXPIRED,
    FAILED,
    FAST_CLOSED,
    FAST_SHUT,
    HELD,
    HUNG_UP,
    RELEASED,
    SERVER,
    Close,
    CloseSide,
    Connect,
    ConnectFailed,
    Connecting,
    CountError,
    DataQueued,
    Drain,
    Event,
    Flushed,
    Handover,
    Read,
    Record,
    RelayMachine,
    ShutWrite,
    Side,
    Spilled,
    StartTimer,
    StopTimer,
    Unwatch,
    Watch,
)
from pylvs.sched.base import Flow

from . import poller as _poller
from .accept import Acceptor
from .context import ProxyContext, log
from .poller import EOF_CLOSE, ERROR, HANGUP, PEER_EOF, READ, WRITE
from .sockets import close_with_reset

# The machine speaks epoll's and _pump.c's numbers, so commands pass through unconverted.
assert (proto_relay.READ, proto_relay.WRITE, proto_relay.PEER_EOF) == (
    select.EPOLLIN,
    select.EPOLLOUT,
    select.EPOLLRDHUP,
)
assert (proto_relay.DATA, proto_relay.EOF_SHUT, proto_relay.EOF_CLOSE) == (
    _poller.DATA,
    _poller.EOF_SHUT,
    _poller.EOF_CLOSE,
)

# Clients come back from the same addresses: parse each peer address text once.  Bounded so a
# flood of distinct sources cannot grow it; addresses are immutable, so sharing them is safe.
_parse_address = functools.lru_cache(maxsize=4096)(ipaddress.ip_address)

_ESTABLISHED = ConnState.ESTABLISHED
_NONBLOCK_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
# Every recv/send is non-blocking by flag (recv(2) MSG_DONTWAIT), so accepted sockets need no
# fcntl/ioctl to be made non-blocking: one system call less per client.
_DONTWAIT = socket.MSG_DONTWAIT

# Why a connection to a real server that is the proxy's own listening address is refused.
LOOPS = "it is the proxy's own listening address (the connection would loop)"

# TcpRelay.held: the client's side is read (NOT_HELD), or not while its real server is
# deleted (HELD_ON), and then closed after it hung up, its data and EOF kept for the server
# (HELD_UNWATCHED).
NOT_HELD, HELD_ON, HELD_UNWATCHED = 0, 1, 2


class TcpListener(Acceptor):
    """A TCP virtual service: the listening socket and the relays it started."""

    def __init__(self, ctx: ProxyContext, runtime: ServiceRuntime, sock: socket.socket) -> None:
        self._init_acceptor(ctx, sock)
        self.runtime = runtime
        host, port = sock.getsockname()[:2]
        self.address: tuple[Address, int] = (ipaddress.ip_address(host), port)
        self.relays: set[TcpRelay] = set()

    def close(self) -> None:
        """Stop accepting; relays already running go on."""
        if self._closed:
            return
        self._stop_accepting()
        self.sock.close()

    def abort_all(self) -> None:
        for relay in list(self.relays):
            relay.abort()

    def _label(self) -> str:
        return str(self.runtime.key)

    def _accepted(self, client: _socket.socket, peer: tuple[str, int]) -> None:
        TcpRelay(self, client, peer)


class End:
    """One socket of a relay and what is queued towards it (the driver's side of it: the
    machine keeps the decisions)."""

    __slots__ = (
        "connected",
        "fast",
        "fd",
        "machine",
        "mask",
        "other",
        "queue",
        "queued",
        "side",
        "sock",
        "watched",
    )

    def __init__(
        self, sock: _socket.socket, side: Side, machine: RelayMachine, connected: bool
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.side = side
        self.machine = machine
        self.connected = connected
        # A list, not a deque: it is nearly always empty, and an empty deque costs 600 bytes
        # per idle connection where an empty list costs 56.
        self.queue: list[bytes | bytearray | memoryview] = []
        self.queued = 0
        self.mask = 0  # what it is registered for (when `watched`)
        self.watched = False  # in the poller's epoll set
        self.other: End = self
        self.fast = 0  # what the C path does for its events (Poller.make_fast's mode), 0: none

    @property
    def reading(self) -> bool:
        """The relay reads this socket."""
        return bool(self.watched and self.mask & READ)

    @property
    def shut_pending(self) -> bool:
        """Its peer's EOF waits to be passed on to it."""
        return self.machine.eof_pending(self.side)


class TcpRelay:
    """One proxied connection: the client's socket, the real server's, the table entry, and
    the relay machine (pylvs.proto.relay) that decides what happens to them."""

    # What each command other than Record and Handover does (set below the class).
    _DO: ClassVar[dict[type, Callable[[Any, Any], None]]]

    __slots__ = (
        "c_path",
        "client",
        "conn",
        "connect_timer",
        "ctx",
        "dst",
        "fds",
        "listener",
        "m",
        "poller",
        "server",
        "svc",
    )

    def __init__(self, listener: TcpListener, sock: _socket.socket, peer: tuple[str, int]) -> None:
        self.listener = listener
        ctx = self.ctx = listener.ctx
        poller = listener.poller
        assert poller is not None
        self.poller = poller
        # With the C path (poller.py) the machine hands it each socket as soon as both are
        # connected, data and EOF alike: a request/response connection then runs from
        # connect to close without its Python event handler.
        self.c_path = poller.pump is not None
        m = self.m = RelayMachine(ctx.relay, fast=self.c_path)
        self.client = End(sock, CLIENT, m, connected=True)
        self.server: End | None = None
        self.conn: Conn | None = None
        self.connect_timer: asyncio.TimerHandle | None = None
        self.fds = 2  # descriptors counted for it (the listener took them: descriptors.py)
        rt = listener.runtime
        self.svc: Counters = rt.stats.counters
        self.dst: Counters = self.svc
        try:
            client = _parse_address(peer[0])
            cport = peer[1]
        except (TypeError, ValueError, IndexError):
            self._refuse("unparsable peer address")
            return
        vaddr, vport = listener.address
        conn = rt.open_conn(ctx.state.table, Flow(client, cport, vaddr, vport, 6), ctx.clock())
        if conn is None:
            self._refuse(f"no destination available for {rt.key}")
            return
        self.conn = conn
        conn.on_expire = self._expired
        self.dst = rt.stats_of(conn.dest).counters
        listener.relays.add(self)
        self._on(ACCEPTED)

    @property
    def done(self) -> bool:
        return self.m.state.done

    @property
    def held(self) -> int:
        """NOT_HELD; HELD_ON (its real server is deleted); HELD_UNWATCHED (and the client has
        hung up: its socket is closed, its data and EOF wait for the server)."""
        m = self.m
        if not m.held:
            return NOT_HELD
        return HELD_ON if m.client_open else HELD_UNWATCHED

    # -- carrying out the machine's commands -------------------------------------------------

    def _on(self, event: Event) -> None:
        """Tell the machine what happened and do what it answers, in order (the one event
        path of every relay: HaSession changes what a Record does and its `_DO` table)."""
        do = self._DO
        for cmd in self.m.handle(event):
            # The two commonest commands first (four and three per connection).
            if type(cmd) is Record:
                self._record(cmd.event)
            elif type(cmd) is Handover:
                end = self.client if cmd.side is CLIENT else self.server
                assert end is not None
                if cmd.mode:
                    end.fast = cmd.mode
                    self.poller.make_fast(end.fd, end.other.fd, self, end, cmd.mode)
                else:
                    self._unfast(end)
            else:
                do[type(cmd)](self, cmd)

    def _record(self, event: TcpEvent) -> None:
        """The connection-table entry sees the packets `event` stands for."""
        conn = self.conn
        assert conn is not None
        self.ctx.state.table.tcp_event(conn, event, self.ctx.clock())

    def _end(self, side: Side) -> End:
        if side is CLIENT:
            return self.client
        server = self.server
        assert server is not None
        return server

    def _watch(self, cmd: Watch) -> None:
        end = self.client if cmd.side is CLIENT else self.server
        assert end is not None
        mask = cmd.mask
        if end.watched:
            end.mask = mask
            # OSError: closed by the C path meanwhile, nothing more to wait for on it
            with contextlib.suppress(OSError):
                self.poller.modify(end.fd, mask)
        else:
            end.mask = mask
            end.watched = True
            self.poller.add(end.fd, mask, functools.partial(self._event, end))

    def _unwatch(self, cmd: Unwatch) -> None:
        end = self._end(cmd.side)
        end.watched = False
        end.mask = 0
        self.poller.remove(end.fd)

    def _shut_write(self, cmd: ShutWrite) -> None:
        with contextlib.suppress(OSError):  # already reset: the next event on it says so
            self._end(cmd.side).sock.shutdown(socket.SHUT_WR)

    def _start_timer(self, cmd: StartTimer) -> None:
        loop = self.listener.loop
        assert loop is not None
        delay = max(0.0, cmd.at - self.ctx.clock())
        self.connect_timer = loop.call_later(delay, self._on, CONNECT_TIMED_OUT)

    def _stop_timer(self, cmd: StopTimer | None = None) -> None:
        timer = self.connect_timer
        if timer is not None:
            self.connect_timer = None
            timer.cancel()

    def _count_error(self, cmd: CountError) -> None:
        conn = self.conn
        assert conn is not None
        rt = self.listener.runtime
        rt.stats.errors += 1
        rt.stats_of(conn.dest).errors += 1
        log.debug("%s: real server %s:%d failed: %s", rt.key, conn.daddr, conn.dport, cmd.reason)

    def _read_one(self, cmd: Read) -> None:
        self._read(self._end(cmd.side), 0)

    # -- connecting ----------------------------------------------------------------------

    def _connect(self, cmd: Connect) -> None:
        conn = self.conn
        assert conn is not None
        loops = self.ctx.loops
        if loops and conn.dest in loops:  # it would come back to a listener (plane.py)
            self._on(ConnectFailed(LOOPS))
            return
        family = socket.AF_INET if conn.daddr.version == 4 else socket.AF_INET6
        try:
            sock = _socket.socket(family, _NONBLOCK_STREAM)
        except OSError as exc:  # EMFILE and the like: this client only
            self._on(ConnectFailed(exc.strerror or str(exc)))
            return
        err = 0
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            err = sock.connect_ex((conn.dest.host, conn.dport))
        except OSError as exc:
            err = exc.errno or errno.EINVAL
        connected = err == 0
        if err == errno.EINPROGRESS:
            # On loopback the handshake has run inside connect(2) already: a peer name means
            # ESTABLISHED (ENOTCONN while SYN_SENT), and no round through epoll is needed.
            try:
                sock.getpeername()
                connected = True
            except OSError:
                pass
        elif err:
            sock.close()
            self._on(ConnectFailed(os.strerror(err)))
            return
        server = self.server = End(sock, SERVER, self.m, connected)
        client = self.client
        server.other, client.other = client, server
        self._on(CONNECTED if connected else Connecting(self.ctx.clock()))

    def _connecting_event(self, server: End) -> bool:
        """An event on a socket still connecting: True once it has connected."""
        err = server.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._on(ConnectFailed(os.strerror(err)))
            return False
        try:
            server.sock.getpeername()  # a stale event from a reused descriptor proves nothing
        except OSError:
            return False
        server.connected = True
        self._on(CONNECTED)
        return not self.m.state.done

    # -- socket events -------------------------------------------------------------------

    def _event(self, end: End, events: int) -> None:
        if events == READ and end.mask & READ and end.connected:
            # The common case first: data on an established relay (a closed relay's sockets
            # are watched for nothing: `_close_end`).
            self._read(end, events)
            return
        if self.m.state.done:
            return
        if not end.connected and not self._connecting_event(end):
            return
        if events & WRITE and end.mask & WRITE and not self._flushed(end):
            return
        if events & ERROR:
            err = end.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._on(FAILED[end.side])
                return
        if end.mask & READ:
            self._read(end, events)
        elif events & (HANGUP | PEER_EOF):
            self._on(HUNG_UP[end.side])

    def _read(self, src: End, events: int) -> None:
        poller = self.poller
        try:
            n = src.sock.recv_into(poller.buffer, 0, _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._on(FAILED[src.side])
            return
        if n == 0:
            self._on(EOF_READ[src.side])
            return
        conn = self.conn
        assert conn is not None
        svc, dst = self.svc, self.dst
        if src is self.client:
            svc.inpkts += 1
            svc.inbytes += n
            dst.inpkts += 1
            dst.inbytes += n
            event = TcpEvent.CLIENT_DATA
        else:
            svc.outpkts += 1
            svc.outbytes += n
            dst.outpkts += 1
            dst.outbytes += n
            event = TcpEvent.SERVER_DATA
        ctx = self.ctx
        if conn.state is _ESTABLISHED:  # tcp_event's fast path: only the timer moves
            conn.expires = ctx.clock() + conn.timeout
            if conn.expires < conn.heap_at:  # earlier than filed: a --set shortened it
                ctx.state.table.moved(conn)
        else:
            ctx.state.table.tcp_event(conn, event, ctx.clock())
        to = src.other
        if to.queue or not to.connected:
            to.queue.append(poller.buffer[:n])
            to.queued += n
            self._on(DataQueued(to.side, to.queued))
        else:
            try:
                sent = to.sock.send(poller.view[:n], _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._on(FAILED[to.side])
                return
            if sent < n:
                to.queue.append(poller.buffer[sent:n])
                to.queued += n - sent
                self._on(DataQueued(to.side, to.queued))
        if (
            events & (PEER_EOF | ERROR) == PEER_EOF
            and n < poller.size
            and src.mask & READ
            and not self.m.state.done
        ):
            # The FIN is in (and no reset: that goes the error way) and this read took
            # everything before it: the next read would only return the EOF, so take it now
            # and save a round.
            self._on(EOF_READ[src.side])

    def _drain(self, cmd: Drain) -> None:
        """Read all `side` sent up to its EOF into the queue towards its peer (a held
        client's last words: nothing of it is written until the machine says so)."""
        src = self._end(cmd.side)
        to = src.other
        buffer = self.poller.buffer
        chunks = nbytes = 0
        while True:
            try:
                n = src.sock.recv_into(buffer, 0, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                n = -1
            except OSError:
                self._on(FAILED[src.side])
                return
            if n <= 0:
                break
            to.queue.append(buffer[:n])
            chunks += 1
            nbytes += n
        if chunks:
            # Counted as read, as any chunk; the entry is not re-armed (IPVS dropped them).
            for counters in (self.svc, self.dst):
                if src is self.client:
                    counters.inpkts += chunks
                    counters.inbytes += nbytes
                else:
                    counters.outpkts += chunks
                    counters.outbytes += nbytes
            to.queued += nbytes
            self._on(DataQueued(to.side, to.queued))
        if n == 0 and not self.m.state.done:
            self._on(EOF_READ[src.side])

    def _flushed(self, to: End) -> bool:
        """Write what is queued towards `to`; whether the relay goes on."""
        queue = to.queue
        while queue:
            data = queue[0]
            try:
                sent = to.sock.send(data, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._on(FAILED[to.side])
                return False
            to.queued -= sent
            if sent < len(data):
                queue[0] = memoryview(data)[sent:]
                break
            del queue[0]
        self._on(Flushed(to.side, to.queued))
        return not self.m.state.done

    def hold(self, held: bool) -> None:
        """Hold the client's side while the real server is deleted (`held`), release it when
        the server comes back from the trash (the machine says what that means)."""
        if held != self.m.held and not self.m.state.done:
            self._on(HELD if held else RELEASED)

    # -- the C fast path (poller.Poller.make_fast) -----------------------------------------

    def _unfast(self, end: End) -> None:
        end.fast = 0
        counts = self.poller.unfast(end.fd)
        if counts is not None:
            self.counted(end, *counts)

    def counted(self, end: End, pkts: int, nbytes: int, last: float) -> None:
        svc, dst = self.svc, self.dst
        if end is self.client:
            svc.inpkts += pkts
            svc.inbytes += nbytes
            dst.inpkts += pkts
            dst.inbytes += nbytes
        else:
            svc.outpkts += pkts
            svc.outbytes += nbytes
            dst.outpkts += pkts
            dst.outbytes += nbytes
        conn = self.conn
        if conn is not None and conn.state is _ESTABLISHED:
            # As `_read` does per chunk: the idle timer runs from the last chunk (`last` is on
            # time.monotonic's clock, the plane's whenever the C path runs: Poller).  It never
            # moves back before a later re-arm from Python, unless it was armed with a longer
            # timeout than the one now in force (`--set` since: it reaches the next packet).
            expires = last + conn.timeout
            if expires > conn.expires or conn.expires > self.ctx.clock() + conn.timeout:
                conn.expires = expires
                self.ctx.state.table.moved(conn)

    def ended(self, end: End, how: int) -> None:
        """The C path took `end`'s EOF and made the system calls its mode stands for."""
        if how == EOF_CLOSE:
            # First of all: the socket objects must not keep descriptor numbers that are
            # closed and may be reused, whatever happens below.
            end.sock.detach()
            end.other.sock.detach()
        self._unfast(end)
        if how == EOF_CLOSE:
            self._on(FAST_CLOSED[end.side])
        else:
            end.mask = 0  # the C path stopped watching it (epoll mask 0)
            self._on(FAST_SHUT[end.side])

    def spilled(self, end: End, data: bytes | None, err: int) -> None:
        self._unfast(end)
        if self.m.state.done:
            return
        if data is None:
            self._on(FAILED[end.side])
            return
        to = end.other
        if err:
            self._on(FAILED[to.side])
            return
        to.queue.append(data)
        to.queued += len(data)
        self._on(Spilled(end.side, to.queued))

    # -- endings ---------------------------------------------------------------------------

    def _refuse(self, why: str) -> None:
        self.listener.runtime.stats.errors += 1
        log.debug("%s: reset client: %s", self.listener.runtime.key, why)
        close_with_reset(self.client.sock)
        self.fds = 0
        self.ctx.fds.give(2)

    def _expired(self, conn: Conn) -> None:
        """The table entry timed out (idle): IPVS forgets the connection, so do we."""
        self._on(EXPIRED)

    def abort(self) -> None:
        """Reset both sides now (stop)."""
        self._on(ABORTED)

    def _close_side(self, cmd: CloseSide) -> None:
        self._close_end(self._end(cmd.side), reset=False)
        self.fds -= 1
        self.ctx.fds.give(1)

    def _close_end(self, end: End, *, reset: bool) -> None:
        if end.fd < 0:
            return  # closed before
        if end.fast:
            self._unfast(end)
        self.poller.forget(end.fd)
        end.watched = False
        end.mask = 0
        end.fd = -1
        if reset:
            close_with_reset(end.sock)
        else:
            end.sock.close()  # a no-op when the C path closed it (detached)
        end.queue.clear()

    def _close(self, cmd: Close) -> None:
        """Close both sockets: the relay is over."""
        if self.connect_timer is not None:
            self._stop_timer()
        self._close_end(self.client, reset=cmd.reset_client)
        server = self.server
        if server is not None:
            self._close_end(server, reset=cmd.reset_server)
            # Break the client <-> server cycle so the relay is freed by reference counting
            # at once, not by a later cyclic garbage collection.
            del self.client.other, server.other
        self.listener.relays.discard(self)
        fds, self.fds = self.fds, 0
        self.ctx.fds.give(fds)  # the server's, too, if it was never opened
        if self.conn is not None:
            # The entry lives on (TIME_WAIT, CLOSE) for up to minutes; it must not keep the
            # relay alive until then, and expiring it has nothing left to close.
            self.conn.on_expire = None


_DO: dict[type, Callable[[Any, Any], None]] = {
    Watch: TcpRelay._watch,
    Unwatch: TcpRelay._unwatch,
    ShutWrite: TcpRelay._shut_write,
    StartTimer: TcpRelay._start_timer,
    StopTimer: TcpRelay._stop_timer,
    CountError: TcpRelay._count_error,
    Connect: TcpRelay._connect,
    Read: TcpRelay._read_one,
    Drain: TcpRelay._drain,
    CloseSide: TcpRelay._close_side,
    Close: TcpRelay._close,
}
TcpRelay._DO = _DO
