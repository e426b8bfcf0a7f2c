"""proto/dns/wire.py: queries byte for byte as haproxy 2.6.12 sends them (captured from the
real binary), and responses judged in resolv_validate_dns_response's order."""

from __future__ import annotations

import ipaddress
import struct

from pylvs.proto.dns import wire

APP = b"\x03app\x04test"


def _rr(owner: bytes, rtype: int, rdata: bytes) -> bytes:
    if not owner.startswith(b"\xc0"):  # a name in full, not a pointer: its final zero
        owner += b"\0"
    return owner + struct.pack("!HHIH", rtype, 1, 30, len(rdata)) + rdata


def _msg(
    answers: list[bytes],
    *,
    qname: bytes = APP,
    qtype: int = wire.A,
    flags: int = 0x8180,
    qdcount: int = 1,
) -> bytes:
    head = struct.pack("!HHHHHH", 0x1234, flags, qdcount, len(answers), 0, 0)
    return head + qname + b"\0" + struct.pack("!HH", qtype, 1) + b"".join(answers)


def test_query_is_haproxys() -> None:
    # haproxy -db with `server web1 App.Test:80 resolvers dns` and accepted_payload_size
    # 1232: its first query (AAAA, resolve-prefer's default), id 0x87e6
    golden = bytes.fromhex(
        "87e60100000100000000000103617070047465737400001c000100002904d0000000000000"
    )
    name = wire.to_label("App.Test")
    assert name == APP
    assert wire.query(0x87E6, wire.AAAA, 1232, name) == golden


def test_labels() -> None:
    assert wire.to_label("www.haproxy.org.") == b"\x03www\x07haproxy\x03org"
    assert wire.to_label("a..b") is None
    assert wire.to_label("x" * 64 + ".org") is None
    assert wire.to_label("") is None
    assert wire.to_text(b"\x03WWW\x07haproxy\x03org") == "www.haproxy.org"


def test_a_records_and_compression() -> None:
    ptr = b"\xc0\x0c"  # the question's name
    got = wire.validate(
        _msg([_rr(ptr, wire.A, bytes([10, 0, 0, 1])), _rr(ptr, wire.A, bytes([10, 0, 0, 2]))]),
        APP,
        84,
    )
    assert got.verdict == wire.VALID
    assert [r.address for r in got.records] == [
        ipaddress.ip_address("10.0.0.1"),
        ipaddress.ip_address("10.0.0.2"),
    ]


def test_cname_chain() -> None:
    target = b"\x03web\x04test"
    ok = _msg([_rr(APP, wire.CNAME, target + b"\0"), _rr(target, wire.A, b"\x0a\0\0\x07")])
    got = wire.validate(ok, APP, 84)
    assert got.verdict == wire.VALID
    assert got.records[-1].address == ipaddress.ip_address("10.0.0.7")
    # a CNAME last: nothing to take (cname_error); an A of another owner after the first
    assert wire.validate(_msg([_rr(APP, wire.CNAME, target + b"\0")]), APP, 84).verdict == (
        wire.CNAME_ERROR
    )
    other = _msg([_rr(APP, wire.A, b"\x0a\0\0\x01"), _rr(target, wire.A, b"\x0a\0\0\x02")])
    assert wire.validate(other, APP, 84).verdict == wire.CNAME_ERROR
    # ... and on the first record, the message is invalid
    first = _msg([_rr(target, wire.A, b"\x0a\0\0\x02")])
    assert wire.validate(first, APP, 84).verdict == wire.INVALID


def test_verdicts_in_haproxys_order() -> None:
    a = [_rr(APP, wire.A, b"\x0a\0\0\x01")]
    assert wire.validate(_msg(a, flags=0x8183), APP, 84).verdict == wire.NX
    assert wire.validate(_msg(a, flags=0x8185), APP, 84).verdict == wire.REFUSED
    assert wire.validate(_msg(a, flags=0x8182), APP, 84).verdict == wire.OTHER
    assert wire.validate(_msg(a, qdcount=2), APP, 84).verdict == wire.INVALID
    assert wire.validate(_msg([]), APP, 84).verdict == wire.ANCOUNT_ZERO
    assert wire.validate(_msg(a, qname=b"\x03bad\x04test"), APP, 84).verdict == wire.INVALID
    assert wire.validate(_msg(a, flags=0x8380), APP, 84).verdict == wire.TRUNCATED
    assert wire.validate(_msg(a * 3), APP, 2).verdict == wire.INVALID  # too many answers
    assert wire.validate(_msg([_rr(APP, wire.A, b"\x0a\0\0")]), APP, 84).verdict == wire.INVALID
    assert wire.validate(_msg(a)[:-2], APP, 84).verdict == wire.INVALID  # cut short
    assert wire.validate(b"\x12", APP, 84).verdict == wire.INVALID


def test_pointers_only_backwards() -> None:
    forward = _msg([_rr(b"\xc0\xff", wire.A, b"\x0a\0\0\x01")])
    assert wire.validate(forward, APP, 84).verdict == wire.INVALID
    msg = bytearray(_msg([_rr(APP, wire.A, b"\x0a\0\0\x01")]))
    msg[12:14] = b"\xc0\x0c"  # the question's name points at itself
    assert wire.validate(bytes(msg), APP, 84).verdict == wire.INVALID


def test_other_types_are_skipped() -> None:
    txt = _rr(APP, 16, b"\x02hi")
    got = wire.validate(_msg([txt, _rr(APP, wire.A, b"\x0a\0\0\x01")]), APP, 84)
    assert got.verdict == wire.VALID
    assert len(got.records) == 1


def test_response_builder_round_trips() -> None:
    data = wire.response(7, APP, wire.AAAA, [(APP, wire.AAAA, bytes(15) + b"\x01")])
    got = wire.validate(data, APP, 84)
    assert wire.query_id(data) == 7
    assert got.records[0].address == ipaddress.ip_address("::1")
