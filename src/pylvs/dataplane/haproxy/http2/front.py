"""An HTTP/2 client connection of a `mode http` frontend: frames in, streams out (RFC 9113).

The `h2` library keeps the connection's state (HPACK, settings, stream states, both flow
control windows) and writes the frames; this driver runs one `H2Stream` (session.py) per
request stream and tells the library what HAProxy 2.6's src/mux_h2.c would send:

* its SETTINGS (MAX_CONCURRENT_STREAMS 100, ENABLE_CONNECT_PROTOCOL 1 for RFC 8441), the
  connection window opened wide at once (h2c_send_conn_wu: HAProxy grants the connection
  all it may and keeps per-stream windows as the limit);
* a stream's DATA is acknowledged (WINDOW_UPDATE for the stream) as soon as the stream took
  it, unless the stream's server side is over its high-water mark: then the window stays
  shut until it drains, so a slow upload stops the client, not the connection;
* responses go out as the peer's windows allow (per stream and connection), the rest waits
  for its WINDOW_UPDATE; a stream's queued bytes are what its flow control sees;
* a malformed request resets its stream (request.py), a connection error (a frame the
  library refuses: bad preface, framing, HPACK, flow-control violations) sends GOAWAY with
  the library's error code and closes the connection; other connections never notice;
* idle (no stream) for `timeout client`, or the proxy stopping: GOAWAY (NO_ERROR), then the
  close once the open streams are done (h2_process: H2_CF_GOAWAY_SENT).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from typing import TYPE_CHECKING

import h2.errors
import h2.events
import h2.exceptions

from pylvs.dataplane.haproxy.http.endpoint import Endpoint
from pylvs.dataplane.haproxy.http.stream import HIGH_WATER
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http2 import request as h2r
from pylvs.proto.http2 import stream as h2s
from pylvs.proto.http2.counters import count_frames
from pylvs.proto.http2.library import Connection, Outbox
from pylvs.proto.rules import counters

from .session import H2Stream

if TYPE_CHECKING:
    import _socket
    import asyncio

    from pylvs.dataplane.haproxy.frontend import FrontendListener
    from pylvs.dataplane.haproxy.http.state import HttpState
    from pylvs.dataplane.haproxy.http.stream import HttpSession
    from pylvs.model.proxy_spec import ConnFacts
    from pylvs.proto.sample.stream import Session

log = logging.getLogger(__name__)
# the library's per-frame and per-header debug lines would flood a `-d` run's output
for _name in ("h2", "hpack"):
    logging.getLogger(_name).setLevel(logging.WARNING)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_MAX_WINDOW = 2**31 - 1


class H2Front:
    """One HTTP/2 client connection (see the module doc)."""

    def __init__(
        self,
        listener: FrontendListener,
        ep: Endpoint | _socket.socket,
        facts: ConnFacts,
        http: HttpState,
        sess: Session | None,
    ) -> None:
        self.listener = listener
        self.fe = listener.frontend
        self.ctx = listener.ctx
        self.http = http
        self.facts = facts
        self.sess = sess
        loop = listener.loop
        poller = listener.poller
        assert loop is not None and poller is not None
        self.loop: asyncio.AbstractEventLoop = loop
        if isinstance(ep, Endpoint):
            ep.take(self)
            self.ep = ep
        else:
            self.ctx.fds.give(1)  # the listener counted two; the socket keeps one
            self.ep = Endpoint(ep, poller, self)
        self.stats = self.fe.h2
        self.stats.open_conns += 1
        self.stats.total_conns += 1
        self.h2 = Connection(client_side=False)
        self.h2.initiate(back=False)
        self.wide = False  # the connection's window was opened to its maximum
        self.settled = False  # the client's first SETTINGS came
        self.streams: dict[int, H2Stream] = {}
        self.pend: dict[int, Outbox] = {}
        self.held: dict[int, int] = {}  # stream -> bytes read and not yet acknowledged
        self.count = 0  # streams opened (the first one is the connection's first request)
        self.idle_since = self.ctx.clock()
        self.closed = False
        self.goaway = False
        self.timer: asyncio.TimerHandle | None = None
        listener.relays.add(self)
        self.flush()
        self._arm()

    # -- the socket --------------------------------------------------------------------

    def read(self, ep: Endpoint, data: bytes) -> None:
        self.fe.counters.inpkts += 1  # (the bytes: each stream's sizes, http/sizes.settle)
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as e:
            self._connection_error(e)
            return
        self._count(events)
        for event in events:
            if self.closed:
                return
            self._event(event)
        self.flush()
        self._arm()

    def eof(self, ep: Endpoint) -> None:
        self.abort()

    def failed(self, ep: Endpoint) -> None:
        self.abort()

    def blocked(self, ep: Endpoint) -> None:
        return

    def drained(self, ep: Endpoint) -> None:
        return

    def connected(self, ep: Endpoint) -> None:
        return

    def connect_failed(self, ep: Endpoint, reason: str) -> None:
        return

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.ep.closed:
            self.ep.write(data)

    # -- frames in ---------------------------------------------------------------------

    def _event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self._request(event)
        elif isinstance(event, h2.events.DataReceived):
            self._data(event)
        elif isinstance(event, h2.events.StreamEnded):
            s = self.streams.get(event.stream_id)
            if s is not None and not s.ended_in:
                s.client_event(ev.EOF_READ)
        elif isinstance(event, h2.events.TrailersReceived):
            s = self.streams.get(event.stream_id)
            if s is not None:
                fields = tuple((bytes(n).lower(), bytes(v)) for n, v in event.headers)
                s.client_event(h2s.TrailersRead(fields))
        elif isinstance(event, h2.events.StreamReset):
            self.pend.pop(event.stream_id, None)
            s = self.streams.get(event.stream_id)
            if s is not None:
                s.reset_by_client(event.error_code)
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self._send_pending()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = True
            if not self.streams:
                self.close()

    def _count(self, events: list[h2.events.Event]) -> None:
        self.settled = count_frames(self.stats, events, self.settled)

    def _request(self, event: h2.events.RequestReceived) -> None:
        sid = event.stream_id
        assert sid is not None
        if self.goaway:
            self.stats.rst_stream_resp += 1
            self.h2.reset_stream(sid, h2s.REFUSED_STREAM)
            return
        end = event.stream_ended is not None
        headers = [(bytes(n), bytes(v)) for n, v in event.headers or ()]
        got = h2r.request(headers, end, base64.b64encode(os.urandom(16)))
        if isinstance(got, h2r.Malformed):
            log.debug("h2 stream %d reset: %s", sid, got.why)
            self.stats.rst_stream_resp += 1
            self.h2.reset_stream(sid, h2s.PROTOCOL_ERROR)
            return
        self.count += 1
        self.stats.backend_total_streams += 1
        s = H2Stream(self, sid, self.facts, self.sess, first=self.count == 1)
        self.streams[sid] = s
        s.ended_in = end
        s.open(got, end)

    def _data(self, event: h2.events.DataReceived) -> None:
        sid = event.stream_id
        assert sid is not None
        size = event.flow_controlled_length or 0
        if size:  # the connection's window stays wide open
            extra = 0 if self.wide else _MAX_WINDOW - 65535
            self.wide = True
            self.h2.increment_flow_control_window(size + extra)
        s = self.streams.get(sid)
        if s is None:
            return
        if event.data:
            s.data(bytes(event.data))
        if not size or s.closed or s.end.closed:
            return  # a stream reset for what it sent gets no window back
        if s.end.holds:
            self.held[sid] = self.held.get(sid, 0) + size
        else:
            self._ack(sid, size)

    def _ack(self, sid: int, size: int) -> None:
        try:
            self.h2.increment_flow_control_window(size, stream_id=sid)
        except h2.exceptions.StreamClosedError:
            return

    def reading_resumed(self, sid: int) -> None:
        """A stream's server side drained: the window it kept shut opens."""
        size = self.held.pop(sid, 0)
        if size:
            self._ack(sid, size)
            self.flush()

    def _connection_error(self, e: h2.exceptions.ProtocolError) -> None:
        code = getattr(e, "error_code", h2.errors.ErrorCodes.PROTOCOL_ERROR)
        log.debug("h2 connection error: %s", e)
        self.stats.conn_proto_err += 1
        if code not in (0, 7, 8, 11):  # h2c_send_goaway_error: not for these codes
            self.stats.goaway_resp += 1
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.h2.close_connection(error_code=code)
        self.flush()
        self.close()

    # -- frames out (the streams' commands) ---------------------------------------------

    def send_headers(self, sid: int, fields: tuple[tuple[bytes, bytes], ...], *, end: bool) -> None:
        if self.closed or sid not in self.streams:
            return
        try:
            self.h2.send_headers(sid, list(fields), end_stream=end)
        except h2.exceptions.ProtocolError:
            return
        if end:
            self.pend.pop(sid, None)

    def send_data(self, sid: int, data: bytes, *, end: bool) -> None:
        if self.closed or sid not in self.streams:
            return
        p = self.pend.get(sid)
        if p is None:
            p = self.pend[sid] = Outbox()
        p.add(data)
        p.end = p.end or end
        if p.send(self.h2, sid):
            del self.pend[sid]

    def _send_pending(self) -> None:
        for sid, p in list(self.pend.items()):
            if p.send(self.h2, sid):
                del self.pend[sid]
        self.flush()
        for sid in list(self.streams):
            s = self.streams.get(sid)
            if s is not None and not s.closed and self.pending(sid) <= HIGH_WATER:
                s.run()  # flow control lets its server side read again (`_after`)

    def pending(self, sid: int) -> int:
        p = self.pend.get(sid)
        return p.size if p is not None else 0

    def reset(self, sid: int, code: int) -> None:
        self.pend.pop(sid, None)
        self.stats.rst_stream_resp += 1  # h2c_send_rst_stream counts every one
        if code == h2s.PROTOCOL_ERROR:  # a body against its Content-Length (stream.py)
            self.stats.strm_proto_err += 1
        try:
            self.h2.reset_stream(sid, code)
        except h2.exceptions.ProtocolError:
            return

    def stream_closed(self, sid: int) -> None:
        """A stream's session ended: the connection forgets it (a response not whole is
        reset; one whose END_STREAM waits for the window stays until it leaves)."""
        self.streams.pop(sid, None)
        self.held.pop(sid, None)
        if not self.streams:
            self.idle_since = self.ctx.clock()
        self.flush()
        if self.goaway and not self.streams and not self.pend:
            self.close()
        elif not self.closed:
            self._arm()

    def ended(self) -> None:
        """(`home` of the streams: a stream holds no listener slot of its own.)"""
        return

    # -- timers, stopping, the end ------------------------------------------------------

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.closed or self.streams:
            return
        t = self.fe.client_s
        if t:
            self.timer = self.loop.call_later(t, self._idle)

    def _idle(self) -> None:
        self.timer = None
        if not self.streams and not self.closed:
            self.stopping()

    def stopping(self) -> None:
        """GOAWAY (NO_ERROR) and close once the open streams are done."""
        if self.closed:
            return
        if not self.goaway:
            self.goaway = True
            self.h2.close_connection(last_stream_id=self.h2.highest_inbound_stream_id)
            self.flush()
        for s in list(self.streams.values()):
            s.stopping()
        if not self.streams:
            self.close()

    def abort(self) -> None:
        for s in list(self.streams.values()):
            s.reset_by_client(h2s.CANCEL)
            s.abort()
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stats.open_conns -= 1
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for s in list(self.streams.values()):
            s.abort()
        self.streams.clear()
        self.ep.close_when_sent()
        if self.sess is not None:
            counters.stop_session(self.sess, self.ctx.clock())
        self.listener.relays.discard(self)
        self.ctx.fds.give(1)
        self.listener.ended()


def upgrade(s: HttpSession, data: bytes) -> bool:
    """An HTTP/1 connection whose first bytes are the HTTP/2 preface becomes an HTTP/2 one
    (src/mux_h1.c: H1C_F_UPG_H2C, unless the bind or `switch-mode` says `proto h1` or the frontend
    `option disable-h2-upgrade`): the session steps
    aside without closing the socket and an H2Front takes it with the bytes read.  The
    whole preface must have come in the first read (a client sends it in one piece)."""
    http = s.fe.spec.http
    if http is not None and not http.h2_upgrade:  # option disable-h2-upgrade
        return False
    if not data.startswith(PREFACE) or s.cm.framer.buffered or s.mux == "h1":
        return False
    s.closed = True
    if s.c_timer is not None:
        s.c_timer.cancel()
        s.c_timer = None
    s.listener.relays.discard(s)
    s.fds = 0  # the socket's descriptor goes with it
    sess = None
    if s.phases is not None:  # a switched stream's counters end with it
        s.phases.ended(s.ctx.clock())
        sess = s.phases.sess
    front = H2Front(s.listener, s.client, s.facts, s.http, sess)
    front.read(front.ep, data)
    return True
