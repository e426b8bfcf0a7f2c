"""Lua HTTP services (`core.register_service(NAME, "http", fn)`, `http-request use-service
lua.NAME`): HAProxy 2.6 src/hlua.c hlua_applet_http_* as a client sees them.

The applet gets the request as read (AppletHTTP's method, path, qs, version, length,
headers: a table of lower-case names, each a table of its values from 0) and builds the
response with set_status, add_header, start_response and send.  It runs as a coroutine: a
`core.sleep` in it waits on the loop and the client gets the answer when the function ends.
What it sent goes out as HAProxy's H1 multiplexer writes an applet's message: with the
Content-Length the script gave, else chunked (HTTP/1.1: one chunk of all that was sent
before the function ended, then the last chunk), header names as written in lower case.
`receive` and `getline` read the request body the proxy buffered (`option
http-buffer-request`, `wait-for-body`); without it a body is not read by the service.
A function that fails before its response answers HAProxy's 500 (hlua_applet_http_fct's
"best effort" error reply); its error is logged as HAProxy logs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.proto.http.answers import Answer
from pylvs.proto.http.encode import chunk, last_chunk
from pylvs.proto.http.message import Flag, RequestHead, ResponseHead
from pylvs.proto.rules.replies import reason as reason_of

# A service answers at once (bytes) or later: a function given the callback to call then.
Deferred = Callable[[Callable[[bytes | Answer], None]], None]


@dataclass
class AppletState:
    """What the script built (start_response / send) and what it read of the body."""

    request: RequestHead
    body: bytes = b""  # the buffered request body, read by receive/getline
    read: int = 0
    status: int = 200
    reason: bytes | None = None
    fields: list[tuple[bytes, bytes]] = field(default_factory=list)
    started: bool = False
    sent: list[bytes] = field(default_factory=list)

    def start(
        self,
        status: int | None,
        reason: bytes | None,
        order: list[bytes],
        headers: dict[bytes, list[bytes]],
    ) -> None:
        self.status = status or 200
        self.reason = reason
        self.fields = [(n.lower(), v) for n in order for v in headers.get(n.lower(), [])]
        self.started = True

    def receive(self, size: int | None) -> bytes:
        rest = self.body[self.read :]
        if size is not None and size >= 0:
            rest = rest[:size]
        self.read += len(rest)
        return rest

    def getline(self) -> bytes:
        rest = self.body[self.read :]
        end = rest.find(b"\n")
        line = rest if end < 0 else rest[: end + 1]
        self.read += len(line)
        return line

    def answer(self, request_method: bytes) -> Answer:
        """The message as the H1 multiplexer writes it (see the module doc)."""
        data = b"".join(self.sent)
        fields = tuple(f for f in self.fields if f[0] != b"transfer-encoding")
        has_length = any(n == b"content-length" for n, _ in fields)
        flags = Flag.RESP | Flag.XFER_LEN
        if self.request.version_11:
            flags |= Flag.VER_11
        bodyless = request_method == b"HEAD" or self.status in (204, 304)
        if has_length:
            flags |= Flag.CLEN
            body = data
        elif bodyless:
            body = b""
        elif not self.request.version_11:  # HTTP/1.0: no chunks, the close ends the body
            flags &= ~Flag.XFER_LEN
            body = data
        else:
            body = (chunk(data) if data else b"") + last_chunk()
        reason = self.reason if self.reason is not None else reason_of(self.status)
        version = b"HTTP/1.1" if self.request.version_11 else b"HTTP/1.0"
        head = ResponseHead(version, self.status, b"%d" % self.status, reason, fields, flags)
        return Answer(head, body)
