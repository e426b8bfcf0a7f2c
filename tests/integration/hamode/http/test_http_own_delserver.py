"""`del server` while the pump's HTTP listener has exchanges in flight (cbalance.MirroredPool
`members_changing`, plain.py's remap, _accept.h plain_remap), beside haproxy 2.6.12.

The pump counts an exchange at its end, so Python did not know a server still had one: a
server with a request in flight was deleted ("Server deleted.") and, a server removed before
others, the exchanges in flight on those kept their old indexes: their records then named
the wrong server or none (an IndexError that dropped the round's records).  Now the deletion
is refused as haproxy refuses it while the exchange lasts, and once s1 is gone the exchanges
on s2 and s3 count on s2 and s3.
"""

from __future__ import annotations

import csv
import io
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    after_streams,
    free_port,
    stats_command,
)
from tests.integration.hamode.http.http_helpers import read_head
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

CONFIG = """\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
listen app
    bind 127.0.0.1:{port}
    balance roundrobin
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
    server s3 127.0.0.1:{s3}
"""


class Gate(ThreadedServer):
    """Answers each request with its name once `go` is set: a response held in flight;
    `close`: then closes (no idle connection stays: del server refuses while one does)."""

    def __init__(self, name: str, close: bool = False) -> None:
        self.name, self.close_after = name, close
        self.go = threading.Event()
        self.seen = threading.Semaphore(0)
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        while read_head(conn, buf) is not None:
            self.seen.release()
            self.go.wait(10)
            body = self.name.encode()
            last = b"connection: close\r\n" if self.close_after else b""
            conn.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), last, body)
            )
            if self.close_after:
                conn.close()
                return


def _send(port: int) -> socket.socket:
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
    return c


def _answer(c: socket.socket) -> bytes:
    got = b""
    while not got.endswith((b"s1", b"s2", b"s3")) and (chunk := c.recv(4096)):
        got += chunk
    c.close()
    return got.rsplit(b"\r\n", 1)[-1]


def _deleted(sock: Path) -> str:
    """`del server app/s1` once the proxy let A's stream go (it may take a moment after the
    client has its answer), within 5 s; else the last refusal."""
    deadline = time.monotonic() + 5
    while True:
        got = stats_command(sock, "del server app/s1")
        if got.startswith("Server deleted") or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def _scenario(kind: str, proxy: Callable[..., Proxy]) -> list[object]:
    gates = [Gate("s1", close=True), Gate("s2"), Gate("s3")]
    try:
        port = free_port()
        sock = Path(tempfile.mkdtemp(prefix="pylvs-del-")) / "stats.sock"
        ports = {f"s{i}": g.port for i, g in enumerate(gates, 1)}
        proxy(kind, CONFIG.format(sock=sock, port=port, **ports), ("127.0.0.1", port))
        clients = []
        for g in gates:  # roundrobin: one request held on each server
            clients.append(_send(port))
            assert g.seen.acquire(timeout=10), kind
        out: list[object] = [stats_command(sock, "set server app/s1 state maint")]
        out.append(stats_command(sock, "del server app/s1"))  # its exchange is in flight
        gates[0].go.set()
        out.append(_answer(clients[0]))
        out.append(_deleted(sock))  # over: s1 goes
        for g in gates[1:]:
            g.go.set()
        out += [_answer(c) for c in clients[1:]]
        rows = csv.DictReader(io.StringIO(after_streams(sock, "show stat", "app").lstrip("# ")))
        out.append(
            {
                r["svname"]: (r["stot"], r["req_tot"], r["hrsp_2xx"])
                for r in rows
                if r["pxname"] == "app" and r["svname"] != "FRONTEND"
            }
        )
        return out
    finally:
        for g in gates:
            g.go.set()
            g.close()


def test_del_server_with_exchanges_in_flight(proxy: Callable[..., Proxy]) -> None:
    theirs = _scenario("haproxy", proxy)
    mine = _scenario("pylvs", proxy)
    assert theirs[1] == "Server still has connections attached to it, cannot remove it.\n"
    assert theirs[3] == "Server deleted.\n"
    assert mine == theirs
