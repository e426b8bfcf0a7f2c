"""Where an HTTP request goes: its backend, its server, its server connection.

What src/http_ana.c (http_process_request: the backend), src/backend.c (assign_server,
connect_server with conn_backend_get for `http-reuse`, the retries of back_handle_st_cer) and
src/queue.c do for each request of a `mode http` stream, on the mode tcp runtime's backends
(backend.py: the balance Pool, queues, stick rules, counters):

* a request with no backend, or no usable server, gets HAProxy's 503;
* a request whose server (or every server) is at its maxconn waits in the queue; `timeout
  queue` (else `timeout connect`) gives it a 503;
* a connection attempt that fails is retried `retries` times: on another server when `option
  redispatch` allows (the server is down, the redispatch interval is reached, or the request
  was not sticky and the algorithm is round-robin-like with more than one server), else on
  the same one, after min(1 s, timeout connect) when it failed with an error; only the last
  failure reaches the server machine (its 503);
* once connected the PROXY header goes first (`send-proxy`), the stick stores are made.
The request's events that come while it has no connection yet (queued) wait here in order.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pylvs.dataplane.haproxy import tls_hooks
from pylvs.dataplane.haproxy.proxy_header import server_header
from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.timeouts import Timeouts
from pylvs.proto.rules.ruleset import Drop, Go, Respond, Service, Tarpit, Verdict, Wait
from pylvs.proto.sample.stream import ServerRef
from pylvs.proto.stick import Sticking, discard
from pylvs.sched.base import Flow, Need
from pylvs.sched.haproxy import FULL, NO_SERVER, Server

from . import cache, compress
from .added import added_fields, capture_cookie, slots
from .body_wait import CONTINUE, BodySoFar, wants_continue
from .endpoint import Endpoint
from .exchange import Exchange
from .phases import answer as phases_answer
from .server_owner import ServerOwner
from .server_side import ServerConn, open_socket
from .settings import set_timeouts

if TYPE_CHECKING:
    import _socket
    import asyncio

    from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime

    from .server_side import Connections
    from .stream import HttpSession

_TURNAROUND_MAX = 1.0


# The applets' names, as the log's %s shows the one that answered (promex.c, stats.c)
_APPLETS = {"prometheus-exporter": "<PROMEX>"}


class Upstream:
    """The server side of one HttpSession's current request (see the module doc)."""

    __slots__ = (
        "aborted",
        "be",
        "body",
        "buffering",
        "carry",
        "conns_used",
        "direct",
        "entered",
        "forced",
        "forced_sc",
        "forced_sock",
        "pending",
        "picked",
        "queued_at",
        "queued_on",
        "s",
        "sticking",
        "timer",
        "wait_head",
        "waiter",
        "x",
    )

    def __init__(self, s: HttpSession) -> None:
        self.s = s
        self.conns_used: set[Connections] = set()
        # the pump's engine chose the next request's server (and sent it on this
        # connection): the machines take that choice (engine.py)
        self.forced: Server | None = None
        self.forced_sc: ServerConn | None = None
        # a connection the pump made to the forced server and wrote the request's head to,
        # with what of the head its socket did not take (http/own.py)
        self.forced_sock: tuple[_socket.socket, bytes | None, bool] | None = None
        self._reset()

    def _reset(self) -> None:
        self.x: Exchange | None = None
        self.be: BackendRuntime | None = None
        self.entered = False
        self.picked: Server | None = None
        self.direct = False
        self.sticking: Sticking | None = None
        self.pending: list[Any] | None = None  # the request's events while it has no server
        self.carry: list[bytes] = []  # what a failed attempt had queued
        self.queued_at = 0.0
        self.queued_on: Server | bool | None = False  # False: not queued
        self.waiter: asyncio.TimerHandle | None = None  # queue, turn-around
        self.timer: asyncio.TimerHandle | None = None  # the attempt's connect timer
        self.body: BodySoFar | None = None  # what came of the body while the rules decide
        self.wait_head: ev.HeadForwarded | None = None  # the head whose rules wait
        self.buffering = False  # option http-buffer-request holds the request
        self.aborted = False  # abortonclose: the client's close went on to the server

    # -- a new request -------------------------------------------------------------------

    def request(self, x: Exchange, head: ev.HeadForwarded) -> None:
        s = self.s
        self.x = x
        now = s.ctx.clock()
        if s.phases is None:  # a spec without compiled rules: the default backend
            self.pending = [head]
            self._backend(s.fe.default, None, now)
            return
        self.pending = []  # the body's events while the rules decide (they go on after)
        body = self.body = BodySoFar(head.head, s.http.limits)
        s.phases.begin(head.head, now)
        x.stream = s.phases.stream
        if x.request_captures and x.stream is not None:  # capture.req.hdr(N)'s first slots
            x.stream.captures.request[: len(x.request_captures)] = slots(x.request_captures)
        s.phases.body(body, response=False)
        http = s.fe.spec.http
        if http is not None and http.buffer_request and not (body.done or body.full):
            # http_wait_for_request_body, before the frontend's rules: `timeout http-request`
            self.buffering = True
            ms = http.request_ms
            self._wait_body(head, None if ms is None else now + ms / 1000, self._buffered)
            return
        self._verdict(s.phases.again(now), head, now)

    def _body_unsettled(self) -> bool:
        body = self.body
        return body is not None and not (body.done or body.full)

    def _wait_body(self, head: ev.HeadForwarded, until: float | None, then: Any) -> None:
        """Hold the request until its body settles (body_wait.py) or `until` (`then`)."""
        s = self.s
        body = self.body
        if body is not None and not body.data and not body.continued:
            body.continued = True
            if wants_continue(head.head):  # http_handle_expect_hdr
                s.client.write(CONTINUE)
                assert s.phases is not None
                s.phases.continue_sent()
        self.wait_head = head
        if until is not None and self.waiter is None:
            self.waiter = s.loop.call_later(max(0.0, until - s.ctx.clock()), then, head)

    def _buffered(self, head: ev.HeadForwarded) -> None:
        """option http-buffer-request: the body settled, or `timeout http-request` passed
        (the 408, cD)."""
        self.waiter = None
        s = self.s
        body = self.body
        if s.closed or s.phases is None or body is None:
            return
        self.buffering = False
        self.wait_head = None
        if body.done or body.full:
            now = s.ctx.clock()
            self._verdict(s.phases.again(now), head, now)
        else:
            self._fail(408, "cD")
        s.run()

    def _verdict(self, verdict: Verdict, head: ev.HeadForwarded, now: float) -> None:
        """What the request phases decided (proto/rules/http_flow)."""
        s = self.s
        phases = s.phases
        assert phases is not None and self.x is not None
        self.wait_head = None
        txn = phases.txn
        if txn is not None and not isinstance(verdict, Go):
            # answered by the proxy: the frontend counts it as intercepted when its own rules
            # did; a backend whose rules answered counts the status (s->be is the backend)
            self.x.intercepted = txn.intercepted
            if txn.backend is not None and self.x.backend is None:
                be = self.x.backend = s.fe.runtime.backends.get(txn.backend)
                if be is not None:  # the stream was there (stream_set_backend: stot, smax)
                    be.visited()
        if cache.answered(self, verdict, now):  # cache-use's hit: the cache applet answers
            return
        if isinstance(verdict, Go):
            edited = phases.forwarded(head.head)
            self.x.request = edited
            capture_cookie(self.x, s.fe.spec.http, edited)
            self.pending = [ev.HeadForwarded(edited, head.first, head.mode), *(self.pending or ())]
            be = s.fe.runtime.backends.get(verdict.backend or "")
            stats = s.http.pages.get(verdict.backend or "")
            own = stats(self.x) if stats is not None else None
            if own is not None:  # the backend's stats applet (http_process_req_common)
                self.x.backend = be
                self.x.applet = "<STATS>"
                self._answer(phases.own(own), "LR")
                return
            self._backend(be, verdict.server, now)
        elif isinstance(verdict, Respond):
            local = txn is not None and txn.local_reply  # return/redirect/auth: LR
            self._answer(phases_answer(verdict.response), "LR" if local else "PR")
        elif isinstance(verdict, Drop):
            self.x.termination = "PR"
            s.drop(reset=verdict.silent)
        elif isinstance(verdict, Tarpit):
            capture_cookie(self.x, s.fe.spec.http, phases.forwarded(head.head))
            page = phases_answer(verdict.response)
            self.waiter = s.loop.call_later(
                max(0.0, verdict.until - now), self._late_answer, page, "PT"
            )
        elif isinstance(verdict, Wait) and self._body_unsettled():
            # wait-for-body, a backend's http-buffer-request: again as the body comes
            self._wait_body(head, verdict.until, self._again)
        elif isinstance(verdict, Wait) and verdict.until is not None:
            self.waiter = s.loop.call_later(max(0.0, verdict.until - now), self._again, head)
        elif isinstance(verdict, Service):
            service = s.http.services.get(verdict.name)
            if service is None:
                self._fail(503, "PR")
            else:
                self.x.applet = _APPLETS.get(verdict.name)
                got = service(self.x)
                if isinstance(got, bytes):
                    self._answer(Answer.of(got), "--")
                else:  # an applet that answers later (a Lua service)
                    got(self._service_answered)
        else:  # a wait for a body pylvs does not buffer (wait-for-body)
            self._fail(500, "PR")

    def _body_came(self) -> None:
        """More of the body a wait holds: the wait may end now."""
        s, head, body = self.s, self.wait_head, self.body
        assert head is not None and body is not None and s.phases is not None
        s.phases.body(body, response=False)
        if self.buffering:
            if body.done or body.full:
                self._cancel_waiter()
                self._buffered(head)
            return
        self._cancel_waiter()
        self._again(head)

    def _again(self, head: ev.HeadForwarded) -> None:
        self.waiter = None
        s = self.s
        if s.phases is not None and not s.closed:
            now = s.ctx.clock()
            self._verdict(s.phases.again(now), head, now)
            s.run()

    def _service_answered(self, page: bytes | Answer) -> None:
        self._late_answer(page if isinstance(page, Answer) else Answer.of(page), "--")

    def _late_answer(self, page: Answer, termination: str) -> None:
        self.waiter = None
        if not self.s.closed:
            self._answer(page, termination)
            self.s.run()

    def _answer(self, page: Answer, termination: str) -> None:
        """The proxy answers this request itself (deny, return, redirect, a service)."""
        self.pending = None
        x = self.x
        if x is not None:
            x.status = page.head.status
            x.termination = termination
        self.s.work.append((None, ev.ServerFailed(page.head.status, page)))

    def _backend(self, be: BackendRuntime | None, server_name: str | None, now: float) -> None:
        s = self.s
        x = self.x
        assert x is not None
        if be is None:
            self._fail(503, "PR")
            return
        self.be = x.backend = be
        be.enter()
        self.entered = True
        fe_http, be_http = s.fe.spec.http, be.spec.http
        if self.pending and (
            (fe_http is not None and (fe_http.forwardfor or fe_http.originalto))
            or (be_http is not None and (be_http.forwardfor or be_http.originalto))
        ):
            head = self.pending[0]
            f = s.facts
            # the stream's addresses: `http-request set-src|set-dst` may have changed them
            # (http_process_request reads sc_src/sc_dst of the stream's front side)
            st = s.phases.stream if s.phases is not None else None
            src = st.src if st is not None and st.src is not None else f.src
            dst = st.dst if st is not None and st.dst is not None else f.dst
            more = added_fields(head.head, fe_http, be_http, src, dst)
            if more:
                edited = replace(head.head, fields=head.head.fields + more)
                x.request = edited
                self.pending[0] = ev.HeadForwarded(edited, head.first, head.mode)
        if self.pending and compress.configured(fe_http, be_http):  # Accept-Encoding, offload
            head = self.pending[0]
            edited = compress.request(x, fe_http, be_http, head.head)
            if edited is not head.head:
                x.request = edited
                self.pending[0] = ev.HeadForwarded(edited, head.first, head.mode)
        assigned = None
        stream = s.phases.stream if s.phases is not None else None
        if stream is not None:  # force-persist / ignore-persist, for the cookie hook
            x.persist = be.persistence(stream)
        for hook in s.http.on_request:  # every hook sees the request: cookies are edited
            assigned = assigned or hook(x)
        self._edited()
        if assigned is None and server_name is not None:
            # use-server, unless a cookie assigned one (SF_ASSIGNED); a down server: balanced
            named = be.pool.server(server_name)
            if named is not None and named.currently_usable():
                assigned = named
        if be.sticking is not None and stream is not None:
            self.sticking = be.stick(stream, now, assigned)
            if self.sticking is not None and self.sticking.server is not None:
                assigned = self.sticking.server
        if assigned is not None:
            self.direct = True
            self._to_server(assigned, now)
            return
        self._balance(now, None)

    def _named(self, srv: ServerRuntime) -> None:
        """The server the request goes to, for the fetches of the response rules and log
        (srv_id, srv_name, ...)."""
        stream = self.s.phases.stream if self.s.phases is not None else None
        if stream is not None:
            spec = srv.spec
            stream.server = ServerRef(spec.name, spec.id, spec.address, spec.port, spec.weight)

    def _edited(self) -> None:
        """A hook replaced `exchange.request` (a persistence cookie removed): forward that."""
        x, pending = self.x, self.pending
        if x is not None and x.request is not None and pending and pending[0].head is not x.request:
            head = pending[0]
            pending[0] = ev.HeadForwarded(x.request, head.first, head.mode)

    def _flow(self) -> Flow:
        f = self.s.facts
        be = self.be
        assert be is not None and self.x is not None
        head = self.x.request
        request = head.view() if head is not None and be.pool.algorithm.need & Need.HTTP else None
        return Flow(f.src, f.src_port, f.dst, f.dst_port, 6, request=request)

    def _pick(self, now: float, avoid: Server | None) -> Server | bool | None:
        be = self.be
        assert be is not None
        forced = self.forced
        if forced is not None:
            self.forced = None
            return forced
        if be.dispatch is not None:  # dispatch / option transparent: no balancing
            return be.dispatch.lb
        got = be.pool.assign(self._flow(), now, avoid)
        if got is NO_SERVER:
            return None
        if got is FULL:
            return True
        assert isinstance(got, Server)
        return got

    def _balance(self, now: float, avoid: Server | None) -> None:
        got = self._pick(now, avoid)
        if got is None:
            self._fail(503, "SC")
        elif got is True:
            self._queue(None, now)
        else:
            assert isinstance(got, Server)
            self._to_server(got, now)

    def _to_server(self, server: Server, now: float) -> None:
        be = self.be
        assert be is not None
        srv = be.runtime_of(server)
        if srv.full(be.pool, now) or srv.queue:
            self._queue(server, now)
        else:
            self._go(server)

    def _queue(self, server: Server | None, now: float) -> None:
        be = self.be
        assert be is not None and self.x is not None
        if not be.enqueue(self, server):  # type: ignore[arg-type]
            if self.direct and be.spec.redispatch:
                self.direct = False
                self._balance(now, server)
            else:
                self._fail(503, "sQ")
            return
        self.queued_at = self.x.queued_at = now
        self.queued_on = server
        if be.queue_s is not None:
            self.waiter = self.s.loop.call_later(be.queue_s, self._queue_expired)

    def dequeued(self, server: Server) -> None:
        """A slot of `server` is this request's (backend.process_queue)."""
        self.queued_on = False
        self._cancel_waiter()
        if self.x is not None:
            self.x.dequeued_at = self.s.ctx.clock()
        self._go(server)
        self.s.run()

    def redispatch_queued(self) -> None:
        """Its server went down while the request waited for it (pendconn_redistribute,
        check_queues.py): out of that queue, the algorithm chooses again."""
        self._leave_queue()
        self._cancel_waiter()
        self.direct = False
        if self.x is not None and self.be is not None:
            self._balance(self.s.ctx.clock(), None)
            self.s.run()

    def _queue_expired(self) -> None:
        self.waiter = None
        self._leave_queue()
        if self.x is not None:
            self.x.dequeued_at = self.s.ctx.clock()
        self._fail(503, "sQ")
        self.s.run()

    def _leave_queue(self) -> None:
        if self.queued_on is not False and self.be is not None:
            server = self.queued_on if isinstance(self.queued_on, Server) else None
            self.be.unqueue(self, server)  # type: ignore[arg-type]
            self.queued_on = False

    def client_closed(self) -> bool:
        """The client closed its side: with `option abortonclose`, a request still waiting for
        its connection is given up (src/backend.c back_may_abort_req, back_handle_st_con,
        back_handle_st_cer: `CQ` in a queue, `CC` while connecting or between retries); the
        session then closes (True).  One waiting for its response shuts the server's side."""
        be, x = self.be, self.x
        if be is None or x is None or not be.spec.abortonclose:
            return False
        if x.connected_at is not None:
            sc = self.s.sc
            if x.response is None and sc is not None and not self.aborted:
                # http_wait_for_response: the close goes on to the server, which decides;
                # its close then answers the client 400 (`CH`, stream.py)
                self.aborted = True
                self.s.work.append((sc, ev.CLIENT_SHUT))
            return False
        if not self.s.fe.spec.abortonclose:
            # the front side keeps reading the client only when the proxy that reads it
            # has the option (stconn.c sc_conn_recv CO_RFL_KEEP_RECV, s->be being the
            # frontend then): with it in the backend alone, haproxy 2.6.12 sees the close
            # only once a server answers (tests/integration/hamode/http/
            # test_http_abortonclose.py)
            return False
        if self.queued_on is not False:
            x.termination = "CQ"
            x.dequeued_at = self.s.ctx.clock()
        elif x.connect_at is not None:
            x.termination = "CC"
        else:
            return False
        return True

    def _fail(self, status: int, termination: str) -> None:
        """No server will answer: HAProxy's page (the client machine writes it)."""
        self.pending = None
        x = self.x
        if x is not None:
            x.status = status
            x.termination = termination
        self.s.work.append((None, self.s.failure(status)))

    # -- a server, a connection ------------------------------------------------------------

    def _go(self, server: Server) -> None:
        s = self.s
        be = self.be
        x = self.x
        assert be is not None and x is not None
        self.picked = server
        be.take(server)
        srv = x.server = be.runtime_of(server)
        self._named(srv)
        conns = s.http.connections(be, s.loop)
        self.conns_used.add(conns)
        stream = s.phases.stream if s.phases is not None else None
        header = server_header(srv.spec, s.facts, stream) if srv.spec.proxy_version else None
        # a connection that sent a PROXY header serves only streams with the same header
        key: Hashable = srv if header is None else (srv, header)
        sc = self.forced_sc
        if sc is not None and sc.srv is srv:
            self.forced_sc = None
        elif self.forced_sock is not None:
            sc = None  # the pump's own connection to `srv` carries the head already
        else:
            first = x.first and not s.not_first_streams
            sc = conns.take(key, s, first)
            if sc is None and not first and header is None:
                self._borrow(server, be)
        now = s.ctx.clock()
        # the pump's own connection carrying the head (forced_sock) was new or idle: a reuse
        # unless it is the connection's first exchange
        be.connecting(srv, sc is not None or (self.forced_sock is not None and not x.first))
        if sc is not None:
            x.reused = True
            x.connect_at = x.connected_at = now
            sc.handler = s
            assert sc.ep is not None
            sc.ep.take(ServerOwner(s, sc))
        else:
            sc = ServerConn(s.http.back(be.spec), srv, s.ctx.fds)
            sc.proxy_header, sc.key = header, key
            sc.handler = s
            sc.conns = conns
        s.servers.add(sc)
        s.sc = sc
        if srv.spec.proto != "h2":  # an HTTP/2 server's streams are its h2 module's
            x.h1_stream(be.h1)
        pending, self.pending = self.pending or [], None
        s.cm.tunnel_timeout = None
        if stream is not None and stream.timeouts and pending:
            self._set_timeouts(pending, stream.timeouts, s.http.back(be.spec).timeouts)
        for event in pending:
            s.work.append((sc, event))

    def _set_timeouts(self, pending: list[Any], chosen: dict[str, int], base: Timeouts) -> None:
        """`set-timeout server|tunnel`: the request's server machine and the client's tunnel
        take them (settings.set_timeouts)."""
        head = pending[0]
        if type(head) is not ev.HeadForwarded:
            return
        t = set_timeouts(base, chosen)
        if "tunnel" in chosen:
            self.s.cm.tunnel_timeout = t.tunnel
        pending[0] = replace(head, timeouts=t)

    def forward(self, event: Any) -> None:
        """A client-side event for the request's server connection."""
        if event is None:
            return
        if self.pending is not None:
            if event is ev.CLIENT_ABORTED:  # gone while queued: leave the queue
                self._cancel_waiter()
                self._leave_queue()
                self.pending = None
            else:
                self.pending.append(event)
                body = self.body
                if body is not None and self.wait_head is not None and body.take(event):
                    self._body_came()
            return
        sc = self.s.sc
        if sc is not None:
            self.s.work.append((sc, event))

    def connect(self, sc: ServerConn) -> None:
        """The machine's Connect: the first attempt."""
        if self.x is not None and self.x.connect_at is None:
            self.x.connect_at = self.s.ctx.clock()
        self._attempt(sc)

    def _borrow(self, server: Server, be: BackendRuntime) -> None:
        """An idle connection the pump's HTTP listeners keep for this backend (state.py
        `lenders`), reused as the backend's own would be."""
        for lend in self.s.http.lenders.get(be.spec.name, ()):
            lent = lend(server)
            if lent is not None:
                self.forced_sock = (lent, None, False)
                return

    def _attempt(self, sc: ServerConn) -> None:
        s = self.s
        self.waiter = None
        if not s.ctx.fds.take(1):
            self._final(sc)
            return
        dst, dst_port = s.facts.dst, s.facts.dst_port
        st = s.phases.stream if s.phases is not None else None
        if st is not None and st.dst is not None:  # as set-dst / set-dst-port left them
            dst, dst_port = st.dst, st.dst_port
        forced, self.forced_sock = self.forced_sock, None
        if forced is not None:  # connected, the head written (but `forced[1]`): own.py
            sock, connected = forced[0], True
            sc.skip = forced[2]
        else:
            try:
                sock, connected = open_socket(sc.srv, sc.srv.spec.port_for(dst_port), dst)
            except OSError:
                s.ctx.fds.give(1)
                self._failed(sc, error=True)
                return
        poller = s.listener.poller
        assert poller is not None
        sc.tls = None
        if sc.srv.tls.on:  # TLS: nothing is written before the handshake (tls_hooks.py)
            connected = False
        ep = Endpoint(sock, poller, ServerOwner(s, sc), connected=connected)
        if sc.srv.spec.proto != "h2" and self.be is not None:
            if forced is None:
                ep.count_h1(self.be.h1)  # show stat's h1_* of the backend
            else:  # the pump's own pool counted it opened (own.py, h1_conns)
                ep.h1 = self.be.h1
        sc.attach(ep)
        if forced is not None and forced[1]:
            if ep.h1 is not None:  # its whole head counts at its replay (skip)
                ep.h1.bytes_out -= len(forced[1])
            ep.write(forced[1])
        carry, self.carry = self.carry, []
        for data in carry:
            ep.write(data)
        if connected:
            self.established(sc)
        else:
            assert self.be is not None
            self.timer = s.loop.call_later(self.be.connect_s, self._timed_out, sc)

    def _timed_out(self, sc: ServerConn) -> None:
        self.timer = None
        self._failed(sc, error=False)
        self.s.run()

    def established(self, sc: ServerConn) -> None:
        if sc.srv.tls.on and sc.tls is None:  # the handshake, then here again
            tls_hooks.connect_http(self, sc, self.s.fe.runtime.tls)
            return
        s = self.s
        self._cancel_timer()
        now = s.ctx.clock()
        if self.x is not None:
            self.x.connected_at = now
        if sc.conns is not None:
            sc.conns.opened(sc, s)
        ep = sc.ep
        assert ep is not None
        header = sc.proxy_header
        if header is not None and not sc.tls:  # a TLS server's went first, in clear
            ep.queue.insert(0, header)
            ep.queued += len(header)
        stream = s.phases.stream if s.phases is not None else None
        if stream is not None and sc.tls:
            stream.bc_tls = sc.tls  # type: ignore[assignment]
        if self.sticking is not None and self.picked is not None and self.be is not None:
            if stream is not None:
                self.be.store(self.sticking, stream, self.picked, now)
            self.sticking = None
        s.work.append((sc, ev.Connected()))
        ep.flush_connected()

    def connect_failed(self, sc: ServerConn) -> None:
        self._failed(sc, error=True)
        self.s.run()

    def _failed(self, sc: ServerConn, *, error: bool) -> None:
        """One attempt failed (back_handle_st_cer)."""
        self._cancel_timer()
        self.carry = sc.drop_socket()
        be, server, x = self.be, self.picked, self.x
        if be is None or server is None or x is None:
            self._final(sc)
            return
        if x.retries >= be.spec.retries:
            self._final(sc)
            return
        x.retries += 1
        if be.redispatches_on(server, x.retries, direct=self.direct):
            got = self._pick(self.s.ctx.clock(), server)
            if isinstance(got, Server):
                be.redispatches += 1
                x.redispatched = True
                be.release(server)
                self.direct = False
                self.picked = got
                be.take(got)
                sc.srv = x.server = be.runtime_of(got)
                self._named(sc.srv)
                self._attempt(sc)
                return
        be.retries += 1
        be.runtime_of(server).retries += 1
        if error:
            self.waiter = self.s.loop.call_later(
                min(_TURNAROUND_MAX, be.connect_s), self._retry, sc
            )
        else:
            self._attempt(sc)

    def _retry(self, sc: ServerConn) -> None:
        self.waiter = None
        self._attempt(sc)
        self.s.run()

    def _final(self, sc: ServerConn) -> None:
        """No more attempts: a failed connection, the machine answers its 503."""
        be = self.be
        if be is not None:
            be.failed_conns += 1
            if self.picked is not None:
                be.runtime_of(self.picked).failed_conns += 1
        if self.x is not None:
            self.x.termination = "SC"
        self.carry = []
        self.s.work.append((sc, ev.ConnectFailed()))

    def release(self, sc: ServerConn, safe: bool) -> None:
        """The machine's Release: the pool keeps the connection or it closes."""
        s = self.s
        self._forget(sc)
        sc.cancel_timer()
        conns = sc.conns
        if (
            sc.conn_id
            and sc.ep is not None
            and conns is not None
            and conns.release(sc, safe, s.ctx.clock())
        ):
            return
        self.closed(sc)

    def closed(self, sc: ServerConn) -> None:
        """The machine's Close (or the pool's refusal)."""
        self._forget(sc)
        if sc.conns is not None:
            sc.conns.closed(sc)
        sc.close()

    def _forget(self, sc: ServerConn) -> None:
        s = self.s
        s.servers.discard(sc)
        if s.sc is sc:
            s.sc = None
            if self.timer is not None:
                self._cancel_timer()

    def exchange_ended(self, x: Exchange) -> None:
        """The request is over: its server slot and its place in the backend go."""
        if x is not self.x:
            return
        self._cancel_waiter()
        self._cancel_timer()
        self._leave_queue()
        be = self.be
        if be is not None:
            if self.picked is not None:
                be.release(self.picked)
            if self.entered:
                be.leave()
        if self.sticking is not None:
            discard(self.sticking)
        self._reset()

    def session_ended(self) -> None:
        s = self.s
        for sc in list(s.servers):
            if sc.m.phase.value in ("active", "tunnel", "new"):
                s.servers.discard(sc)
                if sc.conns is not None:
                    sc.conns.closed(sc)
                sc.close()
        s.sc = None
        for conns in self.conns_used:
            conns.session_ended(s)

    def _cancel_waiter(self) -> None:
        if self.waiter is not None:
            self.waiter.cancel()
            self.waiter = None

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def arm(self, sc: ServerConn) -> None:
        at = sc.m.deadline
        if at == sc.timer_at:
            return
        sc.cancel_timer()
        sc.timer_at = at
        if at is not None:
            delay = max(0.0, at - self.s.ctx.clock())
            sc.timer = self.s.loop.call_later(delay, self._fired, sc)

    def _fired(self, sc: ServerConn) -> None:
        sc.timer = None
        sc.timer_at = None
        self.s.harvest()  # a body or tunnel in C: its activity moves the deadline first
        if sc.handler is self.s:
            self.s.server_event(sc, ev.TIMER_FIRED)
