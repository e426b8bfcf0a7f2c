"""The TCP rule phases: connection and session rules on the client's addresses, content
rules with the inspect delay (waiting while data may still come, rules run again from the
first, the final pass once the delay ends), response content rules, tracking on the
session versus the stream, a stream switched to HTTP (switch-mode, an HTTP backend)."""

from __future__ import annotations

import ipaddress

from pylvs.config.haproxy.compile_rules import CompiledRules
from pylvs.proto.rules import tcp_flow
from pylvs.proto.rules.commands import CloseResponse, ExpectProxy
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, Go, Upgrade, Wait
from pylvs.proto.sample import Process, Session, Stream
from tests.unit.proto.rules.rules_helpers import compiled, parse_request

HEAD = "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n"


def tcp(*lines: str, backend: str = "") -> str:
    body = "".join(f"  {line}\n" for line in lines)
    be = backend or "backend bt\n  server s1 127.0.0.1:9\n"
    return f"frontend ft\n  bind :9000\n{body}  default_backend bt\n{be}"


def txn(
    rules: CompiledRules, src: str = "127.0.0.1", now: float = 0.0, payload: bytes = b""
) -> Txn:
    process = Process()
    process.tables = rules.tables
    sess = Session(process, rules.proxies["ft"].ref, src=ipaddress.ip_address(src), src_port=1234)
    s = Stream(sess, now=now)
    s.req_payload = payload
    return Txn(s)


def test_connection_rules_accept_reject_and_stop_at_accept() -> None:
    r = compiled(
        tcp(
            "tcp-request connection accept if { src 10.1.0.0/16 }",
            "tcp-request connection reject if { src 10.0.0.0/8 }",
            "tcp-request connection expect-proxy layer4 if { src 192.168.0.0/16 }",
        ),
        head=HEAD,
    )
    ft = r.proxies["ft"]
    assert tcp_flow.connection(txn(r, "10.1.2.3"), ft) == Go()
    assert tcp_flow.connection(txn(r, "10.2.2.3"), ft) == Drop()
    t = txn(r, "192.168.1.1")
    assert tcp_flow.connection(t, ft) == Go()
    assert t.commands == [ExpectProxy()]


def test_session_rules_run_like_connection_rules() -> None:
    r = compiled(tcp("tcp-request session reject if { src 10.0.0.0/8 }"), head=HEAD)
    assert tcp_flow.session(txn(r, "10.0.0.1"), r.proxies["ft"]) == Drop()
    assert tcp_flow.session(txn(r, "11.0.0.1"), r.proxies["ft"]) == Go()


def test_content_waits_for_data_until_the_inspect_delay_then_decides() -> None:
    r = compiled(
        tcp(
            "tcp-request inspect-delay 2s",
            "tcp-request content set-var(sess.runs) var(sess.runs,0),add(1)",
            "tcp-request content accept if { req.payload(0,4) -m bin 47455420 }",
            "tcp-request content reject",
        ),
        head=HEAD,
    )
    ft = r.proxies["ft"]
    t = txn(r, now=10.0, payload=b"GE")
    assert tcp_flow.content(t, ft, final=False) == Wait(12.0)
    t.stream.req_payload = b"GET /"
    t.stream.now = 10.5
    assert tcp_flow.content(t, ft, final=False) == Go()
    runs = t.stream.sess.vars.get("runs")
    assert runs is not None and runs.num == 2  # the first rule ran again on the second call
    # once the delay is over, a payload that never matched falls through to reject
    t = txn(r, now=10.0, payload=b"XX")
    assert isinstance(tcp_flow.content(t, ft, final=False), Wait)
    t.stream.now = 12.0
    assert tcp_flow.content(t, ft, final=False) == Drop()


def test_without_inspect_delay_every_call_is_final() -> None:
    r = compiled(
        tcp(
            "tcp-request content accept if { req.payload(0,4) -m bin 47455420 }",
            "tcp-request content reject",
        ),
        head=HEAD,
    )
    assert tcp_flow.content(txn(r, payload=b"GE"), r.proxies["ft"], final=False) == Drop()


def test_req_len_acl_misses_while_data_may_come() -> None:
    r = compiled(
        tcp(
            "tcp-request inspect-delay 1s",
            "tcp-request content accept if { req.len ge 3 }",
            "tcp-request content reject",
        ),
        head=HEAD,
    )
    t = txn(r, payload=b"ab")
    assert isinstance(tcp_flow.content(t, r.proxies["ft"], final=False), Wait)
    t.stream.req_payload = b"abcd"
    assert tcp_flow.content(t, r.proxies["ft"], final=False) == Go()


def test_connection_tracking_is_the_sessions_and_content_tracking_the_streams() -> None:
    backend = "backend bt\n  stick-table type ip size 10 store conn_cnt,conn_cur,gpc0\n"
    backend += "  server s1 127.0.0.1:9\n"
    r = compiled(
        tcp(
            "tcp-request connection track-sc0 src table bt",
            "tcp-request connection sc-inc-gpc0(0)",
            "tcp-request content track-sc1 src table bt",
            backend=backend,
        ),
        head=HEAD,
    )
    t = txn(r, "10.0.0.9")
    ft = r.proxies["ft"]
    assert tcp_flow.connection(t, ft) == Go()
    t.stream.sc = list(t.stream.sess.sc)  # a stream starts with the session's counters
    assert tcp_flow.content(t, ft, final=True) == Go()
    sess_sc, stream_sc = t.stream.sess.sc, t.stream.sc
    assert sess_sc[0] is not None and sess_sc[1] is None
    assert stream_sc[1] is not None and stream_sc[1].entry is sess_sc[0].entry
    entry = sess_sc[0].entry
    assert entry.get("conn_cnt") == 2  # each tracking starts the counters
    assert entry.get("conn_cur") == 2
    assert entry.get("gpc0") == 1


def test_response_content_close_and_reject() -> None:
    backend = (
        "backend bt\n  tcp-response inspect-delay 1s\n"
        "  tcp-response content close if { res.payload(0,1) -m bin 43 }\n"
        "  tcp-response content reject if { res.payload(0,1) -m bin 52 }\n"
        "  server s1 127.0.0.1:9\n"
    )
    r = compiled(tcp(backend=backend), head=HEAD)
    bt = r.proxies["bt"]
    t = txn(r)
    t.stream.res_payload = b"C"
    assert tcp_flow.content(t, bt, final=False, response=True) == Go()
    assert t.commands == [CloseResponse()]
    t = txn(r)
    t.stream.res_payload = b"R"
    assert tcp_flow.content(t, bt, final=False, response=True) == Drop()
    t = txn(r)
    assert isinstance(tcp_flow.content(t, bt, final=False, response=True), Wait)


def test_a_stream_routes_through_content_switching_backend_content_and_use_server() -> None:
    backend = (
        "backend bt\n  server s1 127.0.0.1:9\n  server s2 127.0.0.1:10\n"
        "  use-server s2 if { req.payload(0,1) -m str b }\n"
        "backend b2\n  tcp-request inspect-delay 1s\n"
        "  tcp-request content accept if { req.len ge 2 }\n  tcp-request content reject\n"
        "  server x 127.0.0.1:11\n"
    )
    r = compiled(
        tcp(
            "tcp-request inspect-delay 2s",
            "tcp-request content accept if { req.len ge 1 }",
            "use_backend b2 if { req.payload(0,1) -m str 2 }",
            backend=backend,
        ),
        head=HEAD,
    )
    t = txn(r, now=1.0, payload=b"")
    assert tcp_flow.request(t, r.proxies, final=False) == Wait(3.0)
    t.stream.req_payload = b"b"
    assert tcp_flow.request(t, r.proxies, final=False) == Go("bt", "s2")
    assert t.stream.backend is not None and t.stream.backend.name == "bt"
    # a server use-server may not take is passed over, as a down one
    t = txn(r, payload=b"b")
    assert tcp_flow.request(t, r.proxies, final=True, usable=lambda b, s: False) == Go("bt")
    # the backend's own content rules and inspect delay, after switching
    t = txn(r, now=5.0, payload=b"2")
    assert tcp_flow.request(t, r.proxies, final=False) == Wait(6.0)
    t.stream.now = 6.0
    assert tcp_flow.request(t, r.proxies, final=False) == Drop()
    t = txn(r, now=5.0, payload=b"22")
    assert tcp_flow.request(t, r.proxies, final=False) == Go("b2")


def test_a_dynamic_name_that_names_no_backend_ends_the_switching_rules() -> None:
    """stream.c process_switching_rules breaks out of the loop when a `%[...]` name finds no
    backend (proxy_be_by_name): the stream goes to default_backend, not to the next rule.
    haproxy 2.6.12 on this frontend: "b2" reaches b2, "zz" and "ft" (a frontend) reach bt."""
    r = compiled(
        tcp(
            "tcp-request inspect-delay 1s",
            "tcp-request content accept if { req.len ge 2 }",
            "use_backend %[req.payload(0,2)]",
            "use_backend b2",
            backend="backend bt\n  server s1 127.0.0.1:9\nbackend b2\n  server s2 127.0.0.1:10\n",
        ),
        head=HEAD,
    )
    for payload, backend in ((b"b2", "b2"), (b"zz", "bt"), (b"ft", "bt")):
        t = txn(r, payload=payload)
        assert tcp_flow.request(t, r.proxies, final=True) == Go(backend), payload


def test_switch_mode_ends_the_raw_phase_with_the_mux_asked() -> None:
    """`switch-mode http if HTTP` (tcp_action_switch_stream_mode): while the head is not
    whole the HTTP ACL may still match (the rules wait); once it is, the stream becomes an
    HTTP one (`Upgrade`) with its variables set so far, and the HTTP phases take over at
    the monitor stage; bytes that are no HTTP go on to the switching rules as TCP."""
    r = compiled(
        tcp(
            "tcp-request inspect-delay 2s",
            "tcp-request content set-var(txn.seen) str(raw)",
            "tcp-request content switch-mode http proto h1 if HTTP",
            "tcp-request content accept",
        ),
        head=HEAD,
    )
    t = txn(r, now=1.0, payload=b"GET / HTTP/1.1\r\nHost: a")
    assert tcp_flow.request(t, r.proxies, final=False) == Wait(3.0)
    t.stream.req_payload += b"\r\n\r\n"
    assert tcp_flow.request(t, r.proxies, final=False) == Upgrade("h1")
    assert t.stage == "monitor" and t.switch_mode == "h1"
    var = t.stream.vars["txn"].get("seen")
    assert var is not None and var.value == b"raw"
    t = txn(r, now=1.0, payload=b"\x16\x03\x01\x00")  # a TLS hello is no HTTP head
    assert tcp_flow.request(t, r.proxies, final=False) == Go("bt")
    assert t.switch_mode is None


def test_an_http_stream_runs_switch_mode_as_a_mere_stop() -> None:
    """A later request of a switched connection runs the content rules again on an HTTP
    stream: switch-mode stops the set (the `reject` after it is never reached) and asks
    for nothing."""
    r = compiled(
        tcp("tcp-request content switch-mode http", "tcp-request content reject"), head=HEAD
    )
    t = txn(r)
    t.stream.request = parse_request(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert tcp_flow.content(t, r.proxies["ft"], final=True) == Go()
    assert t.switch_mode is None


def test_a_stream_switched_to_an_http_backend_is_upgraded() -> None:
    """stream_set_backend: a tcp stream the switching rules send to a mode http backend
    becomes HTTP with that backend (the HTTP phases skip the switching rules)."""
    backend = "backend bt\n  mode http\n  server s1 127.0.0.1:9\n"
    r = compiled(tcp("tcp-request content accept", backend=backend), head=HEAD)
    t = txn(r, payload=b"GET / HTTP/1.0\r\n\r\n")
    assert tcp_flow.request(t, r.proxies, final=True) == Upgrade("")
    assert t.backend == "bt" and t.stage == "monitor"
