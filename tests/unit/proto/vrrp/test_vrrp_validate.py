"""Receive validation (reference §4.5): each malformed or foreign packet is refused with
keepalived's verdict, counter and log, never an exception."""

from __future__ import annotations

from ipaddress import IPv4Address as V4
from ipaddress import IPv6Address as V6

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.proto.vrrp.packet import Advert, encode_advert, encode_ipv4, password_bytes
from pylvs.proto.vrrp.stats import Counter, Reason
from pylvs.proto.vrrp.validate import (
    CheckParams,
    ChecksumCompat,
    Peer,
    Received,
    Verdict,
    check_packet,
)
from tests.unit.proto.vrrp.vrrp_fsm_helpers import GROUP

VIP = V4("192.168.200.16")
SRC = V4("192.168.200.9")
P2 = CheckParams("VI_1", 51, 4, 2, 1_000_000, (VIP,))
P3 = CheckParams("VI_1", 51, 4, 3, 1_000_000, (VIP,))


def v4(adv: Advert, *, dst: V4 = GROUP, ttl: int = 255, pseudo: bool = True) -> Received:
    msg = encode_advert(adv, src=SRC, dst=dst, pseudo_header=pseudo)
    return Received(encode_ipv4(msg, SRC, dst, ttl=ttl), SRC)


def check(
    rx: Received, p: CheckParams = P2, **kw: object
) -> tuple[Verdict, Reason | None, tuple[Counter, ...]]:
    res = check_packet(rx, p, effective_priority=100, **kw)  # type: ignore[arg-type]
    return res.verdict, res.reason, res.counters


GOOD2 = Advert(2, 51, 100, 1, (VIP,))
GOOD3 = Advert(3, 51, 100, 100, (VIP,))


def test_good_v2_and_v3_pass_and_count_an_advert() -> None:
    assert check(v4(GOOD2)) == (Verdict.OK, None, (Counter.ADVERT_RCVD,))
    assert check(v4(GOOD3), P3) == (Verdict.OK, None, (Counter.ADVERT_RCVD,))


def tamper(rx: Received, offset: int, value: int) -> Received:
    data = bytearray(rx.data)
    data[offset] = value
    return Received(bytes(data), rx.src)


@pytest.mark.parametrize(
    ("rx", "params", "expected"),
    [
        # ttl 64 on a multicast instance
        (v4(GOOD2, ttl=64), P2, (Verdict.KO, Reason.TTL, (Counter.IP_TTL_ERR,))),
        # version 3 packet on a v2 instance: its length is right for its own version
        (v4(GOOD3), P2, (Verdict.KO, Reason.VERSION, (Counter.VERS_ERR,))),
        (
            v4(Advert(3, 51, 100, 100, (VIP, VIP, VIP))),
            P2,
            (Verdict.KO, Reason.VERSION, (Counter.VERS_ERR,)),
        ),
        # v2 advert interval 2 s against our 1 s: dropped silently
        (
            v4(Advert(2, 51, 100, 2, (VIP,))),
            P2,
            (Verdict.DROP, Reason.ADVER_INT, (Counter.DROPPED,)),
        ),
        (
            v4(Advert(2, 51, 100, 1, (VIP,), type=2)),
            P2,
            (Verdict.KO, Reason.TYPE, (Counter.INVALID_TYPE_RCVD,)),
        ),
        (
            v4(Advert(2, 51, 100, 1, (VIP,), auth_type=7)),
            P2,
            (Verdict.KO, Reason.AUTH_TYPE_INVALID, (Counter.INVALID_AUTHTYPE,)),
        ),
        (
            v4(Advert(2, 51, 100, 1, (VIP,), auth_type=1)),
            P2,
            (Verdict.KO, Reason.AUTH_TYPE_MISMATCH, (Counter.AUTHTYPE_MISMATCH,)),
        ),
        # unicast destination on a multicast instance
        (
            v4(GOOD2, dst=V4("192.168.200.5")),
            P2,
            (Verdict.KO, Reason.UNICAST_MULTICAST, (Counter.ADDR_LIST_ERR,)),
        ),
        # other VRID: foreign
        (
            v4(Advert(2, 52, 100, 1, (VIP,))),
            P2,
            (Verdict.DROP, Reason.FOREIGN_VRID, (Counter.FOREIGN,)),
        ),
        # bad checksum: flip a byte of the VIP after the checksum was computed
        (tamper(v4(GOOD2), 20 + 8, 0xC1), P2, (Verdict.KO, Reason.CHECKSUM, (Counter.CHK_ERR,))),
        (tamper(v4(GOOD3), 20 + 8, 0xC1), P3, (Verdict.KO, Reason.CHECKSUM, (Counter.CHK_ERR,))),
        # IP total length lies
        (
            tamper(v4(GOOD2), 3, 0x30),
            P2,
            (Verdict.KO, Reason.IP_TOT_LEN, (Counter.PACKET_LEN_ERR,)),
        ),
        # truncated
        (
            Received(v4(GOOD2).data[:25], SRC),
            P2,
            (Verdict.DROP, Reason.TRUNCATED, (Counter.TRUNCATED,)),
        ),
        (
            Received(v4(GOOD2).data[:35], SRC),
            P2,
            (Verdict.KO, Reason.LENGTH, (Counter.PACKET_LEN_ERR,)),
        ),
        # AH datagram on a non-AH instance
        (
            tamper(v4(GOOD2), 9, 51),
            P2,
            (Verdict.KO, Reason.AH_MISMATCH, (Counter.AUTHTYPE_MISMATCH,)),
        ),
        # another protocol
        (tamper(v4(GOOD2), 9, 17), P2, (Verdict.DROP, Reason.FOREIGN_PROTOCOL, (Counter.FOREIGN,))),
    ],
)
def test_malformed_packets(rx: Received, params: CheckParams, expected: object) -> None:
    assert check(rx, params) == expected


def test_wrong_password_is_refused_right_one_accepted() -> None:
    p = CheckParams(
        "VI_1", 51, 4, 2, 1_000_000, (VIP,), auth_type=1, auth_data=password_bytes(b"secret")
    )
    good = Advert(2, 51, 100, 1, (VIP,), auth_type=1, auth_data=password_bytes(b"secret"))
    bad = Advert(2, 51, 100, 1, (VIP,), auth_type=1, auth_data=password_bytes(b"secreT"))
    assert check(v4(good), p)[0] is Verdict.OK
    assert check(v4(bad), p) == (Verdict.KO, Reason.PASSWORD, (Counter.AUTH_FAILURE,))


def test_ethernet_padding_is_tolerated() -> None:
    # v2 with 1 VIP: 20 + 20 = 40 bytes; Ethernet pads the payload to 46 (6 = 2 mod 4).
    padded = Received(v4(GOOD2).data + bytes(6), SRC)
    assert check(padded)[0] is Verdict.OK
    assert check(Received(v4(GOOD2).data + bytes(4), SRC))[1] is Reason.LENGTH


def test_address_count_and_list_mismatch_are_refused_and_counted_as_keepalived_2_2_7() -> None:
    res = check_packet(v4(Advert(2, 51, 100, 1, (VIP, V4("10.0.0.1")))), P2, effective_priority=100)
    assert (res.verdict, res.reason) == (Verdict.KO, Reason.ADDR_COUNT)
    assert res.counters == (Counter.ADDR_LIST_ERR,)  # before advert_rcvd, as in 2.2.7
    assert res.log == (
        "(VI_1) received an unexpected ip number count 2 from 192.168.200.9, expected 1!"
    )
    res = check_packet(v4(Advert(2, 51, 100, 1, (V4("10.0.0.1"),))), P2, effective_priority=100)
    assert (res.verdict, res.reason) == (Verdict.KO, Reason.VIPS_MISMATCH)
    assert res.counters == (Counter.ADVERT_RCVD, Counter.ADDR_LIST_ERR)
    assert res.log == (
        "(VI_1) ip address associated with VRID 51 not present in MASTER advert from "
        "192.168.200.9: 192.168.200.16"
    )
    # skip_check_adv_addr (the caller does not ask for the list check): accepted, not counted
    for wrong in ((V4("10.0.0.1"),), (VIP, V4("10.0.0.1"))):
        res = check_packet(
            v4(Advert(2, 51, 100, 1, wrong)), P2, effective_priority=100, check_vip_addr=False
        )
        assert res.verdict is Verdict.OK
        assert res.counters == (Counter.ADVERT_RCVD,) and res.notes == ()


def test_v3_interval_mismatch_is_only_noted() -> None:
    res = check_packet(v4(Advert(3, 51, 100, 200, (VIP,))), P3, effective_priority=100)
    assert res.verdict is Verdict.OK
    assert res.notes[0] == (
        Reason.ADVER_INT,
        "(VI_1) advertisement interval mismatch ours = 100 centi-sec rcv'd=200 centi-sec",
    )


def test_v3_checksum_as_v2_accepts_either_form() -> None:
    p = CheckParams("VI_1", 51, 4, 3, 1_000_000, (VIP,), v3_checksum_as_v2=True)
    assert check(v4(GOOD3, pseudo=False), p)[0] is Verdict.OK
    assert check(v4(GOOD3, pseudo=True), p)[0] is Verdict.OK
    # without the option a pseudo-header-less sum is refused
    assert check(v4(GOOD3, pseudo=False), P3)[1] is Reason.CHECKSUM


def test_unicast_old_checksum_is_detected() -> None:
    me = V4("192.168.200.5")
    p = CheckParams("VI_1", 51, 4, 3, 1_000_000, (VIP,), unicast=True, peers=(Peer(SRC),))
    msg = encode_advert(GOOD3, src=SRC, dst=GROUP)  # pre-1.3.6 sender: group in pseudo-header
    rx = Received(encode_ipv4(msg, SRC, me), SRC)
    res = check_packet(rx, p, effective_priority=100)
    assert res.verdict is Verdict.OK and res.old_checksum_detected
    res = check_packet(rx, p, effective_priority=100, compat=ChecksumCompat.NEVER)
    assert res.reason is Reason.CHECKSUM


def test_unicast_source_and_peer_ttl() -> None:
    me = V4("192.168.200.5")
    p = CheckParams(
        "VI_1",
        51,
        4,
        2,
        1_000_000,
        (VIP,),
        unicast=True,
        peers=(Peer(V4("192.168.200.7"), 250, 255),),
        check_unicast_src=True,
    )
    assert check(v4(GOOD2, dst=me), p)[1] is Reason.UNKNOWN_UNICAST_SRC
    p2 = CheckParams(
        "VI_1",
        51,
        4,
        2,
        1_000_000,
        (VIP,),
        unicast=True,
        peers=(Peer(SRC, 250, 255),),
        check_unicast_src=True,
    )
    assert check(v4(GOOD2, dst=me), p2)[0] is Verdict.OK
    # unicast ignores the 255 rule but the peer's min_ttl applies: DROP
    assert check(v4(GOOD2, dst=me, ttl=64), p2)[:2] == (Verdict.DROP, Reason.PEER_TTL)


def test_owner_ignore_adverts_drops_when_we_are_255() -> None:
    p = CheckParams("VI_1", 51, 4, 2, 1_000_000, (VIP,), owner_ignore_adverts=True)
    res = check_packet(v4(GOOD2), p, effective_priority=255)
    assert (res.verdict, res.reason) == (Verdict.DROP, Reason.OWNER_IGNORE)
    assert check_packet(v4(GOOD2), p, effective_priority=254).verdict is Verdict.OK


def test_ipv6_hop_limit_and_multicast_destination() -> None:
    vip = V6("fe80::10")
    p = CheckParams("VI_6", 51, 6, 3, 1_000_000, (vip,))
    src, dst = V6("fe80::a"), V6("ff02::12")
    msg = encode_advert(Advert(3, 51, 100, 100, (vip,), family=6), src=src, dst=dst)
    assert check(Received(msg, src, dst, 255), p)[0] is Verdict.OK
    assert check(Received(msg, src, dst, None), p)[0] is Verdict.OK  # no cmsg: not checked
    assert check(Received(msg, src, dst, 1), p)[1] is Reason.TTL
    # a unicast packet on a multicast IPv6 instance is discarded by the dispatcher
    assert check(Received(msg, src, V6("fe80::b"), 255), p)[:2] == (
        Verdict.DROP,
        Reason.UNICAST_MULTICAST,
    )


@given(st.binary(max_size=200), st.sampled_from([P2, P3]), st.integers(0, 255))
def test_check_never_raises_on_random_bytes(data: bytes, p: CheckParams, ttl: int) -> None:
    res = check_packet(Received(data, SRC, None, ttl), p, effective_priority=100)
    assert res.verdict in Verdict


@given(st.binary(max_size=100))
def test_check_never_raises_behind_a_valid_ip_header(payload: bytes) -> None:
    res = check_packet(Received(encode_ipv4(payload, SRC, GROUP), SRC), P2, effective_priority=100)
    assert res.verdict in Verdict
