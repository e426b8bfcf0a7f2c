"""Connection slots for the stats socket and page servers: HAProxy's `maxconn` and backlog.

At most `maxconn` connections are served at once (HAProxy's `stats maxconn`, a frontend's
`maxconn`); the next ones wait, as they would in HAProxy's accept backlog, until a slot
frees; beyond `backlog` waiting ones, a new connection is closed at once so that a flood
cannot pile up descriptors.  `serve(writer, handler, what)` runs one connection's handler in
a slot and always closes the connection, whatever the handler does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger("pylvs.stats")


class Closable(Protocol):
    """What serve() needs of a connection's writer (an asyncio.StreamWriter)."""

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


class Slots:
    def __init__(self, maxconn: int, backlog: int) -> None:
        self._free = asyncio.Semaphore(maxconn)
        self.backlog = backlog
        self.waiting = 0
        self.refused = 0  # connections closed because too many were waiting

    async def serve(
        self, writer: Closable, handler: Callable[[], Awaitable[None]], what: str
    ) -> None:
        if self.waiting >= self.backlog:
            self.refused += 1
            writer.close()
            return
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        try:
            await handler()
        except (ConnectionError, OSError, TimeoutError):
            pass  # the client went away or stalled: only its connection ends
        except Exception:  # a bug in one command must not take the server down
            log.exception("%s failed", what)
        finally:
            self._free.release()
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


async def close_servers(servers: list[asyncio.AbstractServer]) -> None:
    """Stop accepting on every listener, wait for them, forget them."""
    for server in servers:
        server.close()
    for server in servers:
        with contextlib.suppress(Exception):
            await server.wait_closed()
    servers.clear()
