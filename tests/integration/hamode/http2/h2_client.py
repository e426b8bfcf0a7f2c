"""A blocking HTTP/2 client for the tests (the `h2` library on a socket, prior knowledge):
requests on several streams at once, and what came back on each."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events


@dataclass
class Seen:
    """What one stream received."""

    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
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
    ) -> int:
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", "http"), (":path", path)]
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
