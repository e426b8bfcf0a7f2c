"""`tcp-request content switch-mode http` under `pylvs run` and the real `haproxy -db`, same
haproxy.cfg: a tcp stream switched to HTTP by a rule (the bytes the rules waited for, a
rule that switches only some connections, the HTTP/2 preface after a switch, `proto h1`
refusing it, a bind whose mux cannot be upgraded) and a tcp stream a switching rule sends
to a mode http backend.  What clients and servers see must be the same.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.http.test_http_proxying import both
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
defaults
    timeout connect 2s
    timeout client 5s
    timeout server 5s
"""

SWITCHING = """\
frontend fe{n}
    mode tcp
    bind 127.0.0.1:{port}
    tcp-request inspect-delay 2s
    tcp-request content set-var(req.mode) internal.strm.is_htx,iif(http,tcp)
    tcp-request content switch-mode http{proto} if HTTP
    tcp-request content accept if {{ req.len gt 0 }}
    http-request set-header x-mode %[var(req.mode)]
    http-request set-header x-first %[http_first_req]
    use_backend raw{n} unless HTTP
    default_backend web{n}
backend web{n}
    mode http
    server s1 127.0.0.1:{web}
backend raw{n}
    mode tcp
    server r1 127.0.0.1:{raw}
"""


class RawEcho:
    """A tcp server that answers what it reads, upper-cased, until the client closes."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.sock.settimeout(10)

    def serve_one(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data.upper())

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawEcho:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same(proxy: Callable[..., Proxy], servers: dict[str, str], run: Any) -> Any:
    """Run the scenario under both proxies: what they saw must be the same (pylvs's)."""
    seen = both(proxy, servers, run)
    assert seen["pylvs"] == seen["haproxy"]
    return seen["pylvs"]


def _config(
    servers: dict[str, HttpServer], raw: RawEcho, proto: str = "", n: str = ""
) -> tuple[str, int]:
    """The switching frontend (its proxies' names end with `n`) and its port."""
    port = free_port()
    web = servers["s1"].port
    text = SWITCHING.format(port=port, proto=proto, web=web, raw=raw.port, n=n)
    return HEAD + text, port


def test_a_switched_stream_keeps_its_bytes_and_first_request(
    proxy: Callable[..., Proxy],
) -> None:
    """The request comes in three pieces while the rules wait (the inspect delay); once
    it is a whole HTTP head the rule switches: the server gets the request whole, the
    variable set before the switch says `tcp` on the first request (the stream lives on
    as it) and `http` on the next one of the kept-alive connection (a new stream, whose
    content rules see HTTP)."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        with RawEcho() as raw:
            text, port = _config(servers, raw)
            proxy(kind, text, ("127.0.0.1", port))
            c = Client(port)
            for piece in (b"GET /a HT", b"TP/1.1\r\nHost: x\r\n", b"\r\n"):
                c.send(piece)
                time.sleep(0.15)
            first = c.response()
            c.get("/b")
            second = c.response()
            c.close()
        return first, second, list(servers["s1"].heads)

    first, second, heads = _same(proxy, {"s1": "name"}, run)
    assert first[1] == b"s1 /a" and second[1] == b"s1 /b"
    assert b"x-mode: tcp\r\n" in heads[0] and b"x-first: 1\r\n" in heads[0]
    assert b"x-mode: http\r\n" in heads[1] and b"x-first: 0\r\n" in heads[1]


def test_a_rule_that_switches_only_http_connections(proxy: Callable[..., Proxy]) -> None:
    """`switch-mode http if HTTP`: an HTTP client's connection is switched and reaches the
    mode http backend; a connection whose bytes are not HTTP stays a tcp stream and its
    `use_backend` sends it to the tcp backend, which echoes it raw."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        with RawEcho() as raw:
            text, port = _config(servers, raw)
            proxy(kind, text, ("127.0.0.1", port))
            c = Client(port)
            c.get("/web")
            web = c.response()
            c.close()
            t = threading.Thread(target=raw.serve_one, daemon=True)
            t.start()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"hello there\n")
                echoed = b""
                while len(echoed) < 12:
                    data = s.recv(100)
                    if not data:
                        break
                    echoed += data
                s.shutdown(socket.SHUT_WR)
                t.join(5)
        return web, echoed, len(servers["s1"].heads)

    web, echoed, requests = _same(proxy, {"s1": "name"}, run)
    assert web[1] == b"s1 /web" and echoed == b"HELLO THERE\n" and requests == 1


def test_the_http2_preface_after_a_switch(proxy: Callable[..., Proxy]) -> None:
    """A mode http proxy speaks HTTP/2 (`server ... proto h2`) to the switching frontend:
    the default mux reads the preface and becomes HTTP/2, whose streams are new ones (the
    variable says `http` from the first request on); with `proto h1` the preface is an
    HTTP/1 request with the PRI method, a 400."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        with RawEcho() as raw:
            text, port = _config(servers, raw)
            h1_text, h1_port = _config(servers, raw, " proto h1", "_h1")
            front = free_port()
            text += h1_text.removeprefix(HEAD) + (
                f"listen li\n    mode http\n    bind 127.0.0.1:{front}\n"
                f"    server h2 127.0.0.1:{port} proto h2\n"
            )
            proxy(kind, text, ("127.0.0.1", front))
            c = Client(front)
            got = []
            for target in ("/x", "/y"):
                c.get(target)
                got.append(c.response())
            c.close()
            c = Client(h1_port)
            c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            refused = c.response()
            closed = c.closed()
            c.close()
        modes = [h.split(b"x-mode: ")[1].split(b"\r\n")[0] for h in servers["s1"].heads]
        return got, modes, refused, closed

    got, modes, refused, closed = _same(proxy, {"s1": "name"}, run)
    assert [b for _, b in got] == [b"s1 /x", b"s1 /y"] and modes == [b"http", b"http"]
    assert refused[0].startswith(b"HTTP/1.1 400") and closed


def test_a_bind_whose_mux_cannot_upgrade_closes_the_switched_stream(
    proxy: Callable[..., Proxy],
) -> None:
    """`bind ... proto none`: the pass-through mux refuses upgrades (MX_FL_NO_UPG), so the
    switch fails and the client is closed without an answer."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        text = HEAD + (
            f"listen err\n    mode tcp\n    bind 127.0.0.1:{port} proto none\n"
            "    tcp-request inspect-delay 1s\n"
            "    tcp-request content switch-mode http if HTTP\n"
            "    tcp-request content reject\n"
            f"    server s1 127.0.0.1:{servers['s1'].port}\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.get("/")
        rest = c.rest()
        c.close()
        return rest, len(servers["s1"].heads)

    assert _same(proxy, {"s1": "name"}, run) == (b"", 0)


def test_a_tcp_stream_routed_to_an_http_backend_becomes_http(
    proxy: Callable[..., Proxy],
) -> None:
    """No switch-mode: a content rule runs, then `use_backend` picks a mode http backend,
    which upgrades the stream (stream_set_backend): its requests are balanced one by one
    and the backend's http-request rules apply; other bytes go to the tcp backend."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        text = HEAD + (
            f"frontend fe\n    mode tcp\n    bind 127.0.0.1:{port}\n"
            "    tcp-request inspect-delay 2s\n"
            "    tcp-request content accept if HTTP\n"
            "    use_backend web if HTTP\n"
            "backend web\n    mode http\n    http-request set-header x-be %[be_name]\n"
            f"    server s1 127.0.0.1:{servers['s1'].port}\n"
            f"    server s2 127.0.0.1:{servers['s2'].port}\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        got = []
        for target in ("/1", "/2", "/3"):
            c.get(target)
            got.append(c.response()[1])
        c.close()
        heads = servers["s1"].heads + servers["s2"].heads
        return got, sorted(b"x-be: web\r\n" in h for h in heads)

    got, tagged = _same(proxy, {"s1": "name", "s2": "name"}, run)
    assert got == [b"s1 /1", b"s2 /2", b"s1 /3"] and tagged == [True, True, True]


def test_each_request_of_a_switched_connection_is_logged_with_the_tcplog_format(
    proxy: Callable[..., Proxy], syslog: Syslog
) -> None:
    """HAProxy logs every stream, so a switched connection's requests each get a line in
    the (tcp) frontend's format, with their HTX sizes (%B: the response)."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        text = (
            f"global\n    log 127.0.0.1:{syslog.port} local0\n"
            + HEAD.replace("defaults\n", "defaults\n    log global\n")
            + f"frontend fe\n    mode tcp\n    bind 127.0.0.1:{port}\n    option tcplog\n"
            "    tcp-request inspect-delay 2s\n"
            "    tcp-request content switch-mode http if HTTP\n"
            "    default_backend web\n"
            f"backend web\n    mode http\n    server s1 127.0.0.1:{servers['s1'].port}\n"
        )
        p = proxy(kind, text, ("127.0.0.1", port))
        try:
            syslog.lines(0.3)
            c = Client(port)
            for target in ("/a", "/bb"):
                c.get(target)
                c.response()
            c.close()
            return syslog.lines()
        finally:
            p.stop()

    lines = _same(proxy, {"s1": "name"}, run)
    assert [line.split("] ", 1)[1] for line in lines] == [
        "fe web/s1 N/N/N 54 -- 1/1/0/0/0 0/0",
        "fe web/s1 N/N/N 55 -- 1/1/0/0/0 0/0",
    ]
