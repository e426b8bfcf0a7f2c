"""Read the sync datagrams out of the golden pcaps (tests/data/sync/, see its README).

A pcap file (libpcap format, link type Ethernet as tcpdump writes it for a veth) is a
24-byte global header and records of a 16-byte header plus the frame.  Only what the sync
tests need is parsed: IPv4 / IPv6 + UDP, no IP options, no fragments (the kernel sends each
message in one datagram).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "data" / "sync"


@dataclass(frozen=True)
class Datagram:
    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    sport: int
    dport: int
    ttl: int
    payload: bytes
    time: float


def datagrams(name: str) -> list[Datagram]:
    raw = (DATA / name).read_bytes()
    magic, _, _, _, _, _, linktype = struct.unpack_from("<IHHiIII", raw)
    assert magic == 0xA1B2C3D4 and linktype == 1, (hex(magic), linktype)
    out: list[Datagram] = []
    p = 24
    while p < len(raw):
        sec, usec, caplen, _ = struct.unpack_from("<IIII", raw, p)
        frame = raw[p + 16 : p + 16 + caplen]
        p += 16 + caplen
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        ip = frame[14:]
        src: ipaddress.IPv4Address | ipaddress.IPv6Address
        dst: ipaddress.IPv4Address | ipaddress.IPv6Address
        if ethertype == 0x0800:
            ihl = (ip[0] & 0x0F) * 4
            ttl, proto = ip[8], ip[9]
            src, dst = ipaddress.IPv4Address(ip[12:16]), ipaddress.IPv4Address(ip[16:20])
            udp = ip[ihl:]
        elif ethertype == 0x86DD:
            proto, ttl = ip[6], ip[7]
            src, dst = ipaddress.IPv6Address(ip[8:24]), ipaddress.IPv6Address(ip[24:40])
            udp = ip[40:]
        else:
            continue
        if proto != 17:
            continue
        sport, dport, length = struct.unpack_from("!HHH", udp)
        out.append(Datagram(src, dst, sport, dport, ttl, udp[8:length], sec + usec / 1e6))
    return out
