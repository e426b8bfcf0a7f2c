"""A connection to an HTTP/2 server (`server ... proto h2`): the server machine, in frames.

The same machine as conn/server.py's for the driver (events in, `Write`/`Deliver*`/`Release`
commands out, one request at a time, then back to the pool), but what goes on the socket is
HTTP/2, through the `h2` library (library.py), as src/mux_h2.c writes it for a backend:

* the request (h2s_bck_make_req_headers): `:method`, then for CONNECT `:authority` alone;
  else `:scheme` (the absolute target's, else "http" for a request that said http, else
  "https"), `:authority` from an absolute target (the Host field is then dropped), `:path`
  ("/" or "*" when empty); the connection-specific fields are dropped, TE kept only as
  `trailers`; a request that upgrades (Connection: upgrade) becomes an extended CONNECT
  (RFC 8441: `:protocol` from Upgrade's first protocol, `:authority` from Host) when the
  server announced SETTINGS_ENABLE_CONNECT_PROTOCOL, else it fails (the stream is reset, the
  client gets a 502);
* the body in DATA frames as the server's windows allow; END_STREAM ends it;
* the response (h2_make_htx_response): `:status` only, names lower case, no
  connection-specific field; 1xx are interim; a 200 to an extended CONNECT is HTTP/1's 101
  with `connection: upgrade` and `upgrade: <protocol>`, and the stream a tunnel, as a 2xx to
  CONNECT is; a response HTTP/2 forbids (101, a bad :status or field) is a 502;
* once the response ended the connection goes back to the pool on the safe list, after its
  first request too (h2_detach);
* a reset stream or a GOAWAY before the response is a 502, after its head a cut; an idle
  connection answers PINGs and SETTINGS, and closes on GOAWAY;
* a server whose first frame is not SETTINGS (an HTTP/1 server: library.py refuses it at
  its header) never got ready: the attempt failed as a connect does (`Reconnect`: the
  driver's retries and redispatch, then the 503), recorded from haproxy 2.6.12.
"""

from __future__ import annotations

from typing import Any

import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from pylvs.proto.http import connmode
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.server import Back, Phase, ServerMachine
from pylvs.proto.http.connmode import Want
from pylvs.proto.http.message import Body, Flag, RequestHead, ResponseHead
from pylvs.proto.http.timeouts import after

from .counters import H2Counters, count_frames
from .library import Connection, Outbox
from .request import Malformed, content_length

_NOT_H2 = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"upgrade", b"transfer-encoding"}
)


def request_headers(  # noqa: C901 -- h2s_bck_make_req_headers, case by case
    head: RequestHead, *, extended: bool
) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """h2s_bck_make_req_headers(): the header list for `head`, and the :protocol of an
    extended CONNECT when `extended` (the server allows it) and the request upgrades."""
    protocol = None
    if head.flags & Flag.CONN_UPG:
        up = head.field(b"upgrade")
        if up is not None:
            protocol = up.split(b",")[0].strip()[:15]
    method = head.method
    if protocol is not None:
        if not extended:
            raise ValueError("the server does not take extended CONNECT")
        method = b"CONNECT"
    out: list[tuple[bytes, bytes]] = [(b":method", method)]
    target = head.target
    authority = None
    if method == b"CONNECT" and protocol is None:
        authority = target
        out.append((b":authority", target))
    else:
        scheme = b""
        path = target
        if target[:1] not in (b"/", b"*"):
            at = target.find(b":")
            if at > 0 and target[at + 1 : at + 3] == b"//":
                scheme = target[:at]
                rest = target[at + 3 :]
                slash = rest.find(b"/")
                authority = rest if slash < 0 else rest[:slash]
                path = b"" if slash < 0 else rest[slash:]
        if protocol is not None:
            authority = head.field(b"host") or authority
        if not scheme:
            scheme = b"https"
        out.append((b":scheme", scheme))
        if authority:
            out.append((b":authority", authority))
        out.append((b":path", path or (b"*" if method == b"OPTIONS" else b"/")))
        if protocol is not None:
            out.append((b":protocol", protocol))
    for name, value in head.fields:
        if name in _NOT_H2 or (authority and name == b"host") or name[:1] == b":":
            continue
        if name == b"te":
            at = value.find(b"trailers")
            if at < 0 or (len(value) > at + 8 and value[at + 8] != 0x2C):
                continue
            out.append((name, b"trailers"))
            continue
        out.append((name, value))
    return out, protocol


def response_head(  # noqa: C901 -- h2_make_htx_response's checks, in its order
    headers: list[tuple[bytes, bytes]], *, end: bool, method: bytes, protocol: bytes | None
) -> ResponseHead | None:
    """h2_make_htx_response(): the response a header list stands for, None if malformed."""
    status_text = None
    fields: list[tuple[bytes, bytes]] = []
    length = None
    for name, raw in headers:
        value = raw
        if name == b":status" and status_text is None and not fields:
            status_text = value
            continue
        if name[:1] == b":" or name in _NOT_H2 or name != name.lower():
            return None
        if b"\0" in value or b"\r" in value or b"\n" in value:
            return None
        if name == b"content-length":
            n = content_length(value, length)
            if isinstance(n, Malformed):
                return None
            if length is not None:
                continue
            length = n
            value = str(n).encode()
        fields.append((name, value))
    if status_text is None or len(status_text) != 3 or not status_text.isdigit():
        return None
    status = int(status_text)
    flags = Flag.VER_11 | Flag.XFER_LEN
    tunnel = False
    if protocol is not None and status == 200:
        status, status_text = 101, b"101"
        fields += [(b"connection", b"upgrade"), (b"upgrade", protocol)]
        flags |= Flag.CONN_UPG | (Flag.UPG_WEBSOCKET if protocol.lower() == b"websocket" else 0)
        tunnel = True
    elif status == 101:
        return None  # RFC 9113 section 8.6
    elif method == b"CONNECT" and 200 <= status < 300:
        tunnel = True
    if length is not None:
        flags |= Flag.CLEN
    if tunnel:
        body, size = Body.TUNNEL, 0
    elif end or status < 200 or status in (204, 304) or method == b"HEAD" or length == 0:
        body, size = Body.NONE, 0
    elif length is not None:
        body, size = Body.LENGTH, length
    else:
        body, size = Body.CHUNKED, 0  # chunked on HTTP/1 (encode.py adds it)
    return ResponseHead(b"HTTP/2.0", status, status_text, b"", tuple(fields), flags, body, size)


class H2ServerMachine(ServerMachine):
    """One connection to an HTTP/2 server (see the module doc)."""

    raw = False  # frames on the socket: the C path must not carry bodies or tunnels

    def __init__(self, back: Back, stats: H2Counters | None = None) -> None:
        super().__init__(back)
        # the backend's h2 counters (`show stat`'s h2_* columns of its row)
        self.stats = stats if stats is not None else H2Counters()
        self.counted = False  # the server's first SETTINGS was counted
        self.conn_open = False  # counted in open_conns
        self.stream_open = False  # counted in backend_open_streams
        self.h2 = Connection(client_side=True)
        self.h2.initiate(back=True)
        self.sid = 0
        self.protocol: bytes | None = None
        self.out = Outbox()  # the request's DATA waiting for the server's windows
        self.settled = False  # the server's first SETTINGS came
        self.head: RequestHead | None = None  # the request, until they do
        self.extended = False  # the server allows extended CONNECT (SETTINGS, RFC 8441)
        self.renewed = False  # a failed attempt's successor: its preface waits for Connected

    def _renew(self) -> None:
        """A new connection's state for the next attempt (its preface goes once connected:
        `_connected`); the request's HEADERS still wait for the server's SETTINGS."""
        self.h2 = Connection(client_side=True)
        self.h2.initiate(back=True)
        self.connected = False
        self.renewed = True
        self.counted = False

    def socket_closed(self) -> None:
        """Its socket closed (by the machine's Close, the pool, a failed attempt)."""
        self._stream_gone()
        if self.conn_open:
            self.conn_open = False
            self.stats.open_conns -= 1

    def _stream_gone(self) -> None:
        if self.stream_open:
            self.stream_open = False
            self.stats.backend_open_streams -= 1

    def _connected(self, event: ev.Connected, now: float, out: list[cmd.Command]) -> None:
        super()._connected(event, now, out)
        if not self.conn_open:
            self.conn_open = True
            self.stats.open_conns += 1
            self.stats.total_conns += 1
        if self.renewed:
            self.renewed = False
            self._flush(out)

    def _flush(self, out: list[cmd.Command]) -> None:
        data = self.h2.data_to_send()
        if data:
            out.append(cmd.Write(data))

    # -- the request ------------------------------------------------------------------

    def _head(self, event: ev.HeadForwarded, now: float, out: list[cmd.Command]) -> None:
        if not self._begin(event, now, out):
            return
        head = event.head
        self.out = Outbox()
        self.want = Want.CLOSE if self.stopping else Want.KEEP_ALIVE
        self.head = head
        if self.settled:
            self._send_head(out)
        else:
            self._flush(out)  # the preface and SETTINGS of a new connection

    def _send_head(self, out: list[cmd.Command]) -> None:
        """The request's HEADERS, once the server's SETTINGS came (h2_snd_buf waits for
        H2_CS_FRAME_H: they say whether extended CONNECT may be used)."""
        head = self.head
        if head is None:
            return
        self.head = None
        try:
            headers, self.protocol = request_headers(head, extended=self.extended)
        except ValueError:
            # h2s_bck_make_req_headers fails: h2s_error(INTERNAL_ERROR) resets the stream it
            # opened without a HEADERS frame (the library cannot: the frame is written here)
            sid = self.h2.get_next_available_stream_id()
            self.stats.rst_stream_resp += 1
            self._flush(out)
            out.append(
                cmd.Write(b"\x00\x00\x04\x03\x00" + sid.to_bytes(4, "big") + b"\x00\x00\x00\x02")
            )
            out.append(cmd.DeliverFailure(502))
            self._close(out)
            return
        self.sid = self.h2.get_next_available_stream_id()
        self.stream_open = True
        self.stats.backend_open_streams += 1
        self.stats.backend_total_streams += 1
        tunnel = head.method == b"CONNECT" or self.protocol is not None
        end = head.body is Body.NONE and not tunnel
        self.h2.send_headers(self.sid, headers, end_stream=end)
        self.out.end_sent = end
        self._send(out)

    def _data(self, event: ev.DataForwarded, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.ACTIVE and event.data:
            self.out.add(event.data)
            self._send(out)

    def _req_trailers(
        self, event: ev.TrailersForwarded, now: float, out: list[cmd.Command]
    ) -> None:
        if self.phase is Phase.ACTIVE and not self._trailers:
            self._trailers = True
            if not self.out.data and not self.out.end_sent and self.head is None:
                fields = [(n, v) for n, v in event.fields if n not in _NOT_H2]
                self.out.end = self.out.end_sent = True
                self._try(lambda: self.h2.send_headers(self.sid, fields, end_stream=True))
                self._flush(out)
                return
            self.out.end = True  # trailers behind data the windows hold are dropped
            self._send(out)

    def _req_end(self, event: ev.EndForwarded, now: float, out: list[cmd.Command]) -> None:
        if self.phase is not Phase.ACTIVE:
            return
        self._req_done = True
        if not self._trailers and self._method != b"CONNECT" and self.protocol is None:
            self.out.end = True
            self._send(out)
        if self._resp_done:
            self._finish(now, out)

    def _tunnel_in(self, event: ev.TunnelForwarded, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(now, self.timeouts.idle_tunnel)
            self.out.add(event.data)
            self._send(out)

    def _client_shut(self, event: ev.ClientShut, now: float, out: list[cmd.Command]) -> None:
        self.client_shut = True
        if self.server_shut:
            self._close(out)
            return
        self.out.end = True
        self._send(out)

    def _send(self, out: list[cmd.Command]) -> None:
        """DATA as the server's windows allow (the rest waits for its WINDOW_UPDATE)."""
        h, sid = self.h2, self.sid
        if self.head is not None or not sid:
            self._flush(out)
            return  # the HEADERS wait for the server's SETTINGS
        self.out.send(h, sid)
        self._flush(out)

    def _try(self, call: Any) -> None:
        try:
            call()
        except (h2.exceptions.ProtocolError, KeyError):
            return

    # -- the socket ---------------------------------------------------------------------

    def _read(self, event: ev.DataRead, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.TUNNEL:
            self._tunnel_at = after(now, self.timeouts.idle_tunnel)
        elif self.phase is Phase.ACTIVE:
            self._server_at = after(now, self.timeouts.server)
        try:
            events = self.h2.receive_data(event.data)
        except h2.exceptions.ProtocolError as error:
            code = getattr(error, "error_code", h2.errors.ErrorCodes.PROTOCOL_ERROR)
            self.stats.conn_proto_err += 1
            if code not in (0, 7, 8, 11):  # h2c_send_goaway_error: not for these codes
                self.stats.goaway_resp += 1
            if not self.settled and self.phase is Phase.ACTIVE and not self.sid:
                # the server's first frame is not SETTINGS: the connection never got
                # ready, which HAProxy retries as a failed connect (then its 503)
                self._renew()
                out.append(cmd.RECONNECT)
                return
            self._flush(out)  # the GOAWAY the library prepared
            self._broken(out)
            return
        self.counted = count_frames(self.stats, events, self.counted)
        for e in events:
            if self.phase is Phase.CLOSED:
                return
            self._event(e, now, out)
        if self.phase is not Phase.CLOSED:
            self._flush(out)

    def _event(self, e: h2.events.Event, now: float, out: list[cmd.Command]) -> None:
        if isinstance(e, h2.events.RemoteSettingsChanged):
            setting = e.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
            if setting is not None:
                self.extended = setting.new_value == 1
            if not self.settled:
                self.settled = True
                self._send_head(out)
            self._send(out)
        elif isinstance(e, h2.events.WindowUpdated):
            self._send(out)
        elif isinstance(e, h2.events.ConnectionTerminated):
            self._broken(out)
        elif getattr(e, "stream_id", None) != self.sid or self.phase not in (
            Phase.ACTIVE,
            Phase.TUNNEL,
        ):
            return
        elif isinstance(e, (h2.events.ResponseReceived, h2.events.InformationalResponseReceived)):
            self._response(e, now, out)
        elif isinstance(e, h2.events.DataReceived):
            size = e.flow_controlled_length or 0
            if size:
                self.h2.increment_flow_control_window(size)
                self._try(lambda: self.h2.increment_flow_control_window(size, stream_id=self.sid))
            data = bytes(e.data or b"")
            if self.phase is Phase.TUNNEL:
                out.append(cmd.DeliverTunnel(data))
            elif data:
                out.append(cmd.DeliverData(data))
        elif isinstance(e, h2.events.TrailersReceived):
            fields = tuple((bytes(n), bytes(v)) for n, v in e.headers or () if bytes(n)[:1] != b":")
            out.append(cmd.DeliverTrailers(fields))
        elif isinstance(e, h2.events.StreamEnded):
            self._ended(now, out)
        elif isinstance(e, h2.events.StreamReset):
            self._broken(out)

    def _response(self, e: Any, now: float, out: list[cmd.Command]) -> None:
        headers = [(bytes(n), bytes(v)) for n, v in e.headers or ()]
        end = e.stream_ended is not None
        head = response_head(headers, end=end, method=self._method, protocol=self.protocol)
        if head is None or (self._delivered and not head.informational):
            self._try(lambda: self.h2.reset_stream(self.sid, 1))  # PROTOCOL_ERROR
            self.stats.rst_stream_resp += 1
            self.stats.strm_proto_err += 1
            self._flush(out)
            self._broken(out)
            return
        if not head.informational:
            self._delivered = True
            self.want = connmode.server_after_response(
                self.want, self._method, head.status, head.flags
            )
            if head.body is Body.TUNNEL:
                self.want = Want.TUNNEL
        out.append(cmd.DeliverHead(head))
        if head.body is Body.TUNNEL:
            self._resp_done = True
            out.append(cmd.DELIVER_END)
            self._finish(now, out)

    def _ended(self, now: float, out: list[cmd.Command]) -> None:
        if self.phase is Phase.TUNNEL:
            self.server_shut = True
            out.append(cmd.DELIVER_SHUT)
            if self.client_shut:
                self._close(out)
            return
        if not self._delivered:
            self._broken(out)
            return
        out.append(cmd.DELIVER_END)
        self._resp_done = True
        if self._req_done:
            self._finish(now, out)

    def _finish(self, now: float, out: list[cmd.Command]) -> None:
        if self.want is not Want.TUNNEL:
            self._stream_gone()
        super()._finish(now, out)
        if out and type(out[-1]) is cmd.Release:
            # h2_detach: an idle HTTP/2 connection goes on the server's safe list
            # (srv_add_to_idle_list(..., 1)) whatever it served
            out[-1] = cmd.Release(safe=True)

    def _broken(self, out: list[cmd.Command]) -> None:
        """The stream or the connection failed: a 502 before the response, a cut after."""
        self._stream_gone()
        if self.phase in (Phase.ACTIVE, Phase.TUNNEL):
            out.append(cmd.DeliverFailure(502) if not self._delivered else cmd.DELIVER_CUT)
        self._close(out)

    def _eof(self, event: ev.EofRead, now: float, out: list[cmd.Command]) -> None:
        self.server_shut = True
        self._broken(out)


H2ServerMachine.handlers = {
    **ServerMachine.handlers,
    ev.HeadForwarded: H2ServerMachine._head,
    ev.DataForwarded: H2ServerMachine._data,
    ev.TrailersForwarded: H2ServerMachine._req_trailers,
    ev.EndForwarded: H2ServerMachine._req_end,
    ev.TunnelForwarded: H2ServerMachine._tunnel_in,
    ev.ClientShut: H2ServerMachine._client_shut,
    ev.DataRead: H2ServerMachine._read,
    ev.Connected: H2ServerMachine._connected,
    ev.EofRead: H2ServerMachine._eof,
}
