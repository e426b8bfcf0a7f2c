"""Traffic logs and added fields of the listeners the pump serves itself (_h1own.h, http/
own.py, own_facts.py): the same haproxy.cfg with `option httplog` (with `capture request
header` and `capture response header`), a custom `log-format` with the request's parts,
its HTX sizes, samples and counters, and `option forwardfor` (with an
`except` network) / `option originalto`, run under pylvs with the pump serving the
listeners, under pylvs's pure-Python path and under the real haproxy: the syslog lines (the
process id, dates, client ports and durations masked), what the server reads and what the
client reads must be the same, in the order the requests ended; and the in-process run must
have had the pump serve the exchanges (a listener that falls back to Python fails here).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.dataplane.haproxy.http import own
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.dataplane.proxy import poller as poller_module
from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import HttpServer
from tests.integration.hamode.http.test_http_log import timers
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = [
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
    pytest.mark.skipif(poller_module._pump is None, reason="the C extension is not built"),
]

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
    option httplog
    default_backend be
frontend fmt
    bind 127.0.0.1:{port2}
    log-format "%ci %fi:%fp %ft %b/%s %ST %U %B %HM %HU %HV %{{+Q}}r %tsc %rc \
%[http_first_req] %sq/%bq"
    option forwardfor except 10.0.0.0/8 header X-Client
    option originalto
    default_backend be
frontend skip
    bind 127.0.0.1:{port3}
    option httplog
    capture request header Host len 4
    capture request header X-Y len 10
    capture response header Content-Length len 5
    option forwardfor except 127.0.0.0/8
    default_backend be
backend be
    balance roundrobin
    server web 127.0.0.1:{server}
    server web2 127.0.0.1:{server2}
"""

PLAIN = b"GET /a?b=1 HTTP/1.1\r\nHost: Example.org\r\nX-Y:  z \r\n\r\n"
CLOSE = b"GET /last HTTP/1.1\r\nhost: h\r\nConnection: close\r\n\r\n"
KA = b"GET /h HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive\r\nAccept: */*\r\n\r\n"
# (frontend, what one connection sends): each request answered before the next is sent
TALKS = [
    (0, [CLOSE]),
    (0, [PLAIN, KA, CLOSE]),
    (1, [PLAIN, PLAIN, CLOSE]),
    (1, [KA, CLOSE]),
    (2, [PLAIN, CLOSE]),
]


def _answer(s: socket.socket) -> bytes:
    """One response (HttpServer's: a Content-Length body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        got = s.recv(65536)
        if not got:
            return buf
        buf += got
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        body += s.recv(65536)
    return head + b"\r\n\r\n" + body


def _talk(ports: list[int], syslog: Syslog) -> tuple[list[list[bytes]], list[list[str]]]:
    seen, logged = [], []
    for which, requests in TALKS:
        answers = []
        with socket.create_connection(("127.0.0.1", ports[which]), timeout=5) as s:
            for req in requests:
                s.sendall(req)
                answers.append(_answer(s))
            with contextlib.suppress(OSError):
                while s.recv(65536):
                    pass
        seen.append(answers)
        logged.append([timers(line) for line in syslog.lines(0.4)])
    return seen, logged


@pytest.fixture
def syslog() -> Iterator[Syslog]:
    s = Syslog()
    yield s
    s.sock.close()


@pytest.fixture
def servers() -> Iterator[tuple[HttpServer, HttpServer]]:
    pair = (HttpServer("web"), HttpServer("web2"))
    yield pair
    for s in pair:
        s.close()


def _config(syslog: Syslog, servers: tuple[HttpServer, HttpServer], ports: list[int]) -> str:
    return CONFIG.format(log=syslog.port, port=ports[0], port2=ports[1], port3=ports[2],
                         server=servers[0].port, server2=servers[1].port)  # fmt: skip


def _in_process(syslog: Syslog, servers: tuple[HttpServer, HttpServer]) -> Any:
    ports = [free_port(), free_port(), free_port()]
    loaded = load_text(_config(syslog, servers, ports), "h.cfg")
    assert loaded.ok, [str(p) for p in loaded.problems]
    runtime = ProxyRuntime(to_spec(loaded.config, loaded.problems).proxies, raise_nofile=False)

    async def main() -> Any:
        await runtime.start()
        try:
            syslog.lines(0.2)
            return await asyncio.to_thread(_talk, ports, syslog)
        finally:
            await runtime.stop(0)

    return asyncio.run(main())


def _heads(servers: tuple[HttpServer, HttpServer]) -> list[bytes]:
    got = sorted(h for s in servers for h in s.heads)
    for s in servers:
        s.heads.clear()
    return got


def test_own_listeners_log_and_add_fields_as_the_machines_and_haproxy(
    syslog: Syslog,
    servers: tuple[HttpServer, HttpServer],
    proxy: Callable[..., Proxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = {"own": 0, "handed": 0}
    for method, key in (("_served", "own"), ("handed", "handed")):
        real = getattr(own.H1Listener, method)

        def counting(self: Any, rec: Any, real: Any = real, key: str = key) -> None:
            served[key] += 1
            real(self, rec)

        monkeypatch.setattr(own.H1Listener, method, counting)
    own_seen, own_logged = _in_process(syslog, servers)
    own_heads = _heads(servers)
    assert served == {"own": 11, "handed": 0}  # every exchange the pump's
    monkeypatch.setattr(poller_module, "USE_PUMP", False)
    py_seen, py_logged = _in_process(syslog, servers)
    assert served["own"] == 11
    assert (own_seen, own_logged, own_heads) == (py_seen, py_logged, _heads(servers))

    ports = [free_port(), free_port(), free_port()]
    p = proxy("haproxy", _config(syslog, servers, ports), ("127.0.0.1", ports[0]))
    try:
        syslog.lines(0.2)
        ha_seen, ha_logged = _talk(ports, syslog)
    finally:
        p.stop()
    assert (own_seen, own_logged, own_heads) == (ha_seen, ha_logged, _heads(servers))
    head = "<134>DATE haproxy[PID]: 127.0.0.1"
    assert own_logged[0] == [
        f"{head}:PORT [ACCEPT] fe be/web N/N/N/N/N 200 58 - - ---- 1/1/0/0/0 0/0"
        ' "GET /last HTTP/1.1"'
    ]
    assert [line[len(head) :] for line in own_logged[3]] == [
        ' 127.0.0.1:PORT fmt be/web2 200 48 56 GET /h HTTP/1.1 "GET /h HTTP/1.1" ---- 0 1 0/0',
        ' 127.0.0.1:PORT fmt be/web 200 42 58 GET /last HTTP/1.1 "GET /last HTTP/1.1" ---- 0 0 0/0',
    ]  # %U: the Connection field is not the request's HTX (keep-alive, close)
    assert [line.split(" ")[5:8] for line in own_logged[1]] == [
        ["be/web2", "N/N/N/N/N", "200"], ["be/web", "N/N/N/N/N", "200"],
        ["be/web2", "N/N/N/N/N", "200"],
    ]  # fmt: skip
    assert [line.split(" 0/0 ")[1] for line in own_logged[4]] == [
        '{Exam|z} {11} "GET /a?b=1 HTTP/1.1"',
        '{h|} {9} "GET /last HTTP/1.1"',
    ]  # captures: cut to their length, empty when absent, the response's from its server
    added = [h for h in own_heads if b"x-client" in h or b"x-original-to" in h]
    assert len(added) == 5  # fmt's five requests, none of skip's (127/8 is excepted)
    assert all(
        h.endswith(b"x-client: 127.0.0.1\r\nx-original-to: 127.0.0.1\r\n\r\n") for h in added
    )
    assert not any(b"x-forwarded-for" in h for h in own_heads)
