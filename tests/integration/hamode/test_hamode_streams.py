"""Queues, failing servers, PROXY headers, connection rules and stickiness: pylvs and the real
`haproxy -db` on the same haproxy.cfg text, compared by what clients and servers see."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable

import pytest

from pylvs.proto import proxyproto
from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    Servers,
    ask,
    both,
    closed_port,
    free_port,
    hold,
)

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
"""


def config(
    servers: Servers, options: str, lines: dict[str, str], bind: str = ""
) -> tuple[str, int]:
    port = free_port()
    text = HEAD + f"listen app\n    bind 127.0.0.1:{port}{bind}\n{options}"
    for name, extra in lines.items():
        s = servers.all.get(name)
        target = f"127.0.0.1:{s.port}" if s is not None else f"127.0.0.1:{closed_port()}"
        text += f"    server {name} {target} {extra}\n"
    return text, port


def test_a_full_server_queues_then_serves_and_timeout_queue_closes(
    proxy: Callable[..., Proxy],
) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1", "hold")
        text, port = config(servers, "    timeout queue 1500ms\n", {"s1": "maxconn 1"})
        proxy(kind, text, None)
        first, name = hold(port)
        waiting = socket.create_connection(("127.0.0.1", port), timeout=5)
        waiting.sendall(b"hi")
        time.sleep(0.5)
        first.close()
        servers["s1"].release()  # the slot frees: the queued client is served
        got = waiting.recv(100).decode()
        started = time.monotonic()
        late = ask(port, timeout=5)  # waits behind `waiting`, then timeout queue
        waited = time.monotonic() - started
        waiting.close()
        return [name, got, late, waited > 1.2]  # closed by timeout queue, not at once

    seen = both(proxy, run)
    assert seen["pylvs"] == ["s1", "s1", "", True]


def test_a_refusing_server_costs_nothing_with_redispatch(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1")
        servers.add("s3")
        text, port = config(
            servers, "    retries 3\n    option redispatch\n", {"s1": "", "s2": "", "s3": ""}
        )
        proxy(kind, text, None)
        return [ask(port) for _ in range(9)]

    seen = both(proxy, run)
    assert "" not in seen["pylvs"]  # type: ignore[operator]


def test_a_refusing_server_without_redispatch_fails_after_its_retries(
    proxy: Callable[..., Proxy],
) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1")
        text, port = config(servers, "    retries 2\n", {"s1": "", "s2": ""})
        proxy(kind, text, None)
        started = time.monotonic()
        got = [ask(port) for _ in range(4)]
        # retries 2: three attempts, two turn-arounds of min(1 s, timeout connect) for each
        # failing client (a lower bound only: a loaded machine makes it slower, never faster)
        return got, time.monotonic() - started >= 3.8

    seen = both(proxy, run)
    assert seen["pylvs"] == (["s1", "", "s1", ""], True)


def test_resetting_and_stalling_servers_cost_only_their_connections(
    proxy: Callable[..., Proxy],
) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1")
        servers.add("s2", "reset")
        servers.add("s3", "stall")
        text, port = config(
            servers,
            "    timeout server 1s\n    option redispatch\n",
            {"s1": "", "s2": "", "s3": ""},
        )
        proxy(kind, text, None)
        return [ask(port) for _ in range(6)]

    seen = both(proxy, run)
    assert seen["pylvs"] == ["s1", "", "", "s1", "", ""]


def test_send_proxy_headers_and_accept_proxy(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("v1")
        servers.add("v2")
        port1, port2 = free_port(), free_port()
        text = (
            HEAD + f"listen one\n    bind 127.0.0.1:{port1}\n"
            f"    server v1 127.0.0.1:{servers['v1'].port} send-proxy\n"
            f"listen two\n    bind 127.0.0.1:{port2} accept-proxy\n"
            f"    server v2 127.0.0.1:{servers['v2'].port} send-proxy-v2\n"
        )
        proxy(kind, text, None)
        with socket.socket() as c:
            c.connect(("127.0.0.1", port1))
            cport = c.getsockname()[1]
            c.sendall(b"data")
            assert c.recv(10) == b"v1"
        told = proxyproto.v1(
            ipaddress.ip_address("10.9.8.7"), 4242, ipaddress.ip_address("10.0.0.1"), 80
        )
        with socket.socket() as c:
            c.connect(("127.0.0.1", port2))
            c.sendall(told + b"more")
            assert c.recv(10) == b"v2"
        (got1,) = servers["v1"].received
        (got2,) = servers["v2"].received
        ip = ipaddress.ip_address
        want1 = proxyproto.v1(ip("127.0.0.1"), cport, ip("127.0.0.1"), port1) + b"data"
        want2 = proxyproto.v2(ip("10.9.8.7"), 4242, ip("10.0.0.1"), 80) + b"more"
        return [got1 == want1, got2 == want2]

    seen = both(proxy, run)
    assert seen["pylvs"] == [True, True]


def test_connection_rules_switching_and_stickiness(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        for n in ("s1", "s2", "s3", "other"):
            servers.add(n)
        port = free_port()
        text = (
            HEAD + f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    acl banned src 127.0.5.0/24\n    acl odd src 127.0.9.9\n"
            "    tcp-request connection reject if banned\n"
            "    use_backend other if odd\n    default_backend app\n"
            "backend app\n    stick-table type ip size 1m expire 10m\n    stick on src\n"
            "    option persist\n"
        )
        for n in ("s1", "s2", "s3"):
            text += f"    server {n} 127.0.0.1:{servers[n].port}\n"
        text += f"backend other\n    server other 127.0.0.1:{servers['other'].port}\n"
        proxy(kind, text, None)
        sources = ["127.0.1.1", "127.0.2.2", "127.0.1.1", "127.0.5.5", "127.0.9.9", "127.0.3.3"]
        return [ask(port, source=s) for s in sources + sources[::-1]]

    seen = both(proxy, run)
    got = seen["pylvs"]
    assert isinstance(got, list) and got[3] == "" and got[4] == "other" and got[0] == got[2]


def test_frontend_maxconn_makes_clients_wait(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1", "hold")
        text, port = config(servers, "    maxconn 2\n", {"s1": ""})
        proxy(kind, text, None)
        held = [hold(port) for _ in range(2)]
        late = socket.create_connection(("127.0.0.1", port), timeout=1)
        late.sendall(b"hi")
        try:
            early = late.recv(100).decode()  # in the listen backlog: no answer
        except TimeoutError:
            early = "(waiting)"
        for c, _ in held:
            c.close()
        servers["s1"].release()  # both streams end
        late.settimeout(5)
        after = late.recv(100).decode()  # a stream ended: its turn
        late.close()
        for c, _ in held:
            c.close()
        return [n for _, n in held] + [early, after]

    seen = both(proxy, run)
    assert seen["pylvs"] == ["s1", "s1", "(waiting)", "s1"]


def _end_seen(port: int) -> str:
    """How the client's connection ended: "fin" (a clean close) or "reset"."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"hi")
        try:
            while c.recv(4096):
                pass
        except ConnectionResetError:
            return "reset"
    return "fin"


@pytest.mark.parametrize("pump", ["1", "0"], ids=["C-path", "python-path"])
def test_a_server_that_resets_or_refuses_leaves_the_client_a_fin(
    proxy: Callable[..., Proxy], monkeypatch: pytest.MonkeyPatch, pump: str
) -> None:
    """HAProxy closes the client's side cleanly when its server resets the connection or
    cannot be connected to (haproxy 2.6.12, captured: a FIN, where IPVS would pass the RST
    on), on the spliced C path as on the Python relay; a client that resets still has its
    server reset (the server's view is the reset tests' above)."""
    monkeypatch.setenv("PYLVS_PROXY_PUMP", pump)

    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("rst", "reset")
        text, port = config(servers, "    retries 0\n", {"rst": ""})
        dead_text, dead_port = config(servers, "    retries 0\n", {"dead": ""})
        proxy(kind, text + dead_text.replace(HEAD, "").replace("listen app", "listen dead"), None)
        return [_end_seen(port), _end_seen(dead_port)]

    seen = both(proxy, run)
    assert seen["pylvs"] == ["fin", "fin"]
