"""`server ... proto h2` under `pylvs run` and the real `haproxy -db`, same haproxy.cfg: HTTP/1
clients in front, an HTTP/2 server behind (h2_client.H2Server): what the clients get and the
header lists and bodies the server got must be the same (h2s_bck_make_req_headers on the way
out, h2_make_htx_response on the way back: bodies without a length arrive chunked)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    after_streams,
    free_port,
)
from tests.integration.hamode.http.http_helpers import Client
from tests.integration.hamode.http.test_http_proxying import HEAD
from tests.integration.hamode.http2.h2_client import H2Server
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


def h2_app(proxy: Callable[..., Proxy], kind: str, server_port: int, head: str = HEAD) -> int:
    """`listen app` on a free port, its one server `proto h2`: its port, once it listens."""
    port = free_port()
    text = head + f"listen app\n    bind 127.0.0.1:{port}\n"
    text += f"    server s1 127.0.0.1:{server_port} proto h2\n"
    proxy(kind, text, ("127.0.0.1", port))
    return port


def test_http1_clients_to_an_http2_server(proxy: Callable[..., Proxy]) -> None:
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = H2Server("h2s")
        try:
            c = Client(h2_app(proxy, kind, server.port))
            got = []
            for req in (
                b"GET /a?b=1 HTTP/1.1\r\nHost: example.org\r\nX-A: 1\r\nTE: trailers, gzip\r\n\r\n",
                b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
                b"POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n0\r\n\r\n",
                b"HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /status/404 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET http://abs.example:8080/x HTTP/1.1\r\nHost: abs.example:8080\r\n\r\n",
            ):
                c.send(req)
                got.append(c.response(req.split(b" ")[0]))
            c.close()
            seen[kind] = got, sorted(server.requests), server.accepted
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    responses, requests, accepted = seen["pylvs"]
    assert responses[0][1] == b"h2s /a?b=1" and accepted == 1  # one connection, reused
    # :authority from an absolute target (its Host dropped), "https" for origin-form ones
    absolute = [dict(r[0]) for r in requests if (b":path", b"/x") in r[0]]
    assert absolute == [
        {
            b":method": b"GET",
            b":scheme": b"http",
            b":authority": b"abs.example:8080",
            b":path": b"/x",
        }
    ]
    assert all(
        dict(r[0])[b":scheme"] == b"https" for r in requests if (b":path", b"/x") not in r[0]
    )


class Http1Only(ThreadedServer):
    """An HTTP/1 server that answers whatever comes with a 200 and keeps the connection."""

    def __init__(self) -> None:
        super().__init__(backlog=16)

    def serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_an_http1_server_behind_proto_h2_fails_at_once(proxy: Callable[..., Proxy]) -> None:
    """Its answer to the preface is not a SETTINGS frame: the connection fails at its first
    frame header (h2_process_demux, H2_CS_SETTINGS1), not after `timeout server`."""
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = Http1Only()
        try:
            c = Client(h2_app(proxy, kind, server.port))
            c.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
            status = c.response()[0].split(b"\r\n")[0]
            c.close()
            seen[kind] = status, server.accepted
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]


def test_show_stat_counts_the_backends_http2_frames(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """The h2_* columns of a backend's `show stat` row count its `proto h2` servers'
    connections (mux_h2.c's stats module on the backend side): frames received by kind (a
    server's first SETTINGS counts twice), connections and streams."""
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = H2Server("h2s")
        try:
            sock = tmp_path / f"{kind}.sock"
            head = HEAD.replace("global\n", f"global\n    stats socket {sock} level admin\n", 1)
            port = h2_app(proxy, kind, server.port, head)
            for path in ("/a", "/status/404"):  # one client connection each: two servers'
                c = Client(port)
                c.send(f"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
                c.response()
                c.close()
            rows = after_streams(sock).splitlines()
            names = rows[0].lstrip("# ").split(",")
            be = next(r.split(",") for r in rows if r.startswith("app,BACKEND,"))
            seen[kind] = {n: be[i] for i, n in enumerate(names) if n.startswith("h2_")}
        finally:
            server.close()
    # (how many idle connections the pool keeps differs: pool.py's rule closes the second)
    for h2 in seen.values():
        del h2["h2_open_connections"]
    assert seen["pylvs"] == seen["haproxy"]
    h2 = seen["pylvs"]
    assert (h2["h2_headers_rcvd"], h2["h2_data_rcvd"], h2["h2_settings_rcvd"]) == ("2", "2", "6")
    assert (h2["h2_total_connections"], h2["h2_backend_total_streams"]) == ("2", "2")
