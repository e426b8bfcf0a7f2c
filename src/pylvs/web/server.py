"""The HTTP surface's own listener (`pylvs run --http ADDR:PORT`): a driver around web/app.py.

It is separate from everything that forwards traffic, checks servers or sends VRRP adverts,
and it has its own limits so that a flood of scrapes or slow clients stays its own problem
(issue 23 point 6): at most `maxconn` connections are served at once and `backlog` more wait
(beyond that a new connection is closed at once: control/slots.py); a request's head and body
are at most 16 KiB each (400 and a close beyond, or for anything malformed); a request must
arrive within `request_timeout` (408), an idle keep-alive connection is closed after
`keepalive_timeout`, and a client that does not read its answer within `request_timeout` is
cut off (control/http_conn.py, the stats page's connection loop too).  Answers are built from
one snapshot each; they never wait on anything but their own socket.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pylvs.control.http_conn import listening_socket, serve_connection
from pylvs.control.slots import Slots, close_servers
from pylvs.web.app import App


@dataclass(frozen=True, slots=True)
class Limits:
    maxconn: int = 32
    backlog: int = 256
    request_timeout: float = 10.0
    keepalive_timeout: float = 15.0


class WebServer:
    def __init__(self, app: App, host: str, port: int, limits: Limits | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.limits = limits or Limits()
        self._slots = Slots(self.limits.maxconn, self.limits.backlog)
        self._servers: list[asyncio.AbstractServer] = []
        self._clients: set[asyncio.Task[None]] = set()  # what close() ends
        self.bad_requests = 0

    async def start(self) -> None:
        sock = listening_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._servers.append(await asyncio.start_server(self._accept, sock=sock))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def close(self) -> None:
        """Stop listening and end every connection, served or waiting for a slot."""
        await close_servers(self._servers)
        clients = list(self._clients)
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            await self._slots.serve(writer, lambda: self._serve(reader, writer), "http")
        finally:
            self._clients.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve_connection(
            reader,
            writer,
            self.app.handle,
            request_timeout=self.limits.request_timeout,
            keepalive_timeout=self.limits.keepalive_timeout,
            on_bad=self._bad_request,
        )

    def _bad_request(self) -> None:
        self.bad_requests += 1
