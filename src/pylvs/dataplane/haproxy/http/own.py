"""HTTP/1 listeners the pump serves itself (_h1own.h; issue 21 point 6: new connections).

A `mode http` listener whose every connection the exchange engine can serve from its first
request (`h1_listener` says which) is a plain listener (plain.py's room and records) marked
HTTP: the pump accepts, reads each request, picks in C (cbalance.MirroredPool: roundrobin,
static-rr, leastconn or first: a live pick counts on its server from the pick to the
exchange's record, whose take is told to C as the pick's), takes an idle server
connection as `http-reuse safe` allows or connects (_h1own.h's pool, proto/http/conn/
pool.py's rules), writes the head, relays the plain response and closes on `Connection:
close`, with no Python object per connection.  Python
counts, from the pump's records, once per round: an accepted connection as
FrontendListener._http counts it, each exchange as engine.FastPath.done counts it (the
frontend's request rate and bytes, the backend's and the server's take and release, `show
stat`'s per-status counts), a closed connection as a session's end.  When the frontend does
not log, the exchanges come as one tally per server and round (their count, byte sums and
status classes: `_tallied`), counted at once: half the CPU of a kept-alive request was
Python's per-exchange record.  Anything the engine
does not serve is handed over with every byte read and continues as an HttpSession
(`handed`): the machines read the request as if it had just come, or replay one already
written to its server connection (Upstream.forced_sock) and read the response bytes that
followed, so HAProxy's answers and `show errors` stay theirs.

A frontend that logs each exchange with a format (`option httplog`, `log-format`) has its
lines from the records: the pump puts each exchange's log facts in its record and
own_facts.py makes the Exchange httplog.py's hook logs, in the order the exchanges ended
(the records of a stop or reload are applied before the listener goes).  forwardfor and
originalto without `if-none` are written by the pump for each client from its accept
(own_facts.adds).  `capture request header` and `capture response header` are taken from
the heads the records carry when the frontend logs (without a log nothing reads them).

What the listener must not have, on top of what engine.eligible asks of a session's proxies
(no rules, no head-reading hook, keep-alive both sides, default limits): a
`log` target without a format (its line is the accept's), forwardfor with `if-none`,
`tcp-request` rules, `accept-proxy`, `bind ... proto h2`, a unix socket, a shared
frontend `maxconn`, an `http-reuse` other than safe.  The pump's idle
server connections are its own (the backend's Python sessions have theirs): they are counted
against no descriptor cap, bounded by the pool's rules (what the servers needed at once).
"""

from __future__ import annotations

import _socket
from typing import TYPE_CHECKING, Any

from pylvs.dataplane.haproxy import accept
from pylvs.dataplane.haproxy.cbalance import MirroredPool
from pylvs.dataplane.haproxy.plain import PlainListener, PlainView, adopt, servers_of
from pylvs.proto.http.conn.pool import Reuse

from . import own_facts, own_log
from .engine import h1_traffic, plain_proxies, traffic
from .server_side import PURGE_DELAY
from .settings import reuse
from .stream import HttpSession

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.backend import BackendRuntime
    from pylvs.dataplane.haproxy.frontend import FrontendListener
    from pylvs.dataplane.proxy.poller import Poller
    from pylvs.sched.haproxy import Server

SERVED, CLOSED, TALLY = 16, 17, 18  # _h1own.h's `how` of a PLAIN_ENDED record
_BIG = 1 << 30
SERVE = True  # False: every listener stays Python's (the tests compare the two)


def _seconds(*values: float | None) -> float:
    """The shortest of the timeouts set, for the pump (0: none)."""
    got = [v for v in values if v is not None and v > 0]
    return min(got) if got else 0.0


def h1_listener(listener: FrontendListener) -> BackendRuntime | None:
    """The listener's default backend when the pump can serve its connections (module doc)."""
    fe = listener.frontend
    http, be = fe.http, fe.default
    bind = listener.bind
    if (
        http is None
        or be is None
        or fe.spec.mode != "http"
        or fe.l4
        or (fe.rules is not None and fe.rules.tcp_session)
        or (fe.logger is not None and not logs(listener))
        or bind.accept_proxy
        or bind.proto == "h2"
        or bind.tls is not None  # TLS: the handshake first (tls_hooks.py)
        or listener.unix
        or (fe.maxconn and len(fe.spec.binds) > 1)
        or not isinstance(be.pool, MirroredPool)
        or reuse(be.spec) is not Reuse.SAFE  # the pump's pool does safe's only (_h1own.h)
    ):
        return None
    return be if plain_proxies(fe, be, http, added=True, captures=True) else None


def logs(listener: FrontendListener) -> bool:
    """The frontend logs each exchange with a format, from its `on_end` hook (httplog.py),
    which the pump's records can feed (own_facts.py); without a format its only line is
    the accept's (frontend.py), not the pump's to write."""
    fe = listener.frontend
    return fe.spec.log.format is not None and fe.runtime.http.log is not None


def start(listener: FrontendListener) -> H1Listener | None:
    """The pump serves `listener`'s connections if it can (see the module doc)."""
    poller = listener.poller
    if not SERVE or poller is None or poller.pump is None:
        return None
    be = h1_listener(listener)
    if be is None:
        return None
    return H1Listener(listener, poller, be)


class H1Listener(PlainListener):
    """The Python side of one HTTP listener the pump serves (see the module doc): a plain
    listener's room, members and stop, with its own records."""

    def __init__(self, listener: FrontendListener, poller: Poller, be: BackendRuntime) -> None:
        super().__init__(listener, poller, servers_of(be))
        fe = self.fe
        assert fe.http is not None
        self.adopted: list[HttpSession] = []  # what kill_all hands over, to abort
        self.h1views: dict[int, PlainView] = {}  # by client descriptor: `show sess`
        front, back = fe.http.front(fe.spec, be.spec), fe.http.back(be.spec)
        t = front.timeouts
        first = _seconds(t.http_request, t.client)
        ka = _seconds(t.keep_alive_wait, t.client)
        server = _seconds(back.timeouts.server)
        client = _seconds(t.client)
        self.logs = fe.logger is not None
        # the lines made straight from the records when the format allows (own_log.py)
        self.record_log = own_log.record_log(fe, be) if self.logs else None
        spec = fe.spec.http
        log = 2 if self.logs and spec is not None and spec.response_captures else self.logs
        added = own_facts.adds(spec, be.spec.http)
        self.pump.h1_listen(self.key, first, ka, server, client, PURGE_DELAY, log, added)
        fe.http.lenders.setdefault(be.spec.name, []).append(self.lend)
        be.h1.sources.append(self.server_conns)  # its pool's connections in h1_* (_h1own.h)
        for timeout in (first, ka, server, client, PURGE_DELAY):
            if timeout:
                poller.sweep_every(timeout)

    def stop(self) -> None:
        """Accept no more here (close, reload): the connections go on as sessions, which
        the stop then tells (HttpSession.stopping)."""
        super().stop()
        lenders = self.fe.runtime.http.lenders.get(self.be.spec.name, [])
        if self.lend in lenders:
            lenders.remove(self.lend)
        self.pump.h1_release(self.key)
        self.poller.plain_flush()
        self.be.h1.fold(self.server_conns)

    def _members_changing(self, server: Server) -> bool:
        """As a plain listener's (records applied by the old indexes), and True while an
        exchange the pump runs is on `server` (Python counts it only at its end) or the
        pump's pool keeps an idle connection to it (cli_parse_delete_server refuses while
        srv->curr_idle_conns, until the pool's purge closes them)."""
        super()._members_changing(server)
        if server not in self.listed:
            return False
        index = self.listed.index(server)
        return self.pump.h1_idle(self.key, index) > 0 or any(
            i == index for _, _, i, _ in self.pump.h1_list(self.key)
        )

    def server_conns(self) -> tuple[int, int]:
        """(opened, closed): the pump's pool's server connections so far."""
        return self.pump.h1_conns(self.key)

    def lend(self, server: Server) -> _socket.socket | None:
        """An idle connection to `server` from the pump's pool, for a request of a session
        it handed over that is not the connection's first (as one pool would give it)."""
        try:
            index = self.be.pool.lb.servers.index(server)
        except ValueError:
            return None
        sfd = self.pump.h1_take(self.key, index)
        return _socket.socket(fileno=sfd) if sfd >= 0 else None

    def views_of(self) -> list[PlainView]:
        """`show sess`: the exchanges in flight, one view each while it lasts (HAProxy's
        stream of each request; an idle kept-alive connection has none)."""
        views: dict[int, PlainView] = {}
        for cfd, sfd, index, since in self.pump.h1_list(self.key):
            view = self.h1views.get(cfd)
            if view is None or view.born != since:  # a new request: a new stream
                view = H1View(self, cfd, sfd, index, since)
            views[cfd] = view
        self.h1views = views
        return list(views.values())

    def kill_all(self) -> None:
        """Hard stop: every connection handed over, then aborted as the sessions are."""
        self.pump.h1_release(self.key)
        self.poller.plain_flush()
        adopted, self.adopted = self.adopted, []
        for s in adopted:
            if not s.closed:
                s.abort()

    # -- records ---------------------------------------------------------------------

    def started(self, cfd: int, index: int) -> None:
        """Accepted: what FrontendListener's accept and _http count."""
        self._accepted()
        self.fe.h1.opened()  # show stat's h1_* (an adopted session counts on from here)

    def _accepted(self) -> None:
        self.counted(total=True)
        self.live += 1

    def ended(self, rec: tuple[Any, ...]) -> None:
        how = rec[4]
        if how == TALLY:
            self._tallied(rec)
            return
        if how == SERVED:
            self._served(rec)
            return
        self.fe.h1.closed()
        self.live -= 1
        self.listener.ctx.fds.give(2)
        self.listener.ended()

    def _served(self, rec: tuple[Any, ...]) -> None:
        """An exchange: what engine.FastPath.done counts (the backend's take and release
        around it: HAProxy's stream for the request)."""
        _, _, _cfd, index, _how, status, nin, nout, nsrv, nreq = rec[:10]
        be, fe = self.be, self.fe
        if not 0 <= index < len(be.pool.lb.servers):  # its server was removed meanwhile
            return
        server = be.pool.lb.servers[index]
        srv = be.runtime_of(server)
        logged = len(rec) > 22  # the facts of a logging listener's record (own_facts.py)
        sizes = (rec[21], rec[22]) if logged else (nin, nsrv)
        traffic(fe, srv, *sizes, self.listener.ctx.clock())
        if logged:  # new or reused: a connect that took no time (t_conn == t_connd)
            be.connecting(srv, rec[12] == rec[13])
        h1_traffic(fe.h1, be.h1, nin, nout, nsrv, nreq)
        fe.h1.total_streams += 1  # the exchange's stream on each side, come and gone
        be.h1.total_streams += 1
        self._stream(server)
        http = fe.http
        if http is not None and http.count is not None:
            http.count(fe.spec.name, be.spec.name, srv.spec.name, status)
        if self.record_log is not None:  # after the release, as below
            self.record_log(rec, srv)
        elif self.logs and http is not None and http.log is not None:  # after the release,
            # as a session's exchange is logged after Upstream.exchange_ended
            http.log(own_facts.exchange(fe, be, srv, rec, self.listener.bind.name))

    def _stream(self, server: Server) -> None:
        """The backend's stream for one exchange, come and gone.  Leastconn, first: C
        counted the exchange on its server from the pick, this take is that pick's
        (cbalance.py), and the release ends it."""
        be = self.be
        be.enter()
        self.pool.picked_in_c(server)
        be.take(server)
        be.release(server)
        be.leave()

    def _tallied(self, rec: tuple[Any, ...]) -> None:
        """A round's exchanges on one server of a listener that does not log (_h1own.h's
        tally): what `_served` counts for each, counted at once."""
        _, _, _, index, _, n, nin, nout, nsrv, nreq = rec[:10]
        classes = rec[10:16]  # responses by status class, other first (proto/http/stats.py)
        # the requests' and responses' HTX sizes and the exchanges that reused an idle
        # server connection, the facts a logging listener's records carry
        hin, hout, reused = rec[16:19]
        be, fe = self.be, self.fe
        if not 0 <= index < len(be.pool.lb.servers):  # (applied before any removal)
            return
        server = be.pool.lb.servers[index]
        srv = be.runtime_of(server)
        traffic(fe, srv, hin, hout, self.listener.ctx.clock(), n)  # bin/bout: HTX sizes
        be.connecting(srv, True, reused)
        be.connecting(srv, False, n - reused)
        h1_traffic(fe.h1, be.h1, nin, nout, nsrv, nreq)
        fe.h1.total_streams += n
        be.h1.total_streams += n
        if self.pool.mirror.live:  # each take is a C pick's (`_stream`)
            for _ in range(n):
                self._stream(server)
        else:
            be.served_many(server, n)
        http = fe.http
        if http is not None and http.tally is not None:
            http.tally(fe.spec.name, be.spec.name, srv.spec.name, classes)

    def handed(self, rec: tuple[Any, ...]) -> None:
        """A connection the pump leaves to Python from here (see the module doc)."""
        cfd = rec[2]
        if len(rec) == 6:  # not taken at all (no memory): it was never counted
            self._accepted()  # (its session counts it in h1_*)
            index, sfd, req, resp, unsent, served, born, last, expired = (
                -1,
                -1,
                b"",
                b"",
                None,
                0,
                None,
                None,
                0,
            )
        else:
            _, _, _, index, sfd, _, req, resp, unsent, served, born, last, expired = rec
        self.live -= 1
        listener = self.listener
        got = adopt(listener, cfd, sfd)
        if got is None:
            return
        client, facts = got
        fe = self.fe
        sess = None
        if fe.rules is not None:  # as FrontendListener.start_stream makes it
            sess = accept.new_session(
                listener, facts.src, facts.src_port, facts.dst, facts.dst_port
            )
            if not accept.run_l5(listener, client, sess):
                if sfd >= 0:
                    _socket.socket(fileno=sfd).close()
                return
        assert fe.http is not None
        s = HttpSession(
            listener, client, facts, fe.http, sess, since=born, resumed=last if served else None
        )
        self.adopted.append(s)
        up = s.up
        pool = self.pool
        picked = pool.lb.servers[index] if index >= 0 else None
        ahead = pool.ahead.get(id(picked), 0)
        if picked is not None:  # the pump's pick: the machines use it, not a second one
            up.forced = picked
            pool.picked_in_c(picked)  # leastconn, first: the machines' take is the pick's
            if sfd >= 0:  # the head went there already: written again by nobody
                up.forced_sock = (_socket.socket(fileno=sfd), unsent, True)
        h1_traffic(s.client.h1, None, len(req), 0, 0, 0)  # what the pump read
        if req:
            s.client_data(req)
        up.forced = None
        if picked is not None and pool.ahead.get(id(picked), 0) > ahead:  # not taken by
            pool.take_conn(picked)  # the machines (a refusal): the pick's count ends here
            pool.drop_conn(picked)
        if up.forced_sock is not None:  # the machines did not take it (a refusal): cut it
            up.forced_sock[0].close()
            up.forced_sock = None
        sc = s.sc
        if resp and sc is not None and sc.ep is not None and sc.handler is s:
            h1_traffic(None, sc.ep.h1, 0, 0, len(resp), 0)
            sc.ep.owner.read(sc.ep, resp)
        if expired and s.sc is not None:  # timeout server, counted from the head's write
            s.expire(s.sc)
        s.run()


class H1View(PlainView):
    """An exchange the pump runs, as `show sess` and `shutdown session` see it."""

    __slots__ = ()

    def abort(self) -> None:
        """The connection goes to Python (the request replayed to its server connection),
        whose session is then aborted as any session's."""
        s = self._handed()
        if s is not None:
            s.abort()

    def kill(self) -> None:
        """`shutdown session`: handed over as by `abort`, then killed (HttpSession.kill)."""
        s = self._handed()
        if s is not None:
            s.kill()

    def _handed(self) -> HttpSession | None:
        owner = self.owner
        assert isinstance(owner, H1Listener)
        fd = self.client.fd
        if not owner.pump.h1_hand(fd):
            return None
        owner.poller.plain_flush()
        return next((s for s in owner.adopted if s.client.fd == fd and not s.closed), None)
