"""The stats page's listener: `listen stats` + `bind ADDR:PORT` + `stats enable`, answered by
pylvs itself (a driver around control/haproxy/web.py and http1.py).

Each bound address serves one proxy's `stats` settings.  Per connection: requests are read
and answered in order (keep-alive, pipelining); a request that does not complete within the
proxy's `timeout http-request` (or `timeout client`) gets HAProxy's 408, an idle keep-alive
connection is closed after `timeout http-keep-alive` (or `timeout client`), a malformed one
gets HAProxy's 400 and is closed.  At most `maxconn` connections are served at once; others
wait for a free slot (at most `backlog` of them).  One client's behaviour never reaches
another.  `on_exchange` hands every answered request to the runtime, whose counters the page's
proxy shows.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pylvs.control.haproxy.admin import Runtime
from pylvs.control.haproxy.http1 import (
    BAD_REQUEST,
    REQUEST_TIMEOUT,
    BadRequestError,
    RequestReader,
    closes,
    serialize,
)
from pylvs.control.haproxy.web import StatsSettings, handle
from pylvs.control.slots import Slots, close_servers

log = logging.getLogger("pylvs.stats")
READ_CHUNK = 16384


@dataclass(frozen=True, slots=True)
class PageListener:
    host: str
    port: int  # 0: any free port (tests)
    settings: StatsSettings
    request_timeout: float = 10.0  # `timeout http-request` (else `timeout client`)
    keepalive_timeout: float = 10.0  # `timeout http-keep-alive` (else `timeout client`)


@dataclass(frozen=True, slots=True)
class PageExchange:
    """One answered request, for the runtime's counters of the proxy serving the page (its
    frontend's sessions, bytes, requests, response classes and intercepted requests, as
    HAProxy counts the stats applet's work)."""

    proxy: str
    status: int
    received: int  # the request's bytes on the wire (head and body)
    sent: int
    first: bool  # the connection's first request (a new session)


class StatsPageServer:
    def __init__(
        self,
        runtime: Runtime,
        listeners: Sequence[PageListener],
        *,
        maxconn: int = 100,
        backlog: int = 1024,
        on_exchange: Callable[[PageExchange], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.on_exchange = on_exchange
        self.listeners = list(listeners)
        self._slots = Slots(maxconn, backlog)
        self._servers: list[asyncio.AbstractServer] = []
        self.ports: list[int] = []
        self.bad_requests = 0

    async def start(self) -> None:
        for listener in self.listeners:
            family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((listener.host, listener.port))
                sock.listen(128)
                sock.setblocking(False)
            except OSError:
                sock.close()
                raise

            async def serve(
                r: asyncio.StreamReader, w: asyncio.StreamWriter, li: PageListener = listener
            ) -> None:
                await self._accept(r, w, li)

            self._servers.append(await asyncio.start_server(serve, sock=sock))
            self.ports.append(sock.getsockname()[1])

    async def close(self) -> None:
        await close_servers(self._servers)

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, li: PageListener
    ) -> None:
        await self._slots.serve(writer, lambda: self._serve(reader, writer, li), "stats page")

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, li: PageListener
    ) -> None:
        peer = writer.get_extra_info("peername")
        parser = RequestReader(str(peer[0]) if isinstance(peer, tuple) else "")
        first = True
        while True:
            limit = li.request_timeout if parser.pending else li.keepalive_timeout
            try:
                async with asyncio.timeout(limit):
                    data = await reader.read(READ_CHUNK)
            except TimeoutError:
                if parser.pending:
                    writer.write(REQUEST_TIMEOUT)
                    await writer.drain()
                return
            if not data:
                return
            try:
                requests = parser.feed(data)
            except BadRequestError:
                self.bad_requests += 1
                writer.write(BAD_REQUEST)
                await writer.drain()
                return
            for request in requests:
                response = handle(li.settings, request, self.runtime)
                for action in response.actions:
                    log.info("stats page %s: %s", li.settings.proxy, action)
                wire = serialize(response, request)
                if self.on_exchange is not None:
                    exchange = PageExchange(
                        li.settings.proxy, response.status, request.wire_size, len(wire), first
                    )
                    self.on_exchange(exchange)
                first = False
                writer.write(wire)
                async with asyncio.timeout(li.request_timeout):
                    await writer.drain()
                if closes(response, request):
                    return
