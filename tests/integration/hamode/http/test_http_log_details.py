"""Details of `mode http` traffic logs (issue 21), pylvs against the real `haproxy -db` on the
same haproxy.cfg: the timeouts a log-format line fetches (`be_server_timeout`,
`cur_server_timeout`, `be_tunnel_timeout`, `cur_tunnel_timeout`, after `http-request
set-timeout` in the backend), and the cookie letters of `%tsc` (src/log.c sess_cookie /
sess_set_cookie: an invalid client cookie and an inserted one `--II`, a valid one and the
server's own deleted `--VD`, a passive `cookie NAME` backend `----`, a rewritten server cookie
`--IR`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import HTTPLOG_HEAD, HttpServer, talk
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


def _lines(
    proxy: Callable[..., Proxy],
    syslog: Syslog,
    kind: str,
    config: str,
    requests: list[tuple[int, bytes]],
    server: HttpServer,
) -> list[list[str]]:
    ports = [free_port() for _ in range(3)]
    text = config.format(log=syslog.port, p0=ports[0], p1=ports[1], p2=ports[2], server=server.port)
    p = proxy(kind, text, None)
    try:
        syslog.lines(0.3)
        seen = []
        for which, data in requests:
            talk(ports[which], data)
            seen.append([line.split(": ", 1)[1] for line in syslog.lines()])
        return seen
    finally:
        p.stop()


TIMEOUTS = """\
global
    log 127.0.0.1:{log} local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 4s
    timeout tunnel 7s
frontend plain
    bind 127.0.0.1:{p0}
    log-format "timeouts FMT"
    default_backend plain
frontend set
    bind 127.0.0.1:{p1}
    log-format "timeouts FMT"
    default_backend set
backend plain
    server web 127.0.0.1:{server}
backend set
    timeout server 6s
    http-request set-timeout server int(3),mul(1000)
    http-request set-timeout tunnel 9s
    server web 127.0.0.1:{server}
""".replace(
    "FMT", "%[be_server_timeout] %[cur_server_timeout] %[be_tunnel_timeout] %[cur_tunnel_timeout]"
)

CLOSE = b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"


def test_timeouts_in_a_log_format_line(proxy: Callable[..., Proxy], syslog: Syslog) -> None:
    requests = [(0, b"GET /" + CLOSE + b"\r\n"), (1, b"GET /" + CLOSE + b"\r\n")]
    seen = {}
    for kind in KINDS:
        server = HttpServer("web")
        try:
            seen[kind] = _lines(proxy, syslog, kind, TIMEOUTS, requests, server)
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    # the backend's own timeouts, and the stream's after set-timeout
    assert seen["pylvs"] == [["timeouts 4000 4000 7000 7000"], ["timeouts 6000 3000 7000 9000"]]


COOKIES = (
    HTTPLOG_HEAD
    + """\
frontend insert
    bind 127.0.0.1:{p0}
    default_backend insert
frontend passive
    bind 127.0.0.1:{p1}
    default_backend passive
frontend rewrite
    bind 127.0.0.1:{p2}
    default_backend rewrite
backend insert
    cookie SRVID insert indirect
    server web 127.0.0.1:{server} cookie one
backend passive
    cookie SRVID
    server web 127.0.0.1:{server} cookie one
backend rewrite
    cookie SRVID rewrite
    server web 127.0.0.1:{server} cookie one
"""
)


def _flags(lines: list[list[str]]) -> list[str]:
    """The %tsc field of each line: the one after the status, %B, %CC and %CS."""
    return [line[0].split()[9] for line in lines]


def test_cookie_flags_of_httplog(proxy: Callable[..., Proxy], syslog: Syslog) -> None:
    requests = [
        (0, b"GET /" + CLOSE + b"Cookie: SRVID=s2\r\n\r\n"),  # invalid; HAProxy's inserted
        (0, b"GET /" + CLOSE + b"Cookie: SRVID=one\r\n\r\n"),  # valid; the server's deleted
        (0, b"GET /" + CLOSE + b"\r\n"),  # none; inserted
        (1, b"GET /" + CLOSE + b"Cookie: SRVID=one\r\n\r\n"),  # passive: no letters
        (2, b"GET /" + CLOSE + b"Cookie: SRVID=zz\r\n\r\n"),  # the server sets one: rewritten
    ]
    seen = {}
    for kind in KINDS:
        server = HttpServer("web", "script")
        server.script = (
            b"HTTP/1.1 200 OK\r\nSet-Cookie: SRVID=abc; path=/\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\nok"
        )
        try:
            seen[kind] = _flags(_lines(proxy, syslog, kind, COOKIES, requests, server))
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"] == ["--II", "--VD", "--NI", "----", "--IR"]
