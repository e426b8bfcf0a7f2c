"""One HTTP/2 stream of a `mode http` frontend, run as the HTTP driver runs a request.

An `H2Stream` is an `HttpSession` (http/stream.py) whose client is a stream of an HTTP/2
connection (front.py) instead of a socket, and whose client machine is proto/http2's
StreamMachine: the request goes through the same rule phases, backend choice, balancing,
queues, server connections (pooled across streams and connections as `http-reuse` says),
logs, counters and error pages as an HTTP/1 request, and each stream has its own server
connection, so a slow server holds only its own stream (src/mux_h2.c: one stream connector
per h2s).  The session's writes to its client become frames (`SendHeaders`, `SendData`,
`Reset`); a stream has no socket nor descriptor of its own, and no listener slot (the
connection holds those).
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any

from pylvs.dataplane.haproxy.http import upstream
from pylvs.dataplane.haproxy.http.phases import Phases
from pylvs.dataplane.haproxy.http.stream import HttpSession
from pylvs.proto.http.answers import Answer
from pylvs.proto.http2 import stream as h2s
from pylvs.proto.http2.request import H2Request, Invalid

if TYPE_CHECKING:
    from pylvs.model.proxy_spec import ConnFacts
    from pylvs.proto.sample.stream import Session

    from .front import H2Front

CONTINUE_100 = b"HTTP/1.1 100 Continue\r\n\r\n"  # what upstream.py answers Expect with


class StreamPhases(Phases):
    """A stream's rule phases: the session (tracked counters) ends with the connection."""

    __slots__ = ()

    def closed(self, now: float) -> None:
        self.ended(now)


class StreamEnd:
    """The client side of a stream, in the shape of an Endpoint (what HttpSession asks)."""

    __slots__ = ("closed", "conn", "holds", "sid")
    h1 = None  # an HTTP/2 stream counts in the h2 stats module, not the h1 one

    def __init__(self, conn: H2Front, sid: int) -> None:
        self.conn = conn
        self.sid = sid
        self.holds = 0
        self.closed = False

    @property
    def queued(self) -> int:
        return self.conn.pending(self.sid)

    def write(self, data: bytes) -> None:
        # the only HTTP/1 bytes the driver writes itself: the interim answer to Expect
        if data == CONTINUE_100:
            self.conn.send_headers(self.sid, ((b":status", b"100"),), end=False)

    def cork(self) -> None:
        return

    def uncork(self) -> None:
        self.conn.flush()

    def hold(self, who: int) -> None:
        self.holds |= who

    def release(self, who: int) -> None:
        if self.holds & who:
            self.holds &= ~who
            if not self.holds:
                self.conn.reading_resumed(self.sid)

    def shut_write(self) -> None:
        return  # a tunnel's end is an END_STREAM the machine sends

    def close_when_sent(self) -> None:
        self.close()

    def close(self, *, reset: bool = False) -> None:
        if not self.closed:
            self.closed = True
            self.conn.stream_closed(self.sid)


class H2Stream(HttpSession):
    """One stream (see the module doc)."""

    __slots__ = ("conn", "end", "ended_in", "sid")
    not_first_streams = True  # h2c_frt_stream_new: SE_FL_NOT_FIRST on every stream

    def __init__(
        self, conn: H2Front, sid: int, facts: ConnFacts, sess: Session | None, *, first: bool
    ) -> None:
        listener = conn.listener
        self.conn = conn
        self.sid = sid
        self.listener = listener
        self.home = conn  # type: ignore[assignment]  # `ended()`: the stream is gone from its connection
        self.fe = listener.frontend
        self.ctx = listener.ctx
        self.http = conn.http
        self.facts = facts
        loop = listener.loop
        assert loop is not None
        self.loop = loop
        now = self.ctx.clock()
        spec = self.fe.spec
        default = self.fe.runtime.backends.get(spec.default_backend or "")
        front = self.http.front(spec, default.spec if default else None)
        self.cm = h2s.StreamMachine(front, now, first=first)  # type: ignore[assignment]
        self.phases = StreamPhases(self.fe.runtime, sess) if sess is not None else None
        self.fds = 0
        self.end = StreamEnd(conn, sid)
        self.client = self.end  # type: ignore[assignment]
        self.ended_in = False  # END_STREAM came with the HEADERS
        self.passing = None  # bodies stay in Python for HTTP/2
        self.sc = None
        self.servers = set()
        self.up = upstream.Upstream(self)
        self.work = collections.deque()
        self.running = False
        self.closed = False
        self.x = None
        self.hold = None
        self.comp = None  # a compressed response body's (http/compress.py)
        self.cstore = None  # cache-store's entry taking the body (http/cache.py)
        self.txn = None
        self.idle_since = conn.idle_since
        self.buffered_since = now
        self.c_timer = None
        self.c_at = None
        self.fast = None  # the HTTP/1 exchange engine: not for a stream of HTTP/2
        self.fast_checked = True

    def open(self, request: H2Request | Invalid, end: bool) -> None:
        """The stream's request HEADERS (a request the rules see, or HAProxy's 400)."""
        if isinstance(request, Invalid):
            self._refused(400)
            page = self.failure(400).answer
            self._client_cmds(self._answer_invalid(page))
            self._after()
            return
        self.client_event(h2s.Opened(request, end))

    def _answer_invalid(self, page: Answer | None) -> list[Any]:
        answer = page if page is not None else Answer.page(400)
        head = answer.head
        out: list[Any] = [
            h2s.SendHeaders(h2s.response_fields(head, head.status), end=not answer.body)
        ]
        if answer.body:
            out.append(h2s.SendData(answer.body, end=True))
        self.cm.phase = h2s.Phase.CLOSED  # type: ignore[assignment]
        return out

    def data(self, data: bytes) -> None:
        self.client_data(data)

    def _client_cmds(self, commands: list[Any]) -> None:
        rest: list[Any] = []
        conn, sid = self.conn, self.sid
        for c in commands:
            kind = type(c)
            if kind is h2s.SendData:
                data = c.data
                conn.send_data(sid, data, end=c.end)
            elif kind is h2s.SendHeaders:
                conn.send_headers(sid, c.fields, end=c.end)
            elif kind is h2s.Reset:
                conn.reset(sid, c.code)
            else:
                rest.append(c)
        if rest:
            super()._client_cmds(rest)

    def reset_by_client(self, code: int) -> None:
        if self.x is not None:
            self.x.termination = "CD" if self.x.response is not None else "CR"
        self.client_event(h2s.ResetRead(code))
