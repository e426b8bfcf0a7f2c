"""`mode http` under `pylvs run` and under the real `haproxy -db`, same haproxy.cfg: what the
clients and the servers see must be the same, byte for byte where HAProxy's own bytes are
involved (its error pages, the heads it writes).

Each scenario runs once per proxy with fresh servers (http_helpers.HttpServer answers
without dates, so responses compare exactly).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"""

Scenario = Callable[[Callable[..., Proxy], dict[str, HttpServer], str], Any]


def both(
    proxy: Callable[..., Proxy], servers: dict[str, str], scenario: Scenario
) -> dict[str, Any]:
    """Run `scenario` under each proxy with fresh servers (name -> behaviour)."""
    seen: dict[str, Any] = {}
    for kind in KINDS:
        made = {name: HttpServer(name, b) for name, b in servers.items()}
        try:
            seen[kind] = scenario(proxy, made, kind)
        finally:
            for s in made.values():
                s.close()
    return seen


def listen(
    servers: dict[str, HttpServer], options: str = "", server_opts: str = ""
) -> tuple[str, int]:
    port = free_port()
    text = HEAD + f"listen app\n    bind 127.0.0.1:{port}\n{options}"
    for name, s in servers.items():
        text += f"    server {name} 127.0.0.1:{s.port} {server_opts}\n"
    return text, port


def test_keep_alive_balances_each_request_and_reuses_server_connections(
    proxy: Callable[..., Proxy],
) -> None:
    """One client connection, six requests: roundrobin per request (HAProxy makes a stream
    per request), two server connections kept alive and reused (http-reuse safe: a
    connection's later requests may take the idle ones)."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        got = []
        for i in range(6):
            c.get(f"/r{i}")
            got.append(c.response())
        c.close()
        return got, [servers[n].accepted for n in ("s1", "s2")]

    seen = both(proxy, {"s1": "name", "s2": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    responses, accepted = seen["pylvs"]
    assert [body for _, body in responses] == [
        b"s1 /r0",
        b"s2 /r1",
        b"s1 /r2",
        b"s2 /r3",
        b"s1 /r4",
        b"s2 /r5",
    ]
    assert accepted == [1, 1]


@pytest.mark.parametrize("option", ["http-server-close", "httpclose", "http-keep-alive"])
def test_connection_options(proxy: Callable[..., Proxy], option: str) -> None:
    """What the client gets and how many server connections each mode makes."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers, f"    option {option}\n")
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        got = []
        for i in range(3):
            c.get(f"/{i}")
            head, body = c.response()
            got.append((head, body))
            if not head or b"connection: close" in head.lower():
                break  # the proxy closes: a next request would race its FIN
        closed = c.closed(2.0)
        c.close()
        return got, closed, servers["s1"].accepted, [h for h in servers["s1"].heads]

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]


def test_pipelined_requests_are_answered_in_order(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.send(b"".join(b"GET /p%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(4)))
        got = [c.response() for _ in range(4)]
        c.close()
        return got

    seen = both(proxy, {"s1": "name", "s2": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert [b for _, b in seen["pylvs"]] == [b"s1 /p0", b"s2 /p1", b"s1 /p2", b"s2 /p3"]


def test_bodies_both_ways(proxy: Callable[..., Proxy]) -> None:
    """A 3 MB content-length upload, a chunked upload, a chunked response."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        big = b"x" * (3 << 20)
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
        first = c.response()
        c.send(
            b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\n\r\n"
        )
        second = c.response()
        c.close()
        return first, second, servers["s1"].heads

    seen = both(proxy, {"s1": "echo"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"][0][1] == b"s1 got %d" % (3 << 20)
    assert seen["pylvs"][1][1] == b"s1 got 21"


def test_chunked_response(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.get("/chunks")
        c.sock.settimeout(1.0)
        raw = c.rest()  # the chunks as the proxy writes them, up to the time-out
        c.close()
        return raw

    seen = both(proxy, {"s1": "chunked"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert b"transfer-encoding: chunked" in seen["pylvs"]


@pytest.mark.parametrize(
    "servers, options, server_opts, request_",
    [
        # no usable server: HAProxy's 503
        ({"s1": "name"}, "", "disabled", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        # a server that answers no HTTP: the 502
        ({"s1": "garbage"}, "", "", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        # timeout server before the response head: the 504
        (
            {"s1": "stall"},
            "    timeout server 300ms\n",
            "",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
        # a request the parser refuses: the raw 400, then the close
        ({"s1": "name"}, "", "", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
        # both Content-Length and chunked with different lengths: refused
        (
            {"s1": "name"},
            "",
            "",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        ),
        # a head that never ends within timeout http-request: the 408
        ({"s1": "name"}, "    timeout http-request 300ms\n", "", b"GET / HTTP/1.1\r\nHo"),
    ],
    ids=["503-no-server", "502-garbage", "504-timeout", "400-syntax", "400-lengths", "408"],
)
def test_haproxy_answers_byte_for_byte(
    proxy: Callable[..., Proxy],
    servers: dict[str, str],
    options: str,
    server_opts: str,
    request_: bytes,
) -> None:
    def run(proxy: Callable[..., Proxy], made: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(made, options, server_opts)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.send(request_)
        c.sock.settimeout(3.0)
        raw = c.rest()
        c.close()
        return raw

    seen = both(proxy, servers, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"].startswith(b"HTTP/1.")


def test_keep_alive_survives_a_503_and_the_next_request_is_served(
    proxy: Callable[..., Proxy],
) -> None:
    """A 503 keeps the client connection (the request was read whole)."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        text = (
            HEAD + f"frontend fe\n    bind 127.0.0.1:{port}\n    use_backend none if FALSE\n"
            "    default_backend none\n"
            f"backend none\n    server s1 127.0.0.1:{servers['s1'].port} disabled\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.get("/a")
        first = c.response()
        c.get("/b")
        second = c.response()
        c.close()
        return first, second

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]


def test_timeout_http_keep_alive_closes_an_idle_connection(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers, "    timeout http-keep-alive 300ms\n")
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.get("/a")
        got = c.response()
        closed = c.closed(2.0)  # silently: no 408 for an idle kept-alive connection
        c.close()
        return got, closed

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"][1] is True
