"""One epoll set for every proxied TCP socket, watched as a single descriptor by the asyncio loop.

Why not asyncio transports: a proxied connection through uvloop's Protocol/Transport pair cost
~165 µs of CPU (a connect task, a timer, two transports and their callbacks, extra
getsockname/getpeername calls per socket); the same relay written against epoll directly costs
about 100 µs, which is what the new-connections/s target of issue #3 needs.  The loop
still runs everything else (control socket, health checks, UDP, timers): it sees the epoll
descriptor as one readable file and calls `Poller._run`, which reads the ready events without
blocking (`epoll_wait` with timeout 0) and hands each one to the handler registered for its
descriptor.

Events are level-triggered (epoll(7)): a handler that does not consume what is ready is called
again on the next round, so a handler may stop early (backpressure, a batch limit) without
losing anything.  A handler must tolerate a stale event: when a descriptor is closed and its
number reused inside one batch, the rest of that batch may name the new socket.  The relays do
(EAGAIN on read, an empty queue on write, SO_ERROR checked on EPOLLERR).
"""

from __future__ import annotations

import asyncio
import logging
import select
from collections.abc import Callable

log = logging.getLogger("pylvs.proxy")

Handler = Callable[[int], None]

READ = select.EPOLLIN
WRITE = select.EPOLLOUT
ERROR = select.EPOLLERR
HANGUP = select.EPOLLHUP
PEER_EOF = select.EPOLLRDHUP

# Events read per round: large enough that a busy round is one epoll_wait, small enough that
# the loop's other callbacks (timers, the control socket) still run between rounds.
_BATCH = 256


class Poller:
    def __init__(self, read_size: int) -> None:
        self.ep = select.epoll()
        self.handlers: dict[int, Handler] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        # One receive buffer for every relay: a chunk is read into it and written out at once;
        # only what the other side cannot take right now is copied (so an idle connection
        # holds no buffer at all).
        self.buffer = bytearray(read_size)
        self.view = memoryview(self.buffer)
        self.size = read_size

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.loop is None:
            self.loop = loop
            loop.add_reader(self.ep.fileno(), self._run)

    def add(self, fd: int, mask: int, handler: Handler) -> None:
        self.ep.register(fd, mask)
        self.handlers[fd] = handler

    def modify(self, fd: int, mask: int) -> None:
        self.ep.modify(fd, mask)

    def forget(self, fd: int) -> None:
        """Drop the handler of `fd`, which the caller is about to close (closing a descriptor
        takes it out of the epoll set: no epoll_ctl needed)."""
        self.handlers.pop(fd, None)

    def remove(self, fd: int) -> None:
        """Stop watching `fd`, which stays open (a socket with nothing more to wait for)."""
        self.handlers.pop(fd, None)
        self.ep.unregister(fd)

    def close(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.remove_reader(self.ep.fileno())
        self.loop = None
        self.handlers.clear()
        self.ep.close()

    def _run(self) -> None:
        try:
            events = self.ep.poll(0, _BATCH)
        except InterruptedError:
            return
        handlers = self.handlers
        for fd, ev in events:
            handler = handlers.get(fd)
            if handler is None:
                continue
            try:
                handler(ev)
            except Exception:  # one relay's bug must not stop the others
                log.exception("proxy: handling an event on descriptor %d failed", fd)
