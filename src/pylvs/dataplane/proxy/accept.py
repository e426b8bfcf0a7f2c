"""The accept loop every TCP listener of the proxy runs (tcp.TcpListener, a keepalived.conf
virtual service's; haproxy.frontend.FrontendListener, a haproxy.cfg bind's).

Per readiness event it accepts up to `ACCEPT_BATCH` clients, so one busy listener cannot
starve the others.  Each client costs two descriptors (its own and its server's): at the
descriptor cap (descriptors.py) the listener stops accepting and clients wait in the listen
backlog until relays end.  accept(2) failures that mean "out of descriptors or memory" pause
it for `ACCEPT_BACK_OFF` seconds (asyncio's servers do the same) instead of spinning on a
listener that stays ready; a client that went away before its accept (ECONNABORTED) is
skipped.  Subclasses say whether there is room for one more client (`_room`: HAProxy's
maxconn) and what starts for each (`_accepted`).
"""

from __future__ import annotations

import _socket
import abc
import asyncio
import errno
import logging
import socket

from .context import ProxyContext
from .poller import READ, Poller

log = logging.getLogger("pylvs.proxy")

_BACK_OFF = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
ACCEPT_BACK_OFF = 1.0
ACCEPT_BATCH = 64


class Acceptor(abc.ABC):
    """A listening socket on the proxy's poller and its accept loop."""

    ctx: ProxyContext
    sock: socket.socket
    poller: Poller | None
    loop: asyncio.AbstractEventLoop | None
    _resume: asyncio.TimerHandle | None
    _closed: bool
    _paused: bool

    def _init_acceptor(self, ctx: ProxyContext, sock: socket.socket) -> None:
        self.ctx = ctx
        self.sock = sock
        self.poller = None
        self.loop = None
        self._resume = None
        self._closed = False
        self._paused = False

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.poller = self.ctx.poller(self.loop)
        # Accepted sockets inherit TCP_NODELAY from the listener (Linux copies the listener's
        # tcp_sock into the child): one setsockopt here instead of one per client.
        if self.sock.family != socket.AF_UNIX:  # (a unix socket has no such option)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.poller.add(self.sock.fileno(), READ, self._accept)

    @property
    def closed(self) -> bool:
        return self._closed

    def _stop_accepting(self) -> None:
        """Accept no more (the socket stays open: closing it is the caller's)."""
        self._closed = True
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        self.ctx.fds.forget(self.resume)
        if self.poller is not None:
            self.poller.forget(self.sock.fileno())

    def pause(self) -> None:
        if not self._paused and not self._closed and self.poller is not None:
            self._paused = True
            self.poller.modify(self.sock.fileno(), 0)

    def resume(self) -> None:
        self._resume = None
        if self._paused and not self._closed and self.poller is not None:
            self._paused = False
            self.poller.modify(self.sock.fileno(), READ)

    def _room(self) -> bool:
        """Whether one more client may be accepted now (else the subclass paused)."""
        return True

    @abc.abstractmethod
    def _accepted(self, client: _socket.socket, peer: tuple[str, int]) -> None:
        """Start what serves `client` (its two descriptors are taken)."""

    @abc.abstractmethod
    def _label(self) -> str:
        """What the log calls this listener."""

    def _accept(self, events: int) -> None:
        sock = self.sock
        family = sock.family
        fds = self.ctx.fds
        for _ in range(ACCEPT_BATCH):
            if not self._room():
                return
            if fds.own + 2 <= fds.cap:
                fds.own += 2  # Descriptors.take's common case, inline
            elif not fds.take(2):
                self.pause()
                fds.wait(self.resume)
                return
            try:
                # The C-level accept: socket.accept() would wrap the descriptor in a Python
                # socket.socket (a Python __init__) and probe its blocking mode.
                fd, peer = sock._accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError):
                fds.give(2)
                return
            except OSError as exc:
                fds.give(2)
                if exc.errno in _BACK_OFF:
                    self._back_off(exc)
                    return
                continue  # ECONNABORTED and friends: that client is gone, take the next
            self._accepted(_socket.socket(family, socket.SOCK_STREAM, 0, fd), peer)
            if self._closed:
                return

    def _back_off(self, exc: OSError) -> None:
        log.warning(
            "%s: cannot accept (%s); pausing accepts for %.0f s",
            self._label(),
            exc.strerror or exc,
            ACCEPT_BACK_OFF,
        )
        assert self.loop is not None
        self.pause()
        self._resume = self.loop.call_later(ACCEPT_BACK_OFF, self.resume)
