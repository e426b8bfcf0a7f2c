"""UDP_CHECK: send `payload` (random when not given) and wait connect_timeout.  Without
`require_reply`, silence is success and only an ICMP error (ECONNREFUSED on the connected
socket) fails; with it, a reply must arrive and, when a reply pattern is configured, match it
outside the X nibbles with a length within [min_reply_length, max_reply_length]
(keepalived/check/check_udp.c `udp_check_thread`, `check_udp_reply`; core/layer4.c
`udp_socket_state`)."""

from __future__ import annotations

import asyncio
import socket

from pylvs.health.checkers.base import Driver, ProbeResult, register
from pylvs.health.checkers.connect import error_text, make_socket, target
from pylvs.model.checks import UdpProbe


def reply_matches(spec: UdpProbe, data: bytes) -> bool:
    """check_udp.c `check_udp_reply`: length within bounds, then the first
    min(len(data), len(reply)) octets equal outside the wildcard nibbles."""
    if not spec.min_reply_length <= len(data) <= spec.max_reply_length:
        return False
    if spec.reply is None:
        return True
    mask = spec.reply_mask or bytes(len(spec.reply))
    return all((d ^ r) & ~m & 0xFF == 0 for d, r, m in zip(data, spec.reply, mask, strict=False))


@register("UDP_CHECK")
class UdpDriver(Driver):
    KIND = "UDP_CHECK"

    @property
    def spec(self) -> UdpProbe:
        probe = self.check.probe
        assert isinstance(probe, UdpProbe)
        return probe

    def payload(self) -> bytes:
        if self.spec.payload is not None:
            return bytes(self.spec.payload)
        return self.ctx.rng.randbytes(16)

    async def probe(self, url: int = 0) -> ProbeResult:
        check = self.spec
        conn = self.target
        loop = asyncio.get_running_loop()
        try:
            sock = make_socket(conn, socket.SOCK_DGRAM)
        except OSError as exc:
            return ProbeResult(False, error_text(exc))
        try:
            await loop.sock_connect(sock, target(conn))
            await loop.sock_sendall(sock, self.payload())
            try:
                async with asyncio.timeout(conn.timeout):
                    reply = await loop.sock_recv(sock, check.max_reply_length + 1)
            except TimeoutError:
                if check.require_reply:
                    return ProbeResult(False, "no reply")
                return ProbeResult(True, "no ICMP error")
            if check.reply is not None and not reply_matches(check, reply):
                return ProbeResult(False, "reply data mismatch")
            return ProbeResult(True, "reply")
        except OSError as exc:
            return ProbeResult(False, error_text(exc))
        finally:
            sock.close()
