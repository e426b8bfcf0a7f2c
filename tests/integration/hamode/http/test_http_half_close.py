"""A client that sends pipelined requests and shuts its side at once (`printf ... | nc`):
pylvs answers every request it read, refuses what is left of a truncated one with HAProxy's
400, then closes.  haproxy 2.6.12 does so too when the shutdown reaches it after it parsed
the next request, and otherwise stops after the first answer (measured here: either, from
one run to the next); its answers are always the first ones of pylvs's, in order."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy
from tests.integration.hamode.http.http_helpers import HttpServer
from tests.integration.hamode.http.test_http_proxying import both, listen

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

REQUESTS = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize("rest", [b"", b"GET /c HTTP/1.1\r\nHo"], ids=["whole", "truncated"])
def test_pipelined_requests_then_a_shutdown_are_all_answered(
    proxy: Callable[..., Proxy], rest: bytes
) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(REQUESTS + rest)
            s.shutdown(socket.SHUT_WR)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return re.findall(rb"HTTP/1\.1 \d{3} [^\r]*", out)

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["haproxy"] and seen["pylvs"][: len(seen["haproxy"])] == seen["haproxy"]
    expected = [b"HTTP/1.1 200 OK"] * 2 + ([b"HTTP/1.1 400 Bad request"] if rest else [])
    assert seen["pylvs"] == expected
