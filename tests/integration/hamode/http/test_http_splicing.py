"""Kernel splicing of HTTP/1 bodies (`option splice-request` / `splice-response`, `nosplice`;
issue 21, http_splicing.vtc) and show stat's H1 module, pylvs against the real `haproxy -db`
on the same haproxy.cfg and traffic: a 1 MB POST with a Content-Length, a 1 MB response
that runs to the server's close and a 1 MB chunked one reach the client whole; the
h1_total_connections / h1_total_streams / h1_bytes_in / h1_bytes_out of each frontend and
backend are HAProxy's to the byte; which of h1_spliced_bytes_in/out are non-zero is
HAProxy's too (how much is spliced depends on the first read's size); `nosplice` splices
nothing.  (The chunked response's bytes out are not compared: both re-frame its chunks, each
where its own reads cut them.)"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port, stats_command
from tests.integration.hamode.http.http_helpers import Client, HttpServer, pattern

pytestmark = [
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
    pytest.mark.slow,
]

MB = 1 << 20
CONFIG = """\
global
    stats socket {sock} level admin
{glob}defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    option splice-request
    option splice-response
listen up
    bind 127.0.0.1:{p0}
    id 10
    server s 127.0.0.1:{s0}
listen down
    bind 127.0.0.1:{p1}
    id 20
    server s 127.0.0.1:{s1}
listen chunks
    bind 127.0.0.1:{p2}
    id 30
    server s 127.0.0.1:{s2}
"""
EXACT = ("h1_total_connections", "h1_total_streams", "h1_bytes_in", "h1_bytes_out")
SPLICED = ("h1_spliced_bytes_in", "h1_spliced_bytes_out")


def _h1(sock: Path) -> dict[str, int]:
    """The h1_* fields of the F and B rows of proxies 10, 20 and 30 ("F.10.h1_bytes_in")."""
    out = {}
    for r in stats_command(sock, "show stat typed").splitlines():
        parts = r.split(".")
        if r[:2] in ("F.", "B.") and parts[1] in ("10", "20", "30") and ".h1_" in r:
            out[f"{parts[0]}.{parts[1]}.{parts[4]}"] = int(r.rsplit(":", 1)[1])
    return out


def _traffic(
    proxy: Callable[..., Proxy], kind: str, glob: str
) -> tuple[list[object], dict[str, int]]:
    servers = [HttpServer("up", "sum"), HttpServer("down", "untilclose"),
               HttpServer("ch", "bigchunked")]  # fmt: skip
    sock = Path(tempfile.mkdtemp()) / "stats.sock"
    ports = [free_port() for _ in servers]
    text = CONFIG.format(
        sock=sock, glob=glob, **{f"p{i}": p for i, p in enumerate(ports)},
        **{f"s{i}": s.port for i, s in enumerate(servers)},
    )  # fmt: skip
    p = proxy(kind, text, None)
    seen: list[object] = []
    try:
        body = pattern(MB)
        c = Client(ports[0], timeout=10)
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
               % MB + body)  # fmt: skip
        head, got = c.response()
        seen.append((head.split(b"\r\n")[0], got, hashlib.sha1(body).hexdigest()))
        c.close()
        for port in ports[1:]:
            c = Client(port, timeout=10)
            c.get(f"/{MB}", "Connection: close\r\n")
            head, got = c.response()
            seen.append((head.split(b"\r\n")[0], len(got), got == pattern(MB)))
            c.close()
        deadline = time.monotonic() + 10
        while True:  # every client connection closed: the counts are final
            rows = _h1(sock)
            opened = [v for k, v in rows.items() if k[0] == "F" and "open" in k]
            if not any(opened) or time.monotonic() > deadline:
                info = stats_command(sock, "show info").splitlines()
                total = next(line for line in info if line.startswith("TotalSplicdedBytesOut:"))
                rows["TotalSplicdedBytesOut"] = int(total.split(":")[1])
                return seen, rows
            time.sleep(0.1)
    finally:
        p.stop()
        for s in servers:
            s.close()


@pytest.mark.parametrize("glob", ["", "    nosplice\n"], ids=["splice", "nosplice"])
def test_bodies_and_h1_counters_as_haproxy(proxy: Callable[..., Proxy], glob: str) -> None:
    runs = {kind: _traffic(proxy, kind, glob) for kind in KINDS}
    (h_seen, h), (p_seen, py) = runs["haproxy"], runs["pylvs"]
    h_total, p_total = h.pop("TotalSplicdedBytesOut"), py.pop("TotalSplicdedBytesOut")
    assert p_seen == h_seen
    assert p_seen[0][1].startswith(b"up got %d " % MB)  # type: ignore[index]
    assert p_seen[1][1:] == (MB, True) and p_seen[2][1:] == (MB, True)  # type: ignore[index]
    # A chunked body goes out re-framed, HAProxy's chunks cut where its buffer was: the
    # client gets the same payload in other chunk sizes, so F.30's bytes out differ.
    exact = {k: v for k, v in h.items() if k.split(".")[2] in EXACT and k != "F.30.h1_bytes_out"}
    assert {k: py[k] for k in exact} == exact
    # the gauges: nothing open on the client side; a server connection may stay pooled
    assert all(v == 0 for k, v in py.items() if k[0] == "F" and "open" in k)
    assert all(v == 0 for k, v in py.items() if k.endswith("open_streams"))
    nonzero = {k: v > 0 for k, v in h.items() if k.split(".")[2] in SPLICED}
    assert {k: py[k] > 0 for k in nonzero} == nonzero
    # show info's total: every spliced byte sent (HAProxy's raw_sock_from_pipe count)
    assert (p_total > 0) == (h_total > 0) == (not glob)
    if glob:
        assert not any(nonzero.values())
    else:  # the upload in, the close-delimited answer out: spliced; the chunked one: not
        assert nonzero["F.10.h1_spliced_bytes_in"] and nonzero["B.10.h1_spliced_bytes_out"]
        assert nonzero["B.20.h1_spliced_bytes_in"] and nonzero["F.20.h1_spliced_bytes_out"]
        assert not nonzero["B.30.h1_spliced_bytes_in"]
