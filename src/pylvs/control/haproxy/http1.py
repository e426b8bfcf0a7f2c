"""Just enough HTTP/1.1 for the stats page's own listener, without I/O (RFC 9112).

`RequestReader.feed(data)` takes bytes and returns complete `PageRequest`s as they arrive
(keep-alive and pipelined requests included), or raises `BadRequestError` on what an HTTP/1.1
server must refuse: a malformed request line or header, a version other than 1.0/1.1, both
Content-Length and Transfer-Encoding or conflicting lengths, a transfer coding other than
chunked, a head or a body larger than the buffer (HAProxy's 16 KiB `tune.bufsize`).
`serialize(response, version)` writes a `PageResponse` (header names lower-case, as HAProxy
2.x sends them; chunked bodies as one chunk and the last one).

The HTTP/1.1 core of the L7 engineer (proto/http) may take this listener over later; this
reader serves one fixed page and refuses rather than interprets anything unusual.
"""

from __future__ import annotations

import re

from pylvs.control.haproxy.web import PageRequest, PageResponse

MAX_HEAD = 16384
MAX_BODY = 16384
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_REQUEST_LINE = re.compile(rb"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) (HTTP/1\.[01])$")

BAD_REQUEST = (
    b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\n"
    b"Connection: close\r\nContent-Type: text/html\r\n\r\n"
    b"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n"
    b"</body></html>\n"
)
_TIMEOUT_BODY = (
    b"<html><body><h1>408 Request Time-out</h1>\n"
    b"Your browser didn't send a complete request in time.\n</body></html>\n"
)
REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Time-out\r\ncontent-length: %d\r\ncache-control: no-cache\r\n"
    b"content-type: text/html\r\nconnection: close\r\n\r\n" % len(_TIMEOUT_BODY) + _TIMEOUT_BODY
)


class BadRequestError(ValueError):
    """The client sent something the page's listener refuses (answered with 400)."""


class RequestReader:
    def __init__(self, client: str = "") -> None:
        self.client = client
        self._buf = bytearray()

    @property
    def pending(self) -> bool:
        """Part of a request has arrived (a timeout then deserves a 408, not a silent close)."""
        return bool(self._buf.strip(b"\r\n"))

    def feed(self, data: bytes) -> list[PageRequest]:
        self._buf += data
        out: list[PageRequest] = []
        while True:
            request = self._next()
            if request is None:
                return out
            out.append(request)

    def _next(self) -> PageRequest | None:
        while self._buf.startswith(b"\r\n"):  # RFC 9112 §2.2: empty lines before a request
            del self._buf[:2]
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > MAX_HEAD:
                raise BadRequestError("request head too large")
            return None
        if end > MAX_HEAD:
            raise BadRequestError("request head too large")
        lines = bytes(self._buf[:end]).split(b"\r\n")
        method, target, version, headers = _head(lines)
        length, chunked = _framing(headers)
        start = end + 4
        if chunked:
            body, used = _chunked(bytes(self._buf[start:]))
            if body is None:
                return None
        else:
            if len(self._buf) - start < length:
                return None
            body, used = bytes(self._buf[start : start + length]), length
        del self._buf[: start + used]
        text = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        return PageRequest(
            method, target, version, tuple(text), body, self.client, wire_size=start + used
        )


def _head(lines: list[bytes]) -> tuple[str, str, str, list[tuple[bytes, bytes]]]:
    m = _REQUEST_LINE.match(lines[0])
    if m is None:
        raise BadRequestError("malformed request line")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name) or any(c in value for c in b"\0\r\n"):
            raise BadRequestError("malformed header")
        headers.append((name, value.strip(b" \t")))
    method, target, version = (g.decode("latin-1") for g in m.groups())
    return method, target, version, headers


def _framing(headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    lengths = {v for k, v in headers if k.lower() == b"content-length"}
    codings = [v.lower() for k, v in headers if k.lower() == b"transfer-encoding"]
    if codings:
        if lengths or codings != [b"chunked"]:
            raise BadRequestError("unsupported framing")
        return 0, True
    if not lengths:
        return 0, False
    if len(lengths) > 1:
        raise BadRequestError("conflicting content-length")
    value = lengths.pop()
    if not value.isdigit():
        raise BadRequestError("invalid content-length")
    if int(value) > MAX_BODY:
        raise BadRequestError("body too large")
    return int(value), False


def _chunked(data: bytes) -> tuple[bytes | None, int]:
    """A chunked body: (body, bytes used), or (None, 0) while incomplete."""
    body, pos = b"", 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            if len(data) - pos > 64:
                raise BadRequestError("chunk size line too long")
            return None, 0
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text):
            raise BadRequestError("invalid chunk size")
        size = int(size_text, 16)
        if len(body) + size > MAX_BODY:
            raise BadRequestError("body too large")
        pos = eol + 2
        if size == 0:
            end = data.find(b"\r\n\r\n", pos - 2)
            return (body, end + 4) if end >= 0 else (None, 0)
        if len(data) < pos + size + 2:
            return None, 0
        if data[pos + size : pos + size + 2] != b"\r\n":
            raise BadRequestError("chunk not followed by CRLF")
        body += data[pos : pos + size]
        pos += size + 2


def closes(response: PageResponse, request: PageRequest) -> bool:
    """Whether the connection ends after this answer (the answer's or the client's wish)."""
    asked = (request.header("connection") or "").lower() == "close"
    return response.close or asked or request.version == "HTTP/1.0"


def serialize(response: PageResponse, request: PageRequest) -> bytes:
    """The answer on the wire; `connection: close` last when the client asked for it (as
    HAProxy's H1 mux adds it)."""
    headers = list(response.headers)
    if closes(response, request) and ("connection", "close") not in headers:
        headers.append(("connection", "close"))
    head = f"HTTP/1.1 {response.status} {response.reason}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    out = head.encode("latin-1")
    if response.head_only:
        return out
    if response.chunked:
        body = response.body
        return out + (b"%X\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return out + response.body
