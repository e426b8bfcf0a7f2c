"""PING_CHECK: an ICMP (ICMPv6) echo request; success when the echo reply with our sequence
number arrives within connect_timeout (keepalived/check/check_ping.c).  An unprivileged
"ping" socket (SOCK_DGRAM/IPPROTO_ICMP, allowed by net.ipv4.ping_group_range) is used when the
kernel allows it, a raw socket otherwise (needs root or CAP_NET_RAW)."""

from __future__ import annotations

import asyncio
import os
import socket
import struct

from pylvs.health.checkers.base import Driver, ProbeContext, ProbeResult, register
from pylvs.health.checkers.connect import SO_MARK, error_text
from pylvs.model.checks import CheckSpec

ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}


def inet_checksum(data: bytes) -> int:
    """RFC 1071 one's complement sum."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(version: int, ident: int, seq: int, payload: bytes) -> bytes:
    head = struct.pack("!BBHHH", ECHO_REQUEST[version], 0, 0, ident, seq)
    if version == 6:  # the kernel computes ICMPv6 checksums (RFC 3542 IPV6_CHECKSUM)
        return head + payload
    csum = inet_checksum(head + payload)
    return struct.pack("!BBHHH", ECHO_REQUEST[version], 0, csum, ident, seq) + payload


def parse_reply(version: int, data: bytes, raw: bool) -> tuple[int, int, int] | None:
    """(type, ident, seq) of a received ICMP message; raw IPv4 sockets include the IP header."""
    if raw and version == 4 and data:
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < 8:
        return None
    icmp_type, _code, _csum, ident, seq = struct.unpack("!BBHHH", data[:8])
    return icmp_type, ident, seq


def open_icmp(version: int) -> tuple[socket.socket, bool]:
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if version == 6 else socket.IPPROTO_ICMP
    try:
        return socket.socket(family, socket.SOCK_DGRAM, proto), False
    except OSError:
        return socket.socket(family, socket.SOCK_RAW, proto), True


@register("PING_CHECK")
class PingDriver(Driver):
    KIND = "PING_CHECK"

    def __init__(self, check: CheckSpec, ctx: ProbeContext) -> None:
        super().__init__(check, ctx)
        self.seq = 0

    async def probe(self, url: int = 0) -> ProbeResult:
        conn = self.target
        version = conn.address.version
        self.seq = (self.seq + 1) & 0xFFFF
        ident = (os.getpid() ^ id(self)) & 0xFFFF
        loop = asyncio.get_running_loop()
        try:
            sock, raw = open_icmp(version)
        except OSError as exc:
            return ProbeResult(False, f"icmp socket: {error_text(exc)}")
        try:
            sock.setblocking(False)
            if conn.fwmark:
                sock.setsockopt(socket.SOL_SOCKET, SO_MARK, conn.fwmark)
            if conn.bind_address is not None:
                sock.bind((str(conn.bind_address), 0))
            packet = echo_request(version, ident, self.seq, b"pylvs-ping-check")
            async with asyncio.timeout(conn.timeout):
                await loop.sock_sendto(sock, packet, (str(conn.address), 0))
                while True:
                    data = await loop.sock_recv(sock, 2048)
                    got = parse_reply(version, data, raw)
                    if got is None or got[0] != ECHO_REPLY[version] or got[2] != self.seq:
                        continue
                    if raw and got[1] != ident:  # a raw socket sees every echo reply
                        continue
                    return ProbeResult(True, "echo reply")
        except (OSError, TimeoutError) as exc:
            return ProbeResult(False, error_text(exc))
        finally:
            sock.close()
