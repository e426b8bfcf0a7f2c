"""TLS for SSL_GET over a plain asyncio stream, with keepalived's close_notify rule.

asyncio's own TLS transport reports a peer that closes the TCP connection without a TLS
close_notify as an ordinary end of stream, whatever the context says, so `tls_compliant`
could not be honoured through it.  Driving an `ssl.SSLObject` over memory BIOs lets OpenSSL see
the raw EOF: with `tls_compliant` (no OP_IGNORE_UNEXPECTED_EOF) a missing close_notify is an
`ssl.SSLEOFError`, which fails the check as keepalived's check_ssl.c does; without it the
response read so far counts.
"""

from __future__ import annotations

import asyncio
import ssl


class TlsStream:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ctx: ssl.SSLContext,
        sni: str | None,
        timeout: float,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=sni or None)

    async def _flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.writer.write(data)
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()

    async def _fill(self) -> None:
        async with asyncio.timeout(self.timeout):
            chunk = await self.reader.read(65536)
        if chunk:
            self.incoming.write(chunk)
        else:
            self.incoming.write_eof()  # OpenSSL now decides whether this EOF was clean

    async def handshake(self) -> None:
        while True:
            try:
                self.obj.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
                continue
            await self._flush()
            return

    async def send(self, data: bytes) -> None:
        self.obj.write(data)
        await self._flush()

    async def read_all(self) -> bytes:
        """Everything up to the peer's close (SSLEOFError if it skipped close_notify and the
        context is strict)."""
        chunks: list[bytes] = []
        while True:
            try:
                data = self.obj.read(65536)
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
                continue
            except ssl.SSLZeroReturnError:  # close_notify (or a tolerated bare EOF)
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)
