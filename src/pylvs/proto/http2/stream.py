"""One HTTP/2 stream on a frontend: its request to the server side, the response back in frames.

The client machine of proto/http/conn speaks HTTP/1 bytes; an HTTP/2 stream carries one
request and one response already split into frames by the connection (the `h2` library,
dataplane/haproxy/http2), so this machine takes their content and answers with what the
connection must send.  Its other side is the same as HTTP/1's: `Forward*` commands for the
server machine, `Response*` / `ServerFailed` / `Tunnel*` events from it.  What it does comes
from src/mux_h2.c (h2s_frt_make_resp_headers, h2s_make_data, the stream errors):

* the request head goes at once (`ForwardHead`), its DATA as body, END_STREAM as its end;
  DATA beyond the Content-Length, or END_STREAM short of it, is malformed (RFC 9113 section
  8.1.1): the stream is reset with PROTOCOL_ERROR and the server side aborted;
* the response head becomes a HEADERS frame: `:status` then the fields without the
  connection-specific ones (Connection, Proxy-Connection, Keep-Alive, Upgrade,
  Transfer-Encoding), END_STREAM on it when the message has no body; a HEAD's (or 204's,
  304's) response that has one ends with an empty DATA frame once its body was read and
  dropped; interim 1xx heads pass first; a 101 to an extended CONNECT becomes 200 (RFC 8441
  section 5) and the stream a tunnel, as a 2xx to CONNECT does;
* HAProxy's own answers (answers.py, the proxies' error pages) go the same way; a response
  cut after its head resets the stream (CANCEL);
* the stream is over once both directions ended (or were reset): `Close`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.client import Front
from pylvs.proto.http.conn.machine import Machine
from pylvs.proto.http.encode import websocket_accept
from pylvs.proto.http.message import Body, Fields, ResponseHead

from .request import H2Request

# RFC 9113 section 7
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
STREAM_CLOSED = 0x5
REFUSED_STREAM = 0x7
CANCEL = 0x8

_NOT_H2 = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"upgrade", b"transfer-encoding"}
)


# -- events from the connection ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """The stream's request HEADERS; `end` if END_STREAM came with them."""

    request: H2Request
    end: bool


@dataclass(frozen=True, slots=True)
class TrailersRead:
    """Trailing HEADERS (they end the stream)."""

    fields: Fields


@dataclass(frozen=True, slots=True)
class ResetRead:
    """The client reset the stream (RST_STREAM)."""

    code: int


# -- commands for the connection -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendHeaders:
    fields: tuple[tuple[bytes, bytes], ...]  # `:status` first
    end: bool


@dataclass(frozen=True, slots=True)
class SendData:
    data: bytes
    end: bool


@dataclass(frozen=True, slots=True)
class Reset:
    code: int


# what a handler appends: conn/commands.py's Forward* and Close, and this module's frames
Out = list[Any]


class Phase(enum.Enum):
    WAITING = "waiting"  # (never for long: the stream exists for its request)
    ACTIVE = "active"
    TUNNEL = "tunnel"
    CLOSED = "closed"


@dataclass(slots=True)
class _Txn:
    request: H2Request
    received: int = 0  # body bytes read
    req_done: bool = False
    started: bool = False  # the final response's HEADERS went
    done: bool = False  # the response ended (END_STREAM sent)
    bodyless: bool = False
    tunnel_wanted: bool = False


def response_fields(head: ResponseHead, status: int) -> tuple[tuple[bytes, bytes], ...]:
    """h2s_frt_make_resp_headers(): `:status`, then the fields HTTP/2 has."""
    out = [(b":status", b"%d" % status)]
    out.extend((n, v) for n, v in head.fields if n not in _NOT_H2 and n[:1] != b":")
    return tuple(out)


class StreamMachine(Machine[Any]):
    """One frontend HTTP/2 stream (see the module doc)."""

    def __init__(self, front: Front, now: float, *, first: bool) -> None:
        self.front = front
        self.phase = Phase.WAITING
        self.not_first = not first
        self.tunnel_timeout: float | None = None
        self.txn: _Txn | None = None
        self.client_shut = False
        self.server_shut = False

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    def handle(self, event: Any, now: float) -> Out:
        """(Machine.handle, typed for this machine's commands too.)"""
        return super().handle(event, now)

    @property
    def deadline(self) -> float | None:
        return None  # the connection's timers (timeout client) hold its streams

    # -- the request ------------------------------------------------------------------

    def _opened(self, event: Opened, now: float, out: Out) -> None:
        if self.phase is not Phase.WAITING:
            return
        req = event.request
        head = req.head
        self.phase = Phase.ACTIVE
        txn = self.txn = _Txn(
            req, tunnel_wanted=head.method == b"CONNECT" or req.protocol is not None
        )
        out.append(cmd.ForwardHead(head, not self.not_first, self.front.mode))
        if txn.tunnel_wanted:
            txn.req_done = True  # no body: the tunnel's data follows the response
            out.append(cmd.FORWARD_END)
        elif event.end or head.body is Body.NONE:
            self._request_ended(event.end, out)

    def _data(self, event: ev.DataRead, now: float, out: Out) -> None:
        txn = self.txn
        if self.phase is Phase.TUNNEL:
            out.append(cmd.ForwardTunnel(event.data))
            return
        if txn is None or not event.data:
            return
        if txn.req_done:
            if txn.tunnel_wanted:
                return  # before the tunnel is up (HAProxy holds it: H2_SF_BLK_MBUSY)
            self._malformed(out)  # DATA after a body that ended (Content-Length: 0)
            return
        txn.received += len(event.data)
        length = txn.request.length
        if length is not None and txn.received > length:
            self._malformed(out)
            return
        out.append(cmd.ForwardData(event.data))

    def _eof(self, event: ev.EofRead, now: float, out: Out) -> None:
        self.client_shut = True
        if self.phase is Phase.TUNNEL:
            out.append(cmd.FORWARD_SHUT)
            if self.server_shut:
                self._close(out)
            return
        txn = self.txn
        if txn is None or txn.req_done:
            return
        length = txn.request.length
        if length is not None and txn.received != length:
            self._malformed(out)
            return
        self._request_ended(True, out)

    def _request_ended(self, by_client: bool, out: Out) -> None:
        txn = self.txn
        assert txn is not None
        txn.req_done = True
        self.client_shut = self.client_shut or by_client
        out.append(cmd.FORWARD_END)
        if txn.done:
            self._close(out)

    def _trailers(self, event: TrailersRead, now: float, out: Out) -> None:
        txn = self.txn
        if txn is None or txn.req_done or self.phase is not Phase.ACTIVE:
            return
        out.append(cmd.ForwardTrailers(event.fields))
        self._eof(ev.EOF_READ, now, out)

    def _reset(self, event: ResetRead, now: float, out: Out) -> None:
        out.append(cmd.FORWARD_ABORT)
        self._close(out)

    def _malformed(self, out: Out) -> None:
        out.append(cmd.FORWARD_ABORT)
        out.append(Reset(PROTOCOL_ERROR))
        self._close(out)

    # -- the response -----------------------------------------------------------------

    def _response(self, event: ev.ResponseStarted, now: float, out: Out) -> None:
        txn = self.txn
        if txn is None or txn.started:
            return
        head = event.head
        status = head.status
        if head.informational:
            out.append(SendHeaders(response_fields(head, status), end=False))
            return
        tunnel = txn.tunnel_wanted and (
            (status == 101 and txn.request.protocol is not None)
            or (txn.request.head.method == b"CONNECT" and 200 <= status < 300)
        )
        key = txn.request.ws_key
        accept = head.field(b"sec-websocket-accept")
        if status == 101 and (not tunnel or (key is not None and accept != websocket_accept(key))):
            # RFC 9113 section 8.6: no 101 in HTTP/2; a WebSocket accept value that is not
            # the one of the key HAProxy made (h1_process_input: H1S_F_HAVE_WS_KEY) is a 502
            self._failed(ev.ServerFailed(502), now, out)
            return
        if status == 101:
            status = 200
        txn.started = True
        txn.bodyless = not tunnel and (
            head.body is Body.NONE or txn.request.head.method == b"HEAD" or status in (204, 304)
        )
        # END_STREAM on the HEADERS only when the message has nothing after its head
        # (h2s_frt_make_resp_headers: EOM with an empty HTX); a HEAD answered with a body
        # (the server got a GET) ends with an empty DATA once that body was read and
        # skipped (h2s_skip_data), so the server connection is free when the client hears
        # the end: its next request can reuse it
        end = not tunnel and head.body is Body.NONE
        out.append(SendHeaders(response_fields(head, status), end=end))
        if tunnel:
            self.phase = Phase.TUNNEL
        elif end:
            txn.done = True

    def _response_data(self, event: ev.ResponseData, now: float, out: Out) -> None:
        txn = self.txn
        if txn is not None and txn.started and not txn.bodyless and not txn.done and event.data:
            out.append(SendData(event.data, end=False))

    def _response_trailers(self, event: ev.ResponseTrailers, now: float, out: Out) -> None:
        txn = self.txn
        if txn is not None and txn.started and not txn.done and not txn.bodyless:
            txn.done = True
            fields = tuple((n, v) for n, v in event.fields if n not in _NOT_H2)
            out.append(SendHeaders(fields, end=True))

    def _ended(self, event: ev.ResponseEnded, now: float, out: Out) -> None:
        txn = self.txn
        if txn is None or not txn.started or self.phase is Phase.TUNNEL:
            return
        if not txn.done:
            txn.done = True
            out.append(SendData(b"", end=True))
        if txn.req_done:
            self._close(out)

    def _cut(self, event: ev.ResponseCut, now: float, out: Out) -> None:
        out.append(Reset(CANCEL))
        self._close(out)

    def _failed(self, event: ev.ServerFailed, now: float, out: Out) -> None:
        txn = self.txn
        if txn is None:
            return
        if txn.started:  # the head went: the stream can only be cut
            if not txn.req_done:
                out.append(cmd.FORWARD_ABORT)
            out.append(Reset(CANCEL))
            self._close(out)
            return
        page = event.answer if event.answer is not None else Answer.page(event.status)
        txn.started = txn.done = True
        if page.silent:
            out.append(Reset(CANCEL))
        else:
            self._answer(page, txn, out)
        if not txn.req_done:
            out.append(cmd.FORWARD_ABORT)
            out.append(Reset(NO_ERROR))  # the answer is whole; what the client sends is not read
        self._close(out)

    def _answer(self, page: Answer, txn: _Txn, out: Out) -> None:
        body = b"" if txn.request.head.method == b"HEAD" else page.body
        head = page.head
        out.append(SendHeaders(response_fields(head, head.status), end=not body))
        if body:
            out.append(SendData(body, end=True))

    # -- a tunnel ---------------------------------------------------------------------

    def _tunnel_data(self, event: ev.TunnelDelivered, now: float, out: Out) -> None:
        if self.phase is Phase.TUNNEL and event.data:
            out.append(SendData(event.data, end=False))

    def _server_shut(self, event: ev.ServerShut, now: float, out: Out) -> None:
        self.server_shut = True
        out.append(SendData(b"", end=True))
        if self.client_shut:
            self._close(out)

    def _close(self, out: Out) -> None:
        self.phase = Phase.CLOSED
        self.txn = None
        out.append(cmd.CLOSE)


StreamMachine.handlers = {
    Opened: StreamMachine._opened,
    ev.DataRead: StreamMachine._data,
    ev.EofRead: StreamMachine._eof,
    TrailersRead: StreamMachine._trailers,
    ResetRead: StreamMachine._reset,
    ev.ResponseStarted: StreamMachine._response,
    ev.ResponseData: StreamMachine._response_data,
    ev.ResponseTrailers: StreamMachine._response_trailers,
    ev.ResponseEnded: StreamMachine._ended,
    ev.ResponseCut: StreamMachine._cut,
    ev.ServerFailed: StreamMachine._failed,
    ev.TunnelDelivered: StreamMachine._tunnel_data,
    ev.ServerShut: StreamMachine._server_shut,
}
