"""Bodies the rules wait for, under `pylvs run` and the real `haproxy -db` on the same
haproxy.cfg: `http-request wait-for-body` (the body in a later read reaches `req.body`, no
body in time is the 408), `option http-buffer-request` of a frontend and of a backend (with
`json_query` on the body, and the proxy's own `100 Continue` to `Expect: 100-continue`),
`http-response wait-for-body` (a whole body goes on, a stalled one is the 504).  What the
client sees and the heads the server gets must be the same byte for byte.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer, field, read_head
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
"""

Run = Callable[[int, HttpServer], Any]


def both(proxy: Callable[..., Proxy], sections: str, run: Run) -> dict[str, Any]:
    """`run(port, server)` under each proxy; `sections` names the server `{srv}` and binds
    `{port}`."""
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = HttpServer("s1", "echo")
        try:
            port = free_port()
            text = HEAD + sections.replace("{port}", str(port))
            text = text.replace("{srv}", f"127.0.0.1:{server.port}")
            proxy(kind, text, ("127.0.0.1", port))
            seen[kind] = (run(port, server), [h.split(b"\r\n", 1)[1] for h in server.heads])
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    return seen


def in_two_reads(port: int, head: bytes, body: bytes, pause: float = 0.1) -> tuple[bytes, bytes]:
    c = Client(port)
    try:
        c.send(head)
        time.sleep(pause)
        c.send(body)
        return c.response()
    finally:
        c.close()


def test_wait_for_body_gives_the_rules_the_body_of_a_later_read(
    proxy: Callable[..., Proxy],
) -> None:
    sections = """\
listen app
    bind 127.0.0.1:{port}
    http-request wait-for-body time 2s
    http-request set-header x-body %[req.body] if { req.body -m found }
    http-request set-header x-len %[req.body_len]
    server s1 {srv}
"""
    head = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"

    def run(port: int, server: HttpServer) -> Any:
        return in_two_reads(port, head, b"hello there")

    seen = both(proxy, sections, run)
    (response, heads) = seen["pylvs"]
    assert response[1] == b"s1 got 11"
    assert field(heads[0], b"x-body") == b"hello there"


def test_wait_for_body_without_the_body_in_time_is_the_408(proxy: Callable[..., Proxy]) -> None:
    sections = """\
listen app
    bind 127.0.0.1:{port}
    http-request wait-for-body time 200ms at-least 10 if { path /b }
    server s1 {srv}
"""

    def run(port: int, server: HttpServer) -> Any:
        short = in_two_reads(port, b"POST /b HTTP/1.1\r\nContent-Length: 20\r\n\r\n", b"12345")
        enough = in_two_reads(port, b"POST /b HTTP/1.1\r\nContent-Length: 12\r\n\r\n", b"1" * 12)
        return short, enough

    seen = both(proxy, sections, run)
    (short, enough), heads = seen["pylvs"]
    assert short[0].startswith(b"HTTP/1.1 408 ") and enough[1] == b"s1 got 12"
    assert len(heads) == 1


def test_buffer_request_answers_100_continue_and_json_query_reads_the_body(
    proxy: Callable[..., Proxy],
) -> None:
    sections = """\
frontend fe
    bind 127.0.0.1:{port}
    option http-buffer-request
    http-request set-header x-iss %[req.body,json_query('$.iss')]
    http-request set-header x-n %[req.body,json_query('$.n',"int"),add(1)]
    default_backend be
backend be
    server s1 {srv}
"""
    body = b'{"iss":"kubernetes.io/serviceaccount","n":41}'
    head = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"

    def run(port: int, server: HttpServer) -> Any:
        c = Client(port)
        try:
            c.send(head % len(body))
            interim = c.response()  # the proxy's own 100 (the server never saw Expect)
            c.send(body)
            return interim, c.response()
        finally:
            c.close()

    seen = both(proxy, sections, run)
    (interim, final), heads = seen["pylvs"]
    assert interim[0] == b"HTTP/1.1 100 Continue\r\n\r\n" and final[1] == b"s1 got 45"
    assert field(heads[0], b"x-iss") == b"kubernetes.io/serviceaccount"
    assert field(heads[0], b"x-n") == b"42" and field(heads[0], b"expect") is None


def test_a_backends_buffer_request_waits_before_its_rules(proxy: Callable[..., Proxy]) -> None:
    sections = """\
frontend fe
    bind 127.0.0.1:{port}
    http-request set-header x-fe %[req.body_len]
    default_backend be
backend be
    option http-buffer-request
    timeout http-request 300ms
    http-request set-header x-be %[req.body_len]
    server s1 {srv}
"""

    def run(port: int, server: HttpServer) -> Any:
        whole = in_two_reads(port, b"PUT / HTTP/1.1\r\nContent-Length: 6\r\n\r\n", b"abcdef")
        cut = in_two_reads(port, b"PUT / HTTP/1.1\r\nContent-Length: 9\r\n\r\n", b"abc", 0.05)
        return whole, cut

    seen = both(proxy, sections, run)
    (whole, cut), heads = seen["pylvs"]
    assert whole[1] == b"s1 got 6" and cut[0].startswith(b"HTTP/1.1 408 ")
    assert field(heads[0], b"x-fe") == b"0" and field(heads[0], b"x-be") == b"6"


class Dribble(ThreadedServer):
    """A server that answers each request with `head` and the first `sent` bytes of a
    `length`-byte body, the rest `late` seconds later (never, if `late` is None)."""

    def __init__(self, length: int, sent: int, late: float | None) -> None:
        self.length, self.sent, self.late = length, sent, late
        super().__init__(backlog=16)

    def serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            if read_head(conn, bytearray()) is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.length)
            conn.sendall(b"x" * self.sent)
            if self.late is None:
                conn.recv(1)
                return
            time.sleep(self.late)
            conn.sendall(b"x" * (self.length - self.sent))
            conn.recv(1)


@pytest.mark.parametrize("late", [0.1, None], ids=["whole", "stalled"])
def test_response_wait_for_body(proxy: Callable[..., Proxy], late: float | None) -> None:
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = Dribble(1001, 1000, late)
        try:
            port = free_port()
            text = HEAD + (
                f"listen app\n    bind 127.0.0.1:{port}\n"
                "    http-response wait-for-body time 500ms\n"
                "    http-response set-header x-len %[res.body_len]\n"
                f"    server s1 127.0.0.1:{server.port}\n"
            )
            proxy(kind, text, ("127.0.0.1", port))
            c = Client(port)
            try:
                c.get()
                seen[kind] = c.response()
            finally:
                c.close()
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    head, body = seen["pylvs"]
    if late is None:
        assert head.startswith(b"HTTP/1.1 504 ")
    else:
        assert field(head, b"x-len") == b"1001" and len(body) == 1001


@pytest.mark.parametrize("value", ["300ms", "int(3),mul(100)"])
def test_set_timeout_server_times_out_a_stalled_server(
    proxy: Callable[..., Proxy], value: str
) -> None:
    # `timeout server` is 5s: the 504 within 2s is the rule's; the other path keeps 5s
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = HttpServer("s1", "stall")
        try:
            port = free_port()
            text = HEAD + (
                f"listen app\n    bind 127.0.0.1:{port}\n"
                f"    http-request set-timeout server {value} if {{ path /short }}\n"
                "    http-after-response set-header x-t %[cur_server_timeout]\n"
                f"    server s1 127.0.0.1:{server.port}\n"
            )
            proxy(kind, text, ("127.0.0.1", port))
            c = Client(port, timeout=2.0)
            try:
                started = time.monotonic()
                c.get("/short")
                got = c.response()
                seen[kind] = (got, time.monotonic() - started < 2.0)
            finally:
                c.close()
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    (head, _), quick = seen["pylvs"]
    assert head.startswith(b"HTTP/1.1 504 ") and quick
    assert field(head, b"x-t") == b"300"
