"""SMTP_CHECK: a `220` greeting, `HELO <helo_name>` answered `250`, then `QUIT` and its reply
(keepalived/check/check_smtp.c `smtp_engine_thread`); every read and write is bounded by
connect_timeout, as keepalived's per-operation timers are."""

from __future__ import annotations

import asyncio

from pylvs.health.checkers.base import Driver, ProbeResult, register
from pylvs.health.checkers.connect import close_stream, error_text, open_stream
from pylvs.model.checks import SmtpProbe


def smtp_status(line: bytes) -> int:
    """check_smtp.c `smtp_get_status`: the three leading digits of a reply line (0 if none)."""
    head = line[:3]
    return int(head) if len(head) == 3 and head.isdigit() else 0


async def _line(reader: asyncio.StreamReader, timeout: float) -> bytes:
    async with asyncio.timeout(timeout):
        line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed")
    return line


@register("SMTP_CHECK")
class SmtpDriver(Driver):
    KIND = "SMTP_CHECK"

    async def probe(self, url: int = 0) -> ProbeResult:
        conn = self.target
        spec = self.check.probe
        assert isinstance(spec, SmtpProbe)
        try:
            reader, writer = await open_stream(conn)
        except (OSError, TimeoutError) as exc:
            return ProbeResult(False, f"connect: {error_text(exc)}")
        try:
            banner = await _line(reader, conn.timeout)
            if smtp_status(banner) != 220:
                return ProbeResult(False, f"bad greeting banner {banner[:40]!r}")
            writer.write(f"HELO {spec.helo_name}\r\n".encode())
            async with asyncio.timeout(conn.timeout):
                await writer.drain()
            reply = await _line(reader, conn.timeout)
            if smtp_status(reply) != 250:
                return ProbeResult(False, f"bad HELO response {reply[:40]!r}")
            writer.write(b"QUIT\r\n")
            async with asyncio.timeout(conn.timeout):
                await writer.drain()
            await _line(reader, conn.timeout)
            return ProbeResult(True, "220/250")
        except (OSError, TimeoutError) as exc:
            return ProbeResult(False, error_text(exc))
        finally:
            await close_stream(writer)
