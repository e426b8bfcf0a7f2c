"""One socket of the HTTP driver on the proxy's poller: reads, a write queue, shutdowns.

The HTTP machines (proto/http/conn) decide; an `Endpoint` carries out what they ask of their
own socket and tells its owner what happened on it: `read(ep, data)`, `eof(ep)`,
`failed(ep)`, `blocked(ep)` (bytes wait for the peer to take them), `drained(ep)`
(everything written has left), `connected(ep)` / `connect_failed(ep, reason)` for a socket
still connecting.  Reading stops while either the machine (`PauseReading`: HAProxy's full
input buffer) or the driver's flow control (the peer's queue is over the high-water mark)
holds it.  `Close` and `ShutWrite` wait for the queued bytes as the commands say.

Events are level-triggered (poller.py), so a read of `READ_SIZE` bytes that leaves more in
the socket is simply called again.
"""

from __future__ import annotations

import _socket
import contextlib
import errno
import os
import socket
from typing import Protocol

from pylvs.dataplane.proxy.poller import ERROR, HANGUP, READ, WRITE, Poller
from pylvs.proto.http.h1counters import H1Counters

READ_SIZE = 65536
_DONTWAIT = socket.MSG_DONTWAIT
MACHINE = 1  # who holds the reading: the machine (PauseReading)
FLOW = 2  # the driver's flow control
BODY = 4  # a body in C whose peer filled up (passing.py)


class Passed(Protocol):
    """A body or tunnel the C path carries from or to this socket (passing.Pass)."""

    def stop(self) -> None: ...


class Owner(Protocol):
    def read(self, ep: Endpoint, data: bytes) -> None: ...
    def eof(self, ep: Endpoint) -> None: ...
    def failed(self, ep: Endpoint) -> None: ...
    def blocked(self, ep: Endpoint) -> None: ...
    def drained(self, ep: Endpoint) -> None: ...
    def connected(self, ep: Endpoint) -> None: ...
    def connect_failed(self, ep: Endpoint, reason: str) -> None: ...


class Endpoint:
    __slots__ = (
        "close_after",
        "closed",
        "connected",
        "corked",
        "eof_seen",
        "fd",
        "h1",
        "holds",
        "mask",
        "owner",
        "passing",
        "passing_to",
        "poller",
        "queue",
        "queued",
        "shut_after",
        "shut_done",
        "sock",
    )

    def __init__(
        self, sock: _socket.socket, poller: Poller, owner: Owner, *, connected: bool = True
    ) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.poller = poller
        self.owner = owner
        self.connected = connected
        self.queue: list[bytes] = []
        self.queued = 0
        self.holds = 0
        self.eof_seen = False
        self.shut_after = False
        self.shut_done = False
        self.close_after = False
        self.closed = False
        self.corked: list[bytes] | None = None  # writes held by `cork`
        self.passing: Passed | None = None  # its bytes go to the peer in C
        self.passing_to: Passed | None = None  # a peer's bytes come to it in C
        self.h1: H1Counters | None = None  # its proxy's H1 stats module (`count_h1`)
        self.mask: int = self._wanted()
        poller.add(self.fd, self.mask, self._event)

    # -- the mask ----------------------------------------------------------------------

    def count_h1(self, counters: H1Counters) -> None:
        """Count this HTTP/1 connection, its bytes and its close in a frontend's or a
        backend's H1 stats module (show stat's h1_*: proto/http/h1counters.py)."""
        self.h1 = counters
        counters.opened()

    def _wanted(self) -> int:
        if not self.connected:
            return WRITE
        mask = 0
        if not self.holds and not self.eof_seen and not self.close_after:
            mask |= READ
        if self.queue:
            mask |= WRITE
        return mask

    def _update(self) -> None:
        if self.closed:
            return
        mask = self._wanted()
        if mask != self.mask:
            if self.mask == -1:  # out of the set (a hang-up was reported)
                if not mask & WRITE:
                    return
                self.poller.add(self.fd, mask, self._event)
            else:
                self.poller.modify(self.fd, mask)
            self.mask = mask

    def hold(self, who: int) -> None:
        if not self.holds & who:
            self.holds |= who
            self._update()

    def release(self, who: int) -> None:
        if self.holds & who:
            self.holds &= ~who
            self._update()

    def take(self, owner: Owner) -> None:
        """Another owner reads this socket from now on (a pooled server connection)."""
        self.owner = owner

    # -- events ------------------------------------------------------------------------

    def _event(self, events: int) -> None:
        if self.closed:
            return
        if not self.connected:
            self._connecting()
            return
        if events & WRITE and self.queue and not self._flush():
            return
        if events & READ and self.mask & READ:
            self._read()
        elif events & (ERROR | HANGUP) and not self.mask & WRITE:
            # Reported whatever the mask: leave the set until something is to be written,
            # or the level-triggered report would spin.
            self.mask = -1
            if self.passing is not None:
                self.passing.stop()
            self.poller.remove(self.fd)
            if not self.eof_seen:
                self.eof_seen = True
                self.owner.eof(self)

    def _connecting(self) -> None:
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self.owner.connect_failed(self, os.strerror(err))
            return
        try:
            self.sock.getpeername()
        except OSError:
            return  # a stale event: still connecting
        self.connected = True
        self._update()
        self.owner.connected(self)

    def _read(self) -> None:
        try:
            data = self.sock.recv(READ_SIZE, _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            if self.passing is not None:
                self.passing.stop()
            self.owner.failed(self)
            return
        if self.h1 is not None:
            self.h1.bytes_in += len(data)
        if not data:
            if self.passing is not None:  # a tunnel's or an until-close body's end
                self.passing.stop()
            self.eof_seen = True
            self._update()
            self.owner.eof(self)
            return
        self.owner.read(self, data)

    # -- writing -----------------------------------------------------------------------

    def cork(self) -> None:
        """Hold writes until `uncork`: a round of the machines writes a response's head and
        then its body (and HAProxy sends them in one segment); one send instead of two."""
        if self.corked is None:
            self.corked = []

    def uncork(self) -> None:
        held, self.corked = self.corked, None
        if held:
            self.write(held[0] if len(held) == 1 else b"".join(held))

    @property
    def backlog(self) -> bool:
        """Bytes written and not yet sent (queued, or held by `cork`)."""
        return bool(self.queue or self.corked)

    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        if self.corked is not None:
            self.corked.append(data)
            return
        if self.queue or not self.connected:
            self.queue.append(data)
            self.queued += len(data)
            return
        try:
            sent = self.sock.send(data, _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.owner.failed(self)
            return
        if self.h1 is not None:
            self.h1.bytes_out += sent
        if sent < len(data):
            self.queue.append(data[sent:])
            self.queued += len(data) - sent
            self._update()
            self.owner.blocked(self)

    def _flush(self) -> bool:
        """Send what is queued; False once the socket is closed."""
        queue = self.queue
        while queue:
            data = queue[0]
            try:
                sent = self.sock.send(data, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                self.owner.failed(self)
                return not self.closed
            self.queued -= sent
            if self.h1 is not None:
                self.h1.bytes_out += sent
            if sent < len(data):
                queue[0] = data[sent:]
                return True
            queue.pop(0)
        self._update()
        if self.close_after:
            self.close()
            return False
        if self.shut_after:
            self._shut()
        self.owner.drained(self)
        return not self.closed

    def flush_connected(self) -> None:
        """A socket just connected: send what was written meanwhile."""
        if self.queue:
            self._flush()

    def shut_write(self) -> None:
        self.uncork()
        if self.queue or not self.connected:
            self.shut_after = True
        else:
            self._shut()

    def _shut(self) -> None:
        self.shut_after = False
        if not self.shut_done and not self.closed:
            self.shut_done = True
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_WR)

    def close_when_sent(self) -> None:
        self.uncork()
        if self.queue and self.connected:
            self.close_after = True
            self._update()
        else:
            self.close()

    def close(self, *, reset: bool = False) -> None:
        if not reset and not self.closed:
            self.uncork()  # what was written goes first (its send may fail and close)
        if self.closed:
            return
        for p in (self.passing, self.passing_to):
            if p is not None:  # the C path must forget the number before it is reused
                p.stop()
        self.closed = True
        if self.h1 is not None:
            self.h1.closed()
        self.poller.forget(self.fd)
        if reset:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        self.sock.close()
        self.queue.clear()
        self.queued = 0


NONBLOCK_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC


def connect(host: str, port: int, version: int) -> tuple[_socket.socket, bool]:
    """A non-blocking connection to (host, port): the socket and whether it is established
    already (on loopback the handshake runs inside connect(2)).  Raises OSError."""
    family = socket.AF_INET if version == 4 else socket.AF_INET6
    sock = _socket.socket(family, NONBLOCK_STREAM)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        err = sock.connect_ex((host, port))
    except OSError:
        sock.close()
        raise
    if err == errno.EINPROGRESS:
        try:
            sock.getpeername()
            return sock, True
        except OSError:
            return sock, False
    if err:
        sock.close()
        raise OSError(err, os.strerror(err))
    return sock, True
