"""proto/http2/request.py: an HTTP/2 header list as HAProxy 2.6 maps it (src/h2.c), and the
origin form its HTTP/1 output writes (encode.py, h1_get_uri)."""

from __future__ import annotations

import pytest

from pylvs.proto.http.encode import outgoing_request
from pylvs.proto.http.message import Body, Flag
from pylvs.proto.http2.request import H2Request, Invalid, Malformed, request

GET = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/a?b")]


def ok(headers: list[tuple[bytes, bytes]], end: bool = True) -> H2Request:
    got = request(headers, end)
    assert isinstance(got, H2Request), got
    return got


def test_origin_form_without_authority_and_http2_version() -> None:
    r = ok([*GET, (b"x-a", b"1")])
    assert (r.head.method, r.head.target, r.head.version) == (b"GET", b"/a?b", b"HTTP/2.0")
    assert r.head.fields == ((b"x-a", b"1"),)
    assert r.head.body is Body.NONE and r.head.flags & Flag.VER_11
    assert outgoing_request(r.head).start == b"GET /a?b HTTP/1.1\r\n"


def test_authority_makes_an_absolute_target_sent_in_origin_form() -> None:
    r = ok([*GET, (b":authority", b"example.org:443"), (b"host", b"other"), (b"x", b"y")])
    # scheme-based normalisation drops https's default port, Host follows :authority
    assert r.head.target == b"https://example.org/a?b"
    assert r.head.fields == ((b"host", b"example.org"), (b"x", b"y"))
    out = outgoing_request(r.head)
    assert out.start == b"GET /a?b HTTP/1.1\r\n"
    assert b"host: example.org\r\n" in out.fields


def test_a_non_default_port_stays_and_host_alone_is_kept() -> None:
    r = ok([*GET[:2], (b":path", b"/"), (b":authority", b"h:8443")])
    assert r.head.target == b"https://h:8443/"
    assert ok([*GET, (b"host", b"h1"), (b"host", b"h2")]).head.fields == ((b"host", b"h1"),)


def test_cookies_are_joined_last() -> None:
    r = ok([*GET, (b"cookie", b"a=1"), (b"x", b"1"), (b"cookie", b"b=2")])
    assert r.head.fields == ((b"x", b"1"), (b"cookie", b"a=1; b=2"))


@pytest.mark.parametrize(
    ("extra", "end", "body", "length"),
    [
        ([], False, Body.CHUNKED, 0),  # no length, no END_STREAM: chunked on HTTP/1
        ([(b"content-length", b"5")], False, Body.LENGTH, 5),
        ([(b"content-length", b"0")], False, Body.NONE, 0),
        ([(b"content-length", b"3, 3")], False, Body.LENGTH, 3),
    ],
)
def test_body_framing(extra: list[tuple[bytes, bytes]], end: bool, body: Body, length: int) -> None:
    r = ok([*GET, *extra], end)
    assert (r.head.body, r.head.length) == (body, length)
    if body is Body.CHUNKED:
        assert outgoing_request(r.head).chunk  # transfer-encoding: chunked is added


@pytest.mark.parametrize(
    "headers",
    [
        [*GET, (b"connection", b"close")],
        [*GET, (b"transfer-encoding", b"chunked")],
        [*GET, (b"upgrade", b"h2c")],
        [*GET, (b"te", b"gzip")],
        [*GET, (b"X-Upper", b"1")],
        [*GET, (b"x", b"a\r\nb")],
        [*GET, (b"content-length", b"1"), (b"content-length", b"2")],
        [*GET, (b"content-length", b"x")],
        [(b":method", b"GET"), (b":path", b"/")],  # no :scheme
        [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"rel")],
        [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"")],
        [(b":method", b"GET"), (b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/")],
        [(b":method", b"GET"), (b"x", b"1"), (b":scheme", b"http"), (b":path", b"/")],
        [*GET, (b":status", b"200")],
        [(b":method", b"CONNECT"), (b":scheme", b"http"), (b":authority", b"h:1")],
        [(b":method", b"CONNECT"), (b":path", b"/")],
    ],
)
def test_malformed_lists_reset_the_stream(headers: list[tuple[bytes, bytes]]) -> None:
    assert isinstance(request(headers, True), Malformed)


@pytest.mark.parametrize(
    "headers",
    [
        [(b":method", b"GET?"), (b":scheme", b"http"), (b":path", b"/")],
        [(b":method", b"GET"), (b":scheme", b"http://x/?"), (b":path", b"/")],
        [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/a b")],
    ],
)
def test_parsing_errors_get_a_400(headers: list[tuple[bytes, bytes]]) -> None:
    assert isinstance(request(headers, True), Invalid)


def test_connect_and_extended_connect() -> None:
    c = ok([(b":method", b"CONNECT"), (b":authority", b"h:443")], end=False)
    assert (c.head.method, c.head.target, c.head.body) == (b"CONNECT", b"h:443", Body.NONE)
    ws = ok(
        [
            (b":method", b"CONNECT"),
            (b":protocol", b"websocket"),
            (b":scheme", b"http"),
            (b":path", b"/chat"),
            (b":authority", b"h"),
            (b"sec-websocket-version", b"13"),
        ],
        end=False,
    )
    # RFC 8441 as h2.c maps it: a GET with Upgrade for the HTTP/1 side
    assert ws.protocol == b"websocket" and ws.head.method == b"GET"
    assert ws.head.fields[-2:] == ((b"upgrade", b"websocket"), (b"connection", b"upgrade"))
    assert ws.head.flags & Flag.CONN_UPG and ws.head.flags & Flag.UPG_WEBSOCKET
    assert outgoing_request(ws.head).start == b"GET /chat HTTP/1.1\r\n"


def test_options_star_with_authority() -> None:
    r = ok(
        [(b":method", b"OPTIONS"), (b":scheme", b"http"), (b":path", b"*"), (b":authority", b"h")]
    )
    assert r.head.target == b"http://h"
    assert outgoing_request(r.head).start == b"OPTIONS * HTTP/1.1\r\n"
