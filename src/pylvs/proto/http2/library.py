"""The `h2` library as HAProxy's HTTP/2 multiplexer needs it (src/mux_h2.c, src/hpack-enc.c).

The library keeps the frames, HPACK, stream states and flow-control windows; three of its
choices differ from HAProxy's and are changed here, for both sides of the proxy:

* header checks: HAProxy's own (proto/http2/request.py) decide what is refused and how, so
  the library's validation and normalisation are off;
* Content-Length: the library turns a body longer or shorter than announced into a
  connection error (GOAWAY); HAProxy resets only that stream (RFC 9113 section 8.1.1 allows
  either), and proto/http2/stream.py does it, so the library's count is left out;
* HPACK output: literals without Huffman coding, as hpack-enc.c writes them (some peers'
  decoders, varnishtest's among them, refuse a Huffman-coded empty value).
"""

from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.exceptions
import h2.stream
import hpack


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
