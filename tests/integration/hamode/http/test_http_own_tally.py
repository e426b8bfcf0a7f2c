"""The pump's tallies (_h1own.h H1_TALLY, http/own.py `_tallied`): a listener that does not
log has its exchanges counted per server and round, not one record each.  What `show stat`
says after the same kept-alive traffic must be what the pump's per-exchange records, the
pure-Python path and the real haproxy give: sessions and picks per server, requests,
responses by status class, bytes.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    after_streams,
    free_port,
    stats_command,
)
from tests.integration.hamode.http.http_helpers import Client, HttpServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

CONFIG = """\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:{port}
    balance {balance}
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
"""

COLUMNS = ("stot", "lbtot", "req_tot", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx",
           "hrsp_5xx", "hrsp_other", "bin", "bout")  # fmt: skip
STATUSES = ("200", "404", "302", "503", "200", "204")


def traffic(port: int) -> list[bytes]:
    """Three kept-alive clients, twelve requests each, taking turns: every status class."""
    clients = [Client(port) for _ in range(3)]
    heads = []
    try:
        for n in range(12):
            for i, c in enumerate(clients):
                c.get(f"/{STATUSES[(n + i) % len(STATUSES)]}/{i}")
                head, body = c.response()
                heads.append(head.split(b"\r\n")[0] + b" " + body)
    finally:
        for c in clients:
            c.close()
    return heads


@pytest.mark.parametrize("balance", ["roundrobin", "leastconn"])
def test_tallies_count_as_records_and_haproxy(
    proxy: Callable[..., Proxy], monkeypatch: pytest.MonkeyPatch, balance: str
) -> None:
    seen: dict[tuple[str, str], Any] = {}
    for kind, pump in (("haproxy", "1"), ("pylvs", "1"), ("pylvs", "0")):
        monkeypatch.setenv("PYLVS_PROXY_PUMP", pump)
        pair = (HttpServer("s1", "status"), HttpServer("s2", "status"))
        try:
            port = free_port()
            sock = Path(tempfile.mkdtemp(prefix="pylvs-tally-")) / "stats.sock"
            text = CONFIG.format(
                sock=sock, port=port, balance=balance, s1=pair[0].port, s2=pair[1].port
            )
            proxy(kind, text, ("127.0.0.1", port))
            got = traffic(port)
            rows = csv.DictReader(io.StringIO(after_streams(sock, proxy="app").lstrip("# ")))
            counts = {r["svname"]: {k: r[k] for k in COLUMNS} for r in rows if r["pxname"] == "app"}
            seen[kind, pump] = got, [list(s.heads) for s in pair], counts
            if kind == "pylvs" and pump == "1":  # the pump served them: no Python session
                assert " fe=app " not in stats_command(sock, "show sess")
        finally:
            for s in pair:
                s.close()
    if balance == "leastconn":  # its picks depend on when each program frees a server:
        seen = {k: _whichever_server(v) for k, v in seen.items()}  # totals only
    theirs = seen["haproxy", "1"]
    assert len(theirs[0]) == 36 and theirs[2]["BACKEND"]["req_tot"] == "36", theirs
    mine, python = seen["pylvs", "1"], seen["pylvs", "0"]
    assert mine == python  # the tallies count as the pure-Python path does, bytes too
    assert mine[:2] == theirs[:2]
    differ = [
        (row, k, mine[2][row][k], v)
        for row, columns in theirs[2].items()
        for k, v in columns.items()
        if mine[2][row][k] != v
    ]
    assert not differ


def _whichever_server(seen: Any) -> Any:
    """What was answered and asked, whichever server it was; the proxies' rows."""
    got, heads, counts = seen
    answers = sorted(line.replace(b" s1 ", b" ").replace(b" s2 ", b" ") for line in got)
    asked = sorted(h for server in heads for h in server)
    return answers, asked, {k: v for k, v in counts.items() if k in ("FRONTEND", "BACKEND")}
