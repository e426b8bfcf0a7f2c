"""DNS_CHECK: a UDP query (RD set, random id, one question of `type` for `name`, class IN);
success when a response with the same id, QR set and RCODE 0 arrives within connect_timeout.
Datagrams with another id or without QR are ignored (keepalived/check/check_dns.c
`dns_make_query`, `dns_recv_thread`)."""

from __future__ import annotations

import asyncio
import socket
import struct

from pylvs.health.checkers.base import Driver, ProbeResult, register
from pylvs.health.checkers.connect import error_text, make_socket, target
from pylvs.model.checks import DnsProbe

DNS_TYPE_CODES = {
    "A": 1,
    "NS": 2,
    "CNAME": 5,
    "SOA": 6,
    "MX": 15,
    "TXT": 16,
    "AAAA": 28,
    "RRSIG": 46,
    "DNSKEY": 48,
}
RD = 0x0100
QR = 0x8000


def encode_name(name: str) -> bytes:
    """QNAME as check_dns.c builds it: labels split at dots; "." is the root."""
    if name in (".", ""):
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def make_query(qid: int, qtype: str, name: str) -> bytes:
    header = struct.pack("!HHHHHH", qid, RD, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack("!HH", DNS_TYPE_CODES[qtype], 1)


def judge(reply: bytes, qid: int) -> str | None:
    """None to keep waiting; "" for success; else the failure reason."""
    if len(reply) < 12:
        return None
    rid, flags = struct.unpack("!HH", reply[:4])
    if rid != qid or not flags & QR:
        return None
    rcode = flags & 0x000F
    return "" if rcode == 0 else f"rcode = {rcode}"


@register("DNS_CHECK")
class DnsDriver(Driver):
    KIND = "DNS_CHECK"

    async def probe(self, url: int = 0) -> ProbeResult:
        conn = self.target
        spec = self.check.probe
        assert isinstance(spec, DnsProbe)
        qid = self.ctx.rng.randrange(0x10000)
        loop = asyncio.get_running_loop()
        try:
            sock = make_socket(conn, socket.SOCK_DGRAM)
        except OSError as exc:
            return ProbeResult(False, error_text(exc))
        try:
            async with asyncio.timeout(conn.timeout):
                await loop.sock_connect(sock, target(conn))
                await loop.sock_sendall(sock, make_query(qid, spec.type, spec.name))
                while True:
                    reply = await loop.sock_recv(sock, 4096)
                    verdict = judge(reply, qid)
                    if verdict is None:
                        continue
                    if verdict:
                        return ProbeResult(False, verdict)
                    return ProbeResult(True, "answer")
        except (OSError, TimeoutError) as exc:
            return ProbeResult(False, f"read: {error_text(exc)}")
        finally:
            sock.close()
