"""%B and %U in the traffic log as haproxy 2.6.12 counts them, under `pylvs run` and the
real `haproxy -db` on the same haproxy.cfg, compared field by field: the bytes read from
the server and from the client are the streams' channel totals, which for HTTP are HTX
sizes (the start line with its struct, each field's name and value, one byte per end of
headers or trailers, the body's payload without chunk framing), not the bytes on the wire;
an answer the proxy makes counts its own HTX size.  Keep-alive (one line per request),
chunked bodies both ways with trailers, an interim 100, a WebSocket tunnel, a redirect, a
deny and a return."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

BEHAVIOURS = {"name": "name", "chunked": "chunked", "echo": "echo", "big": "bigchunked"}
BEHAVIOURS["ws"] = "upgrade"

CONFIG = """\
global
    log 127.0.0.1:{log} local0
defaults
    mode http
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    log-format "%HM %HU %ST B=%B U=%U"
    http-request redirect location /elsewhere if {{ path /redirect }}
    http-request deny if {{ path /deny }}
    http-request return status 200 content-type text/plain string hello if {{ path /return }}
{routes}    default_backend name
"""


def _config(log: int, port: int, servers: dict[str, HttpServer]) -> str:
    routes = "".join(
        f"    use_backend {name} if {{ path_beg /{name} }} || {{ req.hdr(x-be) {name} }}\n"
        for name in servers
        if name != "name"
    )
    text = CONFIG.format(log=log, port=port, routes=routes)
    for name, server in servers.items():
        text += f"backend {name}\n    server s 127.0.0.1:{server.port}\n"
    return text


def _exchanges(port: int) -> None:
    c = Client(port)
    c.get("/name/a")  # keep-alive: each request its own line
    c.response()
    c.get("/name/bb", "X-Extra: some value\r\nConnection: keep-alive\r\n")
    c.response()
    c.get("/chunked/x")
    c.response()
    c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world")
    c.response()
    c.send(
        b"POST /echo/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-t: trailer\r\n\r\n"
    )
    c.response()
    c.send(b"POST /echo/e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    c.response()  # the interim 100
    c.send(b"abc")
    c.response()
    c.get("/250000", "X-Be: big\r\n")  # chunked with a trailer
    c.response()
    big = b"x" * 300_000  # uploads the C path relays: with a length, then chunked
    c.send(b"POST /echo/big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
    c.response()
    chunks = b"".join(b"%x\r\n%s\r\n" % (100_000, big[:100_000]) for _ in range(3))
    c.send(
        b"POST /echo/bigc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunks
        + b"0\r\n\r\n"
    )
    c.response()
    c.send(b"HEAD /name/h HTTP/1.1\r\nHost: x\r\n\r\n")
    c.response(b"HEAD")
    c.close()
    for target in ("/redirect", "/deny", "/return", "/bad target"):  # one connection each
        c = Client(port)
        c.get(target)
        c.response()
        c.close()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(4096)
        s.sendall(b"tunnelled bytes")
        while not got.endswith(b"TUNNELLED BYTES"):
            got += s.recv(4096)


def _run(proxy: Callable[..., Proxy], syslog: Syslog, kind: str) -> list[str]:
    servers = {name: HttpServer("s", b) for name, b in BEHAVIOURS.items()}
    try:
        port = free_port()
        p = proxy(kind, _config(syslog.port, port, servers), ("127.0.0.1", port))
        try:
            syslog.lines(0.3)
            _exchanges(port)
            return [line.split(": ", 1)[1] for line in syslog.lines()]
        finally:
            p.stop()
    finally:
        for s in servers.values():
            s.close()


def test_log_sizes_are_haproxys(proxy: Callable[..., Proxy], syslog: Syslog) -> None:
    seen: dict[str, Any] = {kind: _run(proxy, syslog, kind) for kind in KINDS}
    assert len(seen["pylvs"]) == 15
    assert sorted(seen["pylvs"]) == sorted(seen["haproxy"])
