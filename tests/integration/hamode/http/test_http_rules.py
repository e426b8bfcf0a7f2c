"""`mode http` rules under `pylvs run` and the real `haproxy -db` (same haproxy.cfg): routing by
HTTP conditions, header edits both ways, deny/return/redirect, use-server, the after-response
rules on HAProxy's own answers.  What the clients get and the request heads the servers
receive must be the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.http.test_http_proxying import HEAD, both

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

RULES = """\
frontend fe
    bind 127.0.0.1:{port}
    acl api path_beg /api
    http-request deny deny_status 429 if {{ hdr(x-block) -m found }}
    http-request return status 200 content-type text/plain string "pong" if {{ path /ping }}
    http-request redirect location /new code 301 if {{ path /old }}
    http-request redirect prefix /v2 if {{ path_beg /v1 }}
    http-request set-header X-Fe fe-%[method]
    http-request del-header X-Secret
    http-response set-header X-Seen yes
    http-after-response set-header X-After 1
    use_backend api if api
    use_backend static if {{ hdr_dom(host) -i static.example }}
    default_backend web
backend api
    http-request replace-header User-Agent (.*) ua-\\1
    http-request set-path /internal%[path]
    http-response del-header X-Remove
    server a1 127.0.0.1:{a1}
backend static
    use-server st2 if {{ path_end .png }}
    server st1 127.0.0.1:{st1}
    server st2 127.0.0.1:{st2}
backend web
    server w1 127.0.0.1:{w1} disabled
"""

REQUESTS = [
    b"GET /api/items HTTP/1.1\r\nHost: a\r\nUser-Agent: curl\r\nX-Secret: s\r\n\r\n",
    b"GET /ping HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /old HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /v1/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /api/x HTTP/1.1\r\nHost: a\r\nX-Block: 1\r\n\r\n",
    b"GET /img.png HTTP/1.1\r\nHost: static.example\r\n\r\n",
    b"GET /page HTTP/1.1\r\nHost: STATIC.example\r\n\r\n",
    b"HEAD /api/h HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n",  # web: its only server disabled: 503
]


def test_routing_edits_and_answers(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        text = HEAD + RULES.format(
            port=port,
            a1=servers["a1"].port,
            st1=servers["st1"].port,
            st2=servers["st2"].port,
            w1=servers["w1"].port,
        )
        proxy(kind, text, ("127.0.0.1", port))
        got = []
        c = Client(port)
        for request in REQUESTS:
            if c.sock.fileno() < 0:
                c = Client(port)
            c.send(request)
            head, body = c.response(request.split(b" ")[0])
            got.append((head, body))
            if not head or b"connection: close" in head.lower():
                c.close()
                c = Client(port)
        c.close()
        return got, {n: s.heads for n, s in servers.items()}

    seen = both(proxy, {"a1": "name", "st1": "name", "st2": "name", "w1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"]
    responses, heads = seen["pylvs"]
    assert responses[0][1] == b"a1 /internal/api/items"
    assert responses[1][1] == b"pong" and responses[4][0].startswith(b"HTTP/1.1 429")
    assert responses[5][1] == b"st2 /img.png" and responses[6][1] == b"st1 /page"
    assert responses[8][0].startswith(b"HTTP/1.1 503") and b"x-after: 1" in responses[8][0]
    assert b"x-fe: fe-GET" in heads["a1"][0] and b"x-secret" not in heads["a1"][0].lower()
