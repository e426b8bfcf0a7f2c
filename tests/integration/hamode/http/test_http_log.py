"""`mode http` traffic logs (issue 21): pylvs and the real `haproxy -db` on the same
haproxy.cfg send the same syslog datagrams, the process id, dates, client ports and
durations masked: `option httplog` for a proxied request, one the proxy answers itself
(`http-request deny`: no server, timers -1), a request that breaks the protocol
(`<BADREQ>`, the 400 and its termination state), `capture request header`, a custom
`log-format` with samples and variables, and a kept-alive connection's second request
(its own line)."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Callable, Iterator

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import HttpServer
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

# %TR/%Tw/%Tc/%Tr/%Ta then the status and %B
TIMERS = re.compile(r"(?<= )(-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(\+?-?\d+) (\d{3}) (\d+)(?= )")


def timers(line: str) -> str:
    """Which timers were reached (-1: never), not how long they took (%B is compared: both
    count the response's HTX size, test_http_log_sizes.py)."""

    def mask(m: re.Match[str]) -> str:
        reached = "/".join(g if g.startswith("-") else "N" for g in m.groups()[:5])
        return f"{reached} {m.group(6)} {m.group(7)}"

    return TIMERS.sub(mask, line, count=1)


@pytest.fixture
def syslog() -> Iterator[Syslog]:
    s = Syslog()
    yield s
    s.sock.close()


CONFIG = """\
global
    log 127.0.0.1:{log} local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    option httplog
    capture request header Host len 20
    http-request deny if {{ path /deny }}
    default_backend be
frontend fmt
    bind 127.0.0.1:{port2}
    http-request set-var(txn.who) req.hdr(x-who)
    log-format "%ft %b/%s %ST %HM %HU %[var(txn.who)] %{{+Q}}r %tsc"
    default_backend be
backend be
    server web 127.0.0.1:{server}
"""

REQUESTS = [
    (0, b"GET /page?a=1 HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n"),
    (0, b"GET /deny HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n"),
    (0, b"GET /bad request HTTP/1.1\r\nHost: x\r\n\r\n"),
    (1, b"GET /one HTTP/1.1\r\nHost: a\r\nX-Who: me\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n"
     b"Connection: close\r\n\r\n"),
]  # fmt: skip


def _talk(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        with contextlib.suppress(OSError):
            while s.recv(65536):
                pass


def _run(proxy: Callable[..., Proxy], syslog: Syslog, kind: str) -> list[list[str]]:
    server = HttpServer("web")
    try:
        ports = [free_port(), free_port()]
        text = CONFIG.format(log=syslog.port, port=ports[0], port2=ports[1], server=server.port)
        p = proxy(kind, text, ("127.0.0.1", ports[1]))
        try:
            syslog.lines(0.3)
            seen = []
            for which, data in REQUESTS:
                _talk(ports[which], data)
                seen.append([timers(line) for line in syslog.lines()])
            return seen
        finally:
            p.stop()
    finally:
        server.close()


def test_httplog_lines_as_haproxy_writes_them(proxy: Callable[..., Proxy], syslog: Syslog) -> None:
    seen = {kind: _run(proxy, syslog, kind) for kind in KINDS}
    for mine, theirs in zip(seen["pylvs"], seen["haproxy"], strict=True):
        assert mine == theirs
    ok, denied, bad, kept = seen["pylvs"]
    assert ok == [
        "<134>DATE haproxy[PID]: 127.0.0.1:PORT [ACCEPT] fe be/web N/N/N/N/N 200 63 - - ---- "
        '1/1/0/0/0 0/0 {example.org} "GET /page?a=1 HTTP/1.1"'
    ]
    assert denied[0].endswith(' fe fe/<NOSRV> N/-1/-1/-1/N 403 192 - - PR-- 1/1/0/0/0 0/0'
                              ' {example.org} "GET /deny HTTP/1.1"')  # fmt: skip
    assert " fe fe/<NOSRV> -1/-1/-1/-1/N 400 " in bad[0] and bad[0].endswith(' "<BADREQ>"')
    assert kept == [
        '<134>DATE haproxy[PID]: fmt be/web 200 GET /one me "GET /one HTTP/1.1" ----',
        '<134>DATE haproxy[PID]: fmt be/web 200 GET /two - "GET /two HTTP/1.1" ----',
    ]
