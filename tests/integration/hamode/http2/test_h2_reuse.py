"""Server connection reuse for HTTP/2 clients (`http-reuse safe`, the default), under `pylvs
run` and the real `haproxy -db` on the same haproxy.cfg.

src/mux_h2.c marks every stream of a client's HTTP/2 connection SE_FL_NOT_FIRST, its first
one too: src/backend.c connect_server then lets it take an idle server connection, which
`safe` refuses to a connection's first request (an HTTP/1 client's).  So after an HTTP/1
client's single request left its server connection idle, a new HTTP/2 client's first
request reuses it, and a new HTTP/1 client's does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.http.test_http_proxying import HEAD, both
from tests.integration.hamode.http2.h2_client import H2Client, H2Server
from tests.integration.hamode.http2.test_h2_front import h2_listen
from tests.integration.hamode.http2.test_h2_servers import h2_app

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


def test_an_http2_clients_first_request_may_take_an_idle_connection(
    proxy: Callable[..., Proxy],
) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = h2_listen(servers)
        text = text.replace("global\n", "global\n    nbthread 1\n", 1)  # one idle list
        plain = free_port()
        text += f"frontend plain\n    bind 127.0.0.1:{plain}\n    default_backend app\n"
        proxy(kind, text, ("127.0.0.1", port))
        seen = []
        for client in ("http1", "h2", "http1"):
            # one request on a new client connection, the previous one closed by then
            if client == "h2":
                c = H2Client(port)
                sid = c.request("/x")
                c.wait([sid])
                c.close()
            else:
                h = Client(plain)
                h.send(b"GET /y HTTP/1.1\r\nHost: h\r\n\r\n")
                h.response()
                h.close()
            seen.append(servers["s1"].accepted)
        return seen

    got = both(proxy, {"s1": "name"}, run)
    assert got["pylvs"] == got["haproxy"]
    assert got["pylvs"] == [1, 1, 2]


@pytest.mark.parametrize(
    ("mode", "accepted"), [("never", 2), ("safe", 2), ("aggressive", 1), ("always", 1)]
)
def test_an_idle_http2_server_connection_is_on_the_safe_list(
    proxy: Callable[..., Proxy], mode: str, accepted: int
) -> None:
    """Two HTTP/1 clients one after the other, one request each, to a `proto h2` server:
    h2_detach puts the idle connection on the safe list after its first request, so the
    second client's first request takes it under `aggressive` (and `always`), not `safe`."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        server = H2Server("h2s")
        try:
            head = HEAD.replace("global\n", "global\n    nbthread 1\n", 1)
            port = h2_app(proxy, kind, server.port, head + f"    http-reuse {mode}\n")
            for _ in range(2):
                h = Client(port)
                h.send(b"GET /y HTTP/1.1\r\nHost: h\r\n\r\n")
                h.response()
                h.close()
            return server.accepted
        finally:
            server.close()

    got = both(proxy, {}, run)
    assert (got["pylvs"], got["haproxy"]) == (accepted, accepted)
