"""proto/http2/stream.py: one frontend HTTP/2 stream between the frames and the server side
(src/mux_h2.c's stream errors, h2s_frt_make_resp_headers, RFC 8441's 101 -> 200)."""

from __future__ import annotations

from typing import Any

from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.client import Front
from pylvs.proto.http.message import Body, Flag, ResponseHead
from pylvs.proto.http2 import stream as h2s
from pylvs.proto.http2.request import H2Request, request


def opened(headers: list[tuple[bytes, bytes]], end: bool) -> tuple[h2s.StreamMachine, list[Any]]:
    m = h2s.StreamMachine(Front(), 0.0, first=True)
    r = request(headers, end)
    assert isinstance(r, H2Request)
    return m, m.handle(h2s.Opened(r, end), 0.0)


GET = [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/")]
POST5 = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", b"/"), (b"content-length", b"5")]


def response(status: int, fields: tuple[tuple[bytes, bytes], ...], body: Body) -> ResponseHead:
    return ResponseHead(b"HTTP/1.1", status, b"%d" % status, b"OK", fields, Flag.VER_11, body, 0)


def test_a_get_and_its_response_become_frames_then_the_stream_closes() -> None:
    m, out = opened(GET, True)
    assert [type(c) for c in out] == [cmd.ForwardHead, cmd.ForwardEnd]
    assert out[0].first
    head = response(
        200,
        ((b"content-length", b"2"), (b"connection", b"keep-alive"), (b"x", b"1")),
        Body.LENGTH,
    )
    out = m.handle(ev.ResponseStarted(head), 1.0)
    # connection-specific fields do not exist in HTTP/2
    assert out == [
        h2s.SendHeaders(((b":status", b"200"), (b"content-length", b"2"), (b"x", b"1")), end=False)
    ]
    assert m.handle(ev.ResponseData(b"ok"), 1.0) == [h2s.SendData(b"ok", end=False)]
    assert m.handle(ev.RESPONSE_ENDED, 1.0) == [h2s.SendData(b"", end=True), cmd.CLOSE]
    assert m.closed and m.txn is None


def test_a_bodyless_response_ends_on_its_headers() -> None:
    m, _ = opened([(b":method", b"HEAD"), *GET[1:]], True)
    out = m.handle(ev.ResponseStarted(response(200, ((b"content-length", b"9"),), Body.NONE)), 1.0)
    assert out == [h2s.SendHeaders(((b":status", b"200"), (b"content-length", b"9")), end=True)]
    assert m.handle(ev.RESPONSE_ENDED, 1.0) == [cmd.CLOSE]


def test_a_head_answered_with_a_body_ends_with_an_empty_data_once_the_body_was_read() -> None:
    """The server got a GET (`set-method GET`): its chunked body is read and dropped, and
    the stream ends only then (h2s_skip_data), when its server connection is free again."""
    m, _ = opened([(b":method", b"HEAD"), *GET[1:]], True)
    out = m.handle(ev.ResponseStarted(response(200, (), Body.CHUNKED)), 1.0)
    assert out == [h2s.SendHeaders(((b":status", b"200"),), end=False)]
    assert m.handle(ev.ResponseData(b"skipped"), 1.0) == []
    assert m.handle(ev.ResponseTrailers(((b"x-t", b"1"),)), 1.0) == []
    assert m.handle(ev.RESPONSE_ENDED, 1.0) == [h2s.SendData(b"", end=True), cmd.CLOSE]


def test_a_304_with_a_length_ends_on_its_headers_as_its_message_does() -> None:
    m, _ = opened(GET, True)
    out = m.handle(ev.ResponseStarted(response(304, ((b"content-length", b"9"),), Body.NONE)), 1.0)
    assert out == [h2s.SendHeaders(((b":status", b"304"), (b"content-length", b"9")), end=True)]


def test_a_body_beyond_its_content_length_resets_with_protocol_error() -> None:
    m, out = opened(POST5, False)
    assert [type(c) for c in out] == [cmd.ForwardHead]
    assert m.handle(ev.DataRead(b"abc"), 0.1) == [cmd.ForwardData(b"abc")]
    assert m.handle(ev.DataRead(b"def"), 0.2) == [
        cmd.FORWARD_ABORT,
        h2s.Reset(h2s.PROTOCOL_ERROR),
        cmd.CLOSE,
    ]


def test_a_body_short_of_its_content_length_resets_too() -> None:
    m, _ = opened(POST5, False)
    m.handle(ev.DataRead(b"abc"), 0.1)
    assert m.handle(ev.EOF_READ, 0.2)[-2:] == [h2s.Reset(h2s.PROTOCOL_ERROR), cmd.CLOSE]


def test_a_whole_body_ends_the_request_and_the_response_closes_the_stream() -> None:
    m, _ = opened(POST5, False)
    assert m.handle(ev.DataRead(b"abcde"), 0.1) == [cmd.ForwardData(b"abcde")]
    assert m.handle(ev.EOF_READ, 0.2) == [cmd.FORWARD_END]
    m.handle(ev.ResponseStarted(response(204, (), Body.NONE)), 0.3)
    assert m.handle(ev.RESPONSE_ENDED, 0.3) == [cmd.CLOSE]


def test_an_error_page_is_sent_as_headers_and_data() -> None:
    m, _ = opened(GET, True)
    out = m.handle(ev.ServerFailed(503), 1.0)
    page = Answer.page(503)
    headers, data, close = out
    assert headers.fields[0] == (b":status", b"503") and not headers.end
    assert (b"content-type", b"text/html") in headers.fields
    assert data == h2s.SendData(page.body, end=True) and close is cmd.CLOSE


def test_an_error_before_the_request_ended_aborts_the_server_side() -> None:
    m, _ = opened(POST5, False)
    out = m.handle(ev.ServerFailed(403), 1.0)
    assert cmd.FORWARD_ABORT in out and h2s.Reset(h2s.NO_ERROR) in out and out[-1] is cmd.CLOSE


def test_a_response_cut_after_its_head_resets_with_cancel() -> None:
    m, _ = opened(GET, True)
    m.handle(ev.ResponseStarted(response(200, ((b"content-length", b"9"),), Body.LENGTH)), 1.0)
    assert m.handle(ev.RESPONSE_CUT, 1.0) == [h2s.Reset(h2s.CANCEL), cmd.CLOSE]


def test_extended_connect_becomes_a_tunnel_on_101() -> None:
    headers = [
        (b":method", b"CONNECT"),
        (b":protocol", b"websocket"),
        (b":scheme", b"http"),
        (b":path", b"/ws"),
        (b":authority", b"h"),
    ]
    m, out = opened(headers, False)
    assert [type(c) for c in out] == [cmd.ForwardHead, cmd.ForwardEnd]
    head = response(101, ((b"upgrade", b"websocket"), (b"sec-websocket-accept", b"k")), Body.TUNNEL)
    out = m.handle(ev.ResponseStarted(head), 1.0)
    assert out == [
        h2s.SendHeaders(((b":status", b"200"), (b"sec-websocket-accept", b"k")), end=False)
    ]
    assert m.handle(ev.DataRead(b"hi"), 1.1) == [cmd.ForwardTunnel(b"hi")]
    assert m.handle(ev.TunnelDelivered(b"HI"), 1.2) == [h2s.SendData(b"HI", end=False)]
    assert m.handle(ev.EOF_READ, 1.3) == [cmd.FORWARD_SHUT]
    assert m.handle(ev.SERVER_SHUT, 1.4) == [h2s.SendData(b"", end=True), cmd.CLOSE]


def test_a_101_without_extended_connect_is_a_502() -> None:
    m, _ = opened(GET, True)
    out = m.handle(ev.ResponseStarted(response(101, (), Body.TUNNEL)), 1.0)
    assert out[0].fields[0] == (b":status", b"502")


def test_interim_responses_pass_and_a_client_reset_aborts() -> None:
    m, _ = opened(POST5, False)
    out = m.handle(ev.ResponseStarted(response(100, (), Body.NONE)), 0.5)
    assert out == [h2s.SendHeaders(((b":status", b"100"),), end=False)]
    assert m.handle(h2s.ResetRead(h2s.CANCEL), 0.6) == [cmd.FORWARD_ABORT, cmd.CLOSE]
    assert m.handle(ev.DataRead(b"x"), 0.7) == []  # a closed stream answers nothing
