"""Golden GARP / unsolicited NA frames (reference §4.11) and garp_interval pacing."""

from __future__ import annotations

from ipaddress import IPv4Address as V4
from ipaddress import IPv6Address as V6
from pathlib import Path

from pylvs.proto.vrrp.garp import GarpPacer, gratuitous_arp, neighbour_advert, parse_mac

DATA = Path(__file__).parents[3] / "data" / "vrrp"
MAC = parse_mac("52:54:00:12:34:56")


def golden(name: str) -> bytes:
    lines = (DATA / name).read_text().splitlines()
    return bytes.fromhex(" ".join(x for x in lines if not x.startswith("#")))


def test_garp_is_an_arp_request_with_broadcast_target_hardware_address() -> None:
    frame = gratuitous_arp(MAC, V4("192.168.200.16"))
    assert frame == golden("garp_192.168.200.16.hex")
    assert len(frame) == 42
    assert frame[20:22] == b"\x00\x01"  # op REQUEST, not REPLY
    assert frame[32:38] == b"\xff" * 6  # tha broadcast, not zero


def test_na_has_override_flag_and_target_link_layer_option() -> None:
    frame = neighbour_advert(MAC, V6("fe80::10"))
    assert frame == golden("na_fe80__10.hex")
    assert len(frame) == 86
    assert frame[58] == 0x20  # Override only


def test_na_router_flag_changes_flags_and_checksum() -> None:
    plain = neighbour_advert(MAC, V6("fe80::10"))
    router = neighbour_advert(MAC, V6("fe80::10"), router=True)
    assert router[58] == 0xA0
    # One's-complement: adding 0x8000 to the flag word lowers the checksum by 0x8000.
    assert int.from_bytes(router[56:58], "big") == (int.from_bytes(plain[56:58], "big") - 0x8000)


def test_pacer_without_interval_sends_every_request_at_once() -> None:
    p = GarpPacer(0)
    a = V4("10.0.0.1")
    assert p.request(a, 2, 0) == [a]
    assert p.request(a, 2, 0) == [a]


def test_pacer_sends_one_per_interval_and_keeps_the_repeat_count() -> None:
    p = GarpPacer(100)
    a, b = V4("10.0.0.1"), V4("10.0.0.2")
    # keepalived's loop: 2 rounds over [a, b] at t=0.
    sent = [x for addr in (a, b, a, b) for x in p.request(addr, 2, 0)]
    assert sent == [a]  # a immediately; b queued (pending 1, then 2); a queued once
    assert p.next_deadline() == 100
    assert p.due(99) == []
    assert p.due(100) == [b]
    assert p.due(200) == [a]
    assert p.due(300) == [b]
    assert p.due(400) == []
    assert p.next_deadline() is None
