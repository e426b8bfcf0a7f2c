"""`mode http` counters and `option checkcache` (issue 21), pylvs against the real
`haproxy -db` on the same haproxy.cfg: `intercepted` counts the requests the frontend's own
rules answered (monitor-uri, redirect, return, use-service; not a deny, not an answer of the
backend's rules, which the backend counts instead), a server's interim 100 Continue counts
in its hrsp_1xx and requests, `dreq`/`dresp` count what rules denied (the backend its own
denials, and a denied response on its server), and `option checkcache` refuses a cacheable
response that
sets a cookie (the alert on the backend's log, HAProxy's answer for the response's status,
`PH--` and no %Tr in the log line)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    after_streams,
    free_port,
)
from tests.integration.hamode.http.http_helpers import HTTPLOG_HEAD, HttpServer, talk
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


COUNTERS = """\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port}
    monitor-uri /mon
    http-request redirect location /x if {{ path /r }}
    http-request return status 200 if {{ path /ret }}
    http-request deny if {{ path /d }}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    redirect location /y if {{ path /r2 }}
    default_backend be
backend be
    http-request redirect location /z if {{ path /br }}
    http-request deny if {{ path /bd }}
    http-request set-var(txn.rd) bool(1) if {{ path /rd }}
    http-response deny if {{ var(txn.rd) -m found }}
    server web 127.0.0.1:{server}
"""

CLOSE = b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
REQUESTS = [
    b"POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\nok",
    *(b"GET " + p + CLOSE for p in (b"/mon", b"/r", b"/ret", b"/d", b"/metrics", b"/r2")),
    *(b"GET " + p + CLOSE for p in (b"/br", b"/plain", b"/bd", b"/rd")),
]
FIELDS = frozenset(
    ("intercepted", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "req_tot")
) | {"dreq", "dresp"}


def _counters(proxy: Callable[..., Proxy], kind: str) -> list[list[tuple[str, str]]]:
    """After each request: the chosen columns of the frontend, backend and server rows."""
    server = HttpServer("web")
    sock = Path(tempfile.mkdtemp()) / "stats.sock"
    try:
        port = free_port()
        p = proxy(kind, COUNTERS.format(sock=sock, port=port, server=server.port), None)
        try:
            seen = []
            for request in REQUESTS:
                talk(port, request)
                rows = after_streams(sock, "show stat typed").splitlines()
                seen.append(
                    [
                        (r.split(":")[0], r.rsplit(":", 1)[1])
                        for r in rows
                        if r[:2] in ("F.", "B.", "S.")
                        and r.split(".")[1] in ("2", "3")  # fe and be, not the probe
                        and r.split(".")[4] in FIELDS
                    ]
                )
            return seen
        finally:
            p.stop()
    finally:
        server.close()


def test_intercepted_and_interim_counts_as_haproxy_keeps_them(
    proxy: Callable[..., Proxy],
) -> None:
    seen = {kind: _counters(proxy, kind) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"]
    last = dict(seen["pylvs"][-1])
    assert last["F.2.0.80.intercepted.1"] == "5"  # mon, r, ret, metrics, r2
    assert last["S.3.1.39.hrsp_1xx.1"] == "1" and last["S.3.1.48.req_tot.1"] == "4"
    assert last["B.3.0.41.hrsp_3xx.1"] == "1"  # the backend's own redirect
    # /d and /bd denied (the backend counts its own), /rd's response denied
    assert (last["F.2.0.10.dreq.1"], last["B.3.0.10.dreq.1"]) == ("2", "1")
    assert (last["F.2.0.11.dresp.1"], last["B.3.0.11.dresp.1"], last["S.3.1.11.dresp.1"]) == (
        "1", "1", "1",
    )  # fmt: skip


CHECKCACHE = (
    HTTPLOG_HEAD
    + """\
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    option checkcache
    server web 127.0.0.1:{server}
"""
)


def _masked(line: str) -> str:
    """Which timers were reached, not how long they took; %B masked (HTX sizes)."""
    words = line.split(" ")
    if len(words) > 12 and words[3] == "[ACCEPT]":
        timers = words[6].split("/")
        words[6] = "/".join(t if t.startswith("-") else "N" for t in timers)
        words[8] = "B"
    return " ".join(words)


@pytest.mark.parametrize(
    "cache",
    [b"Cache-Control: max-age=60\r\n", b"Cache-Control: private, max-age=60\r\n", b""],
    ids=["cacheable", "private", "no-freshness"],
)
def test_checkcache_refuses_a_cacheable_response_with_a_cookie(
    proxy: Callable[..., Proxy], syslog: Syslog, cache: bytes
) -> None:
    seen = {}
    for kind in KINDS:
        server = HttpServer("web", "script")
        server.script = (
            b"HTTP/1.1 200 OK\r\nSet-Cookie: a=b\r\n" + cache + b"Content-Length: 2\r\n"
            b"Connection: close\r\n\r\nok"
        )
        try:
            port = free_port()
            text = CHECKCACHE.format(log=syslog.port, port=port, server=server.port)
            p = proxy(kind, text, None)
            try:
                syslog.lines(0.3)
                answer = talk(port, b"GET /" + CLOSE)
                seen[kind] = (answer, [_masked(line) for line in syslog.lines()])
            finally:
                p.stop()
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    answer, lines = seen["pylvs"]
    if cache == b"Cache-Control: max-age=60\r\n":
        assert b"Service ready." in answer and b"set-cookie" not in answer
        assert lines[0].endswith("Blocking cacheable cookie in response from instance be, "
                                 "server web.")  # fmt: skip
        assert " be/web N/N/N/-1/N 200 B - - PH-- " in lines[1]
    else:
        assert answer.endswith(b"\r\n\r\nok") and len(lines) == 1
