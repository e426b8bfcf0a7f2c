"""HTTP/2 peers for the tests, on the `h2` library (prior knowledge): a blocking client
(requests on several streams at once, and what came back on each) and a threaded server."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from tests.integration.server_helpers import ThreadedServer


@dataclass
class Seen:
    """What one stream received."""

    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    head_ended: bool = False  # END_STREAM came on the response's HEADERS frame
    interim: list[list[tuple[bytes, bytes]]] = field(default_factory=list)
    body: bytes = b""
    ended: bool = False
    reset: int | None = None

    @property
    def status(self) -> int:
        return int(dict(self.headers).get(b":status", b"0"))

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None


class H2Client:
    def __init__(self, port: int, *, raw_preface: bool = True) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        cfg = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.conn = h2.connection.H2Connection(cfg)
        self.conn.initiate_connection()
        self.streams: dict[int, Seen] = {}
        self.goaway: int | None = None
        self.closed = False
        self.settings: dict[int, int] = {}
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        authority: str | None = "x",
        extra: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        end: bool = True,
        protocol: str | None = None,
    ) -> int:
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", "http"), (":path", path)]
        if protocol is not None:
            headers.append((":protocol", protocol))
        if authority is not None:
            headers.append((":authority", authority))
        headers += extra or []
        raw = [(n.encode(), v.encode()) for n, v in headers]
        self.conn.send_headers(sid, raw, end_stream=end and body is None)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=end)
        self.streams[sid] = Seen()
        self._flush()
        return sid

    def data(self, sid: int, data: bytes, *, end: bool = False) -> None:
        self.conn.send_data(sid, data, end_stream=end)
        self._flush()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait(self, sids: list[int], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(self.streams[s].done for s in sids) and not self.closed:
            if time.monotonic() > deadline:
                raise TimeoutError(f"streams {sids} not done")
            self.pump(deadline - time.monotonic())

    def pump(self, timeout: float) -> None:
        self.sock.settimeout(max(0.01, timeout))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        except ConnectionError:
            data = b""
        if not data:
            self.closed = True
            return
        for e in self.conn.receive_data(data):
            self._event(e)
        self._flush()

    def _event(self, e: h2.events.Event) -> None:
        sid = getattr(e, "stream_id", None)
        seen = self.streams.get(sid) if sid is not None else None
        if isinstance(e, h2.events.ResponseReceived) and seen is not None:
            seen.headers = [(bytes(n), bytes(v)) for n, v in e.headers or ()]
            seen.head_ended = e.stream_ended is not None
        elif isinstance(e, h2.events.InformationalResponseReceived) and seen is not None:
            seen.interim.append([(bytes(n), bytes(v)) for n, v in e.headers or ()])
        elif isinstance(e, h2.events.DataReceived) and seen is not None:
            seen.body += e.data or b""
            self.conn.acknowledge_received_data(e.flow_controlled_length or 0, e.stream_id or 0)
        elif isinstance(e, h2.events.StreamEnded) and seen is not None:
            seen.ended = True
        elif isinstance(e, h2.events.StreamReset) and seen is not None:
            seen.reset = int(e.error_code or 0)
        elif isinstance(e, h2.events.ConnectionTerminated):
            self.goaway = int(e.error_code or 0)
        elif isinstance(e, h2.events.RemoteSettingsChanged):
            self.settings = {int(k): v.new_value for k, v in e.changed_settings.items()}

    def close(self) -> None:
        self.sock.close()


class H2Server(ThreadedServer):
    """An HTTP/2 server (prior knowledge) on a thread per connection: it records each
    request's header list and body and answers `name path` (or, for /chunked, without a
    Content-Length, in two DATA frames; for /status/N, status N)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[tuple[list[tuple[bytes, bytes]], bytes]] = []
        super().__init__(backlog=64)

    def serve(self, conn: socket.socket) -> None:
        cfg = h2.config.H2Configuration(client_side=False, header_encoding=None)
        h = h2.connection.H2Connection(cfg)
        h.initiate_connection()
        conn.sendall(h.data_to_send())
        heads: dict[int, list[tuple[bytes, bytes]]] = {}
        bodies: dict[int, bytes] = {}
        with contextlib.suppress(OSError, h2.exceptions.ProtocolError):
            while data := conn.recv(65536):
                for e in h.receive_data(data):
                    if isinstance(e, h2.events.RequestReceived):
                        heads[e.stream_id or 0] = [(bytes(n), bytes(v)) for n, v in e.headers or ()]
                        bodies[e.stream_id or 0] = b""
                    elif isinstance(e, h2.events.DataReceived):
                        bodies[e.stream_id or 0] += e.data or b""
                        h.acknowledge_received_data(e.flow_controlled_length or 0, e.stream_id or 0)
                    elif isinstance(e, h2.events.StreamEnded):
                        sid = e.stream_id or 0
                        with self.lock:
                            self.requests.append((heads[sid], bodies[sid]))
                        self._answer(h, sid, dict(heads[sid]))
                conn.sendall(h.data_to_send())
        conn.close()

    def _answer(self, h: h2.connection.H2Connection, sid: int, head: dict[bytes, bytes]) -> None:
        path = head.get(b":path", b"/")
        text = self.name.encode() + b" " + path
        if path == b"/chunked":
            h.send_headers(sid, [(b":status", b"200"), (b"x-h2", b"yes")])
            h.send_data(sid, text[:4])
            h.send_data(sid, text[4:], end_stream=True)
            return
        status = path[8:] if path.startswith(b"/status/") else b"200"
        fields = [(b":status", status), (b"content-length", b"%d" % len(text))]
        h.send_headers(sid, fields, end_stream=head.get(b":method") == b"HEAD")
        if head.get(b":method") != b"HEAD":
            h.send_data(sid, text, end_stream=True)
