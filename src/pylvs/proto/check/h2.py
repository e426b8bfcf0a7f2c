"""An HTTP check spoken in HTTP/2: the request in frames, the response out of them.

src/tcpcheck.c (tcpcheck_eval_connect) installs a check connection's multiplexer from the
connect rule's `proto`, else, for the default connect, from the check's (src/check.c
init_srv_check: the server's `check-proto`, else its `proto` when the check is an HTTP
one); tcpcheck.py picks it the same way.  With h2 the check's HTX message goes through
src/mux_h2.c, as a backend stream (stream 1) does:

* the preface and HAProxy's backend SETTINGS (proto/http2/library.py) go with the connect;
  the request's HEADERS wait for the server's SETTINGS (h2_snd_buf: H2_CS_FRAME_H), then
  go as h2s_bck_make_req_headers writes them (proto/http2/upstream.py: `:method`,
  `:scheme` https for the check's origin-form URI, `:path`, the fields without the
  connection-specific ones), END_STREAM on them when there is no body, else on its DATA;
* the response as h2_make_htx_response reads it (upstream.py): its head (version
  HTTP/2.0, no reason), DATA as the body (acknowledged: the stream's WINDOW_UPDATE, the
  connection's window opened to its maximum the first time, h2c_send_conn_wu), END_STREAM
  as the end of the message;
* recorded from haproxy 2.6.12: an answer that is not HTTP/2 (a frame the library refuses,
  an HTTP/1 server's) and a reset of the stream are a socket error without information
  ("Socket error"); after a GOAWAY the close is an empty response.

`H2Response` is the check machine's HTTP response (response.py) with the connection's
state behind it: the machine feeds it what it reads and writes what `outgoing` returns.
"""

from __future__ import annotations

import h2.events
import h2.exceptions

from pylvs.proto.check.request import CheckRequest
from pylvs.proto.check.response import HttpResponse
from pylvs.proto.http.message import RequestHead
from pylvs.proto.http2.library import Connection
from pylvs.proto.http2.upstream import request_headers, response_head

_MAX_WINDOW = 2**31 - 1
_INITIAL_WINDOW = 65535


class H2Response(HttpResponse):
    """The response to an HTTP check over HTTP/2, fed with bytes as they arrive."""

    __slots__ = ("_method", "failed", "h2", "request_frames", "settled", "sid", "wide")

    def __init__(self) -> None:
        super().__init__()
        self.h2 = Connection(client_side=True)
        self.h2.initiate(back=True)
        self.sid = 0
        self.settled = False  # the server's first SETTINGS came
        self.request_frames: tuple[list[tuple[bytes, bytes]], bytes] | None = None
        self.wide = False  # the connection's window was opened
        self.failed = False  # a connection or stream error: the check's socket error
        self._method = b"GET"

    def preface(self) -> bytes:
        """What goes once connected: the preface and the SETTINGS."""
        return self.h2.data_to_send()

    def outgoing(self) -> bytes:
        return self.h2.data_to_send()

    def request(self, req: CheckRequest) -> None:
        """The check's request, on a new stream (sent once the server's SETTINGS came)."""
        head = RequestHead(req.method, req.uri, b"HTTP/2.0", req.fields, 0)
        headers, _ = request_headers(head, extended=False)
        self.request_frames = headers, req.body
        self.head = None
        self.body = bytearray()
        self.eom = self.parsing_error = self.truncated = False
        self._method = req.method
        if self.settled:
            self._send_request()

    def _send_request(self) -> None:
        frames, self.request_frames = self.request_frames, None
        if frames is None:
            return
        headers, body = frames
        self.sid = self.h2.get_next_available_stream_id()
        self.h2.send_headers(self.sid, headers, end_stream=not body)
        if body:  # a check's body fits the peer's first windows (tune.bufsize)
            self.h2.send_data(self.sid, body, end_stream=True)

    def feed(self, data: bytes) -> int:
        if self.failed:
            return 0
        before = self._size()
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.failed = True  # the library wrote the GOAWAY; the socket error ends it
            return 0
        for e in events:
            self._event(e)
        return self._size() - before

    def _event(self, e: h2.events.Event) -> None:
        if isinstance(e, h2.events.RemoteSettingsChanged):
            if not self.settled:
                self.settled = True
                self._send_request()
            return
        if getattr(e, "stream_id", None) != self.sid or not self.sid:
            return
        if isinstance(e, h2.events.ResponseReceived):
            headers = [(bytes(n), bytes(v)) for n, v in e.headers or ()]
            end = e.stream_ended is not None
            head = response_head(headers, end=end, method=self._method, protocol=None)
            if head is None:
                self.parsing_error = True
            else:
                self.head = head
        elif isinstance(e, h2.events.DataReceived):
            self._data(bytes(e.data or b""), e.flow_controlled_length or 0)
        elif isinstance(e, h2.events.StreamEnded):
            self.eom = self.head is not None
        elif isinstance(e, h2.events.StreamReset):
            self.failed = True

    def _data(self, data: bytes, size: int) -> None:
        room = self._room() - len(self.body)
        if room > 0:
            self.body += data[:room]
        if not size:
            return
        extra = 0 if self.wide else _MAX_WINDOW - _INITIAL_WINDOW
        self.wide = True
        self.h2.increment_flow_control_window(size + extra)
        try:
            self.h2.increment_flow_control_window(size, stream_id=self.sid)
        except h2.exceptions.StreamClosedError:
            # h2c_send_strm_wu acknowledges the stream's DATA even with its END_STREAM
            wu = b"\x00\x00\x04\x08\x00" + self.sid.to_bytes(4, "big") + size.to_bytes(4, "big")
            self.h2._data_to_send += wu

    def feed_eof(self) -> None:
        """The server closed: what came is all there is (no head: an empty response)."""
        if self.head is not None and not self.eom:
            self.truncated = True
