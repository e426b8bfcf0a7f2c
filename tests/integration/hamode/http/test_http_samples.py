"""Samples a client sees in `mode http` under `pylvs run` and the real `haproxy -db` (same
haproxy.cfg): the global section's `set-var`, a `proc.` variable that exists from the start
(`set-var(...,ifexists)`), `srv_id` / `srv_name` in the response rules, `req.len` as HAProxy
computes it for an HTTP request (its HTX size).  The response heads must be the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.http.test_http_proxying import HEAD, both

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

CONFIG = """\
frontend fe
    bind 127.0.0.1:{port}
    http-request set-var(proc.seen,ifexists) req.len
    http-request set-var(sess.never,ifexists) str(x)
    http-response set-header x-srv "%[srv_id] %[srv_name]"
    http-response set-header x-vars "%[var(proc.int5)] %[var(proc.seen)] <%[var(sess.never)]>"
    default_backend be
backend be
    server one 127.0.0.1:{s1}
    server two 127.0.0.1:{s2}
"""
GLOBAL = "    set-var proc.int12 int(12)\n    set-var proc.int5 int(60),div(proc.int12)\n"


def test_variables_and_server_fetches_in_responses(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        head = HEAD.replace("global\n", "global\n" + GLOBAL)
        text = head + CONFIG.format(port=port, s1=servers["s1"].port, s2=servers["s2"].port)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        got = []
        for path in ("/a", "/bb"):
            c.send(b"GET %s HTTP/1.1\r\nHost: x\r\nX-Pad: 123\r\n\r\n" % path.encode())
            head_bytes, _ = c.response(b"GET")
            got.append([line for line in head_bytes.split(b"\r\n") if line.startswith(b"x-")])
        c.close()
        return got

    seen = both(proxy, {"s1": "name", "s2": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    # HTX size: 20 + len("GET/aHTTP/1.1") + "hostx" + "x-pad123" + 1
    assert seen["pylvs"] == [
        [b"x-srv: 1 one", b"x-vars: 5 47 <>"],
        [b"x-srv: 2 two", b"x-vars: 5 48 <>"],
    ]
