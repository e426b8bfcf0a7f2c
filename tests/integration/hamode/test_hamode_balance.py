"""`pylvs run -f haproxy.cfg` against the real `haproxy -db` on the same text: what clients see.

Each scenario runs once under each proxy, with fresh servers, and the server sequences (or
closed connections) the clients saw must be the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    Servers,
    ask,
    free_port,
    hold,
)

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"""

Scenario = Callable[[Callable[..., Proxy], Servers, str], list[str]]


def both(proxy: Callable[..., Proxy], scenario: Scenario) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for kind in KINDS:
        servers = Servers()
        try:
            seen[kind] = scenario(proxy, servers, kind)
        finally:
            servers.close()
    return seen


def listen(servers: Servers, lines: str, *names: str, options: str = "") -> tuple[str, int]:
    port = free_port()
    text = HEAD + f"listen app\n    bind 127.0.0.1:{port}\n{options}"
    for name in names:
        s = servers[name]
        text += f"    server {name} 127.0.0.1:{s.port} {lines.format(name=name)}\n"
    return text, port


def test_roundrobin_weights_1_2_3_across_ports(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> list[str]:
        for n in ("s1", "s2", "s3"):
            servers.add(n)
        p1, p2 = free_port(), free_port()
        text = (
            HEAD + f"listen app\n    bind 127.0.0.1:{p1},127.0.0.1:{p2}\n    balance roundrobin\n"
        )
        for n, w in (("s1", 1), ("s2", 2), ("s3", 3)):
            text += f"    server {n} 127.0.0.1:{servers[n].port} weight {w}\n"
        proxy(kind, text, ("127.0.0.1", p1))
        return [ask(p1 if i % 2 else p2) for i in range(18)]

    seen = both(proxy, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"].count("s3") == 9 and seen["pylvs"].count("s1") == 3


def test_leastconn_with_held_connections(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> list[str]:
        for n in ("s1", "s2", "s3"):
            servers.add(n, "hold")
        text, port = listen(
            servers, "weight 1", "s1", "s2", "s3", options="    balance leastconn\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        clients = [hold(port) for _ in range(5)]
        names = [name for _, name in clients]
        clients[0][0].close()
        clients[1][0].close()
        time.sleep(0.3)  # the proxy sees both ends close
        more = [hold(port) for _ in range(4)]
        for c, _ in clients + more:
            c.close()
        return names + [n for _, n in more]

    seen = both(proxy, run)
    assert seen["pylvs"] == seen["haproxy"]


def test_first_fills_servers_up_to_maxconn(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> list[str]:
        for n in ("s1", "s2", "s3"):
            servers.add(n, "hold")
        text, port = listen(servers, "maxconn 2", "s1", "s2", "s3", options="    balance first\n")
        proxy(kind, text, ("127.0.0.1", port))
        held = [hold(port) for _ in range(5)]
        held[0][0].close()
        time.sleep(0.3)  # the proxy sees the close
        held.append(hold(port))
        for c, _ in held:
            c.close()
        return [n for _, n in held]

    seen = both(proxy, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"][:5] == ["s1", "s1", "s2", "s2", "s3"]


def test_source_hash_map_based(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> list[str]:
        for n in ("s1", "s2", "s3"):
            servers.add(n)
        text, port = listen(servers, "weight 1", "s1", "s2", "s3", options="    balance source\n")
        proxy(kind, text, ("127.0.0.1", port))
        return [ask(port, source=f"127.0.{i}.{i * 7 % 250 + 1}") for i in range(16)]

    seen = both(proxy, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert len(set(seen["pylvs"])) == 3
