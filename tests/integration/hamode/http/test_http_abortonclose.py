"""`option abortonclose` in mode http (issue 21), pylvs against the real `haproxy -db` on the
same haproxy.cfg: a client that closes its side while its request waits for a connection
(retries to a refusing server) is given up with `CC--`, one that closes while queued behind
a full server with `CQ--`, both without a status (src/backend.c back_may_abort_req); without
the option in the backend the queued request stays and is refused by `timeout queue`
(`sQ--`, 503).  The option comes from `defaults`: the frontend proxy must have it too for
the client's close to be read while the request waits (stconn.c: haproxy 2.6.12 with the
option in the backend alone retries on as if the client were there)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, closed_port, free_port
from tests.integration.hamode.http.http_helpers import HttpServer
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


CONFIG = """\
global
    log 127.0.0.1:{log} local0
defaults
    mode http
    log global
    option httplog
    timeout client 10s
    timeout server 10s
    timeout connect 1s
    timeout queue 1500ms
    option abortonclose
frontend retry
    bind 127.0.0.1:{p0}
    default_backend retry
frontend queue
    bind 127.0.0.1:{p1}
    default_backend queue
frontend plain
    bind 127.0.0.1:{p2}
    default_backend plain
backend retry
    retries 10
    server srv1 127.0.0.1:{closed}
backend queue
    server srv1 127.0.0.1:{stall} maxconn 1
backend plain
    no option abortonclose
    server srv1 127.0.0.1:{stall} maxconn 1
"""

GET = b"GET /%s HTTP/1.1\r\nHost: a\r\n\r\n"


def _masked(line: str) -> str:
    """Which timers were reached (-1: never), the status, %B and the termination state."""
    words = line.split(" ")
    timers = words[6].split("/")
    words[6] = "/".join(t if t.startswith("-") else "N" for t in timers)
    return " ".join(words[4:8] + words[9:12] + words[-3:])


def _gone(port: int, path: bytes, after: float) -> bytes:
    """A request, then the client closes its side `after` seconds later; what came back."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(GET % path)
        time.sleep(after)
        s.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                out += chunk
    return out


def _run(proxy: Callable[..., Proxy], syslog: Syslog, kind: str) -> list[object]:
    stall = HttpServer("web", "stall")
    try:
        ports = [free_port() for _ in range(3)]
        text = CONFIG.format(
            log=syslog.port, p0=ports[0], p1=ports[1], p2=ports[2], closed=closed_port(),
            stall=stall.port,
        )  # fmt: skip
        p = proxy(kind, text, None)
        try:
            syslog.lines(0.3)
            seen: list[object] = [_gone(ports[0], b"retried", 0.3)]
            seen.append([_masked(line) for line in syslog.lines()])
            for port in ports[1:]:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as holder:
                    holder.sendall(GET % b"holder")  # takes the server's only slot
                    time.sleep(0.2)
                    seen.append(_gone(port, b"queued", 0.3).split(b"\r\n")[0])
                    seen.append([_masked(x) for x in syslog.lines() if "/holder" not in x])
            return seen
        finally:
            p.stop()
    finally:
        stall.close()


def test_a_client_gone_before_a_server_took_its_request(
    proxy: Callable[..., Proxy], syslog: Syslog
) -> None:
    seen = {kind: _run(proxy, syslog, kind) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"]
    retried, retried_log, queued, queued_log, plain, plain_log = seen["pylvs"]
    assert retried == b"" and queued == b""
    assert retried_log == ["retry retry/srv1 N/N/-1/-1/N -1 - - CC-- " + '"GET /retried HTTP/1.1"']
    assert queued_log == ["queue queue/<NOSRV> N/N/-1/-1/N -1 - - CQ-- " + '"GET /queued HTTP/1.1"']
    assert plain == b"HTTP/1.1 503 Service Unavailable"
    assert plain_log == ["plain plain/<NOSRV> N/N/-1/-1/N 503 - - sQ-- " + '"GET /queued HTTP/1.1"']
