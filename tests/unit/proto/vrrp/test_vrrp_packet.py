"""Golden byte tests of the VRRP codec (reference §4.2-4.3) and codec properties."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address as V4
from ipaddress import IPv6Address as V6
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.proto.vrrp.packet import (
    Advert,
    decode_advert,
    encode_advert,
    encode_ipv4,
    parse_ipv4,
    password_bytes,
    peek_vrid,
    verify_checksum,
)

DATA = Path(__file__).parents[3] / "data" / "vrrp"
VIP = V4("192.168.200.16")
SRC, GROUP = V4("192.168.200.1"), V4("224.0.0.18")


def golden(name: str) -> bytes:
    lines = (DATA / name).read_text().splitlines()
    return bytes.fromhex(" ".join(x for x in lines if not x.startswith("#")))


def rfc1071(data: bytes) -> int:
    """An independent one's-complement sum, byte pair by byte pair."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += data[i] << 8 | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def test_v2_pass_matches_the_reference_example_byte_for_byte() -> None:
    adv = Advert(2, 51, 100, 1, (VIP,), auth_type=1, auth_data=password_bytes(b"1111"))
    assert encode_advert(adv) == golden("v2_pass_vrid51.hex")
    assert golden("v2_pass_vrid51.hex")[6:8] == b"\x8e\xae"


def test_v3_ipv4_pseudo_header_and_as_v2_match_the_reference() -> None:
    adv = Advert(3, 51, 100, 100, (VIP,))
    assert encode_advert(adv, src=SRC, dst=GROUP) == golden("v3_ipv4_pseudo_vrid51.hex")
    assert encode_advert(adv, pseudo_header=False) == golden("v3_ipv4_as_v2_vrid51.hex")


def test_v3_checksums_follow_rfc1071_over_the_pseudo_header() -> None:
    msg = golden("v3_ipv4_pseudo_vrid51.hex")
    pseudo = SRC.packed + GROUP.packed + bytes([0, 112, 0, len(msg)])
    zeroed = msg[:6] + b"\0\0" + msg[8:]
    assert rfc1071(pseudo + zeroed) == 0x7874
    assert rfc1071(zeroed) == 0xE1AD


def test_v3_ipv6_golden_and_its_checksum() -> None:
    adv = Advert(3, 51, 100, 100, (V6("fe80::10"),), family=6)
    msg = encode_advert(adv, src=V6("fe80::a"), dst=V6("ff02::12"))
    assert msg == golden("v3_ipv6_vrid51.hex")
    pseudo = V6("fe80::a").packed + V6("ff02::12").packed + len(msg).to_bytes(4, "big")
    assert rfc1071(pseudo + b"\0\0\0\x70" + msg) == 0


def test_ipv4_datagram_golden() -> None:
    msg = golden("v3_ipv4_pseudo_vrid51.hex")
    assert encode_ipv4(msg, SRC, GROUP) == golden("v3_ipv4_datagram_vrid51.hex")
    hdr = parse_ipv4(golden("v3_ipv4_datagram_vrid51.hex"))
    assert hdr is not None
    assert (hdr.ttl, hdr.protocol, hdr.tos, hdr.total_length) == (255, 112, 0xC0, 32)
    assert rfc1071(golden("v3_ipv4_datagram_vrid51.hex")[:20]) == 0


def test_decode_reads_the_golden_packets() -> None:
    v2 = decode_advert(golden("v2_pass_vrid51.hex"), 4)
    assert v2 == Advert(2, 51, 100, 1, (VIP,), auth_type=1, auth_data=b"1111\0\0\0\0")
    assert v2 is not None and v2.interval_us == 1_000_000
    v3 = decode_advert(golden("v3_ipv6_vrid51.hex"), 6)
    assert v3 is not None and v3.addresses == (V6("fe80::10"),) and v3.interval_us == 1_000_000
    assert peek_vrid(golden("v3_ipv6_vrid51.hex")) == 51


def test_v3_reserved_bits_are_ignored_on_receive() -> None:
    msg = bytearray(golden("v3_ipv4_as_v2_vrid51.hex"))
    msg[4] |= 0xF0
    adv = decode_advert(bytes(msg), 4)
    assert adv is not None and adv.adver_int == 100


@pytest.mark.parametrize(
    ("message", "family"),
    [
        (b"", 4),
        (b"\x21\x33\x64\x01", 4),
        (bytes.fromhex("21336401010100000000000000000000000000"), 4),  # one byte short
        (bytes.fromhex("2133640101010000c0a8c810000000000000000000"), 4),  # one byte long
        (bytes.fromhex("31336401006400000000"), 4),  # v3 truncated address
        (bytes.fromhex("213364010101000000000000000000000000000000000000"), 6),  # v2 on IPv6
        (bytes.fromhex("4133640101010000c0a8c8100000000000000000"), 4),  # version 4
    ],
)
def test_decode_refuses_malformed_messages(message: bytes, family: int) -> None:
    assert decode_advert(message, family) is None


def test_verify_checksum_detects_a_flipped_bit() -> None:
    msg = bytearray(golden("v2_pass_vrid51.hex"))
    assert verify_checksum(bytes(msg), 2, 4)
    msg[2] ^= 1
    assert not verify_checksum(bytes(msg), 2, 4)


def test_invalid_adverts_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        Advert(2, 51, 100, 1, (V6("fe80::1"),), family=6)
    with pytest.raises(ValueError):
        Advert(3, 51, 100, 100, auth_type=1)
    with pytest.raises(ValueError):
        Advert(2, 51, 256, 1)
    with pytest.raises(ValueError):
        Advert(3, 51, 100, 4096)


v4s = st.builds(V4, st.integers(0, 2**32 - 1))
v6s = st.builds(V6, st.integers(0, 2**128 - 1))


@st.composite
def adverts(draw: st.DrawFn) -> Advert:
    version = draw(st.sampled_from([2, 3]))
    family = 4 if version == 2 else draw(st.sampled_from([4, 6]))
    addresses: st.SearchStrategy[V4 | V6] = v4s if family == 4 else v6s
    addrs = draw(st.lists(addresses, max_size=20))
    vrid = draw(st.integers(0, 255))
    priority = draw(st.integers(0, 255))
    kind = draw(st.integers(0, 15))
    v2 = version == 2
    adver_int = draw(st.integers(0, 255 if v2 else 4095))
    advert = Advert(version, vrid, priority, adver_int, tuple(addrs), family, type=kind)
    if not v2:
        return advert
    auth_type = draw(st.integers(0, 255))
    return replace(advert, auth_type=auth_type, auth_data=draw(st.binary(min_size=8, max_size=8)))


@given(adverts(), v6s, v6s)
def test_decode_inverts_encode_and_the_checksum_verifies(adv: Advert, s6: V6, d6: V6) -> None:
    src, dst = (SRC, GROUP) if adv.family == 4 else (s6, d6)
    data = encode_advert(adv, src=src, dst=dst)
    assert decode_advert(data, adv.family) == adv
    assert verify_checksum(data, adv.version, adv.family, src=src, dst=dst)


@given(st.binary(max_size=600), st.sampled_from([4, 6]))
def test_decode_never_raises(data: bytes, family: int) -> None:
    decode_advert(data, family)
    parse_ipv4(data)
    peek_vrid(data)
