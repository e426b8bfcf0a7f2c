"""The traffic capture.py sends through the real HAProxy: edge cases by hand, mutations seeded.

Each request case is (name, bytes); each response case (name, request, response).  The
mutations start from valid messages and apply one byte-level edit chosen by a seeded
random.Random, so a re-run produces the same corpus.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

# Every status of http_err_codes[] (src/http.c) that `deny_status` accepts.
ERROR_CODES = [400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429]
ERROR_CODES += [500, 501, 502, 503, 504]

GET = b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"


def sized_request(total: int) -> bytes:
    """A GET whose head is exactly `total` bytes long (one big header)."""
    base = b"GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n"
    return b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * (total - len(base)) + b"\r\n\r\n"


def counted_request(count: int) -> bytes:
    """A GET with `count` header lines (Host included)."""
    lines = b"".join(b"X%d: y\r\n" % i for i in range(count - 1))
    return b"GET / HTTP/1.1\r\nHost: a\r\n" + lines + b"\r\n"


PARSER_ANSWERS: dict[str, list[bytes | float]] = {
    "parser-400-bad-header": [b"GET / HTTP/1.1\r\nhost: a\r\nbad header\r\n\r\n"],
    "parser-400-too-big": [sized_request(16000)],
    "parser-413-get-body-http10": [b"GET / HTTP/1.0\r\ncontent-length: 3\r\n\r\nabc"],
    "parser-422-unknown-te": [
        b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
    ],
}

R = b"\r\n"


def req(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return line + R + b"".join(h + R for h in headers) + R + body


HAND: list[tuple[str, bytes]] = [
    # request line
    ("get", req(b"GET / HTTP/1.1", b"Host: a")),
    ("get-http10", req(b"GET / HTTP/1.0")),
    ("get-http10-keepalive", req(b"GET / HTTP/1.0", b"Connection: keep-alive")),
    ("http09", b"GET /\r\n\r\n"),
    ("http12", req(b"GET / HTTP/1.2", b"Host: a")),
    ("http20", req(b"GET / HTTP/2.0", b"Host: a")),
    ("http110", req(b"GET / HTTP/1.10", b"Host: a")),
    ("http1", req(b"GET / HTTP/1", b"Host: a")),
    ("lower-http", req(b"GET / http/1.1", b"Host: a")),
    ("custom-method", req(b"FOO / HTTP/1.1", b"Host: a")),
    ("lower-method", req(b"get / HTTP/1.1", b"Host: a")),
    ("method-bad-char", req(b"G@T / HTTP/1.1", b"Host: a")),
    ("two-spaces", req(b"GET  /  HTTP/1.1", b"Host: a")),
    ("tab-separators", req(b"GET\t/\tHTTP/1.1", b"Host: a")),
    ("trailing-space-version", req(b"GET / HTTP/1.1 ", b"Host: a")),
    ("uri-8bit", req(b"GET /\xe9 HTTP/1.1", b"Host: a")),
    ("uri-ctl", req(b"GET /\x01 HTTP/1.1", b"Host: a")),
    ("uri-del", req(b"GET /\x7f HTTP/1.1", b"Host: a")),
    ("uri-star", req(b"OPTIONS * HTTP/1.1", b"Host: a")),
    ("uri-absolute", req(b"GET http://a/x?y HTTP/1.1", b"Host: a")),
    ("uri-absolute-port80", req(b"GET http://a:80/x HTTP/1.1", b"Host: a")),
    ("uri-absolute-https443", req(b"GET https://a:443/x HTTP/1.1", b"Host: a")),
    ("uri-absolute-host-differs", req(b"GET http://b/x HTTP/1.1", b"Host: a")),
    ("uri-absolute-host-case", req(b"GET http://A/x HTTP/1.1", b"Host: a")),
    ("uri-absolute-no-host", req(b"GET http://a/x HTTP/1.1")),
    ("uri-absolute-host-port80", req(b"GET http://a/x HTTP/1.1", b"Host: a:80")),
    ("uri-absolute-https-host-443", req(b"GET https://a/x HTTP/1.1", b"Host: a:443")),
    ("uri-absolute-host-port8080", req(b"GET http://a/x HTTP/1.1", b"Host: a:8080")),
    ("uri-absolute-empty-port", req(b"GET http://a:/x HTTP/1.1", b"Host: a")),
    ("uri-absolute-userinfo", req(b"GET http://u:p@a/x HTTP/1.1", b"Host: a")),
    ("uri-hash", req(b"GET /a#b HTTP/1.1", b"Host: a")),
    ("uri-query-only", req(b"GET ?x HTTP/1.1", b"Host: a")),
    ("connect", req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443")),
    ("connect-host-no-port", req(b"CONNECT a:443 HTTP/1.1", b"Host: a")),
    ("connect-no-host", req(b"CONNECT a:443 HTTP/1.1")),
    ("connect-no-port", req(b"CONNECT a HTTP/1.1", b"Host: a")),
    ("connect-host-differs", req(b"CONNECT a:443 HTTP/1.1", b"Host: b:443")),
    ("connect-8443-host-no-port", req(b"CONNECT a:8443 HTTP/1.1", b"Host: a")),
    (
        "connect-with-body",
        req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443", b"Content-Length: 3", body=b"abc"),
    ),
    ("leading-crlf", b"\r\n\r\n" + req(b"GET / HTTP/1.1", b"Host: a")),
    ("leading-space", b" " + req(b"GET / HTTP/1.1", b"Host: a")),
    ("empty-uri", req(b"GET  HTTP/1.1", b"Host: a")),
    # line endings
    ("lf-only", b"GET / HTTP/1.1\nHost: a\n\n"),
    ("cr-only", b"GET / HTTP/1.1\rHost: a\r\r"),
    ("mixed-endings", b"GET / HTTP/1.1\r\nHost: a\n\r\n"),
    ("cr-in-value", req(b"GET / HTTP/1.1", b"Host: a", b"X: a\rb")),
    # header syntax
    ("obs-fold", req(b"GET / HTTP/1.1", b"Host: a", b"X: a", b"  b")),
    ("obs-fold-tab", req(b"GET / HTTP/1.1", b"Host: a", b"X: a", b"\tb")),
    ("fold-first-line", req(b"GET / HTTP/1.1", b" X: a", b"Host: a")),
    ("empty-name", req(b"GET / HTTP/1.1", b"Host: a", b": b")),
    ("space-before-colon", req(b"GET / HTTP/1.1", b"Host: a", b"X : b")),
    ("no-colon", req(b"GET / HTTP/1.1", b"Host: a", b"bad header")),
    ("name-at", req(b"GET / HTTP/1.1", b"Host: a", b"X@Y: b")),
    ("name-8bit", req(b"GET / HTTP/1.1", b"Host: a", b"X\xe9: b")),
    ("name-nul", req(b"GET / HTTP/1.1", b"Host: a", b"X\x00: b")),
    ("value-nul", req(b"GET / HTTP/1.1", b"Host: a", b"X: a\x00b")),
    ("value-ctl", req(b"GET / HTTP/1.1", b"Host: a", b"X: a\x01b")),
    ("value-del", req(b"GET / HTTP/1.1", b"Host: a", b"X: a\x7fb")),
    ("value-8bit", req(b"GET / HTTP/1.1", b"Host: a", b"X: a\xe9b")),
    ("value-tab", req(b"GET / HTTP/1.1", b"Host: a", b"X:\ta\tb\t")),
    ("value-empty", req(b"GET / HTTP/1.1", b"Host: a", b"X:")),
    ("value-spaces", req(b"GET / HTTP/1.1", b"Host: a", b"X:   a  b   ")),
    ("mixed-case-names", req(b"GET / HTTP/1.1", b"HoSt: a", b"X-Foo-BAR: Baz")),
    ("duplicate-names", req(b"GET / HTTP/1.1", b"Host: a", b"X: 1", b"x: 2", b"X: 3")),
    # Host
    ("host-duplicate-same", req(b"GET / HTTP/1.1", b"Host: a", b"Host: a")),
    ("host-duplicate-case", req(b"GET / HTTP/1.1", b"Host: a", b"host: A")),
    ("host-duplicate-differs", req(b"GET / HTTP/1.1", b"Host: a", b"Host: b")),
    ("host-missing-http11", req(b"GET / HTTP/1.1")),
    # Content-Length
    ("cl", req(b"POST / HTTP/1.1", b"Host: a", b"Content-Length: 3", body=b"abc")),
    ("cl-zero", req(b"POST / HTTP/1.1", b"Host: a", b"Content-Length: 0")),
    (
        "cl-dup-same",
        req(b"POST / HTTP/1.1", b"Content-Length: 3", b"Content-Length: 3", body=b"abc"),
    ),
    (
        "cl-dup-differ",
        req(b"POST / HTTP/1.1", b"Content-Length: 3", b"Content-Length: 4", body=b"abcd"),
    ),
    ("cl-list-same", req(b"POST / HTTP/1.1", b"Content-Length: 3, 3", body=b"abc")),
    ("cl-list-differ", req(b"POST / HTTP/1.1", b"Content-Length: 3,4", body=b"abcd")),
    ("cl-list-trailing-comma", req(b"POST / HTTP/1.1", b"Content-Length: 3,", body=b"abc")),
    ("cl-empty", req(b"POST / HTTP/1.1", b"Content-Length:")),
    ("cl-list-double-comma", req(b"POST / HTTP/1.1", b"Content-Length: 3,,3", body=b"abc")),
    ("cl-list-leading-comma", req(b"POST / HTTP/1.1", b"Content-Length: ,3", body=b"abc")),
    (
        "cl-empty-then-value",
        req(b"POST / HTTP/1.1", b"Content-Length:", b"Content-Length: 3", body=b"abc"),
    ),
    ("cl-plus", req(b"POST / HTTP/1.1", b"Content-Length: +3", body=b"abc")),
    ("cl-negative", req(b"POST / HTTP/1.1", b"Content-Length: -1")),
    ("cl-hex", req(b"POST / HTTP/1.1", b"Content-Length: 0x3", body=b"abc")),
    ("cl-space-inside", req(b"POST / HTTP/1.1", b"Content-Length: 1 2", body=b"a" * 12)),
    ("cl-leading-zeros", req(b"POST / HTTP/1.1", b"Content-Length: 003", body=b"abc")),
    ("cl-huge", req(b"POST / HTTP/1.1", b"Content-Length: 99999999999999999999")),
    ("cl-big", req(b"POST / HTTP/1.1", b"Content-Length: 9999999999", body=b"abc")),
    ("cl-short-body", req(b"POST / HTTP/1.1", b"Content-Length: 5", body=b"abc")),
    ("cl-get-http10", req(b"GET / HTTP/1.0", b"Content-Length: 3", body=b"abc")),
    ("cl0-get-http10", req(b"GET / HTTP/1.0", b"Content-Length: 0")),
    ("cl-head-http10", req(b"HEAD / HTTP/1.0", b"Content-Length: 3", body=b"abc")),
    ("cl-delete-http10", req(b"DELETE / HTTP/1.0", b"Content-Length: 3", body=b"abc")),
    ("cl-post-http10", req(b"POST / HTTP/1.0", b"Content-Length: 3", body=b"abc")),
    ("cl-get-http11", req(b"GET / HTTP/1.1", b"Host: a", b"Content-Length: 3", body=b"abc")),
    # Transfer-Encoding
    (
        "te-chunked",
        req(
            b"POST / HTTP/1.1",
            b"Host: a",
            b"Transfer-Encoding: chunked",
            body=b"3\r\nabc\r\n0\r\n\r\n",
        ),
    ),
    (
        "te-chunked-upper",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: CHUNKED", body=b"3\r\nabc\r\n0\r\n\r\n"),
    ),
    (
        "te-chunked-twice",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"),
    ),
    (
        "te-chunked-two-headers",
        req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked",
            b"Transfer-Encoding: chunked",
            body=b"0\r\n\r\n",
        ),
    ),
    (
        "te-gzip-chunked",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"),
    ),
    (
        "te-chunked-gzip",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked, gzip", body=b"0\r\n\r\n"),
    ),
    ("te-gzip", req(b"POST / HTTP/1.1", b"Transfer-Encoding: gzip")),
    ("te-identity", req(b"POST / HTTP/1.1", b"Transfer-Encoding: identity")),
    ("te-empty", req(b"POST / HTTP/1.1", b"Transfer-Encoding:")),
    ("te-comma-only", req(b"POST / HTTP/1.1", b"Transfer-Encoding: ,", body=b"0\r\n\r\n")),
    (
        "te-chunked-http10",
        req(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
    ),
    (
        "te-and-cl",
        req(
            b"POST / HTTP/1.1",
            b"Content-Length: 31",
            b"Transfer-Encoding: chunked",
            body=b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
        ),
    ),
    (
        "cl-and-te",
        req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked",
            b"Content-Length: 3",
            body=b"3\r\nabc\r\n0\r\n\r\n",
        ),
    ),
    ("te-get-http10", req(b"GET / HTTP/1.0", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n")),
    # chunked bodies
    (
        "chunk-ext",
        req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked",
            body=b'3;a=b;c="d e"\r\nabc\r\n0;z\r\n\r\n',
        ),
    ),
    (
        "chunk-ext-odd",
        req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked",
            body=b"3;@@\x01 x\r\nabc\r\n0\r\n\r\n",
        ),
    ),
    (
        "chunk-space-size",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"3  \r\nabc\r\n0\r\n\r\n"),
    ),
    (
        "chunk-space-before-size",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b" 3\r\nabc\r\n0\r\n\r\n"),
    ),
    (
        "chunk-upper-hex",
        req(
            b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"A\r\n0123456789\r\n0\r\n\r\n"
        ),
    ),
    (
        "chunk-leading-zeros",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"0003\r\nabc\r\n000\r\n\r\n"),
    ),
    (
        "chunk-lf-only",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"3\nabc\n0\n\n"),
    ),
    (
        "chunk-missing-crlf",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"3\r\nabcd\r\n0\r\n\r\n"),
    ),
    (
        "chunk-bad-size",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"g\r\nabc\r\n0\r\n\r\n"),
    ),
    (
        "chunk-empty-size",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"\r\nabc\r\n0\r\n\r\n"),
    ),
    (
        "chunk-size-13-digits",
        req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked",
            body=b"0000000000003\r\nabc\r\n0\r\n\r\n",
        ),
    ),
    (
        "chunk-size-2^52",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"10000000000000\r\nabc"),
    ),
    (
        "chunk-size-2^52-1",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"fffffffffffff\r\nabc"),
    ),
    (
        "chunk-trailers",
        req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked",
            body=b"3\r\nabc\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n",
        ),
    ),
    (
        "chunk-trailer-bad",
        req(
            b"POST / HTTP/1.1",
            b"Transfer-Encoding: chunked",
            body=b"3\r\nabc\r\n0\r\nbad trailer\r\n\r\n",
        ),
    ),
    (
        "chunk-trailer-fold",
        req(b"POST / HTTP/1.1", b"Transfer-Encoding: chunked", body=b"0\r\nX: a\r\n b\r\n\r\n"),
    ),
    # Connection / Upgrade / Expect
    ("conn-close", req(b"GET / HTTP/1.1", b"Host: a", b"Connection: close")),
    ("conn-keepalive-http11", req(b"GET / HTTP/1.1", b"Host: a", b"Connection: keep-alive")),
    ("conn-mixed", req(b"GET / HTTP/1.1", b"Host: a", b"Connection: Keep-Alive, foo, Close")),
    ("conn-tokens", req(b"GET / HTTP/1.1", b"Host: a", b"Connection: foo, bar", b"foo: 1")),
    ("conn-empty", req(b"GET / HTTP/1.1", b"Host: a", b"Connection:")),
    (
        "upgrade-ws",
        req(
            b"GET /ws HTTP/1.1",
            b"Host: a",
            b"Connection: Upgrade",
            b"Upgrade: websocket",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            b"Sec-WebSocket-Version: 13",
        ),
    ),
    (
        "upgrade-ws-no-key",
        req(b"GET /ws HTTP/1.1", b"Host: a", b"Connection: Upgrade", b"Upgrade: websocket"),
    ),
    (
        "upgrade-ws-short-key",
        req(
            b"GET /ws HTTP/1.1",
            b"Host: a",
            b"Connection: Upgrade",
            b"Upgrade: websocket",
            b"Sec-WebSocket-Key: abc",
        ),
    ),
    ("upgrade-no-connection", req(b"GET / HTTP/1.1", b"Host: a", b"Upgrade: websocket")),
    (
        "upgrade-h2c",
        req(
            b"GET / HTTP/1.1",
            b"Host: a",
            b"Connection: Upgrade, HTTP2-Settings",
            b"Upgrade: h2c",
            b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
        ),
    ),
    (
        "upgrade-with-body",
        req(
            b"POST / HTTP/1.1",
            b"Host: a",
            b"Connection: upgrade",
            b"Upgrade: foo",
            b"Content-Length: 3",
            body=b"abc",
        ),
    ),
    (
        "expect-100",
        req(
            b"POST / HTTP/1.1",
            b"Host: a",
            b"Expect: 100-continue",
            b"Content-Length: 3",
            body=b"abc",
        ),
    ),
    # limits
    ("headers-100", counted_request(100)),
    ("headers-101", counted_request(101)),
    ("headers-100-plus-dup-host", counted_request(100)[:-2] + b"Host: a\r\n\r\n"),
    ("headers-100-plus-conn-close", counted_request(100)[:-2] + b"Connection: close\r\n\r\n"),
    ("size-15273", sized_request(15273)),
    ("size-15274", sized_request(15274)),
    ("size-16336", sized_request(16336)),
    ("size-16400", sized_request(16400)),
    # several messages
    ("pipelined", req(b"GET /1 HTTP/1.1", b"Host: a") + req(b"GET /2 HTTP/1.1", b"Host: a")),
    ("pipelined-bad-second", req(b"GET /1 HTTP/1.1", b"Host: a") + b"GARBAGE\r\n\r\n"),
    (
        "pipelined-post",
        req(b"POST /1 HTTP/1.1", b"Content-Length: 2", body=b"ab")
        + req(b"GET /2 HTTP/1.1", b"Host: a"),
    ),
    ("garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"),
    ("only-crlf", b"\r\n\r\n\r\n"),
]

VALID_BASES = [
    req(b"GET /a/b?c=d HTTP/1.1", b"Host: example.com", b"User-Agent: t", b"Accept: */*"),
    req(
        b"POST /up HTTP/1.1", b"Host: a", b"Content-Length: 5", b"Content-Type: x/y", body=b"hello"
    ),
    req(
        b"PUT /c HTTP/1.1",
        b"Host: a",
        b"Transfer-Encoding: chunked",
        body=b"5\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    ),
    req(b"GET / HTTP/1.0", b"Connection: keep-alive"),
]

INTERESTING = b'\x00\x01\t\n\r "(),/:;<=>?@[\\]{}\x7f\x80\xff0Aa-_'


def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """One seeded byte-level edit of `data`, named so a failure can be found again."""
    pos = rng.randrange(len(data))
    op = rng.choice(["insert", "replace", "delete", "duplicate-line", "swap-case"])
    if op == "insert":
        b = INTERESTING[rng.randrange(len(INTERESTING))]
        return f"insert-{b:02x}@{pos}", data[:pos] + bytes([b]) + data[pos:]
    if op == "replace":
        b = INTERESTING[rng.randrange(len(INTERESTING))]
        return f"replace-{b:02x}@{pos}", data[:pos] + bytes([b]) + data[pos + 1 :]
    if op == "delete":
        return f"delete@{pos}", data[:pos] + data[pos + 1 :]
    if op == "duplicate-line":
        start = data.rfind(b"\n", 0, pos) + 1
        end = data.find(b"\n", pos) + 1 or len(data)
        return f"dupline@{start}", data[:end] + data[start:end] + data[end:]
    return f"swapcase@{pos}", data[:pos] + data[pos : pos + 1].swapcase() + data[pos + 1 :]


def request_cases(rng: random.Random, mutations: int = 240) -> Iterator[tuple[str, bytes]]:
    yield from HAND
    for i in range(mutations):
        base = i % len(VALID_BASES)
        name, data = mutate(rng, VALID_BASES[base])
        yield f"mut{i}-base{base}-{name}", data


GET_A = req(b"GET / HTTP/1.1", b"Host: a")
HEAD_A = req(b"HEAD / HTTP/1.1", b"Host: a")
WS_REQ = req(
    b"GET /ws HTTP/1.1",
    b"Host: a",
    b"Connection: Upgrade",
    b"Upgrade: websocket",
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    b"Sec-WebSocket-Version: 13",
)

RESPONSES: list[tuple[str, bytes, bytes]] = [
    ("ok-cl", GET_A, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Mixed-Case: V\r\n\r\nok"),
    (
        "ok-chunked",
        GET_A,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext\r\nok\r\n0\r\nX-T: 1\r\n\r\n",
    ),
    ("ok-close-delimited", GET_A, b"HTTP/1.1 200 OK\r\n\r\nuntil close"),
    ("http10-close-delimited", GET_A, b"HTTP/1.0 200 OK\r\n\r\nuntil close"),
    ("http10-cl", GET_A, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("no-reason", GET_A, b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"),
    ("odd-reason", GET_A, b"HTTP/1.1 299 Whatever You Like\r\nContent-Length: 2\r\n\r\nok"),
    ("status-3-digits-only", GET_A, b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("status-letters", GET_A, b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("status-99", GET_A, b"HTTP/1.1 99 Low\r\nContent-Length: 2\r\n\r\nok"),
    ("status-600", GET_A, b"HTTP/1.1 600 High\r\nContent-Length: 2\r\n\r\nok"),
    ("version-12", GET_A, b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("version-lower", GET_A, b"http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("version-bad", GET_A, b"HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("lf-only", GET_A, b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
    ("obs-fold", GET_A, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: a\r\n b\r\n\r\nok"),
    ("bad-header", GET_A, b"HTTP/1.1 200 OK\r\nbad header\r\nContent-Length: 2\r\n\r\nok"),
    ("empty-header-name", GET_A, b"HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 2\r\n\r\nok"),
    (
        "cl-dup-differ",
        GET_A,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    ),
    ("cl-dup-same", GET_A, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
    ("cl-bad", GET_A, b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nok"),
    (
        "te-and-cl",
        GET_A,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n"
        b"\r\n0\r\n\r\nResponse splitting attach",
    ),
    ("te-gzip", GET_A, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx"),
    ("te-chunked-gzip", GET_A, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxx"),
    (
        "te-chunked-twice",
        GET_A,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    ),
    ("te-chunked-http10", GET_A, b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("chunk-bad", GET_A, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n"),
    ("204-with-cl", GET_A, b"HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nok"),
    ("304-with-cl", GET_A, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n"),
    ("head-cl", HEAD_A, b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"),
    ("head-chunked", HEAD_A, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("head-no-length", HEAD_A, b"HTTP/1.1 200 OK\r\n\r\n"),
    (
        "100-then-200",
        req(
            b"POST / HTTP/1.1",
            b"Host: a",
            b"Expect: 100-continue",
            b"Content-Length: 2",
            body=b"ab",
        ),
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
    (
        "103-then-200",
        GET_A,
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
    (
        "101-without-upgrade-request",
        GET_A,
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    ),
    (
        "101-ws-accept",
        WS_REQ,
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    ),
    (
        "101-ws-no-accept",
        WS_REQ,
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    ),
    (
        "101-ws-wrong-accept",
        WS_REQ,
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: nope\r\n\r\n",
    ),
    (
        "426-upgrade-required",
        GET_A,
        b"HTTP/1.1 426 Upgrade Required\r\nConnection: Upgrade\r\n"
        b"Upgrade: websocket\r\nContent-Length: 0\r\n\r\n",
    ),
    (
        "connect-200",
        req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443"),
        b"HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\nhello",
    ),
    (
        "connect-407",
        req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443"),
        b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\nno",
    ),
    (
        "100-with-cl",
        GET_A,
        b"HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ),
    (
        "te-chunked-and-bad-cl",
        GET_A,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n0\r\n\r\n",
    ),
    ("cl-empty", GET_A, b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nok"),
    ("conn-close", GET_A, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
    (
        "conn-keepalive-http10",
        GET_A,
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    ),
    (
        "headers-101",
        GET_A,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
        + b"".join(b"X%d: y\r\n" % i for i in range(100))
        + b"\r\nok",
    ),
    (
        "headers-100",
        GET_A,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
        + b"".join(b"X%d: y\r\n" % i for i in range(99))
        + b"\r\nok",
    ),
    (
        "too-big",
        GET_A,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: " + b"a" * 16000 + b"\r\n\r\nok",
    ),
    ("garbage", GET_A, b"garbage\r\n\r\n"),
    ("empty-close", GET_A, b""),
    ("truncated-head", GET_A, b"HTTP/1.1 200 OK\r\nContent-"),
    ("truncated-body", GET_A, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
    ("extra-after-body", GET_A, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"),
]

RESPONSE_BASE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\nhello"


def response_cases(rng: random.Random, mutations: int = 60) -> Iterator[tuple[str, bytes, bytes]]:
    yield from RESPONSES
    for i in range(mutations):
        name, data = mutate(rng, RESPONSE_BASE)
        yield f"mut{i}-{name}", GET_A, data


# Connection modes: `option <mode>` in defaults ("" = the default, http-keep-alive).
MODES = ["", "http-server-close", "httpclose"]
OK_CL = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
MODE_EXCHANGES: list[tuple[str, list[bytes], bytes]] = [
    ("http11-twice", [GET_A, GET_A], OK_CL),
    ("http11-close", [req(b"GET / HTTP/1.1", b"Host: a", b"Connection: close")], OK_CL),
    ("http10", [req(b"GET / HTTP/1.0")], OK_CL),
    ("http10-keepalive-twice", [req(b"GET / HTTP/1.0", b"Connection: keep-alive")] * 2, OK_CL),
    (
        "server-says-close",
        [GET_A, GET_A],
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    ),
    ("server-http10", [GET_A, GET_A], b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    (
        "server-http10-keepalive",
        [GET_A, GET_A],
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    ),
    (
        "server-chunked",
        [GET_A, GET_A],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ),
    (
        "http10-to-chunked",
        [req(b"GET / HTTP/1.0", b"Connection: keep-alive")],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ),
]
