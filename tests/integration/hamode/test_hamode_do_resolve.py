"""`do-resolve` under pylvs and under the real haproxy with the same tiny DNS server: in
`http-request` (the address a Host header names into a variable an answer shows: found, the
first of two, NXDOMAIN after the retries, a silent name after the timeouts, a name that is
none, an empty one) and in `tcp-request content` (the name the client sends resolved while
the stream waits within its inspect delay, then `use_backend` by the variable).  The
answers and how many queries the DNS server saw for each must be the same."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.dns_helpers import DnsServer
from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    Servers,
    free_port,
    stats_command,
)

pytestmark = pytest.mark.slow
HOSTS = ("A1.test", "two.test", "nx.test", "silent.test", "bad..name", "")


def _get(port: int, host: str) -> str:
    """The answer's body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(4096):
            data += chunk
    return data.decode().partition("\r\n\r\n")[2].strip()


def _tcp(port: int, name: bytes) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(name)
        data = b""
        while chunk := c.recv(4096):
            data += chunk
    return data.decode()


def scenario(kind: str, tmp: Path, proxy: Callable[..., Proxy]) -> list[object]:
    dns = DnsServer()
    servers = Servers()
    try:
        app = servers.add("app2", host="127.0.0.2")
        other = servers.add("app1", host="127.0.0.1")
        dns.set("a1.test", ["127.0.0.2"])
        dns.set("two.test", ["127.0.0.3", "127.0.0.4"])
        dns.set_nx("nx.test")
        web, raw, stats = free_port(), free_port(), tmp / f"{kind}.sock"
        proxy(kind, (
            f"global\n    stats socket {stats} level admin\n"
            f"resolvers dns\n    nameserver ns1 127.0.0.1:{dns.port}\n"
            "    timeout resolve 200ms\n    timeout retry 200ms\n    hold valid 10s\n"
            "defaults\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
            f"frontend fe\n    mode http\n    bind 127.0.0.1:{web}\n"
            "    http-request do-resolve(txn.ip,dns,ipv4) hdr(host),lower\n"
            "    http-request return status 200 content-type text/plain"
            ' lf-string "ip=%[var(txn.ip)]"\n'
            f"frontend raw\n    mode tcp\n    bind 127.0.0.1:{raw}\n"
            "    tcp-request inspect-delay 3s\n"
            "    tcp-request content do-resolve(sess.ip,dns,ipv4) req.payload(0,7)"
            " if { req.len ge 7 }\n"
            "    use_backend resolved if { var(sess.ip) -m ip 127.0.0.2 }\n"
            "    default_backend other\n"
            f"backend resolved\n    mode tcp\n    server app2 127.0.0.2:{app.port}\n"
            f"backend other\n    mode tcp\n    server app1 127.0.0.1:{other.port}\n"
        ), None)  # fmt: skip
        seen: list[object] = []
        for host in HOSTS:
            before = dns.queries
            seen.append((host, _get(web, host), dns.queries - before))
        seen.append(_tcp(raw, b"a1.test"))
        seen.append(_tcp(raw, b"nx.test"))
        shown = stats_command(stats, "show resolvers dns")
        seen.append([line.split(":")[0].strip() for line in shown.splitlines()])
        return seen
    finally:
        servers.close()
        dns.close()


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_do_resolve_as_haproxy(tmp_path: Path, proxy: Callable[..., Proxy]) -> None:
    got = {kind: scenario(kind, tmp_path, proxy) for kind in KINDS}
    assert got["pylvs"] == got["haproxy"]
    seen = got["haproxy"]
    assert seen[0] == ("A1.test", "ip=127.0.0.2", 1)
    assert seen[2] == ("nx.test", "ip=", 6)  # NXDOMAIN to A then AAAA, 3 tries
    assert seen[3] == ("silent.test", "ip=", 3)  # no answer: 3 tries, then nothing
    assert seen[4] == ("bad..name", "ip=", 0)
    assert seen[6:8] == ["app2", "app1"]  # routed by the variable the name set
