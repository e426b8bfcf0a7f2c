"""Hypothesis strategies for HTTP/1 messages: mostly well-formed, often subtly not.

Messages are assembled from parts drawn from lists that mix what clients send with what the
captures of tests/data/http show HAProxy refusing or rewriting (custom methods, 8-bit bytes
in targets, bare LF, folded lines, Content-Length lists, Transfer-Encoding variants, ...), so
that the properties exercise the framer's every branch; `mutated` then flips single bytes.
"""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

GOOD = 6  # how many times more often a well-formed choice is drawn than an odd one


def weighted(good: list[bytes], odd: list[bytes]) -> st.SearchStrategy[bytes]:
    return st.sampled_from(good * GOOD + odd)


METHODS = weighted(
    [b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS"], [b"CONNECT", b"FOO", b"get"]
)
TARGETS = weighted(
    [b"/", b"/a/b?c=d", b"*", b"http://a/x", b"http://a:80/x", b"https://a:443/"],
    [
        b"a:443",
        b"/a#b",
        b"/\x80\x81ab",
        b"/ab\x80\x81cd",
        b"/\xe9",
        b"/\x7f",
        b"/x\x01",
    ],
)
VERSIONS = weighted(
    [b"HTTP/1.1", b"HTTP/1.0"], [b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9", b"http/1.1", b""]
)
STATUS_LINES = weighted(
    [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.0 200 OK",
        b"HTTP/1.1 204 No Content",
        b"HTTP/1.1 304 Not Modified",
        b"HTTP/1.1 100 Continue",
        b"HTTP/1.1 101 Switching Protocols",
    ],
    [
        b"HTTP/1.1 200",
        b"HTTX/1.1 200 OK",
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 099 Low",
        b"http/1.1 200 OK",
    ],
)
NAMES = [
    b"Accept",
    b"User-Agent",
    b"Cookie",
    b"X-Forwarded-For",
    b"Host",
    b"Content-Length",
    b"Transfer-Encoding",
    b"Connection",
    b"Upgrade",
    b"Sec-WebSocket-Key",
    b"Sec-WebSocket-Accept",
    b"TE",
    b"X-A",
    b"x-b",
    b"X-A",
    b"x-b",
    b"Accept",
    b"User-Agent",
    b"X@Y",
    b"",
]
VALUES = {
    b"Host": [b"a"] * 6 + [b"A", b"b", b"a:80", b"a:443", b""],
    b"Content-Length": [b"0", b"3"] * 6 + [b"3, 3", b"3,4", b"", b"+3", b"003", b" 3 "],
    b"Transfer-Encoding": [b"chunked"] * 8 + [b"Chunked", b"gzip, chunked", b"chunked, gzip"],
    b"Connection": [b"close", b"keep-alive", b"Upgrade"] * 4 + [b"foo, close", b""],
    b"Upgrade": [b"websocket", b"h2c"],
    b"Sec-WebSocket-Key": [b"dGhlIHNhbXBsZSBub25jZQ=="] * 4 + [b"short"],
}
OTHER_VALUES = [b"v", b"a b", b" spaced ", b"a\tb", b"x" * 40] * 3 + [b"\x00", b"\x01", b"\xe9"]
BODIES = [b"", b"abc", b"3\r\nabc\r\n0\r\n\r\n", b"3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n", b"zz\r\n"]
EOLS = weighted([b"\r\n"], [b"\n"])


@st.composite
def fields(draw: st.DrawFn) -> list[bytes]:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(NAMES))
        value = draw(st.sampled_from(VALUES.get(name, OTHER_VALUES)))
        sep = draw(weighted([b": ", b":"], [b" : "]))
        line = name + sep + value
        if draw(st.integers(0, 15)) == 0:
            line += draw(EOLS) + b" folded"
        lines.append(line)
    return lines


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    eol = draw(EOLS)
    method = draw(METHODS)
    target = draw(TARGETS)
    version = draw(VERSIONS)
    line = method + b" " + target + (b" " + version if version else b"")
    lead = draw(weighted([b""], [b"\r\n", b"\n", b"\r"]))
    head = lead + line + eol + b"".join(f + eol for f in draw(fields())) + eol
    return head + draw(st.sampled_from(BODIES))


@st.composite
def responses(draw: st.DrawFn) -> bytes:
    eol = draw(EOLS)
    line = draw(STATUS_LINES)
    head = line + eol + b"".join(f + eol for f in draw(fields())) + eol
    return head + draw(st.sampled_from(BODIES))


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(0, 3))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 2))
        byte = draw(st.sampled_from(list(b"\x00\t\n\r :;,\x7f\x80\xff0Aa")))
        if op == 0:
            data[pos] = byte
        elif op == 1:
            data.insert(pos, byte)
        else:
            del data[pos]
    return bytes(data)


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """`data` cut at random places (each piece non-empty)."""
    if len(data) < 2:
        return [data] if data else []
    cuts = sorted(set(draw(st.lists(st.integers(1, len(data) - 1), max_size=8))))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]
