"""The `h2` library as HAProxy's HTTP/2 multiplexer needs it (src/mux_h2.c, src/hpack-enc.c).

The library keeps the frames, HPACK, stream states and flow-control windows; three of its
choices differ from HAProxy's and are changed here, for both sides of the proxy:

* header checks: HAProxy's own (proto/http2/request.py) decide what is refused and how, so
  the library's validation and normalisation are off;
* Content-Length: the library turns a body longer or shorter than announced into a
  connection error (GOAWAY); HAProxy resets only that stream (RFC 9113 section 8.1.1 allows
  either), and proto/http2/stream.py does it, so the library's count is left out;
* HPACK output: literals without Huffman coding, as hpack-enc.c writes them (some peers'
  decoders, varnishtest's among them, refuse a Huffman-coded empty value);
* the first SETTINGS (`initiate`): only what h2c_send_settings writes (ENABLE_PUSH 0 on a
  backend connection, ENABLE_CONNECT_PROTOCOL 1, MAX_CONCURRENT_STREAMS 100), where the
  library restates every default;
* the server's first frame: HAProxy's backend side (H2_CS_SETTINGS1, h2_process_demux)
  refuses at once a first frame header that is not a SETTINGS one (an HTTP/1 server's
  answer, say), where the library would wait for the megabytes such a header announces.
"""

from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import h2.stream
import hpack

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_CODES = h2.settings.SettingCodes


class _PlainEncoder(hpack.Encoder):
    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        return super().encode(headers, huffman=False)


class _Stream(h2.stream.H2Stream):
    def _initialize_content_length(self, headers: Any) -> None:
        return

    def _track_content_length(self, length: int, end_stream: bool) -> None:
        return


class Connection(h2.connection.H2Connection):
    """An HTTP/2 connection's state, HAProxy's way (see the module doc)."""

    def __init__(self, *, client_side: bool) -> None:
        super().__init__(
            h2.config.H2Configuration(
                client_side=client_side,
                header_encoding=None,
                validate_inbound_headers=False,
                normalize_inbound_headers=False,
                validate_outbound_headers=False,
                normalize_outbound_headers=False,
            )
        )
        self.encoder = _PlainEncoder()
        self._first = b"" if client_side else None  # the server's first frame header

    def receive_data(self, data: Any) -> list[h2.events.Event]:
        first = self._first
        if first is not None:
            first += bytes(data[: 9 - len(first)])
            self._first = first if len(first) < 9 else None
            if len(first) >= 9 and (
                first[3] != 0x04
                or first[4] & 0x01
                or first[5:9] != bytes(4)
                or int.from_bytes(first[:3], "big") % 6
            ):
                raise h2.exceptions.ProtocolError("the first frame is not SETTINGS")
        return super().receive_data(data)

    def initiate(self, *, back: bool) -> None:
        """The preface (a backend's) and the first SETTINGS, as h2c_send_settings sends
        them with HAProxy's default tunables."""
        values = [(_CODES.ENABLE_PUSH, 0)] if back else []
        values += [(_CODES.ENABLE_CONNECT_PROTOCOL, 1), (_CODES.MAX_CONCURRENT_STREAMS, 100)]
        self.local_settings = h2.settings.Settings(client=back, initial_values=dict(values))
        self.initiate_connection()
        self.data_to_send()  # the library's frame: every setting, the defaults too
        payload = b"".join(int(c).to_bytes(2, "big") + v.to_bytes(4, "big") for c, v in values)
        head = len(payload).to_bytes(3, "big") + b"\x04\x00\x00\x00\x00\x00"
        self._data_to_send += (_PREFACE if back else b"") + head + payload

    def _begin_new_stream(self, stream_id: int, allowed_ids: Any) -> h2.stream.H2Stream:
        s = super()._begin_new_stream(stream_id, allowed_ids)
        s.__class__ = _Stream
        return s


class Outbox:
    """A stream's DATA waiting for the peer's windows (RFC 9113 section 5.2): `send` puts
    out what the stream's and the connection's windows allow, in frames of the peer's
    maximum size, END_STREAM with the last piece once `end` is set."""

    __slots__ = ("data", "end", "end_sent", "size")

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.size = 0
        self.end = False
        self.end_sent = False  # the library's stream is half-closed (local) then

    def add(self, data: bytes) -> None:
        if data:
            self.data.append(data)
            self.size += len(data)

    def send(self, conn: h2.connection.H2Connection, sid: int) -> bool:
        """What the windows allow now; True once nothing more can go (END_STREAM went, or
        the stream is gone)."""
        data = self.data
        try:
            while data:
                room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                if room <= 0:
                    return False
                piece, rest = data[0][:room], data[0][room:]
                last = not rest and len(data) == 1 and self.end and not self.end_sent
                conn.send_data(sid, piece, end_stream=last)
                self.size -= len(piece)
                if rest:
                    data[0] = rest
                else:
                    data.pop(0)
                self.end_sent = self.end_sent or last
            if self.end and not self.end_sent:
                self.end_sent = True
                conn.end_stream(sid)
        except (h2.exceptions.ProtocolError, KeyError):
            data.clear()
            return True
        return self.end_sent
