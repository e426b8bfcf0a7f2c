"""A HEAD request the rules turn into a GET (`http-request set-method GET`): the server's
payload is read and dropped, the client gets the head alone and its connection stays in
step for the next request, under `pylvs run` as under the real `haproxy -db`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


@pytest.mark.parametrize("behaviour", ["name", "chunked"])
def test_head_sent_as_get_gets_no_payload(proxy: Callable[..., Proxy], behaviour: str) -> None:
    seen: dict[str, Any] = {}
    for kind in KINDS:
        server = HttpServer("s1", behaviour)
        try:
            port = free_port()
            text = (
                "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n"
                f"    timeout server 5s\nlisten app\n    bind 127.0.0.1:{port}\n"
                "    http-request set-method GET\n"
                f"    server s1 127.0.0.1:{server.port}\n"
            )
            proxy(kind, text, ("127.0.0.1", port))
            c = Client(port)
            got = []
            try:
                for method in (b"HEAD", b"HEAD", b"GET"):
                    c.send(method + b" /x HTTP/1.1\r\nHost: x\r\n\r\n")
                    got.append(c.response(method))
            finally:
                c.close()
            seen[kind] = got
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    assert [body for _, body in seen["pylvs"]] == [b"", b"", b"s1 /x"]
