"""The stats page's listener: `listen stats` + `bind ADDR:PORT` + `stats enable`, answered by
pylvs itself (a driver around control/haproxy/web.py; connections: control/http_conn.py).

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
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pylvs.control.haproxy.admin import Runtime
from pylvs.control.haproxy.web import PageRequest, PageResponse, StatsSettings, handle
from pylvs.control.http_conn import listening_socket, serve_connection
from pylvs.control.slots import Slots, close_servers

log = logging.getLogger("pylvs.stats")


@dataclass(frozen=True, slots=True)
class PageListener:
    host: str
    port: int  # 0: any free port (tests)
    settings: StatsSettings
    request_timeout: float = 10.0  # `timeout http-request` (else `timeout client`)
    keepalive_timeout: float = 10.0  # `timeout http-keep-alive` (else `timeout client`)
    fd: int | None = None  # `bind fd@N`: the listening socket handed down, used as it is


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
            if listener.fd is not None:
                sock = socket.socket(fileno=os.dup(listener.fd))
                sock.setblocking(False)
            else:
                sock = listening_socket(listener.host, listener.port)

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
        async def respond(request: PageRequest) -> PageResponse:
            response = handle(li.settings, request, self.runtime)
            for action in response.actions:
                log.info("stats page %s: %s", li.settings.proxy, action)
            return response

        def sent(request: PageRequest, response: PageResponse, size: int, first: bool) -> None:
            if self.on_exchange is not None:
                proxy = li.settings.proxy
                self.on_exchange(
                    PageExchange(proxy, response.status, request.wire_size, size, first)
                )

        await serve_connection(
            reader,
            writer,
            respond,
            request_timeout=li.request_timeout,
            keepalive_timeout=li.keepalive_timeout,
            on_bad=self._bad_request,
            sent=sent,
        )

    def _bad_request(self) -> None:
        self.bad_requests += 1
