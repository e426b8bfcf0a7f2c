"""Fetches on a request, with the values HAProxy 2.6's reg-tests expect (sample_fetches/*,
http-rules/h1_to_h1c.vtc, path_and_pathq.vtc) and the corner cases of http_fetch.c."""

from __future__ import annotations

import pytest

from pylvs.proto.sample.fetch_http_args import cookies, params
from pylvs.proto.sample.message import split_values
from tests.unit.proto.sample.sample_helpers import make_stream, run

HEADERS = [
    (b"hdr1", b"val1"),
    (b"hdr2", b"val2a"),
    (b"hdr2", b"val2b"),
    (b"hdr3", b"val3a, val3b"),
    (b"hdr4", b""),
    (b"Cookie", b"cook1=0; cook2=123; cook3=22"),
    (b"Host", b"www.example.org:8443"),
]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("req.hdr(hdr1)", b"val1"),
        ("req.hdr(hdr2)", b"val2b"),  # the last occurrence
        ("req.fhdr(hdr2)", b"val2b"),
        ("req.hdr(hdr3)", b"val3b"),
        ("req.fhdr(hdr3)", b"val3a, val3b"),
        ("req.hdr(hdr4)", b""),
        ("req.hdr(hdr5)", None),
        ("req.hdr(hdr3,1)", b"val3a"),
        ("req.hdr(hdr3,-2)", b"val3a"),
        ("req.hdr(hdr3,3)", None),
        ("req.hdr_cnt(hdr3)", b"2"),
        ("req.fhdr_cnt(hdr3)", b"1"),
        ("req.hdr_cnt(nothing)", b"0"),
        ("req.cook_cnt()", b"3"),
        ("req.cook_val()", b"0"),
        ("req.cook_val(cook2)", b"123"),
        ("req.cook(cook3)", b"22"),
        ("req.cook(nothing)", None),
        ("method", b"GET"),
        ("url", b"/path/to/file.extension?qs_arg=qs_value"),
        ("path", b"/path/to/file.extension"),
        ("pathq", b"/path/to/file.extension?qs_arg=qs_value"),
        ("query", b"qs_arg=qs_value"),
        ("url_param(qs_arg)", b"qs_value"),
        ("url_param(nothing)", None),
        ("base", b"www.example.org:8443/path/to/file.extension"),
        ("baseq", b"www.example.org:8443/path/to/file.extension?qs_arg=qs_value"),
        ("req.ver", b"1.1"),
        ("src", b"192.168.1.101"),
        ("src_port", b"1234"),
        ("dst", b"127.0.0.1"),
        ("dst_port", b"8080"),
        ("so_name", b"foo"),
        ("fe_name", b"fe"),
        ("fe_id", b"1"),
        ("be_name", None),
        ("srv_name", None),
        ("req.hdr_names", b"hdr1,hdr2,hdr2,hdr3,hdr4,cookie,host"),
        ("req.hdr_names(:)", b"hdr1:hdr2:hdr2:hdr3:hdr4:cookie:host"),
        ("http_first_req", b"1"),
        ("env(HOME)", None),
    ],
)
def test_request_fetches(expr: str, expected: bytes | None) -> None:
    s = make_stream(b"/path/to/file.extension?qs_arg=qs_value", HEADERS)
    assert run(expr, s) == expected


def test_absolute_form_target() -> None:
    # reg-tests/http-rules/path_and_pathq.vtc: the path of an absolute URI
    s = make_stream(b"http://127.0.0.1/req2?param1=val1&param2=val2")
    assert run("path", s) == b"/req2"
    assert run("pathq", s) == b"/req2?param1=val1&param2=val2"
    assert run("query", s) == b"param1=val1&param2=val2"
    assert run("url", s) == b"http://127.0.0.1/req2?param1=val1&param2=val2"
    assert run("url_ip", s) == b"127.0.0.1"
    assert run("url_port", s) == b"80"
    assert run("path", make_stream(b"http://host")) is None
    assert run("path", make_stream(b"*")) is None


def test_hdr_ip_reads_addresses_with_ports() -> None:
    s = make_stream(headers=[(b"x", b"10.0.0.1:80"), (b"y", b"::1"), (b"z", b"nope")])
    assert run("req.hdr_ip(x)", s) == b"10.0.0.1"
    assert run("req.hdr_ip(y)", s) == b"::1"
    assert run("req.hdr_ip(z)", s) is None


def test_values_are_split_at_commas_outside_quotes() -> None:
    assert split_values(b"a, b,c") == [b"a", b"b", b"c"]
    assert split_values(b'"a,b", c') == [b'"a,b"', b"c"]
    assert split_values(b"a,") == [b"a", b""]
    assert split_values(b"") == [b""]


def test_url_parameters() -> None:
    assert list(params(b"a=1&b=2;a=3", b"a", 0x3F)) == [b"1", b"3"]
    assert list(params(b"a=1&b=2", b"", 0x3F)) == [b"1", b"2"]
    assert list(params(b"ab=1&b=2", b"b", 0x3F)) == [b"2"]
    assert list(params(b"x", b"x", 0x3F)) == []


def test_cookies_skip_attributes_and_bare_names() -> None:
    assert list(cookies(b"a=1; $Path=/; b; c = 3 ", b"", True)) == [b"1", b"3"]
    assert list(cookies(b'q="x;y"; r=2', b"q", True)) == [b'"x;y"']
    assert list(cookies(b"sid=abc; Path=/", b"sid", False)) == [b"abc"]
    assert list(cookies(b"sid=abc; Path=/", b"Path", False)) == []


def test_variables_and_defaults() -> None:
    s = make_stream()
    assert run("var(txn.nope)", s) is None
    assert run("var(txn.nope,dflt)", s) == b"dflt"
    run("int(42),set-var(txn.n)", s)
    assert run("var(txn.n)", s) == b"42"
    run("str(x),unset-var(txn.n)", s)
    assert run("var(txn.n)", s) is None


def test_constants() -> None:
    s = make_stream()
    assert run("bool(true)", s) == b"1"
    assert run("bool(0)", s) == b"0"
    assert run("ipv6(::1)", s) == b"::1"
    assert run("date", s) == b"1700000000"
    assert run("date(10,ms)", s) == b"1700000000260"
    assert run("rand(10)", s) is not None
    out = run("uuid", s)
    assert out is not None and len(out) == 36 and out[14:15] == b"4"


def test_req_len_of_an_http_request_is_its_htx_size() -> None:
    """cond_set_var.vtc reads 67 for `GET /converter HTTP/1.1` with X-Cust and Host: the
    HTX payloads (struct htx_sl 20 + the start line's 21 bytes, 12 + 13 of headers, 1 for
    the end of headers), not the 62 bytes on the wire."""
    s = make_stream(b"/converter", [(b"X-Cust", b"foobar"), (b"Host", b"127.0.0.1")])
    assert run("req.len", s) == b"67"
    s.req_body = b"12345"
    assert run("req.len", s) == b"72"


@pytest.mark.parametrize(
    ("received", "now", "expected"),
    [(b"GET", b"POST", b"GET"), (b"get", b"POST", b"POST"), (b"PURGE", b"PUT", b"PUT")],
)
def test_method_reads_the_received_method_set_method_leaves(
    received: bytes, now: bytes, expected: bytes
) -> None:
    """smp_fetch_meth reads txn->meth, which `set-method` does not change; only a method
    find_http_meth does not know (case counts) is read from the request line as it is."""
    s = make_stream(method=received)
    s.remember_request()
    assert s.request is not None
    s.request.method = now
    assert run("method", s) == expected
