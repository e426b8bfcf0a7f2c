"""The client side of HAProxy's HTTP/1 proxying: one client connection, request after request.

What src/mux_h1.c (the front connection) and src/http_ana.c (the transaction) do, as HAProxy
2.6.12 was observed to do it (tests/data/http):

* a request head is awaited within `timeout http-request` / `client` (timeouts.py); on time-out
  HAProxy sends its raw 408 and closes, or closes silently (an idle kept-alive connection);
* a complete head is forwarded (`ForwardHead`), its body piece by piece, its end; a request
  the parser refuses gets HAProxy's raw 400/413/422 and a close (a refusal found in the same
  read as its head: nothing was forwarded), a `Capture` for `show errors` too;
* the response is written as HAProxy writes it (encode.py), the connection's wish
  (connmode.py) decided on the request, then on the response; interim 1xx heads pass first;
* once both messages are complete the connection closes, becomes a tunnel (101, CONNECT 2xx),
  or waits for the next request (`timeout http-keep-alive`), whose bytes, if the client
  pipelined them, were held meanwhile (`PauseReading` once they fill tune.bufsize);
* a failed server side (`ServerFailed`) is answered with HAProxy's page (answers.py): a 502,
  503 or 504 keeps the connection unless the request was not read whole; a response cut after
  its head cuts the client;
* a client closing mid-head gets the raw 400, mid-body is dropped, after its request still
  gets the response (then the close).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pylvs.proto.http import connmode
from pylvs.proto.http.answers import Answer, raw_page
from pylvs.proto.http.connmode import Mode, Want
from pylvs.proto.http.encode import NO_WS_KEY, chunk, last_chunk, outgoing_response
from pylvs.proto.http.events import (
    BodyReceived,
    FramerEvent,
    HeadReceived,
    MessageEnded,
    MessageRejected,
    MessageTruncated,
    TrailersReceived,
    TunnelReceived,
)
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.limits import DEFAULT_LIMITS, Limits
from pylvs.proto.http.message import Body, Flag, RequestHead
from pylvs.proto.http.timeouts import Timeouts, after, earliest

from . import commands as cmd
from . import events as ev
from .machine import Machine


class Phase(enum.Enum):
    WAITING = "waiting"  # for a request head
    ACTIVE = "active"  # a transaction runs
    TUNNEL = "tunnel"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Front:
    """What a frontend sets for its client connections."""

    mode: Mode = Mode.KEEP_ALIVE
    timeouts: Timeouts = field(default_factory=Timeouts)
    limits: Limits = DEFAULT_LIMITS


@dataclass(slots=True)
class _Transaction:
    request: RequestHead
    ws_key: bytes
    req_done: bool = False
    started: bool = False  # the final response's head was written
    done: bool = False
    chunked: bool = False  # the response body is written chunked
    trailers: bool = False  # the last chunk was written with trailers
    bodyless: bool = False


class ClientMachine(Machine[ev.ClientEvent]):
    """One client connection (see the module doc); `deadline` says when to fire the timer."""

    def __init__(self, front: Front, now: float) -> None:
        self.front = front
        self.tunnel_timeout: float | None = None  # the stream's (set-timeout tunnel)
        self.framer = Framer(request=True, limits=front.limits)
        self.phase = Phase.WAITING
        self.want = Want.KEEP_ALIVE
        self.not_first = False
        self.stopping = False
        self.paused = False
        self.client_shut = False
        self.server_shut = False
        self.txn: _Transaction | None = None
        t = front.timeouts
        self._head_at = after(now, t.http_request)  # counted from accept for the first
        self._idle_at: float | None = None
        self._activity_at = after(now, t.client)
        self._write_at: float | None = None
        self._tunnel_at: float | None = None

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    def resumed(self, last: float) -> None:
        """Kept alive after exchanges served elsewhere (the pump's engine, which hands the
        connection over between two of them), the last one ended at `last`."""
        t = self.front.timeouts
        self.not_first = True
        self._head_at = None
        self._idle_at = after(last, t.keep_alive_wait)
        self._activity_at = after(last, t.client)

    @property
    def idle_tunnel(self) -> float | None:
        """How long the tunnel may stay idle: `set-timeout tunnel`'s, else timeouts.py's."""
        if self.tunnel_timeout is not None:
            return self.tunnel_timeout
        return self.front.timeouts.idle_tunnel

    @property
    def deadline(self) -> float | None:
        if self.phase is Phase.WAITING:
            return earliest(self._head_at, self._idle_at, self._activity_at, self._write_at)
        if self.phase is Phase.TUNNEL:
            return earliest(self._tunnel_at, self._write_at)
        if self.phase is Phase.ACTIVE:
            return self._write_at
        return None

    # -- the client's socket ----------------------------------------------------------------

    def _data(self, event: ev.DataRead, now: float, out: list[cmd.Command]) -> None:
        t = self.front.timeouts
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(now, self.idle_tunnel)
            out.extend(cmd.ForwardTunnel(e.data) for e in self.framer.feed(event.data))  # type: ignore[union-attr]
            return
        if self.phase is Phase.WAITING:
            if self._idle_at is not None and not self.framer.buffered:
                self._next_request_started(now)
            self._activity_at = after(now, t.client)
        self._frame(self.framer.feed(event.data), now, out)
        self._maybe_pause(out)

    def _passed(self, event: ev.BodyPassed, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.ACTIVE:
            self._frame(self.framer.passed(event.ended), now, out)
            self._maybe_pause(out)

    def _progressed(self, event: ev.BodyProgressed, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(event.at, self.front.timeouts.idle_tunnel)

    def _next_request_started(self, now: float) -> None:
        """The first byte of a kept-alive connection's next request (h1s_new resets the
        http-request timer)."""
        self._idle_at = None
        self._head_at = after(now, self.front.timeouts.http_request)

    def _eof(self, event: ev.EofRead, now: float, out: list[cmd.Command]) -> None:
        self.client_shut = True
        if self.phase is Phase.TUNNEL:
            out.append(cmd.FORWARD_SHUT)
            if self.server_shut:
                self._close(out)
            elif self.front.timeouts.client_fin is not None:
                self._tunnel_at = after(now, self.front.timeouts.client_fin)
            return
        txn = self.txn
        if self.phase is Phase.ACTIVE and txn is not None and txn.req_done:
            return  # the response goes on, then the connection closes
        if self.phase is Phase.WAITING:
            self._waiting_eof(now, out)
            return
        self._frame(self.framer.feed_eof(), now, out)

    def _waiting_eof(self, now: float, out: list[cmd.Command]) -> None:
        """The client shut its side between requests: what it left of one is refused (400,
        h1_process_demux on a truncated message), else the connection closes."""
        events = self.framer.feed_eof()
        if not any(isinstance(e, MessageRejected) for e in events):
            self._close(out)
            return
        self._frame(events, now, out)

    def _blocked(self, event: ev.WriteBlocked, now: float, out: list[cmd.Command]) -> None:
        if self._write_at is None:
            self._write_at = after(now, self.front.timeouts.client)

    def _drained(self, event: ev.WriteDrained, now: float, out: list[cmd.Command]) -> None:
        self._write_at = None

    def _stopping(self, event: ev.Stopping, now: float, out: list[cmd.Command]) -> None:
        self.stopping = True
        if self.phase is Phase.WAITING and not self.framer.buffered:
            self._close(out)

    def _timer(self, event: ev.TimerFired, now: float, out: list[cmd.Command]) -> None:
        deadline = self.deadline
        if deadline is None or now < deadline:
            return
        if self.phase is not Phase.WAITING:
            if self.phase is Phase.ACTIVE or self.phase is Phase.TUNNEL:
                out.append(cmd.FORWARD_ABORT)
            self._close(out)
            return
        t = self.front.timeouts
        held = self.framer.buffered
        if held or not (self.not_first or t.ignore_probes or t.dontlognull):
            out.append(cmd.Write(raw_page(408)))  # h1_handle_req_tout
        self._close(out)

    # -- framing the client's bytes -------------------------------------------------------

    def _frame(self, events: list[FramerEvent], now: float, out: list[cmd.Command]) -> None:
        events = _drop_unsent(events, self.txn)
        for event in events:
            if isinstance(event, HeadReceived):
                assert isinstance(event.head, RequestHead)
                self._start(event.head, out)
            elif isinstance(event, BodyReceived):
                out.append(cmd.ForwardData(event.data))
            elif isinstance(event, TrailersReceived):
                out.append(cmd.ForwardTrailers(event.fields))
            elif isinstance(event, MessageEnded):
                out.append(cmd.FORWARD_END)
                assert self.txn is not None
                self.txn.req_done = True
                if self.txn.done:
                    self._finish(now, out)
                    return
            elif isinstance(event, MessageTruncated):
                out.append(cmd.FORWARD_ABORT)
                self._close(out)
            elif isinstance(event, MessageRejected):
                self._refused(event, out)
            elif isinstance(event, TunnelReceived):
                out.append(cmd.ForwardTunnel(event.data))

    def _start(self, head: RequestHead, out: list[cmd.Command]) -> None:
        self.phase = Phase.ACTIVE
        self._head_at = self._idle_at = self._activity_at = None
        self.want = connmode.client_after_request(head.flags, self.stopping)
        key = head.field(b"sec-websocket-key") if head.flags & Flag.UPG_WEBSOCKET else None
        self.txn = _Transaction(head, key if key is not None and len(key) == 24 else NO_WS_KEY)
        out.append(cmd.ForwardHead(head, not self.not_first, self.front.mode))

    def _refused(self, event: MessageRejected, out: list[cmd.Command]) -> None:
        txn = self.txn
        out.append(cmd.Capture(event.refusal, event.buffer, self.not_first))
        if txn is None or self.phase is Phase.WAITING:
            out.append(cmd.Write(raw_page(event.refusal.status)))  # h1_handle_parsing_error
        else:
            out.append(cmd.FORWARD_ABORT)  # a body refused after its head was forwarded
            if not txn.started:
                data, _ = Answer.page(400).write(
                    self.want, txn.request.method, txn.request.flags, self.front.mode, early=True
                )
                out.append(cmd.Write(data))
        self._close(out)

    def _maybe_pause(self, out: list[cmd.Command]) -> None:
        txn = self.txn
        full = self.framer.buffered >= self.front.limits.raw_head
        if full and not self.paused and txn is not None and txn.req_done:
            self.paused = True
            out.append(cmd.PAUSE)

    # -- the response, from the server side -----------------------------------------------

    def _response(self, event: ev.ResponseStarted, now: float, out: list[cmd.Command]) -> None:
        txn = self.txn
        if txn is None or txn.started:
            return
        head = event.head
        req = txn.request
        written = outgoing_response(head, req.method, txn.ws_key)
        if head.informational:
            out.append(cmd.Write(written.write()))  # no connection processing for 1xx
            return
        self.want, value = connmode.response_out(
            self.want,
            req.method,
            head.status,
            written.flags,
            request_flags=req.flags,
            frontend=self.front.mode,
            stopping=self.stopping,
        )
        txn.started = True
        # the client's HEAD gets no payload, even when a rule sent the server a GET
        # (src/mux_h1.c: the response of a HEAD request is bodyless, H1S_F_BODYLESS_RESP)
        txn.bodyless = head.body in (Body.NONE, Body.TUNNEL) or req.method == b"HEAD"
        # a head that announces chunking ends with the last chunk even when no body comes (a
        # server's 204 a rule made a 201: HAProxy writes "0\r\n\r\n", h1_process_mux)
        txn.chunked = written.chunk or (not txn.bodyless and head.body is Body.CHUNKED)
        out.append(cmd.Write(written.write(value)))

    def _response_data(self, event: ev.ResponseData, now: float, out: list[cmd.Command]) -> None:
        txn = self.txn
        if txn is not None and txn.started and not txn.bodyless and event.data:
            out.append(cmd.Write(chunk(event.data) if txn.chunked else event.data))

    def _trailers(self, event: ev.ResponseTrailers, now: float, out: list[cmd.Command]) -> None:
        txn = self.txn
        if txn is not None and txn.chunked and not txn.trailers:
            txn.trailers = True
            out.append(cmd.Write(last_chunk(event.fields)))

    def _ended(self, event: ev.ResponseEnded, now: float, out: list[cmd.Command]) -> None:
        txn = self.txn
        if txn is None or not txn.started:
            return
        if txn.chunked and not txn.trailers:
            out.append(cmd.Write(last_chunk()))
        txn.done = True
        if txn.req_done or self.want is Want.TUNNEL:
            self._finish(now, out)

    def _cut(self, event: ev.ResponseCut, now: float, out: list[cmd.Command]) -> None:
        self._close(out)

    def _failed(self, event: ev.ServerFailed, now: float, out: list[cmd.Command]) -> None:
        txn = self.txn
        if txn is None:
            return
        if txn.started:
            self._close(out)
            return
        req = txn.request
        page = event.answer if event.answer is not None else Answer.page(event.status)
        if page.silent:
            txn.started = txn.done = True
            self._close(out)
            return
        data, self.want = page.write(
            self.want, req.method, req.flags, self.front.mode, early=not txn.req_done
        )
        out.append(cmd.Write(data))
        txn.started = txn.done = True
        if not txn.req_done:
            out.append(cmd.FORWARD_ABORT)
            self._close(out)
        else:
            self._finish(now, out)

    def _finish(self, now: float, out: list[cmd.Command]) -> None:
        """Both messages are complete: close, tunnel or wait for the next request."""
        self.txn = None
        t = self.front.timeouts
        if self.want is Want.TUNNEL:
            self.phase = Phase.TUNNEL
            self._tunnel_at = after(now, self.idle_tunnel)
            out.extend(cmd.ForwardTunnel(e.data) for e in self.framer.tunnel())  # type: ignore[union-attr]
            return
        # a client that shut its side after pipelined requests still gets each answer
        # (HAProxy parses what it read before the shutdown); then the connection closes
        if (
            self.want is Want.CLOSE
            or self.stopping
            or (self.client_shut and not self.framer.buffered)
        ):
            self._close(out)
            return
        self.phase = Phase.WAITING
        self.not_first = True
        self._idle_at = after(now, t.keep_alive_wait)
        self._activity_at = after(now, t.client)
        self._head_at = None
        if self.paused:
            self.paused = False
            out.append(cmd.RESUME)
        events = self.framer.next_message()
        if self.framer.buffered or events:
            self._next_request_started(now)
        self._frame(events, now, out)
        if self.client_shut and self.phase is Phase.WAITING:  # a part of one was left
            self._waiting_eof(now, out)
            return
        self._maybe_pause(out)

    # -- a tunnel ---------------------------------------------------------------------------

    def _tunnel_data(self, event: ev.TunnelDelivered, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(now, self.idle_tunnel)
            out.append(cmd.Write(event.data))

    def _server_shut(self, event: ev.ServerShut, now: float, out: list[cmd.Command]) -> None:
        self.server_shut = True
        if self.client_shut:
            self._close(out)
        else:
            out.append(cmd.SHUT_WRITE)

    def _close(self, out: list[cmd.Command]) -> None:
        self.phase = Phase.CLOSED
        self.txn = None
        out.append(cmd.CLOSE)


def _drop_unsent(events: list[FramerEvent], txn: _Transaction | None) -> list[FramerEvent]:
    """A message refused in the same read as its head was never forwarded (HAProxy parses a
    whole read before the stream sees the head): keep only the refusal."""
    for i, event in enumerate(events):
        if isinstance(event, MessageRejected):
            for j in range(i - 1, -1, -1):
                if isinstance(events[j], MessageEnded):
                    break
                if isinstance(events[j], HeadReceived):
                    return [*events[:j], event]
            return events
    return events


ClientMachine.handlers = {
    ev.DataRead: ClientMachine._data,
    ev.EofRead: ClientMachine._eof,
    ev.BodyPassed: ClientMachine._passed,
    ev.BodyProgressed: ClientMachine._progressed,
    ev.WriteBlocked: ClientMachine._blocked,
    ev.WriteDrained: ClientMachine._drained,
    ev.Stopping: ClientMachine._stopping,
    ev.TimerFired: ClientMachine._timer,
    ev.ResponseStarted: ClientMachine._response,
    ev.ResponseData: ClientMachine._response_data,
    ev.ResponseTrailers: ClientMachine._trailers,
    ev.ResponseEnded: ClientMachine._ended,
    ev.ResponseCut: ClientMachine._cut,
    ev.ServerFailed: ClientMachine._failed,
    ev.TunnelDelivered: ClientMachine._tunnel_data,
    ev.ServerShut: ClientMachine._server_shut,
}
