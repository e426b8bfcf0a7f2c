"""`balance leastconn` and `balance first` on a listener the pump serves itself (_h1own.h's
pick through _leastconn.h, http/own.py): a request held by its server counts on that server
until its response ends, the exchanges the pump served count from the pick to their end,
and once over they count no more.  The same haproxy.cfg under pylvs (the pump serving, then
its pure-Python path) and under the real haproxy must send the same requests to the same
servers; the in-process run must have had the pump serve them.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.dataplane.haproxy.http import own
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.dataplane.proxy import poller as poller_module
from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import read_head
from tests.integration.server_helpers import ThreadedServer

pytestmark = [
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
    pytest.mark.skipif(poller_module._pump is None, reason="the C extension is not built"),
]

CONFIG = """\
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
    server s3 127.0.0.1:{s3}
"""


class Named(ThreadedServer):
    """A server answering `NAME` to each request; `/slow` waits until `release` is set."""

    def __init__(self, name: bytes, arrived: threading.Semaphore) -> None:
        self.name = name
        self.arrived = arrived  # one for each held request that reached a server
        self.release = threading.Event()
        super().__init__(backlog=64)

    def serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        try:
            while (head := read_head(conn, buf)) is not None:
                if b" /slow " in head:
                    self.arrived.release()
                    self.release.wait(10)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + self.name)
        except OSError:
            pass
        finally:
            conn.close()


def _get(port: int, path: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" % path)
        got = b""
        while chunk := s.recv(4096):
            got += chunk
    return got[-2:]


def _scenario(port: int, servers: list[Named]) -> list[bytes]:
    """Two held requests, then sequential ones while they are held, then after."""
    seen: list[bytes] = []
    held: list[threading.Thread] = []
    for _ in range(2):
        out: list[bytes] = []
        t = threading.Thread(target=lambda out=out: out.append(_get(port, b"/slow")))
        t.start()
        held.append(t)
        assert servers[0].arrived.acquire(timeout=10)  # at its server before the next
    seen += [_get(port, b"/q") for _ in range(3)]
    for s, t in zip(servers, held, strict=False):  # one after the other: the order in
        s.release.set()  # which their counts drop is the tree's order among equals
        t.join(10)
        time.sleep(0.2)
    seen += [_get(port, b"/q") for _ in range(4)]
    for s in servers:
        s.release.clear()
    return seen


@pytest.fixture
def servers() -> Iterator[list[Named]]:
    arrived = threading.Semaphore(0)
    got = [Named(b"s1", arrived), Named(b"s2", arrived), Named(b"s3", arrived)]
    yield got
    for s in got:
        s.release.set()
        s.sock.close()


def _config(balance: str, servers: list[Named], port: int) -> str:
    return CONFIG.format(
        balance=balance, port=port, s1=servers[0].port, s2=servers[1].port, s3=servers[2].port
    )


def _in_process(balance: str, servers: list[Named]) -> list[bytes]:
    port = free_port()
    loaded = load_text(_config(balance, servers, port), "h.cfg")
    assert loaded.ok, [str(p) for p in loaded.problems]
    runtime = ProxyRuntime(to_spec(loaded.config, loaded.problems).proxies, raise_nofile=False)

    async def main() -> list[bytes]:
        await runtime.start()
        try:
            return await asyncio.to_thread(_scenario, port, servers)
        finally:
            await runtime.stop(0)

    return asyncio.run(main())


@pytest.mark.parametrize("balance", ["leastconn", "first"])
def test_live_counts_pick_as_haproxy(
    servers: list[Named],
    proxy: Callable[..., Proxy],
    monkeypatch: pytest.MonkeyPatch,
    balance: str,
) -> None:
    served = {"own": 0}
    real, real_tallied = own.H1Listener._served, own.H1Listener._tallied

    def counting(self: Any, rec: Any) -> None:
        served["own"] += 1
        real(self, rec)

    def tallied(self: Any, rec: Any) -> None:  # a round's exchanges on one server
        served["own"] += rec[5]
        real_tallied(self, rec)

    monkeypatch.setattr(own.H1Listener, "_served", counting)
    monkeypatch.setattr(own.H1Listener, "_tallied", tallied)
    mine = _in_process(balance, servers)
    assert served["own"] == 9  # every exchange, the held ones too
    monkeypatch.setattr(poller_module, "USE_PUMP", False)
    python = _in_process(balance, servers)
    port = free_port()
    p = proxy("haproxy", _config(balance, servers, port), ("127.0.0.1", port))
    try:
        theirs = _scenario(port, servers)
    finally:
        p.stop()
    assert mine == python == theirs
    if balance == "leastconn":  # s1 and s2 held: s3; then s3 first (it went idle before
        # them), s1, s2 (in the order their held requests ended), s3 again
        assert mine == [b"s3"] * 4 + [b"s1", b"s2", b"s3"]
    else:  # first, without maxconn: the first server has room for all
        assert mine == [b"s1"] * 7
