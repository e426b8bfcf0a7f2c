"""Keep-alive, server-close and httpclose exchanges end to end through the connection machines,
compared with what the real HAProxy 2.6.12 did (tests/data/http/modes.json): the bytes the
client got, the bytes the server got, how many server connections were used and closed,
whether the client was closed.
"""

from __future__ import annotations

import pytest

from pylvs.proto.http.conn.client import Front
from pylvs.proto.http.conn.server import Back
from pylvs.proto.http.connmode import Mode
from tests.unit.proto.http.http_corpus import load, raw
from tests.unit.proto.http.http_link import Link

MODES = {
    "http-keep-alive (default)": Mode.KEEP_ALIVE,
    "http-server-close": Mode.SERVER_CLOSE,
    "httpclose": Mode.CLOSE,
}
CASES = load("modes.json")


@pytest.mark.parametrize("case", CASES, ids=[f"{c['mode']}-{c['name']}" for c in CASES])
def test_exchange_matches_haproxy(case: dict[str, object]) -> None:
    mode = MODES[str(case["mode"])]  # `option` in defaults: frontend and backend alike
    link = Link(front=Front(mode=mode), back=Back(mode=mode))
    reply = raw(str(case["reply"]))
    for request in case["requests"]:  # type: ignore[attr-defined]
        if link.client_closed:
            break
        link.client_sends(raw(request))
        link.server_sends(reply)
        link.advance(0.1)
    assert link.client_got == raw(str(case["got"]))
    assert link.forwarded == raw(str(case["forwarded"]))
    assert link.client_closed == case["closed"]
    assert len(link.conns) == case["server_connections"]
    assert sum(c.closed for c in link.conns.values()) == case["server_closed"]
