"""One client connection of a `mode http` frontend: its ClientMachine, and for each request
the server connection that carries it (proto/http/conn's machines driven on real sockets).

Each machine's commands about its own socket are carried out at once (endpoint.py); the
commands for the other side become that side's events (conn.route) and wait in one
first-in-first-out work list, so a machine never hears of something before what came
earlier: a request refused by the server side (a 503, no server) is answered before the
next pipelined request is read.  Per request (`ForwardHead`):

* the backend: the frontend's `use_backend` rules, else its `default_backend` (none: 503);
* the server: an `on_request` hook's (persistence), the stick rules', else the balance
  algorithm's, fed with the request (`RequestHead.view()`, sched.base.HttpRequest) as HAProxy
  balances every request of a kept-alive connection; every server at its maxconn queues the
  request (upstream.py);
* the connection: an idle one the backend's pool lets this request take (`http-reuse`),
  else a new one (with src/backend.c's retries and redispatch: upstream.py).

An exchange ends when the client machine finishes its transaction (or the connection
closes); then the server's slot goes to the next queued request and the `on_end` hooks get
its record (exchange.py).  Bodies and tunnels go through the relay's C path once their
framing is known (passing.py), else through Python; flow control holds a side's reading
while the other's socket has more than HIGH_WATER bytes queued.
"""

from __future__ import annotations

import _socket
import collections
from typing import TYPE_CHECKING, Any, ClassVar

from pylvs.model.proxy_spec import ConnFacts
from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn import route
from pylvs.proto.http.conn.client import ClientMachine, Phase
from pylvs.proto.http.cookie_response import captured
from pylvs.proto.http.message import ResponseHead
from pylvs.proto.rules.ruleset import Wait

from . import cache, compress, engine, sizes, upstream
from .added import captures, cookie_capture
from .body_wait import BodySoFar
from .endpoint import FLOW, MACHINE, Endpoint
from .engine import FastPath
from .exchange import Exchange
from .passing import Passing
from .phases import Phases
from .response_wait import HELD, ResponseHold
from .server_side import ServerConn

if TYPE_CHECKING:
    import asyncio

    from pylvs.dataplane.haproxy.frontend import FrontendListener
    from pylvs.proto.rules.engine import Txn
    from pylvs.proto.sample.stream import Session

    from .state import HttpState

HIGH_WATER = 256 * 1024
CLIENT: Any = None  # the work list's name for the client machine


class HttpSession:
    """A `mode http` client connection (see the module doc)."""

    __slots__ = (
        "buffered_since",
        "c_at",
        "c_timer",
        "client",
        "closed",
        "cm",
        "comp",
        "cstore",
        "ctx",
        "facts",
        "fast",
        "fast_checked",
        "fds",
        "fe",
        "hold",
        "home",
        "http",
        "idle_since",
        "listener",
        "loop",
        "mux",
        "passing",
        "phases",
        "running",
        "sc",
        "servers",
        "txn",
        "up",
        "work",
        "x",
    )

    # src/mux_h2.c marks every stream of a multiplexed client connection "not first"
    # (SE_FL_NOT_FIRST), its first one too: `http-reuse safe` lets it take an idle
    # server connection (http2/session.py sets it)
    not_first_streams: ClassVar[bool] = False

    def __init__(
        self,
        listener: FrontendListener,
        sock: _socket.socket,
        facts: ConnFacts,
        http: HttpState,
        sess: Session | None,
        *,
        carried: Txn | None = None,
        mux: str | None = None,
        since: float | None = None,
        resumed: float | None = None,
    ) -> None:
        """`carried`: the stream a `switch-mode http` switched, its first request's;
        `mux`: the mux that rule asked for ("h1": no HTTP/2 upgrade), else the bind's;
        `since`: when the connection was accepted, when that was before now (one the pump
        served first, http/own.py); `resumed`: the end of the last exchange it served."""
        self.listener = self.home = listener
        self.mux = listener.bind.proto if mux is None else mux
        self.fe = listener.frontend
        self.ctx = listener.ctx
        self.http = http
        self.facts = facts
        loop = listener.loop
        poller = listener.poller
        assert loop is not None and poller is not None
        self.loop: asyncio.AbstractEventLoop = loop
        now = self.ctx.clock()
        spec = self.fe.spec
        default = self.fe.runtime.backends.get(spec.default_backend or "")
        front = http.front(spec, default.spec if default else None)
        self.cm = ClientMachine(front, now if since is None else since)
        if resumed is not None:
            self.cm.resumed(resumed)
        self.phases = Phases(self.fe.runtime, sess, carried) if sess is not None else None
        if self.phases is not None and http.on_response:
            self.phases.persist = self._hooked
        # The listener counted two descriptors; server connections count their own.
        self.ctx.fds.give(1)
        self.fds = 1
        self.client = Endpoint(sock, poller, _ClientOwner(self))
        if since is None:  # show stat's h1_* (an HTTP/2 client's are h2_*)
            self.client.count_h1(self.fe.h1)
        else:  # accepted by the pump (own.py), which counted it then
            self.client.h1 = self.fe.h1
        # bodies and tunnels through the C path (passing.py), when the pump is there
        self.passing = Passing(self, poller) if poller.pump is not None else None
        self.sc: ServerConn | None = None  # the current request's server connection
        self.servers: set[ServerConn] = set()  # every server connection it owns
        self.up = upstream.Upstream(self)
        self.work: collections.deque[tuple[Any, Any]] = collections.deque()
        self.running = False
        self.closed = False
        self.x: Exchange | None = None
        self.hold: ResponseHold | None = None  # a response its rules wait for
        self.comp: compress.Compressor | None = None  # the response body's, when compressed
        self.cstore: cache.Storer | None = None  # cache-store's entry taking the body
        self.txn: object = None  # the client machine's transaction `x` is for
        # Ti starts: accept, then the end of each exchange
        self.idle_since = resumed or since or now
        self.buffered_since: float | None = None  # the next request's first byte
        self.c_timer: asyncio.TimerHandle | None = None
        self.c_at: float | None = None
        self.fast: FastPath | None = None  # the pump's exchange engine (engine.py)
        self.fast_checked = since is not None  # the engine handed this one over already
        listener.relays.add(self)
        self._after()

    # -- the work list -----------------------------------------------------------------

    def client_event(self, event: Any) -> None:
        self.work.append((CLIENT, event))
        self.run()

    def server_event(self, sc: ServerConn, event: Any) -> None:
        self.work.append((sc, event))
        self.run()

    def run(self) -> None:
        if self.running:
            return
        self.running = True
        clock = self.ctx.clock
        client = self.client
        client.cork()  # the round's writes to the client go out together
        try:
            work = self.work
            while work and not self.closed:
                target, event = work.popleft()
                if target is CLIENT:
                    if self.cstore is not None and not self.cstore.see(event):
                        self.cstore = None  # stored whole, or given up (cache.py)
                    if type(event) is ev.ServerFailed:
                        self._answered(event)
                    elif self.comp is not None:  # the body as compress.py makes it
                        for e in self.comp.events(event):
                            self._client_cmds(self.cm.handle(e, clock()))
                        continue
                    self._client_cmds(self.cm.handle(event, clock()))
                elif target.handler is self:
                    self._server_cmds(target, target.m.handle(event, clock()))
        finally:
            self.running = False
            client.uncork()
        self._after()

    def _after(self) -> None:
        """After a round: the exchange's end (a tunnel's when it closes: HAProxy's stream
        lives on through it and logs its bytes), flow control, the machines' timers."""
        cm = self.cm
        if self.x is not None and cm.txn is not self.txn and cm.phase is not Phase.TUNNEL:
            self._end_exchange(self.x)
        if self.closed:
            return
        if self.cm.closed:
            self._end()
            return
        self._flow()
        if self.passing is not None:
            self.passing.check()
        self._arm_client()
        for sc in list(self.servers):
            self.up.arm(sc)
        if self.fast is not None:
            self.fast.start()
        elif (
            not self.fast_checked
            and self.cm.not_first
            and self.passing is not None
            and type(self) is HttpSession  # an HTTP/2 stream's client is no socket of its own
        ):
            self._fast()

    def _fast(self) -> None:
        """After the first exchange: whether the pump's engine can serve the next ones."""
        self.fast_checked = True
        be = engine.eligible(self)
        got = engine.Engine.of(self.passing.poller) if be is not None and self.passing else None
        if be is not None and got is not None:
            self.fast = engine.FastPath(self, be, got)
            self.fast.start()

    def _flow(self) -> None:
        sc = self.sc
        sep = sc.ep if sc is not None else None
        if sep is None:
            return
        if self.client.queued > HIGH_WATER:
            sep.hold(FLOW)
        else:
            sep.release(FLOW)
        if sep.queued > HIGH_WATER:
            self.client.hold(FLOW)
        else:
            self.client.release(FLOW)

    def _arm_client(self) -> None:
        at = self.cm.deadline
        if at == self.c_at:
            return
        if self.c_timer is not None:
            self.c_timer.cancel()
            self.c_timer = None
        self.c_at = at
        if at is not None:
            self.c_timer = self.loop.call_later(max(0.0, at - self.ctx.clock()), self._c_fired)

    def harvest(self) -> None:
        """Collect what the C path relayed (activity moves the machines' timers first)."""
        if self.passing is not None and self.passing.passes:
            self.passing.poller.harvest()

    def _c_fired(self) -> None:
        self.c_timer = None
        if self.fast is not None and self.fast.on and self.fast.client_timer():
            return
        self.c_at = None
        self.harvest()
        if not self.closed:
            self.client_event(ev.TIMER_FIRED)

    # -- the client machine's commands ---------------------------------------------------

    def _client_cmds(self, commands: list[cmd.Command]) -> None:
        client = self.client
        for c in commands:
            kind = type(c)
            if kind is cmd.Write:
                data = c.data  # type: ignore[union-attr]
                client.write(data)
            elif kind is cmd.ForwardHead:
                self._request(c)  # type: ignore[arg-type]
            elif kind is cmd.Close:
                client.close_when_sent()
            elif kind is cmd.ShutWrite:
                client.shut_write()
            elif kind is cmd.PauseReading:
                client.hold(MACHINE)
            elif kind is cmd.ResumeReading:
                client.release(MACHINE)
            elif kind is cmd.Capture:
                self._capture(c, response=False)  # type: ignore[arg-type]
            else:
                if self.x is not None:
                    sizes.forwarded(self.x, c)
                self.up.forward(route(c))

    def _request(self, c: cmd.ForwardHead) -> None:
        if self.x is not None:
            self._end_exchange(self.x)
        now = self.ctx.clock()
        self.fe.req_rate.count(now)  # proxy_inc_fe_req_ctr: every parsed request
        start = self.buffered_since if self.buffered_since is not None else now
        self.buffered_since = None
        f = self.facts
        x = self.x = Exchange(
            frontend=self.fe.spec.name,
            started_at=self.idle_since,
            request_at=start,
            head_at=now,
            request=c.head,
            first=c.first,
            src=(str(f.src), f.src_port),
        )
        sizes.request(x, c.head)
        if self.client.h1 is not None:
            x.h1_stream(self.client.h1)
        self.txn = self.cm.txn
        http = self.fe.spec.http
        if http is not None and http.request_captures:
            x.request_captures = captures(c.head.fields, http.request_captures)
        self.up.request(x, ev.HeadForwarded(c.head, c.first, c.mode))

    def _refused(self, status: int) -> None:
        """A request refused before its head was whole (HAProxy's raw 400/408/413...): it
        counts as a request, and its exchange ends with that status (logs, hrsp_4xx)."""
        now = self.ctx.clock()
        self.fe.req_rate.count(now)
        if self.client.h1 is not None:
            self.client.h1.total_streams += 1  # its H1 stream came and went
        f = self.facts
        start = self.buffered_since if self.buffered_since is not None else now
        x = Exchange(
            frontend=self.fe.spec.name,
            started_at=self.idle_since,
            request_at=start,
            head_at=now,
            request=None,
            first=not self.cm.not_first,
            src=(str(f.src), f.src_port),
            status=status,
            termination="PR" if status != 408 else "cR",
        )
        x.ended_at = now
        for hook in self.http.on_end:
            hook(x)

    def _capture(self, c: cmd.Capture, *, response: bool, sc: ServerConn | None = None) -> None:
        if not response and self.x is None:  # a refused head: an exchange of its own
            self._refused(c.refusal.status)
        x = self.x
        be = x.backend.spec if x is not None and x.backend is not None else None
        self.http.capture(
            c.refusal,
            c.buffer,
            response=response,
            not_first=c.not_first,
            fe=self.fe.spec,
            be=be,
            server=sc.srv if sc is not None else None,
            src=(str(self.facts.src), self.facts.src_port),
        )
        if x is not None:
            x.termination = "SH" if response else "PR"

    # -- a server connection's commands -------------------------------------------------

    def _server_cmds(self, sc: ServerConn, commands: list[cmd.Command]) -> None:
        for i, c in enumerate(commands):
            if sc.handler is not self:
                return  # abandoned (a response the rules replaced)
            kind = type(c)
            if self.x is not None:
                sizes.delivered(self.x, c)
            hold = self.hold
            if hold is not None and hold.sc is sc:
                if kind in HELD:
                    hold.take(c)
                    continue
                if kind is cmd.DeliverFailure:
                    hold.cancel()
            if kind in _SOCKET:
                _socket_cmd(sc, c)
            elif kind is cmd.DeliverHead:
                self._response(c, sc, _arrived(commands, i + 1))
            elif kind is cmd.Connect:
                self.up.connect(sc)
            elif kind is cmd.Reconnect:  # (HTTP/2 servers: proto/http2/upstream.py)
                self.up.connect_failed(sc)
            elif kind is cmd.Release:
                self.up.release(sc, c.safe)  # type: ignore[union-attr]
            elif kind is cmd.Close:
                self.up.closed(sc)
            elif kind is cmd.Capture:
                self._capture(c, response=True, sc=sc)
            else:
                if kind is cmd.DeliverFailure:
                    self._server_failed(c.status)  # type: ignore[union-attr]
                    continue
                self.work.append((CLIENT, route(c)))

    def _answered(self, event: ev.ServerFailed) -> None:
        """The proxy answers instead of a server: its answer's size, if the client
        machine writes it (a response already begun is cut instead)."""
        txn = self.cm.txn
        if self.x is not None and txn is not None and not txn.started:
            sizes.answered(self.x, event.answer, event.status)

    def _server_failed(self, status: int) -> None:
        """No response will come from the server: HAProxy's answer `status`."""
        state = _FAILURE_STATE.get(status, "SH")
        if self.up.aborted and status == 502:  # the client's abort (abortonclose), then the
            status, state = 400, "CH"  # server's close: http_wait_for_response's case 3
        if self.x is not None:
            self.x.status = status
            self.x.termination = state
        self.work.append((CLIENT, self.failure(status)))

    def expire(self, sc: ServerConn) -> None:
        """The server machine's deadline passed while the engine had its request (replayed
        now): the machine's timer, at that deadline."""
        at = sc.m.deadline
        if at is not None and sc.handler is self:
            self._server_cmds(sc, sc.m.handle(ev.TIMER_FIRED, at))
            self.run()

    def failure(self, status: int) -> ev.ServerFailed:
        """HAProxy's answer `status` for the current request (the proxies' error pages and
        http-after-response rules when the spec carries rules)."""
        if self.phases is None:
            return ev.ServerFailed(status)
        return ev.ServerFailed(status, self.phases.error(status))

    def _response(self, c: cmd.DeliverHead, sc: ServerConn, arrived: int = 0) -> None:
        head = c.head
        x = self.x
        if x is None or head.informational:
            if x is not None:
                x.interim += 1  # the server's 1xx counts in its hrsp_1xx (http_stats.py)
            self.work.append((CLIENT, ev.ResponseStarted(head)))
            return
        x.response = head
        x.server_status = head.status
        x.response_at = now = self.ctx.clock()
        if x.comp_algo is not None:  # judged before the response rules (res.comp)
            compress.select(x, self.fe.spec.http, x.backend.spec.http if x.backend else None, head)
            if self.phases is not None and self.phases.stream is not None:
                self.phases.stream.comp_algo = x.comp_algo
        if self.phases is None:
            self.ruled(head, head, sc, x)
            return
        body = BodySoFar(head, self.http.limits)
        got = self.phases.response(head, now, body, arrived)
        if isinstance(got, Wait):  # wait-for-body: the response is held (response_wait.py)
            self.hold = ResponseHold(self, head, sc, got, body)
            return
        if isinstance(got, Answer):
            # The body read with the head was in the channel when the rules answered instead:
            # res.total counted it, so %B does (http_reply_and_close adds the answer after it)
            x.bytes_out += min(arrived, body.room)
        self.ruled(got, head, sc, x)

    def ruled(
        self, got: ResponseHead | Answer | None, original: ResponseHead, sc: ServerConn, x: Exchange
    ) -> None:
        """The response phases' verdict on `original`: write the head they left, their
        answer instead, or drop the client."""
        if got is None:  # http-response reject / silent-drop
            x.termination = "PH"
            self.drop(reset=False)
            return
        if isinstance(got, Answer):  # denied: the server's response goes
            x.status = got.head.status
            txn = self.phases.txn if self.phases is not None else None
            x.termination = "LH" if txn is not None and txn.local_reply else "PH"
            x.response_at = None  # return_prx_cond: t_data = -1, not a valid response
            if sc.handler is self:
                self.up.closed(sc)
            self.work.append((CLIENT, ev.ServerFailed(got.head.status, got)))
            return
        head = x.response = got
        http = self.fe.spec.http
        if http is not None and http.response_captures:
            # http_wait_for_response captures before the http-response rules
            x.response_captures = captures(original.fields, http.response_captures)
        if http is not None and http.capture_cookie is not None:  # after them
            x.srv_cookie = captured(got.fields, *cookie_capture(http), response=True)
        if self.phases is None:  # else they ran before http-after-response (phases.py)
            changed = self._hooked(head)
            if isinstance(changed, int):  # refused by a hook: HAProxy's answer instead
                self.ruled(self.failure(changed).answer or Answer.page(changed), original, sc, x)
                return
            head = changed
        for sent in self.http.on_written:
            sent(x)
        if x.comp_algo is not None:  # the compression filter's head, after every rule
            head, self.comp = compress.response(x, head, self.http.comp_level)
            x.response = head
        self.cstore = cache.storer(self)  # the entry cache-store opened takes the body
        x.status = head.status
        self.work.append((CLIENT, ev.ResponseStarted(head)))

    def _hooked(self, head: ResponseHead) -> ResponseHead | int:
        """The on_response hooks on the current exchange's head (http_process_res_common's
        persistence block): the head they leave, or the status of an answer instead."""
        x = self.x
        assert x is not None
        x.response = head
        for hook in self.http.on_response:
            changed = hook(x)
            if isinstance(changed, int):
                return changed
            if changed is not None:
                head = x.response = changed
        return head

    # -- the end of an exchange, of the connection ---------------------------------------

    def _end_exchange(self, x: Exchange) -> None:
        self.x = None
        self.comp = None
        if self.cstore is not None:  # the response did not end: not stored
            self.cstore.abandon()
            self.cstore = None
        self.txn = None
        x.h1_ended()
        txn = self.phases.txn if self.phases is not None else None
        if txn is not None and txn.failed_rewrites:  # wrew (http_stats.py)
            x.rewrites = (txn.failed_rewrites, txn.failed_rewrites_be, txn.failed_rewrites_srv)
        if txn is not None and (txn.denied_req or txn.denied_resp):  # dreq, dresp
            x.denied = (txn.denied_req, txn.denied_be, txn.denied_resp or x.denied[2])
        if txn is not None and txn.internal_error:  # eint
            x.internal_error = True
        now = self.ctx.clock()
        x.ended_at = now
        sizes.settle(x, self.fe)
        self.idle_since = now
        if self.cm.closed and x.response is None and x.termination == "--":
            x.termination = "CD" if x.connected_at is not None else "CR"
        self.up.exchange_ended(x)
        for hook in self.http.on_end:
            hook(x)

    def client_data(self, data: bytes) -> None:
        if data[:3] == b"PRI" and self.fds and not self.cm.not_first and self.x is None:
            from pylvs.dataplane.haproxy.http2.front import upgrade

            if upgrade(self, data):  # the HTTP/2 preface: the connection is HTTP/2's now
                return
        if self.cm.phase is Phase.WAITING and self.buffered_since is None:
            self.buffered_since = self.ctx.clock()
        self.fe.counters.inpkts += 1  # (its bytes: the exchange's, sizes.settle)
        self.client_event(ev.DataRead(data))

    def client_gone(self) -> None:
        """The client's socket failed (a reset): the exchange is dropped."""
        if self.x is not None:
            self.x.termination = "CD" if self.x.response is not None else "CR"
        self.abort()

    def stopping(self) -> None:
        """The proxy is stopping (soft stop): keep-alive ends with the current exchange."""
        if self.fast is not None:
            self.fast.stop(replay=True)
        if not self.closed:
            for sc in list(self.servers):
                self.work.append((sc, ev.Stopping()))
            self.client_event(ev.Stopping())

    def drop(self, *, reset: bool) -> None:
        """Close the client without an answer (reject, silent-drop: a reset)."""
        if self.closed:
            return
        if self.x is not None:
            self._end_exchange(self.x)
        self.client.close(reset=reset)
        self._end()

    def abort(self) -> None:
        """Close everything now (the runtime stops, `shutdown session`, a reset)."""
        if self.closed:
            return
        if self.x is not None:
            self._end_exchange(self.x)
        self.client.close(reset=False)
        self._end()

    def kill(self) -> None:
        """`shutdown session` (stream.c stream_shutdown, SF_ERR_KILLED: the server side shut
        both ways).  A request waiting for its response takes it as the server's close
        (http_ana.c http_wait_for_response, case 4): the connection's first request gets
        the 502 (KH), a later one the silent close of abort_keep_alive, which asks the
        client to retry: no answer, no log line, no status counted."""
        x, sc, txn = self.x, self.sc, self.cm.txn
        if x is None or sc is None or x.response is not None or txn is None or txn.started:
            self.abort()
            return
        self.up.closed(sc)
        if not x.first or self.not_first_streams:
            x.logged = False
            self.abort()
            return
        self._server_failed(502)
        x.termination = "KH"
        self.run()

    def _end(self) -> None:
        if self.closed:
            return
        if self.fast is not None:
            self.fast.stop(replay=False)
            self.fast.cancel()
        self.closed = True
        if self.hold is not None:
            self.hold.cancel()
        if self.c_timer is not None:
            self.c_timer.cancel()
            self.c_timer = None
        if self.passing is not None:
            self.passing.stop_all()
        self.client.close_when_sent()
        self.up.session_ended()
        if self.phases is not None:
            self.phases.closed(self.ctx.clock())
        self.listener.relays.discard(self)
        self.ctx.fds.give(self.fds)
        self.fds = 0
        self.home.ended()


_FAILURE_STATE = {502: "SH", 503: "SC", 504: "sH"}
_SOCKET = frozenset({cmd.Write, cmd.ShutWrite, cmd.PauseReading, cmd.ResumeReading})


def _socket_cmd(sc: ServerConn, c: cmd.Command) -> None:
    """A server machine's command about its own socket."""
    ep = sc.ep
    if ep is None:
        return
    if type(c) is cmd.Write:
        if sc.skip:
            sc.skip = False  # the pump's engine wrote this head already (engine.py)
            if ep.h1 is not None:  # as the engine wrote it (the same bytes)
                ep.h1.bytes_out += len(c.data)
        else:
            ep.write(c.data)
    elif type(c) is cmd.ShutWrite:
        ep.shut_write()
    elif type(c) is cmd.PauseReading:
        ep.hold(MACHINE)
    else:
        ep.release(MACHINE)


class _ClientOwner:
    """The client socket's events, for the session."""

    __slots__ = ("s",)

    def __init__(self, s: HttpSession) -> None:
        self.s = s

    def read(self, ep: Endpoint, data: bytes) -> None:
        self.s.client_data(data)

    def eof(self, ep: Endpoint) -> None:
        if self.s.up.client_closed():  # abortonclose: given up before a server took it
            self.s.abort()
            return
        self.s.client_event(ev.EOF_READ)

    def failed(self, ep: Endpoint) -> None:
        self.s.client_gone()

    def blocked(self, ep: Endpoint) -> None:
        self.s.client_event(ev.WriteBlocked())

    def drained(self, ep: Endpoint) -> None:
        self.s.client_event(ev.WriteDrained())

    def connected(self, ep: Endpoint) -> None:
        return

    def connect_failed(self, ep: Endpoint, reason: str) -> None:
        return


def _arrived(commands: list[cmd.Command], start: int) -> int:
    """The body bytes a server's head came with: the data of the same read, in the buffer
    when the response rules run (their rewrite room, phases.py)."""
    total = 0
    for c in commands[start:]:
        if isinstance(c, cmd.DeliverData):
            total += len(c.data)
        elif isinstance(c, cmd.DeliverHead):
            break
    return total
