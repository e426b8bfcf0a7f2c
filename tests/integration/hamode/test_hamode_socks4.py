"""Health checks through a server's SOCKS4 proxy (`socks4 ADDR:PORT check-via-socks4`)
against haproxy 2.6.12: the same 16-byte CONNECT request reaches the proxy, a granted
request makes the check pass even though the server's own port is closed (the proxy, not the
check, would connect there), a refused one fails it; the same `show servers state` rows."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, closed_port, free_port
from tests.integration.hamode.hamode_helpers import stats_command as cli
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.slow


class Socks4(ThreadedServer):
    """A SOCKS4 proxy that answers every request with `code` (90 grants) and keeps what it
    was asked."""

    def __init__(self, code: int) -> None:
        self.code = code
        self.requests: list[bytes] = []
        super().__init__(backlog=64)

    def serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(2)
            data = b""
            while len(data) < 16 and (chunk := conn.recv(16 - len(data))):
                data += chunk
            self.requests.append(data)
            conn.sendall(bytes([0, self.code]) + bytes(6))
            conn.recv(1)  # until the check closes


@pytest.fixture
def socks() -> Iterator[dict[int, Socks4]]:
    made = {code: Socks4(code) for code in (90, 91)}
    yield made
    for s in made.values():
        s.close()


def scenario(kind: str, tmp: Path, proxy: Callable[..., Proxy], socks: dict[int, Socks4],
             dead: int) -> list[list[str]]:  # fmt: skip
    stats = tmp / f"{kind}.sock"
    proxy(kind, (
        f"global\n    stats socket {stats} level admin\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        f"    timeout server 5s\nlisten app\n    bind 127.0.0.1:{free_port()}\n"
        f"    server granted 127.0.0.1:{dead} socks4 127.0.0.1:{socks[90].port}"
        " check-via-socks4 check inter 200ms rise 1 fall 1\n"
        f"    server refused 127.0.0.1:{dead} socks4 127.0.0.1:{socks[91].port}"
        " check-via-socks4 check inter 200ms rise 1 fall 1\n"
    ), None)  # fmt: skip
    time.sleep(1.5)  # a few checks ran
    rows = [line.split() for line in cli(stats, "show servers state app").splitlines()[2:]]
    out = [r[:9] + r[10:] for r in rows if r]  # without the time since the last change
    for r in out:  # nor whether a check is running at that moment (CHK_ST_INPROGRESS)
        r[12] = str(int(r[12]) & ~1)
    return out


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_checks_through_a_socks4_proxy_as_haproxy(
    tmp_path: Path, proxy: Callable[..., Proxy], socks: dict[int, Socks4]
) -> None:
    dead = closed_port()
    got: dict[str, list[list[str]]] = {}
    for kind in KINDS:
        got[kind] = scenario(kind, tmp_path, proxy, socks, dead)
        first = socks[90].requests[0]
        assert first == b"\x04\x01" + dead.to_bytes(2, "big") + bytes([127, 0, 0, 1]) + b"HAProxy\0"
        assert set(socks[90].requests) == {first}
        socks[90].requests.clear()
    assert got["pylvs"] == got["haproxy"]
    granted, refused = got["haproxy"]
    assert (granted[3], granted[5]) == ("granted", "2")  # running
    assert (refused[3], refused[5]) == ("refused", "0")  # stopped
