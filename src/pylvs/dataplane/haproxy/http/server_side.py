"""The server side of the HTTP driver: one connection to a server (`ServerConn`: its
ServerMachine and socket) and a backend's idle connections (`Connections`: the ServerPool of
proto/http/conn/pool.py and the sockets behind its numbers).

A `ServerConn` belongs to the stream (stream.py) whose request it carries; when its machine
says `Release` the pool decides whether it is kept (then it waits, owned by `Connections`,
for a request that may take it: `http-reuse`) or closed.  An idle connection that the server
closes, or that says anything, is closed (the machine's IDLE rule); the pool's purge closes
the ones HAProxy would drop every `pool-purge-delay`.

Connecting follows src/backend.c as the mode tcp session does (session.py): `timeout
connect` per attempt, `retries` more attempts, on the same server after min(1 s, timeout
connect) when the attempt failed with an error, or another server when `option redispatch`
says so; the stream decides which (it owns the balancing).  Only the final failure reaches
the machine (`ConnectFailed`: HAProxy's 503).
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from pylvs.dataplane.proxy.sockets import unix_connect
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.pool import Reuse, ServerPool
from pylvs.proto.http.conn.server import Back, ServerMachine
from pylvs.proto.http2.upstream import H2ServerMachine

from .endpoint import Endpoint, connect

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
    from pylvs.dataplane.proxy.descriptors import Descriptors
    from pylvs.model.service import Address
    from pylvs.model.tls import TlsFacts

PURGE_DELAY = 5.0  # pool-purge-delay's default


class ServerConn:
    """One connection to a server.  `handler` is whoever takes the machine's commands (the
    stream while it carries a request, `Connections` while idle); `fds` counts its socket
    against the proxy's descriptor cap (descriptors.py) while it is open."""

    __slots__ = (
        "conn_id",
        "conns",
        "ep",
        "fds",
        "handler",
        "key",
        "m",
        "proxy_header",
        "skip",
        "srv",
        "timer",
        "timer_at",
        "tls",
    )

    def __init__(self, back: Back, srv: ServerRuntime, fds: Descriptors) -> None:
        # `server ... proto h2`: the same machine's part, in HTTP/2 frames (proto/http2)
        self.m = H2ServerMachine(back, srv.h2) if srv.spec.proto == "h2" else ServerMachine(back)
        self.srv = srv
        # the pool's key: the server, or (server, PROXY header) when it gets one
        # (proxy_header.py: only a stream with the same header reuses the connection)
        self.key: Hashable = srv
        self.proxy_header: bytes | None = None
        self.fds = fds
        self.ep: Endpoint | None = None
        self.conn_id = 0  # the pool's number, once connected
        self.conns: Connections | None = None  # its backend's connections
        self.handler: Any = None
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at: float | None = None
        self.skip = False  # its next head is written already (the pump's engine: engine.py)
        self.tls: TlsFacts | bool | None = None  # a TLS server's: False while shaking hands

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.timer_at = None

    def attach(self, ep: Endpoint) -> None:
        """Its socket (the descriptor was taken by the caller)."""
        self.ep = ep

    def drop_socket(self) -> list[bytes]:
        """Close the socket now (a failed attempt): what was written to it, for the next."""
        ep, self.ep = self.ep, None
        if ep is None:
            return []
        queued = list(ep.queue)
        ep.close()
        self.fds.give(1)
        self.m.socket_closed()
        return queued

    def close(self) -> None:
        """Close once what is queued has left (the descriptor is counted free at once)."""
        self.cancel_timer()
        ep, self.ep = self.ep, None
        if ep is not None:
            ep.close_when_sent()
            self.fds.give(1)
            self.m.socket_closed()
        self.handler = None


class Connections:
    """A backend's server connections: the pool's decisions and its idle sockets."""

    def __init__(self, be: BackendRuntime, reuse: Reuse, loop: asyncio.AbstractEventLoop) -> None:
        self.be = be
        self.pool = ServerPool(reuse, purge_delay=PURGE_DELAY)
        self.loop = loop
        self.idle: dict[int, ServerConn] = {}
        self._purge: asyncio.TimerHandle | None = None
        self.clock: Callable[[], float] = be.clock

    def take(self, key: Hashable, session: object, first: bool) -> ServerConn | None:
        """An idle connection for `key` (ServerConn.key) the pool lets `session` take."""
        conn_id = self.pool.take(key, session, first)
        if conn_id is None:
            return None
        sc = self.idle.pop(conn_id)
        return sc

    def opened(self, sc: ServerConn, session: object) -> None:
        sc.conn_id = self.pool.opened(sc.key, session)

    def release(self, sc: ServerConn, safe: bool, now: float) -> bool:
        """The connection finished a transaction: True if the pool keeps it (then it is
        idle here), False if the caller closes it."""
        if not sc.conn_id or not self.pool.release(sc.conn_id, safe, now):
            return False
        self.idle[sc.conn_id] = sc
        sc.handler = self
        assert sc.ep is not None
        sc.ep.take(IdleReader(self, sc))
        self._arm_purge()
        return True

    def closed(self, sc: ServerConn) -> None:
        if sc.conn_id:
            self.pool.closed(sc.conn_id)
            self.idle.pop(sc.conn_id, None)
            sc.conn_id = 0

    def session_ended(self, session: object) -> None:
        for conn_id in self.pool.session_ended(session):
            sc = self.idle.pop(conn_id, None)
            if sc is not None:
                sc.conn_id = 0
                _close(sc)

    def _arm_purge(self) -> None:
        at = self.pool.deadline
        if at is None or self._purge is not None:
            return
        self._purge = self.loop.call_later(max(0.0, at - self.clock()), self._purged)

    def _purged(self) -> None:
        self._purge = None
        for conn_id in self.pool.purge(self.clock()):
            sc = self.idle.pop(conn_id, None)
            if sc is not None:
                sc.conn_id = 0
                _close(sc)
        self._arm_purge()

    def drop_server(self, srv: ServerRuntime) -> None:
        """srv_cleanup_connections: `srv`'s idle connections close (its TLS changed)."""
        for sc in [c for c in self.idle.values() if c.srv is srv]:
            self.closed(sc)
            _close(sc)

    def close_all(self) -> None:
        if self._purge is not None:
            self._purge.cancel()
            self._purge = None
        for sc in list(self.idle.values()):
            self.closed(sc)
            _close(sc)

    # -- an idle connection's machine ---------------------------------------------------

    def idle_event(self, sc: ServerConn, event: ev.ServerEvent) -> None:
        for c in sc.m.handle(event, self.clock()):
            if type(c) is cmd.Close:
                self.closed(sc)
                _close(sc)


class IdleReader:
    """An idle pooled connection's socket events: anything is the end of it."""

    __slots__ = ("conns", "sc")

    def __init__(self, conns: Connections, sc: ServerConn) -> None:
        self.conns, self.sc = conns, sc

    def read(self, ep: Endpoint, data: bytes) -> None:
        self.conns.idle_event(self.sc, ev.DataRead(data))

    def eof(self, ep: Endpoint) -> None:
        self.conns.idle_event(self.sc, ev.EOF_READ)

    def failed(self, ep: Endpoint) -> None:
        self.conns.idle_event(self.sc, ev.EOF_READ)

    def blocked(self, ep: Endpoint) -> None:
        return

    def drained(self, ep: Endpoint) -> None:
        return

    def connected(self, ep: Endpoint) -> None:
        return

    def connect_failed(self, ep: Endpoint, reason: str) -> None:
        return


def _close(sc: ServerConn) -> None:
    sc.close()


def open_socket(srv: ServerRuntime, port: int, dst: Address | None = None) -> tuple[Any, bool]:
    """A connection to `srv` (a transparent backend's target, which has no address: to the
    client's destination `dst`)."""
    spec = srv.spec
    if spec.path is not None:  # unix@ / abns@
        sock, err = unix_connect(spec.path)
        if err:  # EAGAIN too: a full backlog refuses (a unix connect does not wait)
            sock.close()
            raise OSError(err, os.strerror(err))
        return sock, True
    if spec.address is None:
        if spec.fqdn is not None:  # a name `init-addr none` left without an address
            raise OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))
        assert dst is not None
        return connect(str(dst), port, dst.version)
    return connect(spec.host, port, spec.address.version)
