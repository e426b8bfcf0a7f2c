"""The HTTP surface's own limits (web/server.py), on a real loopback listener.

Oversized and malformed requests get 400 and a close, a request that does not complete in
time gets 408, at most `maxconn` clients are served and `backlog` wait (more are closed at
once), and credentials are asked for where the users file says so.
"""

from __future__ import annotations

import asyncio
import base64

from pylvs.model.events import EventLog
from pylvs.model.snapshot import ConnView, DirectorSnapshot
from pylvs.web.actions import ActionResult, ServerAction
from pylvs.web.app import App
from pylvs.web.auth import Access, parse_users
from pylvs.web.server import Limits, WebServer


class Idle:
    """A director with nothing in it (web/app.py's Director protocol)."""

    def snapshot(self) -> DirectorSnapshot:
        return DirectorSnapshot()

    def event_log(self) -> EventLog:
        return EventLog()

    async def connections(self) -> tuple[ConnView, ...]:
        return ()

    async def act(self, action: ServerAction, who: str) -> ActionResult:
        return ActionResult(404, "no such service", "")


async def exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    try:
        async with asyncio.timeout(5):
            return await reader.read()
    finally:
        writer.close()


async def serving(limits: Limits, access: Access | None = None) -> WebServer:
    server = WebServer(App(Idle(), access, process_metrics=False), "127.0.0.1", 0, limits)
    await server.start()
    return server


def test_oversized_malformed_and_slow_requests() -> None:
    async def main() -> None:
        server = await serving(Limits(request_timeout=0.3, keepalive_timeout=0.3))
        try:
            big = b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n"
            assert (await exchange(server.port, big)).startswith(b"HTTP/1.1 400 ")
            bad = b"GET /metrics HTTP/9.9\r\n\r\n"
            assert (await exchange(server.port, bad)).startswith(b"HTTP/1.1 400 ")
            slow = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"  # never finished
            assert (await exchange(server.port, slow)).startswith(b"HTTP/1.1 408 ")
            ok = await exchange(server.port, b"GET /metrics HTTP/1.0\r\n\r\n")
            assert ok.startswith(b"HTTP/1.1 200 OK") and b"pylvs_ipvs_backend_weight{" not in ok
            missing = await exchange(server.port, b"GET /nope HTTP/1.0\r\n\r\n")
            assert missing.startswith(b"HTTP/1.1 404 ")
            assert server.bad_requests == 2
        finally:
            await server.close()

    asyncio.run(main())


def test_connection_slots_and_backlog() -> None:
    async def main() -> None:
        server = await serving(Limits(maxconn=2, backlog=1, keepalive_timeout=5))
        try:
            held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
            await asyncio.sleep(0.1)
            waiting = await asyncio.open_connection("127.0.0.1", server.port)
            await asyncio.sleep(0.1)
            # A fourth client finds the backlog full: closed at once, nothing answered.
            try:
                answer = await exchange(server.port, b"GET /metrics HTTP/1.0\r\n\r\n")
            except ConnectionResetError:
                answer = b""
            assert answer == b""
            waiting[1].write(b"GET /metrics HTTP/1.0\r\n\r\n")
            with_slot = asyncio.ensure_future(waiting[0].read())
            await asyncio.sleep(0.2)
            assert not with_slot.done()  # still waiting for a slot
            held[0][1].close()
            async with asyncio.timeout(5):
                assert (await with_slot).startswith(b"HTTP/1.1 200 OK")
            for _, w in held[1:]:
                w.close()
            waiting[1].close()
        finally:
            await server.close()

    asyncio.run(main())


def test_reads_need_a_credential_once_read_users_exist() -> None:
    async def main() -> None:
        access = Access(parse_users("read grafana pw\n"))
        server = await serving(Limits(), access)
        try:
            denied = await exchange(server.port, b"GET /metrics HTTP/1.0\r\n\r\n")
            assert denied.startswith(b"HTTP/1.1 401 ")
            assert b'www-authenticate: Basic realm="pylvs"' in denied
            token = base64.b64encode(b"grafana:pw")
            asked = b"GET /metrics HTTP/1.0\r\nAuthorization: Basic " + token + b"\r\n\r\n"
            assert (await exchange(server.port, asked)).startswith(b"HTTP/1.1 200 OK")
        finally:
            await server.close()

    asyncio.run(main())
