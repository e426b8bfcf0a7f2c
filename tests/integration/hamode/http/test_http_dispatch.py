"""A backend that balances nothing, under `pylvs run` and the real `haproxy -db` on the same
haproxy.cfg: `dispatch ADDR:PORT` in mode tcp and mode http, `option transparent` with
`set-dst-port` choosing where a request goes; the connections to such a target are private
to their client connection (kept for its next request, never another client's).  What the
clients see and how many connections the servers accepted must be the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

CONFIG = """\
defaults
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen tcp_dispatch
    mode tcp
    bind 127.0.0.1:{p1}
    dispatch 127.0.0.1:{s1}
listen http_dispatch
    mode http
    bind 127.0.0.1:{p2}
    dispatch 127.0.0.1:{s2}
listen http_transparent
    mode http
    bind 127.0.0.1:{p3}
    option transparent
    http-request set-dst-port int({s3})
"""


def _two_on_one(port: int) -> list[tuple[bytes, bytes]]:
    c = Client(port)
    try:
        out = []
        for target in ("/a", "/b"):
            c.get(target)
            out.append(c.response())
        return out
    finally:
        c.close()


def test_dispatch_and_transparent_targets(proxy: Callable[..., Proxy]) -> None:
    seen: dict[str, Any] = {}
    for kind in KINDS:
        servers = [HttpServer(f"s{i}") for i in (1, 2, 3)]
        try:
            ports = [free_port() for _ in range(3)]
            text = CONFIG.format(
                p1=ports[0], p2=ports[1], p3=ports[2], s1=servers[0].port,
                s2=servers[1].port, s3=servers[2].port,
            )  # fmt: skip
            proxy(kind, text, ("127.0.0.1", ports[2]))
            got = [_two_on_one(p) for p in ports for _ in range(2)]  # two clients each
            seen[kind] = (got, [s.accepted for s in servers])
        finally:
            for s in servers:
                s.close()
    assert seen["pylvs"] == seen["haproxy"]
    got, accepted = seen["pylvs"]
    assert [r[1] for r in got[0]] == [b"s1 /a", b"s1 /b"]
    assert [r[1] for r in got[2]] == [b"s2 /a", b"s2 /b"]
    assert [r[1] for r in got[4]] == [b"s3 /a", b"s3 /b"]
    assert accepted == [2, 2, 2]  # one connection per client, kept for its second request


def test_a_tcp_frontend_to_an_http_backend_is_served_as_http(
    proxy: Callable[..., Proxy],
) -> None:
    # HAProxy upgrades the stream when it takes the mode http backend: the backend's rules
    # apply to every request of the kept-alive connection
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = HttpServer("s1")
        try:
            port = free_port()
            text = (
                "defaults\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
                f"frontend fe\n    mode tcp\n    bind 127.0.0.1:{port}\n    default_backend be\n"
                "backend be\n    mode http\n    http-request set-header x-name %[be_name]\n"
                "    http-response set-header x-fe %[fe_name]\n"
                f"    server s1 127.0.0.1:{server.port}\n"
            )
            proxy(kind, text, ("127.0.0.1", port))
            got = _two_on_one(port)
            seen[kind] = (got, [h.split(b"\r\n", 1)[1] for h in server.heads], server.accepted)
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    got, heads, accepted = seen["pylvs"]
    assert all(b"x-name: be\r\n" in h for h in heads) and len(heads) == 2
    assert all(b"x-fe: fe\r\n" in head for head, _ in got) and accepted == 1
