"""Gratuitous ARP and unsolicited Neighbour Advertisement frames, and their per-interface pacing.

Frames as keepalived builds them (reference §4.11):
* GARP, vrrp/vrrp_arp.c `send_gratuitous_arp_immediate`: Ethernet to ff:ff:ff:ff:ff:ff from the
  interface MAC, type 0x0806; ARP hrd 1, pro 0x0800, hln 6, pln 4, op 1 (REQUEST),
  sha = MAC, spa = VIP, tha = ff:ff:ff:ff:ff:ff (broadcast, not zero), tpa = VIP.  42 bytes.
* NA, vrrp/vrrp_ndisc.c `ndisc_send_unsolicited_na_immediate`: Ethernet to 33:33:00:00:00:01,
  type 0x86dd; IPv6 from the VIP to ff02::1, hop limit 255, next header 58; ICMPv6 type 136
  code 0 with the Override flag (and Router when the interface forwards IPv6), target = VIP,
  option Target Link-Layer Address (type 2, length 1) = MAC (RFC 4861 §4.4, §7.2.6).  86 bytes.

`GarpPacer` is `garp_interval`/`gna_interval` (vrrp_arp.c `send_gratuitous_arp`, vrrp_scheduler.c
`vrrp_arp_thread`): one message per interval per interface; an address already queued only
raises its pending count (up to the repeat asked for) and goes round the queue again.
"""

from __future__ import annotations

import ipaddress
import struct
from collections import deque
from dataclasses import dataclass, field

from pylvs.proto.vrrp.packet import checksum_add, checksum_finish

ETH_BROADCAST = b"\xff" * 6
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
ETH_P_IP = 0x0800
ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
IPPROTO_ICMPV6 = 58
ND_NEIGHBOR_ADVERT = 136
ND_OPT_TARGET_LINKADDR = 2
ND_NA_FLAG_ROUTER = 0x80000000
ND_NA_FLAG_OVERRIDE = 0x20000000
NDISC_HOPLIMIT = 255
ALL_NODES = ipaddress.IPv6Address("ff02::1")
ALL_NODES_MAC = b"\x33\x33\x00\x00\x00\x01"


def parse_mac(text: str) -> bytes:
    parts = text.split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise ValueError(f"not a MAC address: {text!r}")
    return bytes(int(p, 16) for p in parts)


def ethernet_header(dst: bytes, src: bytes, ethertype: int) -> bytes:
    if len(dst) != 6 or len(src) != 6:
        raise ValueError("Ethernet addresses are 6 bytes")
    return dst + src + struct.pack("!H", ethertype)


def gratuitous_arp(mac: bytes, address: ipaddress.IPv4Address) -> bytes:
    """The whole GARP frame keepalived sends for `address` from interface MAC `mac`."""
    arp = struct.pack("!HHBBH", ARPHRD_ETHER, ETH_P_IP, 6, 4, ARPOP_REQUEST)
    arp += mac + address.packed + ETH_BROADCAST + address.packed
    return ethernet_header(ETH_BROADCAST, mac, ETH_P_ARP) + arp


def neighbour_advert(mac: bytes, address: ipaddress.IPv6Address, *, router: bool = False) -> bytes:
    """The whole unsolicited NA frame keepalived sends for `address` from MAC `mac`."""
    flags = ND_NA_FLAG_OVERRIDE | (ND_NA_FLAG_ROUTER if router else 0)
    option = struct.pack("!BB", ND_OPT_TARGET_LINKADDR, 1) + mac
    icmp = bytearray(struct.pack("!BBHI", ND_NEIGHBOR_ADVERT, 0, 0, flags) + address.packed)
    icmp += option
    pseudo = address.packed + ALL_NODES.packed + struct.pack("!I3xB", len(icmp), IPPROTO_ICMPV6)
    struct.pack_into(
        "!H", icmp, 2, checksum_finish(checksum_add(bytes(icmp), checksum_add(pseudo)))
    )
    ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), IPPROTO_ICMPV6, NDISC_HOPLIMIT)
    ip6 += address.packed + ALL_NODES.packed
    return ethernet_header(ALL_NODES_MAC, mac, ETH_P_IPV6) + ip6 + bytes(icmp)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class GarpPacer:
    """Rate limit for one interface and one family; `interval_us` 0 means send at once."""

    interval_us: int
    next_time: int | None = None
    queue: deque[Address] = field(default_factory=deque)
    pending: dict[Address, int] = field(default_factory=dict)

    def request(self, address: Address, repeat: int, now: int) -> list[Address]:
        """One send request (keepalived calls this `repeat` times per address); returns what
        goes out now."""
        if address in self.pending:
            if self.pending[address] < repeat:
                self.pending[address] += 1
            return []
        if self.interval_us and self.next_time is not None and now < self.next_time:
            self.pending[address] = 1
            self.queue.append(address)
            return []
        self._sent(now)
        return [address]

    def due(self, now: int) -> list[Address]:
        """vrrp_arp_thread: send queued addresses while the interval allows."""
        out: list[Address] = []
        while self.queue and (self.next_time is None or now >= self.next_time):
            address = self.queue.popleft()
            out.append(address)
            self._sent(now)
            self.pending[address] -= 1
            if self.pending[address]:
                self.queue.append(address)
            else:
                del self.pending[address]
        return out

    def next_deadline(self) -> int | None:
        return self.next_time if self.queue else None

    def _sent(self, now: int) -> None:
        if self.interval_us:
            self.next_time = now + self.interval_us
