"""The Python side of the pump's HTTP/1 exchange engine (_http1.h; issue 21 point 6).

A kept-alive client connection whose proxies the engine can serve entirely is handed to the
pump between two exchanges (`FastPath.start`); the pump then reads each request, and for a
plain one calls `request` (the pick and an idle server connection, as upstream.py's
`_balance` and `_go` would choose them) and `done` once the whole response went to the client
(the exchange's counters, the connection back to its pool, as the server machine's Release
does).  Anything else comes back through `back` with every byte read, and the driver's
machines take it from there: a request nothing was decided on is read as if it had just
come; one already written to a server connection is replayed through the machines without
being written again (`ServerConn.skip`), and the response bytes read follow it, so HAProxy's
answers and captures stay the machines'.

Served entirely means (`eligible`): no rules (`ruleless`: the phases would pass each
request and response on unchanged, so the engine skips them), no hook that reads
or edits heads (cookie persistence, log lines: only the per-status counters of `show stat`,
which `done` counts), `option http-keep-alive` on both sides, HAProxy's default buffer
limits, a default backend balanced without reading the request and without queues (no
server maxconn, no PROXY header, HTTP/1 servers), no capture, and forwardfor / originalto
only without `if-none` (the fields they add are then the same on every request of the
connection: made once, appended by the pump).  The first request of a connection always
goes through the machines (`http-reuse safe` gives it no idle connection to take).

Timers: `timeout server` runs from the request's hand-over (one timer per session, re-armed
lazily; when it fires the exchange is replayed and the server machine's deadline, already
past, gives the 504); the keep-alive wait runs from the end of the last exchange the engine
served (`client_timer`).
"""

from __future__ import annotations

import _socket
import dataclasses
import weakref
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.poller import READ
from pylvs.proto.http.conn.client import Phase as ClientPhase
from pylvs.proto.http.connmode import Mode
from pylvs.proto.http.limits import DEFAULT_LIMITS
from pylvs.proto.http.message import RequestHead
from pylvs.sched.base import Flow, Need
from pylvs.sched.haproxy import Server

from .added import added_fields
from .server_owner import ServerOwner

if TYPE_CHECKING:
    import asyncio

    from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
    from pylvs.dataplane.haproxy.frontend import Frontend
    from pylvs.dataplane.proxy._pump import Pump
    from pylvs.dataplane.proxy.poller import Poller
    from pylvs.model.proxy_spec import AddedAddress
    from pylvs.proto.http.h1counters import H1Counters
    from pylvs.proto.rules.ruleset import ProxyRules

    from .server_side import Connections, ServerConn
    from .state import HttpState
    from .stream import HttpSession

_NO_HEAD = RequestHead(b"GET", b"/", b"HTTP/1.1", (), 0)
_ENGINES: weakref.WeakKeyDictionary[Poller, Engine] = weakref.WeakKeyDictionary()


class Engine:
    """The engine's callbacks for one poller's pump: they find the client's session."""

    __slots__ = ("__weakref__", "paths", "pump")

    def __init__(self, pump: Pump) -> None:
        self.pump = pump
        self.paths: dict[int, FastPath] = {}
        pump.h1_hooks(self._request, self._done, self._back)

    @classmethod
    def of(cls, poller: Poller) -> Engine | None:
        got = _ENGINES.get(poller)
        if got is None and poller.pump is not None:
            got = _ENGINES[poller] = cls(poller.pump)
        return got

    def _request(self, cfd: int) -> int:
        p = self.paths.get(cfd)
        return -1 if p is None else p.request()

    def _done(  # noqa: PLR0917 - the pump's callback, called positionally
        self,
        cfd: int,
        status: int,
        nin: int,
        nout: int,
        nsrv: int,
        nreq: int,
        rest: bytes | None,
    ) -> None:
        p = self.paths.get(cfd)
        if p is not None:
            p.done(status, nin, nout, nsrv, rest, nreq)

    def _back(
        self, cfd: int, sfd: int, req: bytes, resp: bytes | None, unsent: bytes | None
    ) -> None:
        p = self.paths.pop(cfd, None)
        if p is not None:
            p.on = False
            p.back(sfd, req, resp, unsent)


def eligible(s: HttpSession) -> BackendRuntime | None:
    """The session's default backend when the engine can serve its requests (module doc)."""
    fe, http = s.fe, s.http
    be = fe.default
    if be is None or s.passing is None:
        return None
    if fe.logger is not None and fe.spec.log.format is not None:
        return None
    return be if plain_proxies(fe, be, http, added=True) else None


def traffic(  # noqa: PLR0917 - an exchange's counts
    fe: Frontend, srv: ServerRuntime, nin: int, nout: int, now: float, n: int = 1
) -> None:
    """`n` exchanges the engine served, of `nin` and `nout` bytes in all (bin/bout: the
    requests' and responses' HTX sizes when the pump counted them, http/sizes.settle; else
    the bytes read): the frontend's request rate, its and the server's bytes, a packet
    each way."""
    if n == 1:
        fe.req_rate.count(now)  # proxy_inc_fe_req_ctr
    else:
        fe.req_rate.count_n(now, n)
    c = fe.counters
    c.inpkts += n
    c.inbytes += nin
    c.outpkts += n
    c.outbytes += nout
    sc = srv.counters
    sc.outpkts += n
    sc.inbytes += nin
    sc.outbytes += nout


def h1_traffic(  # noqa: PLR0917 - the engine's four counts
    front: H1Counters | None, back: H1Counters | None, nin: int, nout: int, nsrv: int, nreq: int
) -> None:
    """What the engine read and wrote on each side, in the H1 stats modules (show stat's
    h1_*): an exchange is a stream on each side."""
    if front is not None:
        front.bytes_in += nin
        front.bytes_out += nout
    if back is not None:
        back.bytes_in += nsrv
        back.bytes_out += nreq


def plain_proxies(
    fe: Frontend, be: BackendRuntime, http: HttpState, *, added: bool, captures: bool = False
) -> bool:
    """The frontend and its default backend do nothing per request the engine does not
    (the module doc's list); `added`: but forwardfor / originalto without if-none;
    `captures`: but `capture request|response header` (own_facts.py's, for the logs)."""
    hooks = (http.count is not None) + (http.log is not None)  # what the records feed
    if http.on_request or http.on_response or http.on_written or len(http.on_end) != hooks:
        return False
    if be.sticking is not None or be.dispatch is not None or be.pool.algorithm.need & Need.HTTP:
        return False
    proxies = fe.runtime.rules.proxies
    # the capture slots own_facts fills itself (those of `capture request|response header`;
    # httplog writes every slot, the empty ones too), when the caller takes captures
    slots = None
    if captures and fe.spec.http is not None:
        slots = (len(fe.spec.http.request_captures), len(fe.spec.http.response_captures))
    if not (
        ruleless(proxies.get(fe.spec.name), slots=slots)
        and ruleless(proxies.get(be.spec.name), slots=slots)
    ):
        return False
    front, back = http.front(fe.spec, be.spec), http.back(be.spec)
    if front.mode is not Mode.KEEP_ALIVE or back.mode is not Mode.KEEP_ALIVE:
        return False
    if front.limits != DEFAULT_LIMITS or back.limits != DEFAULT_LIMITS:
        return False
    for spec in (fe.spec.http, be.spec.http):
        if spec is not None and (
            spec.compression is not None
            or _added(spec.forwardfor, added)
            or _added(spec.originalto, added)
            or (not captures and (spec.request_captures or spec.response_captures))
            or spec.capture_cookie
            or spec.buffer_request
        ):
            return False
    for srv in be.servers:
        s_spec = srv.spec
        # a PROXY header keys the pool by (server, header); an h2 server is another machine;
        # a TLS one (`ssl`, or `set server ssl on` later: its spec has TLS settings) is no
        # socket the pump may write to
        if (
            s_spec.maxconn
            or s_spec.proxy_version
            or s_spec.proto not in {None, "h1"}
            or s_spec.tls is not None
        ):
            return False
    return True


def _added(option: AddedAddress | None, allowed: bool) -> bool:
    """forwardfor / originalto the engine does not add (any, unless `allowed`: then with
    if-none, whose field depends on the request)."""
    return option is not None and (not allowed or option.if_none)


# What a ProxyRules may set and still run nothing per request: its identity, and what only
# the machines' own answers read (error pages, the tarpit's and inspect delays, which need
# rules to matter); any other field set (a rule, a monitor-uri, a unique-id, ...) is work
# the engine does not do.
_INERT = frozenset({
    "name", "ref", "mode", "is_backend", "inspect_delay_ms", "response_inspect_delay_ms",
    "default_backend", "pages", "tarpit_ms", "http_request_ms",
})  # fmt: skip


def ruleless(rules: ProxyRules | None, *, slots: tuple[int, int] | None = None) -> bool:
    """The proxy's rules run nothing per request (the phases would only pass it on);
    `slots`: capture slots the caller fills itself (then not work left to the phases)."""
    if rules is None:
        return True
    return not any(
        getattr(rules, f.name)
        for f in dataclasses.fields(rules)
        if f.name not in _INERT and not (f.name == "capture_slots" and rules.capture_slots == slots)
    )


class FastPath:
    """One session's use of the engine (see the module doc)."""

    __slots__ = (
        "add",
        "be",
        "conns",
        "engine",
        "flow",
        "ka",
        "on",
        "s",
        "sc",
        "sent_at",
        "server",
        "server_s",
        "timer",
    )

    def __init__(self, s: HttpSession, be: BackendRuntime, engine: Engine) -> None:
        self.s = s
        self.be = be
        self.engine = engine
        f = s.facts
        self.flow = Flow(f.src, f.src_port, f.dst, f.dst_port, 6)
        self.conns: Connections | None = None
        self.on = False
        self.sc: ServerConn | None = None  # the request in flight, its connection
        self.server: Server | None = None
        self.sent_at = 0.0
        self.server_s = s.http.back(be.spec).timeouts.server
        self.timer: asyncio.TimerHandle | None = None
        self.ka: float | None = None  # the keep-alive wait, in seconds
        # forwardfor / originalto without if-none: the same fields on every request of the
        # connection (http_process_request appends them after the rules; there are none)
        f = s.facts
        more = added_fields(_NO_HEAD, s.fe.spec.http, be.spec.http, f.src, f.dst)
        self.add = b"".join(n + b": " + v + b"\r\n" for n, v in more)

    # -- handing the connection over and back -----------------------------------------------

    def start(self) -> None:
        """After a round of the machines: hand the connection over if it is between two
        exchanges with nothing in hand."""
        s = self.s
        client, cm = s.client, s.cm
        if (
            self.on
            or s.closed
            or s.x is not None
            or s.sc is not None
            or s.hold is not None
            or cm.phase is not ClientPhase.WAITING
            or not cm.not_first
            or cm.stopping
            or cm.framer.buffered
            or client.closed
            or client.eof_seen
            or client.holds
            or client.queue
            or client.corked is not None
            or client.passing is not None
            or client.passing_to is not None
            or client.mask != READ
            or type(client.sock) is not _socket.socket
            or (s.passing is not None and s.passing.passes)
        ):
            return
        deadline = cm.deadline
        if deadline is not None and deadline <= s.ctx.clock():
            return  # the client's timer is due: the machine closes the connection
        self.ka = None if deadline is None else max(0.0, deadline - s.idle_since)
        self.engine.pump.h1_start(client.fd, client.mask, self.add)
        self.engine.paths[client.fd] = self
        self.on = True

    def stop(self, *, replay: bool) -> None:
        """Take the connection back (a timer, a stop, the session's end): a request in
        flight is replayed (`replay`) or its server connection closed."""
        if not self.on:
            return
        self.on = False
        fd = self.s.client.fd
        self.engine.paths.pop(fd, None)
        got = self.engine.pump.h1_stop(fd)
        if got is None:
            return
        sfd, req, resp = got
        if replay:
            self.back(sfd, req, resp or None, None)
        elif sfd >= 0:
            self._drop_conn()

    def _drop_conn(self) -> None:
        sc, server = self.sc, self.server
        self.sc = self.server = None
        if sc is None or server is None:
            return
        self.be.release(server)
        self.s.up.closed(sc)

    # -- the pump's callbacks ----------------------------------------------------------------

    def request(self) -> int:
        """A plain request: the server and one of its idle connections (its descriptor), or
        -1 (the machines take the request; the server chosen, if any, stays chosen)."""
        s = self.s
        be = self.be
        now = s.ctx.clock()
        got = be.pool.assign(self.flow, now, None)
        if not isinstance(got, Server):
            return -1  # no server, or all full: the machines say so
        srv = be.runtime_of(got)
        conns = self.conns
        if conns is None:
            conns = self.conns = s.http.connections(be, s.loop)
            s.up.conns_used.add(conns)
        sc = None if srv.queue or srv.full(be.pool, now) else conns.take(srv, s, False)
        if sc is None:
            s.up.forced = got
            return -1
        ep = sc.ep
        assert ep is not None
        be.pool.take_conn(got)
        self.sc, self.server = sc, got
        sc.handler = s
        ep.take(ServerOwner(s, sc))
        s.servers.add(sc)
        s.sc = sc
        if self.server_s is not None:
            self.sent_at = now
            if self.timer is None:
                self.timer = s.loop.call_later(self.server_s, self._server_timer)
        return ep.fd

    def done(  # noqa: PLR0917 - the pump's callback's values
        self, status: int, nin: int, nout: int, nsrv: int, rest: bytes | None, nreq: int = 0
    ) -> None:
        """The response went to the client (`rest`: what its socket did not take; `nreq`:
        the request head's bytes written to the server)."""
        s, be = self.s, self.be
        sc, got = self.sc, self.server
        self.sc = self.server = None
        if sc is None or got is None:
            return
        now = s.ctx.clock()
        fe = s.fe
        srv = sc.srv
        traffic(fe, srv, nin, nsrv, now)
        back = sc.ep.h1 if sc.ep is not None else None
        h1_traffic(s.client.h1, back, nin, nout - len(rest or b""), nsrv, nreq)
        for h1 in (s.client.h1, back):
            if h1 is not None:
                h1.total_streams += 1  # the exchange's stream on each side, come and gone
        be.connecting(srv, True)  # an idle server connection carried it
        sc_ = srv.counters
        sc_.conns += 1  # be.take's counts, for the stream this request was in HAProxy
        be.counters.conns += 1
        srv.sess_rate.count(now)
        srv.max_sess = max(srv.max_sess, got.served)
        be.enter()
        be.leave()
        be.release(got)
        count = s.http.count
        if count is not None:
            count(fe.spec.name, be.spec.name, srv.spec.name, status)
        sc.m.served += 1
        s.servers.discard(sc)
        s.sc = None
        conns = sc.conns
        if conns is None or not conns.release(sc, sc.m.served > 1, now):
            s.up.closed(sc)
        s.idle_since = now
        if rest:
            self.stop(replay=False)
            s.client.write(rest)

    def back(self, sfd: int, req: bytes, resp: bytes | None, unsent: bytes | None) -> None:
        """The engine handed the exchange back: the machines read it (module doc)."""
        s = self.s
        up = s.up
        sc, got = self.sc, self.server
        if sc is not None and got is not None and sfd < 0:  # taken, then not used
            self._drop_conn()
            up.forced = got
            sc = None
        elif sc is not None and got is not None:
            self.sc = self.server = None
            self.be.pool.drop_conn(got)  # the machines take it again
            s.servers.discard(sc)
            s.sc = None
            up.forced = got
            up.forced_sc = sc
            sc.skip = True
            if unsent and sc.ep is not None:
                if sc.ep.h1 is not None:  # the replay counts the whole head, this writes it
                    sc.ep.h1.bytes_out -= len(unsent)
                sc.ep.write(unsent)
        if s.closed:
            return
        h1_traffic(
            s.client.h1,
            sc.ep.h1 if sc is not None and sc.ep is not None else None,
            len(req),
            0,
            len(resp or b""),
            0,
        )  # the head written: at its replay (skip)
        if req:
            s.client_data(req)
        up.forced = None
        if up.forced_sc is not None:  # the machines refused what the engine sent: cut it
            stale, up.forced_sc = up.forced_sc, None
            stale.skip = False
            up.closed(stale)
        elif resp and sc is not None and sc.ep is not None and sc.handler is s:
            sc.ep.owner.read(sc.ep, resp)
        s.run()

    # -- timers --------------------------------------------------------------------------------

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _server_timer(self) -> None:
        self.timer = None
        s = self.s
        if self.sc is None or self.server_s is None or s.closed:
            return
        due = self.sent_at + self.server_s
        now = s.ctx.clock()
        if now < due:
            self.timer = s.loop.call_later(due - now, self._server_timer)
            return
        sc = self.sc
        self.stop(replay=True)
        if sc.handler is s:  # its deadline, counted from the hand-over, is past: the 504
            s.expire(sc)

    def client_timer(self) -> bool:
        """The client's timer fired while the engine has the connection: True when the
        keep-alive wait, counted from the last exchange, is not over (re-armed)."""
        s = self.s
        if self.ka is not None:
            due = s.idle_since + self.ka
            now = s.ctx.clock()
            if now < due:
                s.c_timer = s.loop.call_later(due - now, s._c_fired)
                return True
        self.stop(replay=True)
        return False
