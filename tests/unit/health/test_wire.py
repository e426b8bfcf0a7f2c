"""Byte shapes: HTTP request template, DNS query, dynamic weights (check_http.c, check_dns.c,
check_misc.c)."""

import ipaddress
import struct

from pylvs.health.checkers.dns import encode_name, make_query
from pylvs.health.checkers.dns import judge as dns_judge
from pylvs.health.checkers.http import build_request, host_header, judge, parse_response
from pylvs.health.rs_state import IPVS_WEIGHT_FAULT, file_status, misc_delta, real_weight
from pylvs.model.checks import CheckTarget, HttpProtocol, UrlSpec


def test_http_request_template_per_protocol() -> None:
    assert build_request("/x", HttpProtocol.HTTP_1_0, "h") == (
        b"GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: h\r\n\r\n"
    )
    assert build_request("/", HttpProtocol.HTTP_1_0C, "h") == (
        b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: h\r\n\r\n"
    )
    assert build_request("/", HttpProtocol.HTTP_1_1, "h").startswith(b"GET / HTTP/1.1\r\n")


def test_host_header_defaults_to_address_and_port() -> None:
    v4 = CheckTarget(ipaddress.ip_address("10.1.2.3"), 8080, 1.0)
    v6 = CheckTarget(ipaddress.ip_address("fd00::1"), 80, 1.0)
    assert host_header(v4, None) == "10.1.2.3:8080"
    assert host_header(v6, None) == "[fd00::1]:80"
    assert host_header(v6, "www.example.org") == "www.example.org"


def test_http_judge_status_ranges_digest_and_regex() -> None:
    resp = parse_response(b"HTTP/1.1 204 No Content\r\nX: y\r\n\r\nhello world")
    assert resp is not None and resp.status == 204 and resp.body == b"hello world"
    assert judge(UrlSpec("/"), resp) == ""
    assert judge(UrlSpec("/", status_codes=((200, 200),)), resp).startswith("HTTP status")
    md5 = "5eb63bbbe01eeed093cb22bb8f5acdc3"  # md5("hello world")
    assert judge(UrlSpec("/", digest=md5), resp) == ""
    assert judge(UrlSpec("/", digest="0" * 32), resp).startswith("MD5 digest error")
    assert judge(UrlSpec("/", regex="wor.d"), resp) == ""
    assert judge(UrlSpec("/", regex="wor.d", regex_no_match=True), resp) != ""
    assert judge(UrlSpec("/"), parse_response(b"garbage without header end")) != ""


def test_dns_query_bytes_and_reply_checks() -> None:
    q = make_query(0x1234, "A", "example.org")
    assert q[:12] == struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    assert q[12:] == b"\x07example\x03org\x00" + b"\x00\x01\x00\x01"
    assert encode_name(".") == b"\x00"
    ok = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0)
    assert dns_judge(ok, 0x1234) == ""
    assert dns_judge(ok, 0x4321) is None  # other id: keep waiting
    assert dns_judge(struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0), 0x1234) is None
    assert dns_judge(struct.pack("!HHHHHH", 0x1234, 0x8183, 1, 0, 0, 0), 0x1234) == "rcode = 3"


def test_file_status_and_weights() -> None:
    assert file_status(5, 3, False) == 15
    assert file_status(5, 3, True) == -15
    assert file_status(0, 0, False) == 0
    assert file_status(1, 0, False) == IPVS_WEIGHT_FAULT  # weight 0: non-zero is a fault
    assert file_status(0, 0, True) == IPVS_WEIGHT_FAULT  # reversed: zero is the fault
    assert file_status(2**31, 2, False) == 2**31 - 1  # weight_range clamps to int
    assert misc_delta(12, 1) == 9  # weight becomes 12 - 2 = 10
    assert misc_delta(0, 1) == 0
    assert real_weight(-3) == 0 and real_weight(2**40) == 2**31 - 1
