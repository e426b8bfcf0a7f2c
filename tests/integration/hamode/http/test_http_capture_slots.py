"""`capture request header` slots as HAProxy shares them, and a 101 the proxy answers
itself, under `pylvs run` and the real `haproxy -db` (same haproxy.cfg): the header
captures are `capture.req.hdr(N)`'s first slots, filled before the rules run, with an
`http-request capture` slot after them; a `return` turned into a 101 by
`http-after-response set-status` goes out as HAProxy's H1 mux writes it (no length, no
connection field) and the connection closes (http-messaging/websocket.vtc's server).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy
from tests.integration.hamode.http.http_helpers import Client, HttpServer, talk
from tests.integration.hamode.http.test_http_proxying import both, listen

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def test_header_captures_are_the_first_capture_slots(proxy: Callable[..., Proxy]) -> None:
    options = (
        "    capture request header x-a len 4\n"
        "    capture request header x-missing len 8\n"
        "    http-request capture req.hdr(x-b) len 10\n"
        "    http-request set-header x-slots %[capture.req.hdr(0)]/%[capture.req.hdr(1)]"
        "/%[capture.req.hdr(2)]\n"
    )

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers, options)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.get("/", "X-A: abcdefgh\r\nX-B: second\r\n")
        got = c.response()
        c.close()
        return got, servers["s1"].heads

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    (_, body), heads = seen["pylvs"]
    assert body == b"s1 /" and b"x-slots: abcd//second\r\n" in heads[0]


WS = (
    "    acl ws_handshake hdr(sec-websocket-key) -m found\n"
    "    http-request reject unless ws_handshake\n"
    "    capture request header sec-websocket-key len 128\n"
    "    http-request return status 200 hdr connection upgrade hdr upgrade websocket"
    ' hdr sec-websocket-accept "%[capture.req.hdr(0),concat(258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
    ',,),sha1,base64]"\n'
    "    http-after-response set-status 101 if { status eq 200 }\n"
)


@pytest.mark.parametrize("upgrade", [True, False])
def test_a_returned_101_is_written_without_length_and_closes(
    proxy: Callable[..., Proxy], upgrade: bool
) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers, WS)
        proxy(kind, text, ("127.0.0.1", port))
        asks = "connection: upgrade\r\nupgrade: websocket\r\n" if upgrade else ""
        request = f"GET / HTTP/1.1\r\nhost: a\r\n{asks}sec-websocket-key: {KEY.decode()}\r\n\r\n"
        return talk(port, request.encode()), servers["s1"].accepted  # all, until the close

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"] == (
        b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n"
        b"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        0,
    )
