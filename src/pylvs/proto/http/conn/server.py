"""The server side of HAProxy's HTTP/1 proxying: one connection to a server, possibly reused.

What src/mux_h1.c (the back connection), src/backend.c and src/http_ana.c do with it in
HAProxy 2.6:

* a new connection is opened for a request (`Connect`) and must be established within
  `timeout connect`, or the client gets a 503 (`DeliverFailure(503)`: a driver that retries
  or redispatches opens another connection instead of delivering it);
* the request is written as HAProxy writes it (encode.py), with the Connection value the
  proxy's mode calls for (connmode.request_out: http-server-close and httpclose ask the server
  to close), its body re-chunked when it came chunked;
* the response is framed by HAProxy's rules; it must start, and keep coming, within
  `timeout server` (a 504 before its head, a cut after); a response HAProxy's parser refuses
  is a 502 (`Capture` for `show errors` too), a close before any byte of it a 502 as well,
  and so is a 101 unless both the request and the response said `Connection: upgrade`
  (src/http_ana.c http_wait_for_response);
* once both messages are complete the connection closes (the server or the mode asked for
  it, or bytes followed the response: h1_detach kills such connections), turns into a tunnel,
  or is offered back to the pool (`Release`: on the safe list once it has served more than one
  request, pool.py decides); an idle pooled connection that receives anything closes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pylvs.proto.http import connmode
from pylvs.proto.http.connmode import Mode, Want
from pylvs.proto.http.encode import chunk, last_chunk, outgoing_request
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
from pylvs.proto.http.message import Body, Flag, ResponseHead
from pylvs.proto.http.timeouts import Timeouts, after, earliest

from . import commands as cmd
from . import events as ev
from .machine import Machine


class Phase(enum.Enum):
    NEW = "new"  # no request yet
    ACTIVE = "active"  # a transaction runs (the connection may still be opening)
    IDLE = "idle"  # between transactions, offered to the pool
    TUNNEL = "tunnel"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Back:
    """What a backend sets for its server connections."""

    mode: Mode = Mode.KEEP_ALIVE
    timeouts: Timeouts = field(default_factory=Timeouts)
    limits: Limits = DEFAULT_LIMITS
    pretend_keepalive: bool = False  # option http-pretend-keepalive


class ServerMachine(Machine[ev.ServerEvent]):
    """One connection to a server (see the module doc); `deadline` says when to fire."""

    raw = True  # the socket carries HTTP/1: bodies and tunnels may go through the C path

    def __init__(self, back: Back) -> None:
        self.back = back
        self.timeouts = back.timeouts  # the transaction's (set-timeout may change them)
        self.framer = Framer(request=False, limits=back.limits)
        self.phase = Phase.NEW
        self.connected = False
        self.want = Want.KEEP_ALIVE
        self.served = 0  # transactions this connection carried
        self.stopping = False
        self.client_shut = False
        self.server_shut = False
        self._method = b"GET"
        self._upgrade = False  # the request asked to upgrade (Connection: upgrade)
        self._chunked = False  # the request body is written chunked
        self._trailers = False
        self._req_done = False
        self._delivered = False  # the final response head was delivered
        self._resp_done = False
        self._connect_at: float | None = None
        self._server_at: float | None = None
        self._tunnel_at: float | None = None

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    @property
    def body_chunked(self) -> bool:
        """The request body is written chunked (what a driver passing it must write)."""
        return self._chunked

    @property
    def deadline(self) -> float | None:
        if self.phase is Phase.ACTIVE:
            return earliest(self._connect_at, self._server_at)
        if self.phase is Phase.TUNNEL:
            return self._tunnel_at
        return None

    # -- the request, from the client side ------------------------------------------------

    def _begin(self, event: ev.HeadForwarded, now: float, out: list[cmd.Command]) -> bool:
        """A request starts on this connection (opening it first when new): False if the
        connection is not free for it."""
        if self.phase not in (Phase.NEW, Phase.IDLE):
            return False
        head = event.head
        t = self.timeouts = event.timeouts or self.back.timeouts
        if self.phase is Phase.NEW:
            out.append(cmd.CONNECT)
            self._connect_at = after(now, t.connect)
        else:
            self._server_at = after(now, t.server)
        self.phase = Phase.ACTIVE
        self._method = head.method
        self._upgrade = head.wants_upgrade
        self._req_done = self._delivered = self._resp_done = self._trailers = False
        return True

    def _head(self, event: ev.HeadForwarded, now: float, out: list[cmd.Command]) -> None:
        if not self._begin(event, now, out):
            return
        head = event.head
        self.framer.expect(head.method)
        written = outgoing_request(head)
        self.want, value = connmode.request_out(
            written.flags, event.mode, self.back.mode, self.back.pretend_keepalive
        )
        if self.stopping:
            self.want = Want.CLOSE
        self._chunked = head.body is Body.CHUNKED or written.chunk
        out.append(cmd.Write(written.write(value)))

    def _data(self, event: ev.DataForwarded, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.ACTIVE and event.data:
            out.append(cmd.Write(chunk(event.data) if self._chunked else event.data))

    def _req_trailers(
        self, event: ev.TrailersForwarded, now: float, out: list[cmd.Command]
    ) -> None:
        if self.phase is Phase.ACTIVE and self._chunked and not self._trailers:
            self._trailers = True
            out.append(cmd.Write(last_chunk(event.fields)))

    def _req_end(self, event: ev.EndForwarded, now: float, out: list[cmd.Command]) -> None:
        if self.phase is not Phase.ACTIVE:
            return
        if self._chunked and not self._trailers:
            out.append(cmd.Write(last_chunk()))
        self._req_done = True
        if self._resp_done:
            self._finish(now, out)

    def _tunnel_in(self, event: ev.TunnelForwarded, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(now, self.timeouts.idle_tunnel)
            out.append(cmd.Write(event.data))

    def _client_shut(self, event: ev.ClientShut, now: float, out: list[cmd.Command]) -> None:
        self.client_shut = True
        if self.server_shut:
            self._close(out)
        else:
            out.append(cmd.SHUT_WRITE)

    def _aborted(self, event: ev.ClientAborted, now: float, out: list[cmd.Command]) -> None:
        if self.phase in (Phase.ACTIVE, Phase.TUNNEL):
            self._close(out)

    # -- the server's socket ----------------------------------------------------------------

    def _connected(self, event: ev.Connected, now: float, out: list[cmd.Command]) -> None:
        self.connected = True
        self._connect_at = None
        if self.phase is Phase.ACTIVE:
            self._server_at = after(now, self.timeouts.server)

    def _connect_failed(self, event: ev.ConnectFailed, now: float, out: list[cmd.Command]) -> None:
        out.append(cmd.DeliverFailure(503))
        self._close(out)

    def _read(self, event: ev.DataRead, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.IDLE:
            self._close(out)  # nothing is expected on an idle connection
            return
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(now, self.timeouts.idle_tunnel)
        elif self.phase is Phase.ACTIVE:
            self._server_at = after(now, self.timeouts.server)
        self._frame(self.framer.feed(event.data), now, out)

    def _passed(self, event: ev.BodyPassed, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.ACTIVE:
            self._server_at = after(now, self.back.timeouts.server)
            self._frame(self.framer.passed(event.ended), now, out)

    def _progressed(self, event: ev.BodyProgressed, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(event.at, self.back.timeouts.idle_tunnel)
        elif self.phase is Phase.ACTIVE:
            self._server_at = after(event.at, self.back.timeouts.server)

    def _eof(self, event: ev.EofRead, now: float, out: list[cmd.Command]) -> None:
        self.server_shut = True
        if self.phase is Phase.TUNNEL:
            out.append(cmd.DELIVER_SHUT)
            if self.client_shut:
                self._close(out)
            elif self.timeouts.server_fin is not None:
                self._tunnel_at = after(now, self.timeouts.server_fin)
            return
        if self.phase is not Phase.ACTIVE:
            self._close(out)
            return
        events = self.framer.feed_eof()
        if not events and not self._delivered:
            out.append(cmd.DeliverFailure(502))  # closed before any response byte
            self._close(out)
            return
        self._frame(events, now, out)
        if self.phase is Phase.ACTIVE and not self._resp_done:
            out.append(cmd.DELIVER_CUT)
            self._close(out)

    def _blocked(self, event: ev.WriteBlocked, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.ACTIVE and self._server_at is None:
            self._server_at = after(now, self.timeouts.server)

    def _drained(self, event: ev.WriteDrained, now: float, out: list[cmd.Command]) -> None:
        return

    def _stopping(self, event: ev.Stopping, now: float, out: list[cmd.Command]) -> None:
        self.stopping = True
        if self.phase is Phase.IDLE:
            self._close(out)
        elif self.phase is Phase.ACTIVE:
            self.want = Want.CLOSE if self.want is Want.KEEP_ALIVE else self.want

    def _timer(self, event: ev.TimerFired, now: float, out: list[cmd.Command]) -> None:
        deadline = self.deadline
        if deadline is None or now < deadline:
            return
        if self.phase is Phase.ACTIVE:
            if not self.connected:
                out.append(cmd.DeliverFailure(503))  # timeout connect
            elif not self._delivered:
                out.append(cmd.DeliverFailure(504))  # timeout server
            else:
                out.append(cmd.DELIVER_CUT)
        else:
            out.append(cmd.DELIVER_CUT)
        self._close(out)

    # -- the response ----------------------------------------------------------------------

    def _frame(self, events: list[FramerEvent], now: float, out: list[cmd.Command]) -> None:
        for event in events:
            if isinstance(event, HeadReceived):
                head = event.head
                assert isinstance(head, ResponseHead)
                if head.status == 101 and not (self._upgrade and head.flags & Flag.CONN_UPG):
                    # http_wait_for_response: both sides must agree to upgrade
                    out.append(cmd.DeliverFailure(502))
                    self._close(out)
                    return
                if not head.informational:
                    self._delivered = True
                    self.want = connmode.server_after_response(
                        self.want, self._method, head.status, head.flags
                    )
                out.append(cmd.DeliverHead(head))
            elif isinstance(event, BodyReceived):
                out.append(cmd.DeliverData(event.data))
            elif isinstance(event, TrailersReceived):
                out.append(cmd.DeliverTrailers(event.fields))
            elif isinstance(event, MessageEnded):
                out.append(cmd.DELIVER_END)
                self._resp_done = True
                if self._req_done or self.want is Want.TUNNEL:
                    self._finish(now, out)
            elif isinstance(event, TunnelReceived):
                out.append(cmd.DeliverTunnel(event.data))
            elif isinstance(event, MessageRejected):
                out.append(cmd.Capture(event.refusal, event.buffer, False))
                out.append(cmd.DeliverFailure(502) if not self._delivered else cmd.DELIVER_CUT)
                self._close(out)
                return
            elif isinstance(event, MessageTruncated):
                out.append(cmd.DELIVER_CUT)
                self._close(out)
                return

    def _finish(self, now: float, out: list[cmd.Command]) -> None:
        self.served += 1
        self._server_at = None
        if self.want is Want.TUNNEL:
            self.phase = Phase.TUNNEL
            self._tunnel_at = after(now, self.timeouts.idle_tunnel)
            return
        if self.want is not Want.KEEP_ALIVE or self.framer.buffered or self.server_shut:
            self._close(out)
            return
        self.phase = Phase.IDLE
        self.framer.next_message()
        out.append(cmd.Release(safe=self.served > 1))

    def _close(self, out: list[cmd.Command]) -> None:
        self.phase = Phase.CLOSED
        out.append(cmd.CLOSE)

    def socket_closed(self) -> None:
        """The connection's socket closed, whoever closed it (the HTTP/2 machine keeps
        counters of open connections)."""
        return


ServerMachine.handlers = {
    ev.HeadForwarded: ServerMachine._head,
    ev.DataForwarded: ServerMachine._data,
    ev.TrailersForwarded: ServerMachine._req_trailers,
    ev.EndForwarded: ServerMachine._req_end,
    ev.TunnelForwarded: ServerMachine._tunnel_in,
    ev.ClientShut: ServerMachine._client_shut,
    ev.ClientAborted: ServerMachine._aborted,
    ev.Connected: ServerMachine._connected,
    ev.ConnectFailed: ServerMachine._connect_failed,
    ev.DataRead: ServerMachine._read,
    ev.EofRead: ServerMachine._eof,
    ev.BodyPassed: ServerMachine._passed,
    ev.BodyProgressed: ServerMachine._progressed,
    ev.WriteBlocked: ServerMachine._blocked,
    ev.WriteDrained: ServerMachine._drained,
    ev.Stopping: ServerMachine._stopping,
    ev.TimerFired: ServerMachine._timer,
}
