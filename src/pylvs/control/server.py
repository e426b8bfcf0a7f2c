"""The daemon side of the control socket: a unix stream server, mode 0600.

Each connection carries one request line and gets one response line.  A handler failure, a
malformed line, a client that sends nothing (timed out) or one that disconnects early only
ends that connection: the daemon and other clients are not affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
from collections.abc import Awaitable, Callable

from pylvs.control.protocol import MAX_LINE, ProtocolError, Request, Response, decode_request

log = logging.getLogger("pylvs.control")

Handler = Callable[[Request], Awaitable[Response]]
READ_TIMEOUT = 10.0


class ControlServer:
    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self._server: asyncio.AbstractServer | None = None
        self.bad_requests = 0

    async def start(self) -> None:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                os.unlink(self.path)
        old = os.umask(0o177)  # the socket is created 0600: only its owner may steer the daemon
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=self.path, limit=MAX_LINE + 1
            )
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                async with asyncio.timeout(READ_TIMEOUT):
                    line = await reader.readline()
                request = decode_request(line)
            except (ProtocolError, ValueError, TimeoutError, asyncio.LimitOverrunError) as e:
                self.bad_requests += 1
                writer.write(Response(2, "", f"pylvs: bad control request: {e}\n").encode())
                await writer.drain()
                return
            try:
                response = await self.handler(request)
            except Exception:  # a bug in one command must not take the daemon down
                log.exception("control request %s failed", request.op)
                response = Response(1, "", "pylvs: internal error (see the daemon's log)\n")
            writer.write(response.encode())
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
