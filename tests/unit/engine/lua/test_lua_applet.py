"""engine/lua/applet.py: an HTTP applet's message as HAProxy's H1 writer frames it —
chunked when the script gave no Content-Length (HTTP/1.1), as sent with one, without a body
for HEAD, 204 and 304, until the close for HTTP/1.0; the body as far as the proxy buffered
it for receive/getline."""

from __future__ import annotations

from pylvs.engine.lua.applet import AppletState
from pylvs.proto.http.message import Flag, RequestHead


def request(version_11: bool = True, method: bytes = b"GET") -> RequestHead:
    flags = Flag.VER_11 if version_11 else 0
    version = b"HTTP/1.1" if version_11 else b"HTTP/1.0"
    return RequestHead(method, b"/", version, (), flags)


def built(a: AppletState, method: bytes = b"GET") -> bytes:
    from pylvs.proto.http.connmode import Mode, Want

    data, _want = a.answer(method).write(Want.KEEP_ALIVE, method, a.request.flags, Mode.KEEP_ALIVE)
    return data


def test_no_length_is_chunked_in_one_chunk() -> None:
    a = AppletState(request())
    a.start(201, None, [b"X-A"], {b"x-a": [b"1", b"2"]})
    a.sent += [b"ab", b"c"]
    assert built(a) == (
        b"HTTP/1.1 201 Created\r\nx-a: 1\r\nx-a: 2\r\ntransfer-encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )


def test_a_given_length_is_kept() -> None:
    a = AppletState(request())
    a.start(None, b"Fine", [b"content-length"], {b"content-length": [b"2"]})
    a.sent.append(b"ok")
    assert built(a) == b"HTTP/1.1 200 Fine\r\ncontent-length: 2\r\n\r\nok"


def test_no_body_for_head_and_204() -> None:
    a = AppletState(request(method=b"HEAD"))
    a.start(200, None, [], {})
    a.sent.append(b"ignored")
    assert b"ignored" not in built(a, b"HEAD")
    b = AppletState(request())
    b.start(204, None, [], {})
    assert built(b).endswith(b"\r\n\r\n") and b"transfer-encoding" not in built(b)


def test_http_1_0_has_no_chunks() -> None:
    a = AppletState(request(version_11=False))
    a.start(200, None, [], {})
    a.sent.append(b"old")
    data = built(a)
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and data.endswith(b"\r\n\r\nold")
    assert b"chunked" not in data


def test_receive_and_getline_read_the_buffered_body() -> None:
    a = AppletState(request(), body=b"line1\nline2\nrest")
    assert a.getline() == b"line1\n"
    assert a.receive(3) == b"lin"
    assert a.getline() == b"e2\n"
    assert a.receive(None) == b"rest"
    assert a.receive(None) == b""
