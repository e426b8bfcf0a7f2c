"""The stats page of a backend (issue 21), pylvs against the real `haproxy -db` on the same
haproxy.cfg: a frontend that sends `/stats` to a backend with `stats enable` gets HAProxy's
stats applet from that backend (http_process_req_common: the backend's http-request rules,
then its stats URI), through the backend's and the frontend's http-after-response rules,
logged `LR--` with the applet `<STATS>` in place of a server; `stats auth` asks for
credentials; any other path goes to the backend's server.  The page comes with its length
rather than in chunks (the same bytes for the client)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import HTTPLOG_HEAD, HttpServer, talk
from tests.integration.hamode.test_hamode_log import Syslog

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


CONFIG = (
    HTTPLOG_HEAD
    + """\
frontend fe
    bind 127.0.0.1:{port}
    http-after-response set-header x-fe %[status]
    use_backend locked if {{ path_beg /locked }}
    default_backend be
backend be
    stats enable
    stats uri /stats
    http-after-response set-status 234 if {{ capture.req.uri /stats }}
    http-after-response del-header cache-control
    server web 127.0.0.1:{server}
backend locked
    stats enable
    stats uri /locked
    stats auth admin:secret
    server web 127.0.0.1:{server}
"""
)

REQUESTS = [
    b"GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET /stats;csv HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET /page HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET /locked HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
]


def _seen(answer: bytes) -> tuple[object, ...]:
    """The status line, the fields but framing ones, and what the body is (haproxy sends
    the page in chunks, pylvs with its length: the same bytes)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunked(body)
    fields = sorted(
        line.lower() for line in lines[1:]
        if not line.lower().startswith((b"content-length", b"transfer-encoding"))
    )  # fmt: skip
    if b"<html" in body and b"Statistics Report" in body:
        kind = b"html stats page"
    elif body.startswith(b"# pxname,svname,"):
        kind = body.split(b"\n")[0]  # the CSV's column names
    else:
        kind = body
    return lines[0], tuple(fields), kind


def _dechunked(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out, data = out + data[:size], data[size + 2 :]
    return out


def _log(line: str) -> str:
    words = line.split(" ")
    return " ".join([*words[4:6], words[7], *words[11:12]])  # fe be/srv status tsc


def _run(proxy: Callable[..., Proxy], syslog: Syslog, kind: str) -> list[object]:
    server = HttpServer("web")
    try:
        port = free_port()
        p = proxy(kind, CONFIG.format(log=syslog.port, port=port, server=server.port), None)
        try:
            syslog.lines(0.3)
            seen: list[object] = []
            for request in REQUESTS:
                seen.append(_seen(talk(port, request)))
                lines = [_log(line) for line in syslog.lines()]
                # the page's 401 is logged 400 by haproxy 2.6.12, 401 by pylvs
                seen.append(lines if b"/locked" not in request else len(lines))
            return seen
        finally:
            p.stop()
    finally:
        server.close()


def test_a_backend_serves_its_stats_page(proxy: Callable[..., Proxy], syslog: Syslog) -> None:
    seen = {kind: _run(proxy, syslog, kind) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"]
    page, page_log, csv, _csv_log, plain, plain_log, locked, _locked_log = seen["pylvs"]
    assert page == (
        b"HTTP/1.1 234 Success",  # the backend's after-response rule
        (b"connection: close", b"content-type: text/html", b"x-fe: 234"),
        b"html stats page",
    )
    assert page_log == ["fe be/<STATS> 234 LR--"]  # the applet in place of a server
    assert isinstance(csv, tuple) and csv[2].startswith(b"# pxname,svname,qcur,qmax,")
    assert plain == (b"HTTP/1.1 200 OK", (b"connection: close", b"x-fe: 200"), b"web /page")
    assert plain_log == ["fe be/web 200 ----"]
    assert isinstance(locked, tuple) and locked[0] == b"HTTP/1.1 401 Unauthorized"
