"""The sticking hook: a backend's `stick` rules compiled from haproxy.cfg and run by
proto/stick with the rules engine's evaluator (conditions, HTTP keys, store-response on the
response)."""

from __future__ import annotations

from pylvs.proto.rules import http_flow
from pylvs.proto.rules.sticking import Sticking
from pylvs.proto.sample import HttpMessage
from pylvs.proto.stick import process_sticking_rules, process_store_rules
from pylvs.sched.haproxy import Pool, Server
from tests.unit.proto.rules.rules_helpers import compiled, stream

CFG = """frontend fe
  bind :8080
  default_backend be
backend be
  stick-table type string len 16 size 100 store server_id
  stick on req.cook(sid) if { path_beg /app }
  stick store-response res.hdr(x-user) table be
  server s1 127.0.0.1:9
  server s2 127.0.0.1:10
"""


class Servers:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def server(self, name: str) -> Server | None:
        return self.pool.server(name)

    def server_by_id(self, puid: int) -> Server | None:
        return self.pool.server_by_id(puid)

    def server_by_addr(self, addr: str) -> Server | None:
        return None

    def address(self, server: Server) -> str:
        return "127.0.0.1:9"


def test_stick_on_a_cookie_pins_the_second_request_to_the_first_server() -> None:
    r = compiled(CFG)
    sticking = Sticking.of(r.proxies["be"].stick, r.tables)
    assert len(sticking.request_rules) == 1 and len(sticking.response_rules) == 1
    pool = Pool([Server("s1"), Server("s2")])
    servers = Servers(pool)
    raw = b"GET /app HTTP/1.1\r\nCookie: sid=abc\r\n\r\n"
    t = stream(r, "fe", raw)
    http_flow.request(t, r.proxies)
    first = process_sticking_rules(sticking.request_rules, sticking.evaluate(t.stream), servers, 0)
    assert first.server is None and len(first.stores) == 1
    t.stream.response = HttpMessage.make_response(200, b"OK", [(b"x-user", b"bob")])
    process_store_rules(
        first,
        pool.servers[1],
        servers,
        0,
        response_rules=sticking.response_rules,
        evaluate=sticking.evaluate(t.stream),
    )
    table = r.tables["be"]
    assert {e.key.rstrip(b"\0") for e in table.entries(0)} == {b"abc", b"bob"}
    again = stream(r, "fe", raw)
    http_flow.request(again, r.proxies)
    got = process_sticking_rules(
        sticking.request_rules, sticking.evaluate(again.stream), servers, 1
    )
    assert got.server is pool.servers[1]
    # the condition: another path neither matches nor stores
    other = stream(r, "fe", b"GET /else HTTP/1.1\r\nCookie: sid=abc\r\n\r\n")
    http_flow.request(other, r.proxies)
    miss = process_sticking_rules(
        sticking.request_rules, sticking.evaluate(other.stream), servers, 1
    )
    assert miss.server is None and not miss.stores
