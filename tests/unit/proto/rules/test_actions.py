"""Actions one by one: header edits and their HTX rules, start-line rewrites, exp_replace,
stick counters from HTTP rules, variables, captures, pattern files, addresses, and the
compile errors for what pylvs cannot do."""

from __future__ import annotations

import ipaddress
import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.config.haproxy.compile_rules import compile_config
from pylvs.config.haproxy.reader import load_text
from pylvs.proto.rules import http_flow, tcp_flow
from pylvs.proto.rules.http_edit import exp_replace, replace_path, replace_query, value_spans
from pylvs.proto.rules.ruleset import Go
from pylvs.proto.sample import HttpMessage, Stream
from tests.unit.proto.rules.rules_helpers import compiled, stream

GET = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"


def fe(*lines: str, extra: str = "") -> str:
    body = "".join(f"  {line}\n" for line in lines)
    return f"frontend fe\n  bind :8080\n{body}  default_backend be\n{extra}"


BE = "backend be\n  server s1 127.0.0.1:9\n"


def test_exp_replace_groups_hex_escapes_and_a_trailing_backslash() -> None:
    m = re.search(rb"(a+)(b)?(c)", b"xaacz")
    assert m is not None
    assert exp_replace(rb"<\1|\2|\3|\0>", m) == b"<aa||c|aac>"
    assert exp_replace(rb"\x41\x7a\q", m) == b"Azq"
    assert exp_replace(b"end\\", m) is None


@given(st.lists(st.text(alphabet='ab ,\t"', max_size=6), max_size=5))
def test_value_spans_cover_the_field_between_commas(parts: list[str]) -> None:
    value = ",".join(parts).encode()
    spans = value_spans(value)
    # consecutive spans are separated by exactly one comma and cover the whole value
    assert spans[0][0] == 0 and spans[-1][1] == len(value)
    for (_, end, _, _), (start, _, _, _) in itertools.pairwise(spans):
        assert value[end : end + 1] == b"," and start == end + 1
    for start, end, vstart, vend in spans:
        assert start <= vstart <= vend <= end
        assert value[start:vstart].strip(b" \t") == b""
        assert value[vend:end].strip(b" \t") == b""


def test_replace_path_and_query_keep_the_rest_of_the_target() -> None:
    assert replace_path(b"http://h:1/a/b?q=1", b"/n", False) == b"http://h:1/n?q=1"
    assert replace_path(b"/a?q", b"/z?y", True) == b"/z?y"
    assert replace_query(b"/a", b"?") == b"/a"
    assert replace_query(b"/a?", b"?x") == b"/a?x"


def test_set_uri_with_an_absolute_target_updates_host() -> None:
    r = compiled(fe("http-request set-uri http://new.example:81/p", extra=BE))
    t = stream(r, "fe", GET)
    assert isinstance(http_flow.request(t, r.proxies), Go)
    req = t.stream.request
    assert req is not None and req.uri == b"http://new.example:81/p"
    assert req.first(b"host") == b"new.example:81"


def test_set_uri_updates_every_host_field_where_it_stands() -> None:
    """http_update_host replaces each Host value in place (http_replace_header_value): the
    field keeps its position, a second one is rewritten too, none is added (found by
    tests/integration/hamode/diff: pylvs moved Host after the other fields)."""
    r = compiled(fe("http-request set-uri http://u@n.example/p", extra=BE))
    t = stream(r, "fe", b"GET /x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nhost: h2\r\nX-B: 2\r\n\r\n")
    assert isinstance(http_flow.request(t, r.proxies), Go)
    req = t.stream.request
    assert req is not None
    assert [n for n, _ in req.fields] == [b"host", b"x-a", b"host", b"x-b"]
    assert req.values(b"host") == [b"n.example", b"n.example"]
    t = stream(r, "fe", b"GET /x HTTP/1.1\r\nX-A: 1\r\n\r\n")
    assert isinstance(http_flow.request(t, r.proxies), Go)
    assert t.stream.request is not None and t.stream.request.first(b"host") is None


def test_http_tracking_counts_requests_and_response_errors() -> None:
    table = (
        "backend st\n  stick-table type ip size 10 store http_req_cnt,http_err_cnt,http_fail_cnt\n"
    )
    r = compiled(
        fe(
            "http-request track-sc0 src table st",
            "http-response track-sc1 src table st",
            extra=BE + table,
        )
    )
    t = stream(r, "fe", GET)
    assert isinstance(http_flow.request(t, r.proxies), Go)
    t.stream.response = HttpMessage.make_response(404, b"Not Found", [])
    t.status = 404
    http_flow.response(t, r.proxies)
    entry = r.tables["st"].lookup(ipaddress.ip_address("127.0.0.1").packed, 0.0)
    assert entry is not None
    assert entry.get("http_req_cnt") == 2
    assert entry.get("http_err_cnt") == 1
    assert entry.get("http_fail_cnt") == 0


def test_track_keeps_the_first_entry_per_counter() -> None:
    table = "backend st\n  stick-table type string len 8 size 10 store gpc0\n"
    r = compiled(
        fe(
            "http-request track-sc0 str(one) table st",
            "http-request track-sc0 str(two) table st",
            "http-request sc-inc-gpc0(0)",
            "http-request sc-inc-gpc(0,0)",
            extra=BE + table,
        )
    )
    t = stream(r, "fe", GET)
    http_flow.request(t, r.proxies)
    sc = t.stream.sc[0]
    assert sc is not None and sc.entry.key.rstrip(b"\0") == b"one"
    assert sc.entry.get("gpc0") == 2
    assert r.tables["st"].lookup(b"two", 0.0) is None


def test_set_var_conditions_capture_slots_and_add_acl() -> None:
    r = compiled(
        fe(
            "capture request header Host len 3",
            "http-request set-var(txn.a,ifnotexists) str(first)",
            "http-request set-var(txn.a,ifnotexists) str(second)",
            "http-request capture path len 2",
            "http-request add-acl(/blocked.lst) %[path]",
            "http-request set-header X-Listed 1 if { path -f /blocked.lst }",
            "http-request add-acl(/unused.lst) %[path]",
            extra=BE,
        ),
        files={"/blocked.lst": b"/other\n"},
    )
    t = stream(r, "fe", GET)
    http_flow.request(t, r.proxies)
    a = t.stream.vars["txn"].get("a")
    assert a is not None and a.text == b"first"
    assert t.stream.captures.request[1:] == [b"/x"]
    req = t.stream.request
    assert req is not None and req.first(b"x-listed") == b"1"


def test_http_set_src_and_dst_port_change_the_stream_only() -> None:
    """An HTTP rule's set-src is the stream's (sc_src): the session's and the connection's
    addresses stay, so the next request starts from them again."""
    r = compiled(
        fe(
            "http-request set-src req.hdr(x-real-ip)",
            "http-request set-dst-port int(4242)",
            extra=BE,
        )
    )
    t = stream(r, "fe", b"GET / HTTP/1.1\r\nX-Real-IP: 192.0.2.7\r\n\r\n")
    http_flow.request(t, r.proxies)
    assert t.stream.src == ipaddress.ip_address("192.0.2.7")
    assert t.stream.dst_port == 4242
    sess = t.stream.sess
    assert (sess.src, sess.dst_port) == (ipaddress.ip_address("127.0.0.1"), 8080)
    assert (sess.fc_src, sess.fc_dst_port) == (ipaddress.ip_address("127.0.0.1"), 8080)


def test_connection_and_session_set_src_are_their_levels() -> None:
    """tcp_action_req_set_src: a connection rule sets the connection's address (fc_src) and
    so the session's; a session rule only the session's."""
    r = compiled(
        fe(
            "tcp-request connection set-src ipv4(10.0.0.1)",
            "tcp-request session set-src ipv4(10.1.0.1)",
            "tcp-request session set-dst ipv4(10.1.0.2)",
            extra=BE,
        )
    )
    t = stream(r, "fe", GET)
    ft = r.proxies["fe"]
    assert tcp_flow.connection(t, ft) == Go()
    sess = t.stream.sess
    assert sess.fc_src == sess.src == ipaddress.ip_address("10.0.0.1")
    assert tcp_flow.session(t, ft) == Go()
    assert sess.fc_src == ipaddress.ip_address("10.0.0.1")
    assert sess.src == ipaddress.ip_address("10.1.0.1")
    assert (sess.fc_dst, sess.dst) == tuple(map(ipaddress.ip_address, ("127.0.0.1", "10.1.0.2")))
    later = Stream(sess)  # a stream starts from the session's addresses
    assert (later.src, later.dst_port) == (ipaddress.ip_address("10.1.0.1"), 8080)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("http-request use-service nosuch", "'nosuch' unknown service name"),
        ("http-request set-header X %Tq", "does not support the log-format variable '%Tq'"),
        ("http-request track-sc0 src table nosuch", "unable to find table 'nosuch'"),
    ],
)
def test_what_pylvs_cannot_do_is_an_error_at_the_rule(line: str, message: str) -> None:
    """The reader took these lines (haproxy -c does too); compiling names them."""
    text = "defaults\n  mode http\n" + fe(line, extra=BE)
    result = load_text(text, "t.cfg")
    out = compile_config(result.config)
    errors = [(loc.line, text) for loc, text in out.errors]
    assert errors, result.problems.errors
    assert errors[0][0] == 5
    assert message in errors[0][1]


@pytest.mark.parametrize(
    ("proxy", "line", "message"),
    [  # haproxy 2.6.12 -c's words (src/action.c cfg_parse_rule_set_timeout)
        ("listen", "set-timeout client 3s", "supports 'server'/'tunnel' (got 'client')"),
        ("listen", "set-timeout tunnel 0", "null value is not valid for a 'set-timeout tunnel'"),
        (
            "listen",
            "set-timeout server 3x",
            "unexpected character 'x' in rule 'set-timeout server'",
        ),
        ("frontend", "set-timeout server 1s", "proxy 'p' has no backend capability"),
    ],
)
def test_set_timeout_is_refused_as_haproxy_refuses_it(proxy: str, line: str, message: str) -> None:
    text = f"defaults\n  mode http\n{proxy} p\n  bind :80\n  http-request {line}\n"
    out = compile_config(load_text(text, "t.cfg").config)
    assert [(loc.line, message in m) for loc, m in out.errors] == [(5, True)]


def test_set_timeout_takes_a_time_or_a_sample_in_milliseconds() -> None:
    r = compiled(
        "listen p\n  bind :80\n  http-request set-timeout server int(3),mul(1000)\n"
        "  http-request set-timeout tunnel 2m\n  server s 127.0.0.1:9\n"
    )
    t = stream(r, "p", b"GET / HTTP/1.1\r\n\r\n")
    assert isinstance(http_flow.request(t, r.proxies), Go)
    assert t.stream.timeouts == {"server": 3000, "tunnel": 120000}


def test_global_log_format_options_apply_to_what_follows() -> None:
    """`%{+X}o` adds no text but sets +X for every later node (parse_logformat_var's
    defoptions): addresses and ports in hex (lf_ip, lf_port); `+E` backslashes `"\\]`."""
    r = compiled(
        fe(
            "http-request set-header x1 %ci:%cp/%{+X}o%ci:%cp:%{-X}cp",
            'http-request set-header x2 "%{+E}[req.hdr(q)]|%[req.hdr(q)]"',
            extra=BE,
        )
    )
    t = stream(r, "fe", b'GET / HTTP/1.1\r\nq: a"b\\c]\r\n\r\n')
    http_flow.request(t, r.proxies)
    request = t.stream.request
    assert request is not None
    assert request.full_values(b"x1") == [b"127.0.0.1:40000/7F000001:9C40:40000"]
    assert request.full_values(b"x2") == [b'a\\"b\\\\c\\]|a"b\\c]']


def test_request_line_variables_read_the_line_as_received() -> None:
    """%HM %HU %HP %HPO %HQ %HV read txn->uri, kept before the rules: a set-path or
    set-method does not show (haproxy 2.6.12 answers these very values); %HQ is nothing
    without a '?', %HPO the path of an absolute target."""
    fields = ["HM", "HU", "HP", "HPO", "HQ", "HV"]
    r = compiled(
        fe(
            "http-request set-path /rewritten",
            "http-request set-method POST",
            *(f'http-request set-header x-{f.lower()} "<%{f}>"' for f in fields),
            extra=BE,
        )
    )
    expected = {
        b"GET /orig?q=1 HTTP/1.1\r\n\r\n": ["GET", "/orig?q=1", "/orig", "/orig", "?q=1"],
        b"GET http://h/p/x HTTP/1.1\r\nHost: h\r\n\r\n": [
            "GET",
            "http://h/p/x",
            "http://h/p/x",
            "/p/x",
            "",
        ],
    }
    for raw, values in expected.items():
        t = stream(r, "fe", raw)
        http_flow.request(t, r.proxies)
        request = t.stream.request
        assert request is not None
        got = [request.full_values(f"x-{f.lower()}".encode()) for f in fields]
        assert got == [[f"<{v}>".encode()] for v in [*values, "HTTP/1.1"]]


def test_a_proxy_counts_its_capture_slots_declared_and_taken_by_rules() -> None:
    """nb_req_cap / nb_rsp_cap: `capture request header`, `declare capture` and each
    `http-request|response capture ... len N` take a slot; %hr/%hs write them all (found by
    tests/integration/hamode/diff: pylvs left out the slots of rules that had not run)."""
    r = compiled(
        fe(
            "capture request header Host len 20",
            "declare capture response len 4",
            "http-request capture req.hdr(x-a) len 5",
            "http-request capture path len 8 if { always_false }",
            "http-response capture res.hdr(x) len 3",
            extra=BE,
        )
    )
    assert r.proxies["fe"].capture_slots == (3, 2)
    assert compiled(fe(extra=BE)).proxies["fe"].capture_slots is None
