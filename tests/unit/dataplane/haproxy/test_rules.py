"""The runtime's side of the rules engine, without sockets: the carrier's rules and tables
in the runtime, the one Process of its streams, the live counters fetches read, and the
request phase run the way docs/haproxy-mode.md tells the HTTP driver to run it."""

from __future__ import annotations

import ipaddress

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.dataplane.haproxy.rules import compiled, stream_for
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.model.proxy_spec import ConnFacts, ProxiesSpec
from pylvs.proto.rules import http_flow, tcp_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, Go, Respond
from pylvs.proto.sample import HttpMessage, Session, Stream

ip = ipaddress.ip_address

TEXT = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:8080
    tcp-request connection reject if { src 10.0.0.0/8 }
    default_backend be
backend be
    stick-table type ip size 10 expire 30s store conn_cur
    stick on src
    server s1 127.0.0.1:80 maxconn 2 maxqueue 3
    server s2 127.0.0.1:81 maxconn 1 maxqueue 1
frontend web
    mode http
    bind 127.0.0.1:8081
    use_backend api if { path_beg /api }
    default_backend api2
backend api2
    mode http
    server b1 127.0.0.1:91
backend api
    mode http
    http-request deny if { hdr(x-block) -m found }
    server a1 127.0.0.1:90
"""


def runtime(text: str = TEXT, now: float = 50.0) -> ProxyRuntime:
    result = load_text(text, "r.cfg", env={})
    spec = to_spec(result.config, result.problems).proxies
    assert not result.problems.has_errors(), [str(p) for p in result.problems]
    return ProxyRuntime(spec, clock=lambda: now, raise_nofile=False)


def test_the_runtime_holds_the_carriers_rules_and_tables() -> None:
    rt = runtime()
    assert rt.rules is compiled(rt.spec)
    fe = rt.proxy_rules("fe")
    assert fe is not None and [r.name for r in fe.tcp_connection] == ["reject"]
    assert rt.proxy_rules("web") is not None and rt.proxy_rules("nope") is None
    assert rt.tables["be"] is rt.rules.tables["be"]  # one table: rules, stick, show table
    sticking = rt.backends["be"].sticking
    assert sticking is not None and sticking.request_rules[0].table is rt.tables["be"]
    assert rt.process.tables is rt.tables
    assert rt.process.pid > 0 and rt.process.hostname


def test_a_spec_without_a_carrier_gets_empty_rules() -> None:
    rt = ProxyRuntime(ProxiesSpec(), raise_nofile=False)
    assert rt.rules.proxies == {} and rt.proxy_rules("fe") is None


def session(rt: ProxyRuntime, frontend: str, src: str = "127.0.0.1") -> Session:
    fe = rt.proxy_rules(frontend)
    assert fe is not None
    return Session(rt.process, fe.ref, src=ip(src), src_port=4000, dst=ip("127.0.0.1"),
                   dst_port=8080)  # fmt: skip


def test_the_connection_phase_runs_on_the_runtimes_rules() -> None:
    rt = runtime()
    fe = rt.proxy_rules("fe")
    assert fe is not None
    for src, verdict in (("10.1.2.3", Drop()), ("192.0.2.1", Go())):
        txn = Txn(Stream(session(rt, "fe", src), now=rt.ctx.clock()))
        assert tcp_flow.connection(txn, fe) == verdict


def test_the_request_phase_as_the_http_driver_runs_it() -> None:
    rt = runtime()

    def request(path: bytes, *fields: tuple[bytes, bytes]) -> object:
        msg = HttpMessage.make_request(b"GET", path, [(b"host", b"h"), *fields], b"HTTP/1.1")
        txn = Txn(Stream(session(rt, "web"), now=rt.ctx.clock(), request=msg))
        return http_flow.request(txn, rt.rules.proxies)

    assert request(b"/api/x") == Go("api")
    assert request(b"/other") == Go("api2")
    denied = request(b"/api/x", (b"x-block", b"1"))
    assert isinstance(denied, Respond)
    assert denied.response.head.status == 403


def test_live_counters_come_from_the_running_backends() -> None:
    rt = runtime()
    live = rt.process.live
    assert live is not None
    be = rt.backends["be"]
    s1 = be.servers[0].lb
    be.enter()
    be.take(s1)
    assert live.backend_conn("be") == 1 and live.server_conn("be", "s1") == 1
    assert live.backend_servers_up("be") == 2
    assert live.backend_free_slots("be") == (2 - 1 + 3) + (1 + 1)  # connslots
    assert live.server_sess_rate("be", "s1") == 1 and live.backend_sess_rate("be") == 1
    assert live.server_weight("be", "s2") == 1 and live.server_up("be", "s2") is True
    rt.set_server_up("be", "s2", False)
    assert live.backend_servers_up("be") == 1 and live.server_up("be", "s2") is False
    assert live.backend_conn("nope") is None and live.server_conn("be", "nope") is None
    assert live.frontend_conn("fe") == 0 and live.frontend_sess_rate("fe") == 0
    assert live.backend_free_slots("api") == -1  # a server without maxconn: unlimited


def test_stick_on_src_sends_a_client_back_to_its_server() -> None:
    rt = runtime()
    fe, be = rt.frontends["fe"], rt.backends["be"]
    table = rt.tables["be"]
    assert table.spec.stores("server_id") and be.sticking is not None

    def stream(src: str) -> Stream:
        return stream_for(fe, ConnFacts(ip(src), 1000, ip("127.0.0.1"), 8080), be, 1.0)

    first_stream = stream("10.0.0.1")
    first = be.stick(first_stream, 1.0, None)
    assert first is not None and first.server is None and len(first.stores) == 1
    picked = be.pool.server("s2")
    assert picked is not None
    be.store(first, first_stream, picked, 1.0)
    again = be.stick(stream("10.0.0.1"), 2.0, None)
    assert again is not None and again.server is picked
    other = be.stick(stream("10.0.0.2"), 2.0, None)
    assert other is not None and other.server is None
    s1 = be.pool.server("s1")
    assigned = be.stick(stream("10.0.0.1"), 2.0, s1)  # use-server's choice wins
    assert assigned is not None and assigned.server is s1


def test_force_persist_keeps_a_stuck_client_on_its_down_server() -> None:
    """stream.c: the first `force-persist` / `ignore-persist` rule whose condition holds
    sets SF_FORCE_PRST / SF_IGNORE_PRST; a stick match then takes its server even when it
    is down (process_sticking_rules), as `option persist` would for every stream."""
    text = TEXT.replace(
        "    stick on src\n",
        "    stick on src\n    ignore-persist if { src 10.0.0.3 }\n"
        "    force-persist if { src 10.0.0.1 10.0.0.3 }\n",
    )
    rt = runtime(text)
    fe, be = rt.frontends["fe"], rt.backends["be"]

    def stream(src: str) -> Stream:
        return stream_for(fe, ConnFacts(ip(src), 1000, ip("127.0.0.1"), 8080), be, 1.0)

    s2 = be.pool.server("s2")
    assert s2 is not None
    for src in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        first = be.stick(stream(src), 1.0, None)
        assert first is not None
        be.store(first, stream(src), s2, 1.0)
    rt.set_server_up("be", "s2", False)
    assert be.persistence(stream("10.0.0.1")) == (True, False)
    assert be.persistence(stream("10.0.0.3")) == (False, True)  # the first rule that holds
    assert be.persistence(stream("10.0.0.2")) == (False, False)
    forced = be.stick(stream("10.0.0.1"), 2.0, None)
    assert forced is not None and forced.server is s2
    for src in ("10.0.0.2", "10.0.0.3"):  # balanced: s2 is down
        balanced = be.stick(stream(src), 2.0, None)
        assert balanced is not None and balanced.server is None


BACKUPS = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
listen be
    bind 127.0.0.1:8080
    server s1 127.0.0.1:80 maxconn 2 maxqueue 3
    server s2 127.0.0.1:81 maxconn 1 maxqueue 1 weight 0
    server s3 127.0.0.1:82 maxconn 4 maxqueue 4 disabled
    server b1 127.0.0.1:83 maxconn 5 maxqueue 5 backup
"""


def test_backend_fetches_count_as_haproxy_does() -> None:
    """backend.c as haproxy 2.6.12 answers (`nbsrv`, `srv_is_up`, `connslots`, `queue` over
    `http-request return`, a server drained from the stats socket as `weight 0` here): nbsrv
    counts the active servers load balancing may pick, else 1 for the backup in use; a
    server of weight 0 is up and its slots count, one in maintenance is neither; backups'
    slots count; `queue` is the backend's and its servers' queues together."""
    rt = runtime(BACKUPS)
    live = rt.process.live
    assert live is not None
    assert live.backend_servers_up("be") == 1  # s1: not s2 (weight 0), s3, nor the backup
    assert [live.server_up("be", s) for s in ("s1", "s2", "s3", "b1")] == [True, True, False, True]
    assert live.backend_free_slots("be") == (2 + 3) + (1 + 1) + (5 + 5)
    rt.set_server_up("be", "s1", False)
    assert live.backend_servers_up("be") == 1  # the first backup
    assert live.server_up("be", "s1") is False
    assert live.backend_free_slots("be") == (1 + 1) + (5 + 5)
    be = rt.backends["be"]
    be.pool.lb.queued = 1
    be.servers[3].lb.queued = 2
    assert live.backend_queue("be") == 3
