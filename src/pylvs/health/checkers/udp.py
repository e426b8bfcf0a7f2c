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


@register("UDP_CHECK")
class UdpDriver(Driver):
    KIND = "UDP_CHECK"

    def payload(self) -> bytes:
        if self.check.payload is not None:
            return bytes(self.check.payload)
        return self.ctx.rng.randbytes(16)

    async def probe(self, url: int = 0) -> ProbeResult:
        check = self.check
        conn = check.conn
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
            if check.reply is not None and not check.reply_matches(reply):
                return ProbeResult(False, "reply data mismatch")
            return ProbeResult(True, "reply")
        except OSError as exc:
            return ProbeResult(False, error_text(exc))
        finally:
            sock.close()
