"""The accept rate limits (dataplane/haproxy/ratelimit.py) beside haproxy 2.6: a frontend's
`rate-limit sessions`, global `maxsessrate` and `maxconnrate`, on a listener the pump serves
(mode http and mode tcp) and on one the Python sessions serve (mode http with rules).

Twelve clients one after the other under a limit of 5 per second: five come at once, then
one every 200 ms (listener_accept waits next_event_delay), so the last is answered no sooner
than ~1.4 s after the first under both programs; without the limit they take milliseconds.
Only that lower bound is asserted (a loaded machine makes it longer, never shorter).
"""

from __future__ import annotations

import csv
import io
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port, stats_command
from tests.integration.hamode.http.http_helpers import HttpServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

CASES = {
    "rate-limit sessions, the pump's HTTP listener": ("", "http", "    rate-limit sessions 5\n"),
    "rate-limit sessions, Python's sessions": (
        "",
        "http",
        "    rate-limit sessions 5\n    http-request set-header x-a b\n",
    ),
    "maxsessrate, the pump's HTTP listener": ("    maxsessrate 5\n", "http", ""),
    "maxconnrate, the pump's tcp listener": ("    maxconnrate 5\n", "tcp", ""),
}


def _config(case: str, port: int, server: int) -> str:
    glob, mode, frontend = CASES[case]
    return (
        f"global\n{glob}defaults\n    mode {mode}\n    timeout connect 2s\n"
        f"    timeout client 10s\n    timeout server 10s\nfrontend fe\n"
        f"    bind 127.0.0.1:{port}\n{frontend}    default_backend be\n"
        f"backend be\n    server s1 127.0.0.1:{server}\n"
    )


def _twelve(port: int) -> tuple[float, list[bytes]]:
    answers = []
    start = time.monotonic()
    for _ in range(12):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            got = b""
            while not got.endswith(b"s1 /") and (chunk := c.recv(4096)):
                got += chunk
            answers.append(got.split(b"\r\n")[0] + b" " + got.rsplit(b"\r\n", 1)[-1])
    return time.monotonic() - start, answers


@pytest.mark.parametrize("case", list(CASES))
def test_a_limit_of_five_per_second(proxy: Callable[..., Proxy], case: str) -> None:
    took = {}
    for kind in ("haproxy", "pylvs"):
        server = HttpServer("s1")
        try:
            port = free_port()
            proxy(kind, _config(case, port, server.port), ("127.0.0.1", port))
            took[kind], answers = _twelve(port)
            assert answers == [b"HTTP/1.1 200 OK s1 /"] * 12, (kind, answers)
        finally:
            server.close()
    assert took["haproxy"] >= 1.4, took  # the oracle: the limit holds there
    assert took["pylvs"] >= 1.4, took


LIMITS = """\
global
    stats socket {sock} level admin
    maxconnrate 700
    maxsessrate 900
    maxsslrate 300
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{port}
    rate-limit sessions 400
    default_backend be
backend be
    server s1 127.0.0.1:{server}
"""

COMMANDS = [
    "set rate-limit sessions global 5",
    "set rate-limit ssl-sessions global 0",
    "set rate-limit connections global",
    "set rate-limit connections global -1",
    "set rate-limit connections local 5",
    "set rate-limit requests global 5",
]


def _rows(sock: Path) -> tuple[list[str], dict[str, str]]:
    info = [
        line
        for line in stats_command(sock, "show info").splitlines()
        if line.split(":")[0] in ("ConnRateLimit", "SessRateLimit", "SslRateLimit")
    ]
    rows = csv.DictReader(io.StringIO(stats_command(sock, "show stat").lstrip("# ")))
    fe = next(r for r in rows if r["pxname"] == "fe" and r["svname"] == "FRONTEND")
    return info, fe


def test_the_limits_in_show_info_show_stat_and_set_rate_limit(
    proxy: Callable[..., Proxy],
) -> None:
    """show info's *RateLimit lines, the frontend's rate_lim, `set rate-limit`'s answers
    and effect as haproxy's; the frontend's rate columns are counted (not stuck at 0)."""
    seen = {}
    for kind in ("haproxy", "pylvs"):
        server = HttpServer("s1")
        try:
            port = free_port()
            sock = Path(tempfile.mkdtemp(prefix="pylvs-rate-")) / "stats.sock"
            text = LIMITS.format(sock=sock, port=port, server=server.port)
            proxy(kind, text, ("127.0.0.1", port))
            before, fe = _rows(sock)
            answers = [stats_command(sock, c) for c in COMMANDS]
            after, _ = _rows(sock)
            took, _ = _twelve(port)  # the new limit of 5 per second holds
            _, fe_after = _rows(sock)
            seen[kind] = before, fe["rate_lim"], answers, after
            assert took >= 1.4, (kind, took)
            assert 1 <= int(fe_after["rate_max"]) <= 5, fe_after
            assert 1 <= int(fe_after["conn_rate_max"]) <= 5, fe_after
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"][0] == ["ConnRateLimit: 700", "SessRateLimit: 900", "SslRateLimit: 300"]
    assert seen["pylvs"][1] == "400"
