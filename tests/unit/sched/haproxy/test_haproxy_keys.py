"""The keys the hashing algorithms take from a connection (sched/haproxy/hashed.py).

The recorded sequences (test_haproxy_recorded.py) cover them end to end against HAProxy;
these are the corner cases of backend.c and payload.c the recordings do not reach.
"""

import ipaddress

from pylvs.sched.base import Flow
from pylvs.sched.haproxy import LbParams, Pool, Server
from pylvs.sched.haproxy.hashed import (
    domain_part,
    param_value,
    post_param_value,
    rdp_cookie,
    uri_key,
)


def test_domain_part() -> None:
    assert domain_part("www.example.com") == "example"
    assert domain_part("a.b.example.org") == "example"
    assert domain_part("example.com") == "example"
    assert domain_part("localhost") == "localhost"
    assert domain_part("example.com.") == "com"


def test_uri_key() -> None:
    p = LbParams(algorithm="uri")
    assert uri_key("/a/b?x=1", p) == "/a/b"
    assert uri_key("/a/b?x=1", LbParams(algorithm="uri", uri_whole=True)) == "/a/b?x=1"
    assert uri_key("/a/b/c/d", LbParams(algorithm="uri", uri_depth=2)) == "/a/b"
    assert uri_key("/abcdef", LbParams(algorithm="uri", uri_len=4)) == "/abc"
    assert uri_key("/ab?cd", LbParams(algorithm="uri", uri_len=5, uri_whole=True)) == "/ab?c"


def test_param_value() -> None:
    assert param_value(b"id=42&page=2", b"id") == b"42"
    assert param_value(b"page=2&id=7", b"id") == b"7"
    assert param_value(b"xid=1&id=2", b"id") == b"2"
    assert param_value(b"id=", b"id") == b""  # an empty value is hashed
    assert param_value(b"id", b"id") is None  # not longer than the name
    assert param_value(b"id=&x=1", b"id") == b""
    assert param_value(b"idx=1", b"id") is None


def test_post_param_value() -> None:
    assert post_param_value(b"a=1&id=user42&b=2", b"id") == b"user42"
    assert post_param_value(b"id= x", b"id") == b""  # a blank first: an empty value
    assert post_param_value(b"id=\x00\x01", b"id") is None  # not urlencoded


def test_rdp_cookie() -> None:
    head = b"\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00"
    assert rdp_cookie(head + b"Cookie: mstshash=alice\r\n", b"mstshash") == b"alice"
    assert rdp_cookie(head + b"cookie:MSTSHASH=bob\r\n", b"mstshash") == b"bob"
    assert rdp_cookie(head + b"Cookie: other=bob\r\n", b"mstshash") is None
    assert rdp_cookie(head + b"Cookie: any=carol\r\n", b"") == b"carol"
    assert rdp_cookie(head + b"Cookie: mstshash=cut", b"mstshash") is None  # no CRLF yet
    assert rdp_cookie(b"\x03\x00", b"mstshash") is None


def test_source_hashes_ipv6_by_its_words() -> None:
    pool = Pool([Server("s1"), Server("s2"), Server("s3")], LbParams(algorithm="source"))
    vip = ipaddress.IPv6Address("2001:db8::1")
    # The XOR of the four 32-bit words: these two addresses fold to the same value.
    a = ipaddress.IPv6Address((0x20010DB8 << 96) | (1 << 32))
    b = ipaddress.IPv6Address((0x20010DB8 << 96) | (1 << 64))
    assert pool.assign(Flow(a, 1, vip, 80), 0.0) is pool.assign(Flow(b, 1, vip, 80), 0.0)
    picks = {pool.assign(Flow(ipaddress.IPv6Address(i << 64), 1, vip, 80), 0.0) for i in range(9)}
    assert len(picks) == 3
