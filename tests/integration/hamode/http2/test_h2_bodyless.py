"""A HEAD whose server got a GET (`http-request set-method GET`) behind an HTTP/2 front, under
`pylvs run` and the real `haproxy -db` on the same haproxy.cfg (reg-test
http-messaging/http_bodyless_response.vtc, c2).

The server answers the GET with a body that comes after its head (a pause between them): the
HTTP/2 front must not end the stream before that body was read and dropped
(src/mux_h2.c: END_STREAM on the HEADERS only for a message that ended there, else an empty
DATA frame once h2s_skip_data reached its end), so the server connection is idle again when
the client hears the end and its next request reuses it.  An HTTP/1 client in front of an
HTTP/2 hop (`server ... proto h2`) sees the same through the two proxies.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, read_head
from tests.integration.hamode.http.test_http_proxying import HEAD
from tests.integration.hamode.http2.h2_client import H2Client
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

PAUSE = 0.3  # between the chunked answer's head and its body


class SlowBodyServer(ThreadedServer):
    """HTTP/1 keep-alive server: `/chunked` is answered chunked, its body `PAUSE` after its
    head; `/length` with a Content-Length body; anything else "last response"."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        super().__init__(backlog=16)

    def serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        with contextlib.suppress(OSError):
            while (head := read_head(conn, buf)) is not None:
                line = head.split(b"\r\n", 1)[0]
                self.requests.append(line)
                if b" /chunked " in line:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    self.stop.wait(PAUSE)
                    body = b"f\r\n012345670123456\r\n400\r\n" + b"x" * 1024
                    conn.sendall(body + b"\r\n0\r\n\r\n")
                elif b" /length " in line:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"y" * 2000)
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nlast response")

    def close(self) -> None:
        self.stop.set()
        super().close()


def _int(port: int, server: SlowBodyServer) -> str:
    return (
        f"listen int\n    bind 127.0.0.1:{port} proto h2\n    http-request set-method GET\n"
        f"    server s1 127.0.0.1:{server.port}\n"
    )


def test_h2_client_head_answered_with_a_late_body_then_get_on_the_same_server_connection(
    proxy: Callable[..., Proxy],
) -> None:
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = SlowBodyServer()
        try:
            port = free_port()
            proxy(kind, HEAD + _int(port, server), ("127.0.0.1", port))
            c = H2Client(port)
            got = []
            for method, path in (("HEAD", "/length"), ("HEAD", "/chunked"), ("GET", "/last")):
                sid = c.request(path, method=method)
                c.wait([sid])
                s = c.streams[sid]
                got.append((s.status, s.head_ended, s.body, s.ended, s.reset))
            c.close()
            seen[kind] = got, server.accepted, server.requests
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    got, accepted, requests = seen["pylvs"]
    assert accepted == 1  # the GET reused the connection the chunked body was read from
    assert requests == [b"GET /length HTTP/1.1", b"GET /chunked HTTP/1.1", b"GET /last HTTP/1.1"]
    # the HEADs' HEADERS without END_STREAM (an empty DATA ends them), no payload
    assert got[:2] == [(200, False, b"", True, None)] * 2
    assert got[2] == (200, False, b"last response", True, None)


def test_http1_client_through_an_h2_hop_head_head_get(proxy: Callable[..., Proxy]) -> None:
    """HTTP/1 -> fe2 -> HTTP/2 -> int -> HTTP/1 server, on one client connection: each HEAD
    gets an empty answer, the GET its body, each hop one connection."""
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = SlowBodyServer()
        try:
            port, front = free_port(), free_port()
            text = HEAD + _int(port, server)
            text += f"listen fe2\n    bind 127.0.0.1:{front}\n"
            text += f"    server s1 127.0.0.1:{port} proto h2\n"
            proxy(kind, text, ("127.0.0.1", front))
            c = Client(front)
            got = []
            for method, path in (("HEAD", "/length"), ("HEAD", "/chunked"), ("GET", "/last")):
                c.send(f"{method} {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
                got.append(c.response(method.encode()))
            c.close()
            seen[kind] = got, server.accepted
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    got, accepted = seen["pylvs"]
    assert accepted == 1
    assert got[2][1] == b"last response"
    assert all(body == b"" for _, body in got[:2])
