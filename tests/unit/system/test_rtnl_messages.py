"""The RTM_NEWADDR/RTM_DELADDR bodies NetlinkHost sends, byte for byte, worked out from
include/uapi/linux/if_addr.h (struct ifaddrmsg, IFA_* attributes, 4-byte aligned rtattrs)."""

import ipaddress
import socket
import struct

from pylvs.system.rtnl import AddressRequest, address_message, parse_addresses


def rta(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + bytes(-len(raw) % 4)


def test_ipv4_vip_with_label_broadcast_and_scope() -> None:
    req = AddressRequest(
        index=7,
        family=socket.AF_INET,
        prefixlen=24,
        local=ipaddress.IPv4Address("10.0.0.100"),
        address=ipaddress.IPv4Address("10.0.0.100"),
        scope=253,  # link
        label="eth0:7",
        broadcast=ipaddress.IPv4Address("10.0.0.255"),
    )
    expected = (
        bytes([2, 24, 0, 253]) + struct.pack("=i", 7)
        + rta(2, bytes([10, 0, 0, 100]))  # IFA_LOCAL
        + rta(1, bytes([10, 0, 0, 100]))  # IFA_ADDRESS
        + rta(3, b"eth0:7\0")  # IFA_LABEL: 4 + 7 bytes, padded to 12
        + rta(4, bytes([10, 0, 0, 255]))  # IFA_BROADCAST
    )  # fmt: skip
    assert address_message(req) == expected
    assert len(expected) == 8 + 8 + 8 + 12 + 8


def test_peer_nodad_noprefixroute_and_preferred_lft() -> None:
    req = AddressRequest(
        index=3,
        family=socket.AF_INET6,
        prefixlen=64,
        local=ipaddress.IPv6Address("fd00::1"),
        address=ipaddress.IPv6Address("fd00::2"),
        flags=0x02 | 0x200,  # IFA_F_NODAD | IFA_F_NOPREFIXROUTE
        preferred_lft=0,
    )
    body = address_message(req)
    # ifa_flags holds the low 8 bits; IFA_FLAGS (8) carries all 32.
    assert body[:8] == bytes([10, 64, 0x02, 0]) + struct.pack("=i", 3)
    assert rta(2, ipaddress.IPv6Address("fd00::1").packed) in body
    assert rta(1, ipaddress.IPv6Address("fd00::2").packed) in body
    assert body.endswith(
        rta(8, struct.pack("=I", 0x202)) + rta(6, struct.pack("=IIII", 0, 0xFFFFFFFF, 0, 0))
    )


def test_dump_entries_are_filtered_by_interface() -> None:
    msg = bytes([2, 24, 0, 0]) + struct.pack("=i", 4) + rta(2, bytes([192, 168, 1, 9]))
    assert parse_addresses(msg, 4) == ipaddress.ip_interface("192.168.1.9/24")
    assert parse_addresses(msg, 5) is None
    v6 = bytes([10, 64, 0, 0]) + struct.pack("=i", 4)
    v6 += rta(1, ipaddress.IPv6Address("fe80::1").packed)
    assert parse_addresses(v6, 4) == ipaddress.ip_interface("fe80::1/64")
