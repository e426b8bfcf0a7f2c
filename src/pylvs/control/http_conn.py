"""One HTTP/1.1 connection served request after request: the stats page's and the HTTP
surface's listeners (control/stats_http.py, web/server.py) both run their connections here.

Requests are read and answered in order (keep-alive, pipelining: haproxy/http1.py's reader).
A request that does not complete within `request_timeout` gets a 408 (when part of it came)
and the connection closes; an idle keep-alive connection closes after `keepalive_timeout`; a
malformed or oversized request gets a 400 and a close, counted by `on_bad`; a client that does
not take its answer within `request_timeout` is cut off (TimeoutError, which the caller's
slot keeper, control/slots.py, takes as the client's fault).  `respond` answers a request;
`sent(request, response, wire_bytes, first)` hears of each answer written.  `listening_socket`
binds their listeners.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from pylvs.control.haproxy.http1 import (
    BAD_REQUEST,
    REQUEST_TIMEOUT,
    BadRequestError,
    RequestReader,
    closes,
    serialize,
)
from pylvs.control.haproxy.web import PageRequest, PageResponse

READ_CHUNK = 16384
BACKLOG = 128


def listening_socket(host: str, port: int) -> socket.socket:
    """A non-blocking TCP listener on host:port (port 0: any free one); OSError if refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


Respond = Callable[[PageRequest], Awaitable[PageResponse]]
Sent = Callable[[PageRequest, PageResponse, int, bool], None]


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    respond: Respond,
    *,
    request_timeout: float,
    keepalive_timeout: float,
    on_bad: Callable[[], None],
    sent: Sent | None = None,
) -> None:
    peer = writer.get_extra_info("peername")
    parser = RequestReader(str(peer[0]) if isinstance(peer, tuple) else "")
    first = True
    while True:
        limit = request_timeout if parser.pending else keepalive_timeout
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
            on_bad()
            writer.write(BAD_REQUEST)
            await writer.drain()
            return
        for request in requests:
            response = await respond(request)
            wire = serialize(response, request)
            if sent is not None:
                sent(request, response, len(wire), first)
            first = False
            writer.write(wire)
            async with asyncio.timeout(request_timeout):
                await writer.drain()
            if closes(response, request):
                return
