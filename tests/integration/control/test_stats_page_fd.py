"""The stats page on a listening socket handed down by the parent (`bind fd@N`, as
varnishtest and systemd hand them): served on that very socket, not on a new one."""

from __future__ import annotations

import asyncio
import socket
import time

from pylvs.control.haproxy.fake import FakeProxy, FakeRuntime
from pylvs.control.haproxy.web import StatsSettings
from pylvs.control.stats_http import PageListener, StatsPageServer


async def _ask(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stats;csv HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


def test_the_page_answers_on_an_inherited_listening_socket() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    runtime = FakeRuntime([FakeProxy("fe", "frontend", "http")], clock=time.time)
    settings = StatsSettings("fe", uri="/stats")

    async def run() -> bytes:
        page = StatsPageServer(runtime, [PageListener("", 0, settings, fd=listener.fileno())])
        await page.start()
        try:
            assert page.ports == [port]
            return await _ask(port)
        finally:
            await page.close()

    try:
        answer = asyncio.run(run())
    finally:
        listener.close()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\n# pxname,svname," in answer and b"\nfe,FRONTEND," in answer
