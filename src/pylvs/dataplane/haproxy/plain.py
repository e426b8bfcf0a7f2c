"""Plain listeners: a `mode tcp` frontend's streams accepted, balanced, connected and
spliced by the C pump (dataplane/proxy/_accept.h), with no Python object per stream.

Which listeners (`plain_servers`): the frontend has no rules (no `tcp-request` rules of any
kind: its streams go straight to the default backend, as FrontendListener.start_stream sends
them), no `log` target, no `accept-proxy`, no `maxconn` shared by several listeners; the
backend picks in C (cbalance.MirroredPool: roundrobin or static-rr without server `maxconn`,
leastconn, first; a pick C leaves to Python, a full server's queue, is handed over), has
no stick table, no `dispatch`, no `tcp-response content` rules; not a TLS bind.  A server
the pump connects to has an address and a port, sends no PROXY header and has no TLS
settings (`set server ssl on` included); the others' streams are handed to Python once
picked.  What the session's quick path (session.HaSession._quick) did for such a stream,
the pump does; what it left to Python (a connect under way or failed: retries, redispatch;
no pick possible in C) comes back here as a hand-over (`PLAIN_HANDED`) and continues as an
HaSession.

Python keeps every count and limit: the pump's records (_accept.h) are applied here once
per round, as the session's start and end applied them (the frontend's and the process's
connection counts, totals and rates; the backend's and the server's take and release; the
bytes).  The room the pump may use (`plain_room`) is recounted after each batch and after
every stream Python accepts itself, so `maxconn` (frontend, global) and the descriptor cap
hold as the Python accept loop holds them.  Idle timeouts: `plain_sweep`, every tenth of
the shortest timeout (at most a second).  `PlainView` is what `show sess`, `shutdown
sessions`, `shutdown session` and the stop see of a stream the pump runs.
"""

from __future__ import annotations

import _socket
import ipaddress
import itertools
import logging
import socket
from typing import TYPE_CHECKING, Any

from pylvs.model.proxy_spec import ConnFacts

from .cbalance import MirroredPool
from .session import HaSession, add_counts

if TYPE_CHECKING:
    from pylvs.dataplane.proxy._pump import Pump
    from pylvs.dataplane.proxy.poller import Poller
    from pylvs.sched.haproxy import Server

    from .backend import BackendRuntime
    from .frontend import FrontendListener

log = logging.getLogger("pylvs.proxy")
STARTED, ENDED, HANDED = 0, 1, 2
_KEYS = itertools.count(1)
_BIG = 1 << 30
_SWEEP_MAX = 1.0
_SWEEP_MIN = 0.005


def plain_servers(listener: FrontendListener) -> list[tuple[str, int, bool] | None] | None:
    """The (host, port, v6) the pump connects to per server of the listener's backend
    (None: a server it hands over), or None when the listener is not a plain one."""
    fe = listener.frontend
    be = fe.default
    if (
        fe.session
        or fe.http is not None
        or fe.logger is not None
        or fe.spec.mode != "tcp"
        or listener.bind.accept_proxy
        or listener.bind.tls is not None  # TLS: the handshake first (tls_hooks.py)
        or (fe.maxconn and len(fe.spec.binds) > 1)
        or be is None
        or not isinstance(be.pool, MirroredPool)
        or be.sticking is not None
        or be.dispatch is not None
        or (be.rules is not None and be.rules.tcp_response)  # response_gate.py holds bytes
    ):
        return None
    return servers_of(be)


def start(listener: FrontendListener) -> PlainListener | None:
    """The pump accepts on `listener` if it is a plain one (see the module doc)."""
    poller = listener.poller
    if poller is None or poller.pump is None:
        return None
    servers = plain_servers(listener)
    if servers is None:
        return None
    log.debug(
        "frontend %s: the pump accepts its streams on fd %d",
        listener.frontend.spec.name,
        listener.sock.fileno(),
    )
    return PlainListener(listener, poller, servers)


def servers_of(be: BackendRuntime) -> list[tuple[str, int, bool] | None]:
    out: list[tuple[str, int, bool] | None] = []
    for server in be.pool.lb.servers:
        spec = be.by_lb[id(server)].spec
        if (
            spec.address is None
            or spec.port is None
            or spec.proxy_version  # send-proxy, -v2, or proxy-v2-options alone (v1)
            or "%" in spec.host
            or be.by_lb[id(server)].tls.spec is not None  # TLS ready: its handshake in Python
        ):
            out.append(None)
        else:
            out.append((spec.host, spec.port, spec.address.version == 6))
    return out


class PlainListener:
    """The Python side of one plain listener (see the module doc)."""

    def __init__(
        self,
        listener: FrontendListener,
        poller: Poller,
        servers: list[tuple[str, int, bool] | None],
    ) -> None:
        self.listener = listener
        fe = self.fe = listener.frontend
        be = fe.default
        assert be is not None and isinstance(be.pool, MirroredPool) and poller.pump is not None
        self.be: BackendRuntime = be
        self.pool: MirroredPool = be.pool
        self.pump: Pump = poller.pump
        self.poller = poller
        self.key = next(_KEYS)
        self.live = 0
        self.views: dict[int, PlainView] = {}
        self.idle, self.fin_idle = be.idle(fe.client_s, fe.client_fin_s)
        poller.plains[self.key] = self
        self.pump.plain_listen(
            listener.sock.fileno(), self.key, self.pool.mirror.c, servers, self.idle, self.fin_idle
        )
        self.listed = list(self.pool.lb.servers)  # the servers by the pump's indexes
        self.pool.members_changed.append(self._members_changed)
        self.pool.members_changing.append(self._members_changing)
        self.recount()
        poller.sweep_every(min(self.idle, self.fin_idle))

    def _members_changing(self, server: Server) -> bool:
        """A server is about to leave: the records made so far name servers by the indexes
        it moves, so they are applied now (True: the pump has a stream on it that Python
        has not counted yet; a plain stream is counted from its start)."""
        self.poller.plain_flush()
        return False

    def _members_changed(self) -> None:
        """The pump learns the servers' new indexes, and moves its streams in flight to
        them (a removed server's: -1)."""
        servers = self.pool.lb.servers
        now = {id(s): i for i, s in enumerate(servers)}
        remap = [now.get(id(s), -1) for s in self.listed]
        self.pump.plain_servers(self.key, servers_of(self.be), remap)
        self.listed = list(servers)

    def stop(self) -> None:
        """Accept no more here (close, reload): the streams run on."""
        self.pump.plain_stop(self.key)
        if self._members_changed in self.pool.members_changed:
            self.pool.members_changed.remove(self._members_changed)
        if self._members_changing in self.pool.members_changing:
            self.pool.members_changing.remove(self._members_changing)

    def recount(self) -> None:
        """The room the pump may use before the next records: the frontend's, the process's
        and the descriptors'."""
        fe = self.fe
        rt = fe.runtime
        fds = self.listener.ctx.fds
        avail = fe.maxconn - fe.conns if fe.maxconn else _BIG
        gavail = min(rt.maxconn - rt.conns if rt.maxconn else _BIG, (fds.cap - fds.own) // 2)
        if rt.rates.limited(fe):  # the accept rate limits (ratelimit.py; no TLS bind here)
            now = self.listener.ctx.clock()
            # the frontend's room shared by its listeners the pump serves (each would take
            # it all in a round: the limit times their number)
            shared = sum(1 for lst in fe.listeners if lst.plain is not None) or 1
            avail = min(avail, rt.rates.frontend_room(fe, now) // shared)
            gavail = min(gavail, rt.rates.process_room(now))
        self.pump.plain_room(self.key, max(0, avail), max(0, gavail))

    # -- records ---------------------------------------------------------------------

    def counted(self, *, total: bool) -> None:
        """An accepted client's counts: its two descriptors (the listener's way), the
        frontend's and the process's connections, and (`total`) the stream's start."""
        fe = self.fe
        self.listener.ctx.fds.own += 2
        fe.conns += 1
        fe.runtime.conns += 1
        fe.max_conns = max(fe.max_conns, fe.conns)
        now = self.listener.ctx.clock()
        fe.runtime.rates.connection(fe, now)
        if total:
            fe.runtime.rates.session(fe, now)

    def started(self, cfd: int, index: int) -> None:
        """What HaSession's start and _quick counted for a stream."""
        self.counted(total=True)
        be = self.be
        be.enter()
        server = be.pool.lb.servers[index]
        self.pool.picked_in_c(server)
        be.take(server)
        be.connecting(be.by_lb[id(server)], False)  # the pump's connect
        self.live += 1

    def ended(self, rec: tuple[int, ...]) -> None:
        """What HaSession's spliced_end, _unsplice and _finish counted."""
        _, _, cfd, index, _how, cb, sb, cp, sp = rec
        be = self.be
        server = be.pool.lb.servers[index]
        add_counts(self.fe.counters, be.by_lb[id(server)].counters, (cp, cb, sp, sb))
        self.live -= 1
        self.views.pop(cfd, None)
        be.release(server)
        be.leave()
        self.listener.ctx.fds.give(2)
        self.listener.ended()

    def handed(self, rec: tuple[int, ...]) -> None:
        """A client the pump accepted and leaves to Python (see _accept.h)."""
        _, _, cfd, index, sfd, err = rec
        listener = self.listener
        fe = self.fe
        self.counted(total=False)
        got = adopt(listener, cfd, sfd)
        if got is None:
            return
        client, facts = got
        fe.runtime.rates.session(fe, listener.ctx.clock())
        be = self.be
        server = be.pool.lb.servers[index] if index >= 0 else None
        if server is not None:  # its take comes with the session's
            self.pool.picked_in_c(server)
        HaSession(
            listener, client, facts, be, handed=(server, sfd, err) if server is not None else None
        )

    def views_of(self) -> list[PlainView]:
        """A view of each live stream (the same object while it lives: its id is the one
        `show sess` prints and `shutdown session` takes)."""
        out = []
        now = self.listener.ctx.clock()
        for cfd, sfd, index, age in self.pump.plain_list(self.key):
            view = self.views.get(cfd)
            if view is None:
                view = self.views[cfd] = PlainView(self, cfd, sfd, index, now - age)
            out.append(view)
        return out

    def kill_all(self) -> None:
        self.pump.plain_kill(self.key, -1)
        self.poller.plain_flush()


def adopt(
    listener: FrontendListener, cfd: int, sfd: int
) -> tuple[_socket.socket, ConnFacts] | None:
    """The pump's client `cfd` as a socket and its addresses; None: it is gone (closed with
    `sfd`, its slot given back)."""
    client = _socket.socket(listener.sock.family, socket.SOCK_STREAM, 0, cfd)
    try:
        peer = client.getpeername()
        src, dst = listener._addresses(client, peer[0], None)
    except (OSError, ValueError):
        if sfd >= 0:
            _socket.socket(fileno=sfd).close()
        listener._drop(client, reset=True)
        return None
    return client, ConnFacts(src, peer[1], dst[0], dst[1])


class _End:
    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd


class PlainView:
    """What the stats socket and the stop read of a stream the pump runs (HaSession's
    attributes they use)."""

    __slots__ = ("be", "born", "client", "facts", "fe", "owner", "picked", "retries", "server")

    def __init__(self, owner: PlainListener, cfd: int, sfd: int, index: int, born: float) -> None:
        self.owner = owner
        self.fe = owner.fe
        self.be = owner.be
        self.picked: Server | None = owner.be.pool.lb.servers[index]
        self.born = born
        self.client = _End(cfd)
        self.server = _End(sfd)
        self.retries = 0
        self.facts = _facts(owner.listener, cfd)

    def abort(self) -> None:
        """End it now, both sides reset (as HaSession.abort ends a spliced stream)."""
        if self.owner.pump.plain_end(self.client.fd):
            self.owner.poller.plain_flush()


def _facts(listener: FrontendListener, cfd: int) -> ConnFacts:
    sock = _socket.socket(listener.sock.family, socket.SOCK_STREAM, 0, cfd)
    try:
        peer: Any = sock.getpeername()
        src, dst = listener._addresses(sock, peer[0], None)
        return ConnFacts(src, peer[1], dst[0], dst[1])
    except (OSError, ValueError):
        none = ipaddress.ip_address("0.0.0.0")
        return ConnFacts(none, 0, none, 0)
    finally:
        sock.detach()
