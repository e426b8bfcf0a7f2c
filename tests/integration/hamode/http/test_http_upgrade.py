"""`mode http` under `pylvs run` and the real `haproxy -db`: a WebSocket upgrade turning the
connection into a tunnel (and `timeout tunnel` ending it), `Expect: 100-continue` passing the
server's interim answer, `option forwardfor` / `originalto` and the heads the server gets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.http.test_http_proxying import both, listen

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def test_websocket_upgrade_is_a_tunnel_until_timeout_tunnel(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers, "    timeout tunnel 700ms\n")
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.send(UPGRADE)
        head, _ = c.response()
        c.send(b"hello")
        time.sleep(0.2)
        c.send(b" again")
        echoed = b""
        while len(echoed) < 11:
            echoed += c.sock.recv(100)
        start = time.monotonic()
        closed = c.closed(3.0)
        idle = time.monotonic() - start
        c.close()
        return head, echoed, closed, 0.4 < idle < 2.0, servers["s1"].heads

    seen = both(proxy, {"s1": "upgrade"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    head, echoed, closed, timed, _ = seen["pylvs"]
    assert head.startswith(b"HTTP/1.1 101") and echoed == b"HELLO AGAIN" and closed and timed


def test_expect_100_continue_passes_the_interim_response(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        interim = c.response()
        c.send(b"hello")
        final = c.response()
        c.close()
        return interim, final, servers["s1"].heads

    seen = both(proxy, {"s1": "echo"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"][0][0].startswith(b"HTTP/1.1 100") and seen["pylvs"][1][1] == b"s1 got 5"


@pytest.mark.parametrize(
    "options",
    [
        "    option forwardfor\n    option originalto\n",
        "    option forwardfor except 127.0.0.0/8 header X-Client\n",
        "    option forwardfor if-none\n",
        "    option originalto header X-Dst\n    capture request header Host len 10\n",
    ],
)
def test_forwardfor_and_originalto(proxy: Callable[..., Proxy], options: str) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers, options)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.get("/a")
        c.response()
        c.get("/b", "X-Forwarded-For: 203.0.113.9\r\n")
        c.response()
        c.close()
        return servers["s1"].heads

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
