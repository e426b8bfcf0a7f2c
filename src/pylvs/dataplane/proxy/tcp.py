"""The TCP side of the proxy: one listener per virtual service, one relay per client.

Sockets are driven through the proxy's own epoll set (`poller.Poller`, why: see there).  On
accept the service schedules a destination (ip_vs_schedule semantics, persistence included)
and a non-blocking connect to it starts at once; on loopback and fast LANs it has usually
completed before connect(2) returns, which one getpeername(2) tells, so the common case costs
no extra round.  What the client sends before the real server has accepted is queued.  Then
bytes are copied both ways, each chunk read into the poller's shared buffer and written out
straight away:

* half-close: EOF from one side becomes shutdown(SHUT_WR) towards the other, once what is
  queued for it has been written; once both sides have sent EOF both sockets are closed;
* backpressure: what one side cannot take at once is queued; with `high_water` bytes queued
  towards one side the *other* side is no longer read until the queue drains to `low_water`,
  so a slow reader never makes the proxy hold more than one mark plus one read chunk per
  direction (the kernel's socket buffers come on top, as for any proxy);
* errors: a refused, unreachable or too slow real server (connect timeout), or no
  destination at all, resets the client (RST through SO_LINGER 0) and is counted in the
  service's and destination's `errors`; a reset from either side is passed on as a reset.

Every path ends with the relay marked `done`, both sockets closed and the relay removed from
its listener; the connection table entry is never removed by the relay itself: as in IPVS it
moves to TIME_WAIT / CLOSE and expires on its timer, and a table entry that expires first
closes the relay (idle timeout).  The events fed to the table are described in
pylvs.proto.conntrack.states.
"""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import errno
import functools
import ipaddress
import os
import socket

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import Address
from pylvs.model.stats import Counters
from pylvs.proto.conntrack.states import ConnState, TcpEvent
from pylvs.proto.conntrack.table import Conn
from pylvs.sched.base import Flow

from .context import ProxyContext, log
from .poller import DATA, EOF_CLOSE, EOF_SHUT, ERROR, HANGUP, PEER_EOF, READ, WRITE, Poller
from .sockets import close_with_reset

# Clients come back from the same addresses: parse each peer address text once.  Bounded so a
# flood of distinct sources cannot grow it; addresses are immutable, so sharing them is safe.
_parse_address = functools.lru_cache(maxsize=4096)(ipaddress.ip_address)

# accept(2) failures that mean "out of descriptors or memory": stop accepting for a while
# (asyncio's servers do the same, for 1 s) instead of spinning on a listener that stays ready.
_BACK_OFF = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
ACCEPT_BACK_OFF = 1.0
# Connections accepted per readiness event, so one busy service cannot starve the others.
_ACCEPT_BATCH = 64

_ESTABLISHED = ConnState.ESTABLISHED
_NONBLOCK_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
# Every recv/send is non-blocking by flag (recv(2) MSG_DONTWAIT), so accepted sockets need no
# fcntl/ioctl to be made non-blocking: one system call less per client.
_DONTWAIT = socket.MSG_DONTWAIT
# Readiness a relay socket is watched for while it is read: data, and the peer's FIN
# (EPOLLRDHUP), which lets the read that drains the last data also take the EOF.
_READING = READ | PEER_EOF


# TcpRelay.held: the client's side is read (NOT_HELD), or not while its real server is
# deleted (HELD), and then no longer watched after it hung up or was reset (HELD_UNWATCHED).
NOT_HELD, HELD, HELD_UNWATCHED = 0, 1, 2


class TcpListener:
    """A TCP virtual service: the listening socket and the relays it started."""

    def __init__(self, ctx: ProxyContext, runtime: ServiceRuntime, sock: socket.socket) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.address: tuple[Address, int] = (ipaddress.ip_address(host), port)
        self.relays: set[TcpRelay] = set()
        self.poller: Poller | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._resume: asyncio.TimerHandle | None = None
        self._closed = False

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.poller = self.ctx.poller(self.loop)
        # Accepted sockets inherit TCP_NODELAY from the listener (Linux copies the listener's
        # tcp_sock into the child): one setsockopt here instead of one per client.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.poller.add(self.sock.fileno(), READ, self._accept)

    def close(self) -> None:
        """Stop accepting; relays already running go on."""
        if self._closed:
            return
        self._closed = True
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self.poller is not None:
            self.poller.forget(self.sock.fileno())
        self.sock.close()

    def abort_all(self) -> None:
        for relay in list(self.relays):
            relay.abort()

    def _accept(self, events: int) -> None:
        sock = self.sock
        family = sock.family
        for _ in range(_ACCEPT_BATCH):
            try:
                # The C-level accept: socket.accept() would wrap the descriptor in a Python
                # socket.socket (a Python __init__) and probe its blocking mode.
                fd, peer = sock._accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _BACK_OFF:
                    self._back_off(exc)
                    return
                continue  # ECONNABORTED and friends: that client is gone, take the next
            TcpRelay(self, _socket.socket(family, socket.SOCK_STREAM, 0, fd), peer)
            if self._closed:
                return

    def _back_off(self, exc: OSError) -> None:
        log.warning(
            "%s: cannot accept (%s); pausing accepts for %.0f s",
            self.runtime.key,
            exc.strerror or exc,
            ACCEPT_BACK_OFF,
        )
        assert self.poller is not None and self.loop is not None
        self.poller.modify(self.sock.fileno(), 0)
        self._resume = self.loop.call_later(ACCEPT_BACK_OFF, self._resume_accepting)

    def _resume_accepting(self) -> None:
        self._resume = None
        if not self._closed and self.poller is not None:
            self.poller.modify(self.sock.fileno(), READ)


class End:
    """One side of a relay: its socket and what is queued towards it."""

    __slots__ = (
        "connected",
        "eof",
        "fast",
        "fd",
        "mask",
        "other",
        "queue",
        "queued",
        "reading",
        "shut",
        "shut_pending",
        "sock",
    )

    def __init__(self, sock: _socket.socket, connected: bool) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.connected = connected
        self.reading = True  # registered for EPOLLIN (not paused, no EOF yet)
        self.eof = False  # this side sent EOF
        self.shut = False  # we shut down writing towards this side
        self.shut_pending = False  # ... once its queue is written (or it has connected)
        # A list, not a deque: it is nearly always empty, and an empty deque costs 600 bytes
        # per idle connection where an empty list costs 56.
        self.queue: list[bytes | bytearray | memoryview] = []
        self.queued = 0
        self.mask = 0
        self.other: End = self
        self.fast = 0  # what the C path does for its events (Poller.make_fast's mode), 0: none


class TcpRelay:
    """One proxied connection: the client's socket, the real server's, and the table entry."""

    __slots__ = (
        "c_path",
        "client",
        "conn",
        "connect_timer",
        "ctx",
        "done",
        "dst",
        "held",
        "listener",
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
        # With the C path (poller.py) the relay hands it each socket as soon as both are
        # connected, data and EOF alike (_sync_fast): a request/response connection then runs
        # from connect to close without its Python event handler.
        self.c_path = poller.pump is not None
        self.client = End(sock, connected=True)
        self.server: End | None = None
        self.conn: Conn | None = None
        self.connect_timer: asyncio.TimerHandle | None = None
        self.done = False
        self.held = NOT_HELD  # hold(): the client's side while its real server is deleted
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
        self.client.mask = _READING
        poller.add(self.client.fd, _READING, functools.partial(self._event, self.client))
        self._connect(conn)

    # -- connecting ----------------------------------------------------------------------

    def _connect(self, conn: Conn) -> None:
        family = socket.AF_INET if conn.daddr.version == 4 else socket.AF_INET6
        try:
            sock = _socket.socket(family, _NONBLOCK_STREAM)
        except OSError as exc:  # EMFILE and the like: this client only
            self._backend_failed(exc)
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
            self._backend_failed(OSError(err, errno.errorcode.get(err, str(err))))
            return
        server = self.server = End(sock, connected)
        client = self.client
        server.other, client.other = client, server
        server.mask = _READING if connected else _READING | WRITE
        self.poller.add(server.fd, server.mask, functools.partial(self._event, server))
        if connected:
            self._now_connected(server)
        else:
            loop = self.listener.loop
            assert loop is not None
            self.connect_timer = loop.call_later(self.ctx.connect_timeout, self._connect_timeout)

    def _connect_timeout(self) -> None:
        self.connect_timer = None
        if not self.done and self.server is not None and not self.server.connected:
            self._backend_failed(TimeoutError("connect timed out"))

    def _connecting_event(self, server: End) -> bool:
        """An event on a socket still connecting: True once it has connected."""
        err = server.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._backend_failed(OSError(err, errno.errorcode.get(err, str(err))))
            return False
        try:
            server.sock.getpeername()  # a stale event from a reused descriptor proves nothing
        except OSError:
            return False
        self._now_connected(server)
        return not self.done

    def _now_connected(self, server: End) -> None:
        server.connected = True
        timer = self.connect_timer
        if timer is not None:
            self.connect_timer = None
            timer.cancel()
        conn = self.conn
        assert conn is not None
        ctx = self.ctx
        ctx.state.table.tcp_event(conn, TcpEvent.BACKEND_CONNECTED, ctx.clock())
        if self.client.eof:  # recorded now that it can be passed on
            ctx.state.table.tcp_event(conn, TcpEvent.CLIENT_EOF, ctx.clock())
        if server.queue:
            self._flush(server)
        elif server.shut_pending:
            self._shutdown(server)
        if not self.done:
            self._update(server)

    # -- events ----------------------------------------------------------------------------

    def _event(self, end: End, events: int) -> None:
        if events == READ and end.reading and end.connected and not self.done:
            self._read(end, events)  # the common case first: data on an established relay
            return
        if self.done:
            return
        if not end.connected and not self._connecting_event(end):
            return
        if events & WRITE and end.queue and not self._flushed(end):
            return
        if events & ERROR:
            err = end.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._broken(end, OSError(err, errno.errorcode.get(err, str(err))))
                return
        if self.held and end is self.client:
            # Nothing of the client's reaches the server while it is held (hold); its
            # hang-up neither (IPVS drops its FIN too): stop it being reported again and again.
            if events & HANGUP:
                self.poller.remove(end.fd)
                self.held = HELD_UNWATCHED
            return
        if end.reading or (events & HANGUP and not end.eof):
            self._read(end, events)
        elif events & HANGUP and end.eof and end.shut:
            # Both directions of this socket are over and the relay waits for the other
            # side's queue: stop the hang-up from being reported again and again.
            self.poller.remove(end.fd)

    def _read(self, src: End, events: int) -> None:
        poller = self.poller
        try:
            n = src.sock.recv_into(poller.buffer, 0, _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._broken(src, exc)
            return
        if n == 0:
            self._eof(src)
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
        else:
            try:
                sent = to.sock.send(poller.view[:n], _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._broken(to, exc)
                return
            if sent < n:
                to.queue.append(poller.buffer[sent:n])
                to.queued += n - sent
                self._update(to)
        if to.queued >= ctx.high_water:
            src.reading = False
            self._update(src)
        elif events & (PEER_EOF | ERROR) == PEER_EOF and n < poller.size and not self.done:
            # The FIN is in (and no reset: that goes the error way) and this read took
            # everything before it: the next read would only return the EOF, so take it now
            # and save a round.
            self._eof(src)

    def _flushed(self, to: End) -> bool:
        """`_flush`, then whether the relay goes on."""
        self._flush(to)
        return not self.done

    def _flush(self, to: End) -> None:
        """Write what is queued towards `to`; resume reading its peer below the low mark."""
        queue = to.queue
        while queue:
            data = queue[0]
            try:
                sent = to.sock.send(data, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._broken(to, exc)
                return
            to.queued -= sent
            if sent < len(data):
                queue[0] = memoryview(data)[sent:]
                break
            del queue[0]
        src = to.other
        if not queue and to.shut_pending:
            self._shutdown(to)
            if self.done:
                return
        if (
            not src.reading
            and not src.eof
            and to.queued <= self.ctx.low_water
            and not (self.held and src is self.client)
        ):
            src.reading = True
            self._update(src)
        self._update(to)

    def _eof(self, src: End) -> None:
        src.eof = True
        src.reading = False
        conn = self.conn
        assert conn is not None
        to = src.other
        if src is not self.client:
            self.ctx.state.table.tcp_event(conn, TcpEvent.SERVER_EOF, self.ctx.clock())
        elif to.connected:  # else recorded once it has connected
            self.ctx.state.table.tcp_event(conn, TcpEvent.CLIENT_EOF, self.ctx.clock())
        if to.queue or not to.connected:
            to.shut_pending = True  # passed on once `to` has connected and taken its queue
        else:
            self._shutdown(to)
            if self.done:
                return
        self._update(src)

    def _shutdown(self, to: End) -> None:
        """Pass EOF on to `to`; when that was the last thing to do, close the relay."""
        to.shut_pending = False
        to.shut = True
        if to.eof and to.other.shut:
            # Both sides sent EOF and the other got it already: close(2) sends this FIN just
            # as shutdown(2) would, one system call less.
            self._finish()
            return
        with contextlib.suppress(OSError):  # already reset: the next event on it says so
            to.sock.shutdown(socket.SHUT_WR)

    def _update(self, end: End) -> None:
        mask = (_READING if end.reading else 0) | (WRITE if end.queue or not end.connected else 0)
        if mask != end.mask and not self.done:
            end.mask = mask
            # OSError: unregistered after a hang-up, nothing more to wait for on it
            with contextlib.suppress(OSError):
                self.poller.modify(end.fd, mask)
        if self.c_path:
            # Whether a side may be fast depends on its own state and on its peer's queue.
            self._sync_fast(end)
            self._sync_fast(end.other)

    def hold(self, held: bool) -> None:
        """Hold the client's side while the real server is deleted (`held`), release it when
        the server comes back from the trash.

        IPVS drops the client's packets of a connection whose dest is not AVAILABLE, without
        re-arming its timer, and the server's replies still pass and re-arm it (ip_vs_core.c
        ip_vs_in_hook with expire_nodest_conn = 0; the output path does not look at the
        dest): the connection ends on its timer unless the server comes back first.  Here
        the client's socket is not read meanwhile: what it sends waits there, as it would be
        retransmitted to IPVS, and goes on if the server is added again in time.
        """
        if self.done or held == bool(self.held):
            return
        client = self.client
        if held:
            self.held = HELD
            if client.reading:
                client.reading = False
                self._update(client)
            return
        unwatched = self.held == HELD_UNWATCHED
        self.held = NOT_HELD
        if unwatched:
            client.mask = 0
            self.poller.add(client.fd, 0, functools.partial(self._event, client))
        server = self.server
        if not client.eof and (server is None or server.queued <= self.ctx.low_water):
            client.reading = True
        self._update(client)

    # -- the C fast path (poller.Poller.make_fast) -----------------------------------------

    def _sync_fast(self, end: End) -> None:
        """Let the C path do for `end` exactly what the Python path would, with nothing else
        to do (poller.Poller.make_fast):

        * DATA, relay its plain reads: established (the state moves only by the timer), `end`
          read, its peer connected with nothing queued and not shut down;
        * EOF_SHUT, on its EOF shut the peer down for writing: the same, in any state
          (`_eof` then `_shutdown` without a queue);
        * EOF_CLOSE, on its EOF close both: the peer sent EOF before and got it passed on,
          so both directions are over (`_shutdown` then `_finish`)."""
        other = end.other
        conn = self.conn
        mode = 0
        if (
            not self.done
            and other is not end
            and end.reading
            and end.connected
            and other.connected
            and not other.queue
            and not other.shut_pending
            and conn is not None
        ):
            if other.eof:
                if end.shut:
                    mode = EOF_CLOSE
            elif not other.shut:
                mode = EOF_SHUT | DATA if conn.state is _ESTABLISHED else EOF_SHUT
        if mode != end.fast:
            if mode:
                end.fast = mode
                self.poller.make_fast(end.fd, other.fd, self, end, mode)
            else:
                self._unfast(end)

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
        """The C path took `end`'s EOF and made the system calls `_eof` would have made:
        record what they did (EOF_SHUT: the peer is shut down for writing and `end` no longer
        watched; EOF_CLOSE: both sockets are closed)."""
        to = end.other
        if how == EOF_CLOSE:
            # First of all: the socket objects must not keep descriptor numbers that are
            # closed and may be reused, whatever happens below.
            end.sock.detach()
            to.sock.detach()
        self._unfast(end)
        end.eof = True
        end.reading = False
        to.shut = True
        conn = self.conn
        assert conn is not None
        event = TcpEvent.CLIENT_EOF if end is self.client else TcpEvent.SERVER_EOF
        self.ctx.state.table.tcp_event(conn, event, self.ctx.clock())
        if how == EOF_CLOSE:
            self._close(reset_client=False, reset_server=False, closed=True)
            return
        # The C path stopped watching `end` altogether; what is still queued towards it (a
        # slow reader that half-closed) needs its EPOLLOUT back, as `_eof` keeps it.  This
        # also re-syncs both sides: the state moved on, `to` may no longer relay in C.
        end.mask = 0
        self._update(end)

    def spilled(self, end: End, data: bytes | None, err: int) -> None:
        self._unfast(end)
        if self.done:
            return
        if data is None:
            self._broken(end, OSError(err, os.strerror(err)))
            return
        to = end.other
        to.queue.append(data)
        to.queued += len(data)
        if err:
            self._broken(to, OSError(err, os.strerror(err)))
            return
        self._update(to)
        if to.queued >= self.ctx.high_water:
            end.reading = False
            self._update(end)

    # -- endings ---------------------------------------------------------------------------

    def _finish(self) -> None:
        """Both sides sent EOF and got it: close both (nothing is left unread or unsent)."""
        self._close(reset_client=False, reset_server=False)

    def _broken(self, end: End, exc: OSError) -> None:
        """One side reset or failed: record it and reset the other side."""
        if self.conn is not None:
            event = TcpEvent.CLIENT_RESET if end is self.client else TcpEvent.SERVER_RESET
            self.ctx.state.table.tcp_event(self.conn, event, self.ctx.clock())
        is_client = end is self.client
        self._close(reset_client=not is_client, reset_server=is_client)

    def _backend_failed(self, exc: OSError) -> None:
        conn = self.conn
        assert conn is not None
        rt = self.listener.runtime
        rt.stats.errors += 1
        rt.stats_of(conn.dest).errors += 1
        what = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        log.debug("%s: real server %s:%d failed: %s", rt.key, conn.daddr, conn.dport, what)
        self.ctx.state.table.tcp_event(conn, TcpEvent.SERVER_RESET, self.ctx.clock())
        self._close(reset_client=True, reset_server=False)

    def _refuse(self, why: str) -> None:
        self.done = True
        self.listener.runtime.stats.errors += 1
        log.debug("%s: reset client: %s", self.listener.runtime.key, why)
        close_with_reset(self.client.sock)

    def _expired(self, conn: Conn) -> None:
        """The table entry timed out (idle): IPVS forgets the connection, so do we."""
        self.abort()

    def abort(self) -> None:
        """Reset both sides now (stop, expiry)."""
        self._close(reset_client=True, reset_server=True)

    def _close(self, *, reset_client: bool, reset_server: bool, closed: bool = False) -> None:
        """Close both sockets (`closed`: the C path has closed them already)."""
        if self.done:
            return
        self.done = True
        timer = self.connect_timer
        if timer is not None:
            self.connect_timer = None
            timer.cancel()
        forget = self.poller.forget
        for end, reset in ((self.client, reset_client), (self.server, reset_server)):
            if end is None:
                continue
            if end.fast:
                self._unfast(end)
            forget(end.fd)
            if closed:
                end.sock.detach()  # closed already (a no-op when detached before)
            elif reset:
                close_with_reset(end.sock)
            else:
                end.sock.close()
            end.queue.clear()
        if self.server is not None:
            # Break the client <-> server cycle so the relay is freed by reference counting
            # at once, not by a later cyclic garbage collection.
            del self.client.other, self.server.other
        self.listener.relays.discard(self)
        if self.conn is not None:
            # The entry lives on (TIME_WAIT, CLOSE) for up to minutes; it must not keep the
            # relay alive until then, and expiring it has nothing left to close.
            self.conn.on_expire = None
