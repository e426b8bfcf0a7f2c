"""TCP nameservers (`nameserver ns1 tcp@127.0.0.1:PORT`) under pylvs and under the real
haproxy, the same tiny DNS server answering over TCP only: the servers take and follow their
addresses as over UDP, every query goes over one kept connection (several pipelined on it),
and when the DNS server closes each connection after its answers the queries go on new
ones; `show servers state` and `show resolvers`' counter names must be the same."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.dns_helpers import DnsServer, settle_rows
from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    free_port,
    stats_command,
)

pytestmark = pytest.mark.slow


def scenario(kind: str, tmp: Path, proxy: Callable[..., Proxy]) -> list[object]:
    dns = DnsServer()
    try:
        dns.set("app.test", ["127.0.0.2", "127.0.0.3"])
        dns.set("b.test", ["127.0.0.4"])
        stats = tmp / f"{kind}.sock"
        proxy(kind, (
            f"global\n    stats socket {stats} level admin\n"
            f"resolvers dns\n    nameserver ns1 tcp@127.0.0.1:{dns.port}\n"
            "    timeout resolve 200ms\n    timeout retry 200ms\n    hold valid 100ms\n"
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            f"listen be\n    bind 127.0.0.1:{free_port()}\n"
            "    server-template web 1-3 app.test:80 resolvers dns init-addr none"
            " resolve-prefer ipv4\n"
            "    server b b.test:80 resolvers dns init-addr none resolve-prefer ipv4\n"
        ), None)  # fmt: skip
        first = {"web1": "127.0.0.2", "web2": "127.0.0.3", "web3": "-", "b": "127.0.0.4"}
        seen: list[object] = [settle_rows(stats, first)]
        dns.set("b.test", ["127.0.0.5"])
        seen.append(settle_rows(stats, {**first, "b": "127.0.0.5"}))
        with dns.lock:
            seen.append(
                ("one connection, over TCP only", dns.tcp_conns, dns.queries - dns.tcp_queries)
            )
        dns.tcp_close = True
        deadline = time.monotonic() + 20
        while dns.tcp_conns < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert dns.tcp_conns >= 3, (kind, dns.tcp_conns)  # new connections after each close
        dns.set("b.test", ["127.0.0.6"])
        seen.append(settle_rows(stats, {**first, "b": "127.0.0.6"}))
        shown = stats_command(stats, "show resolvers dns")
        seen.append([line.split(":")[0].strip() for line in shown.splitlines()])
        counts = {
            k.strip(): int(v)
            for k, _, v in (line.partition(":") for line in shown.splitlines()[2:])
            if v.strip()
        }
        assert counts["sent"] > 0 and counts["valid"] > 0, (kind, shown)
        assert counts["snd_error"] == 0, (kind, shown)
        return seen
    finally:
        dns.close()


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_tcp_nameserver_as_haproxy(tmp_path: Path, proxy: Callable[..., Proxy]) -> None:
    got = {kind: scenario(kind, tmp_path, proxy) for kind in KINDS}
    assert got["pylvs"] == got["haproxy"]
    seen = got["haproxy"]
    assert seen[2] == ("one connection, over TCP only", 1, 0)
    assert "'b', '127.0.0.6'" in repr(seen[3])
