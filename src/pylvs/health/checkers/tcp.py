"""TCP_CHECK: success when a TCP connection completes within connect_timeout
(keepalived/check/check_tcp.c `tcp_check_thread`)."""

from __future__ import annotations

from pylvs.health.checkers.base import Driver, ProbeResult, register
from pylvs.health.checkers.connect import connect_tcp, error_text


@register("TCP_CHECK")
class TcpDriver(Driver):
    KIND = "TCP_CHECK"

    async def probe(self, url: int = 0) -> ProbeResult:
        try:
            sock = await connect_tcp(self.target)
        except (OSError, TimeoutError) as exc:
            return ProbeResult(False, f"connect: {error_text(exc)}")
        sock.close()
        return ProbeResult(True, "connected")
