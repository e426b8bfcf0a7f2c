"""A socket handed to uvloop's create_connection(sock=) whose transport closes at
connection_made (a plain connect check's reset) must not close its descriptor number a second
time (health/checkers/connect.py handed_over): that number may belong to another connection
by then, and libuv abort()s the daemon when a descriptor it watches is closed under it."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import cast

import pytest

from pylvs.health.checkers.connect import handed_over

uvloop = pytest.importorskip("uvloop")


class Resetting(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # as a connect check does once it sees the connection up
        cast(asyncio.Transport, transport).abort()


def test_a_socket_closed_at_connection_made_leaves_a_reused_number_alone() -> None:
    server = socket.create_server(("127.0.0.1", 0))

    async def body() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setblocking(False)
        await loop.sock_connect(sock, server.getsockname())
        number = sock.fileno()
        await loop.create_connection(Resetting, sock=sock)
        handed_over(sock)
        await asyncio.sleep(0)  # the transport's connection_lost: libuv closed the number
        other = socket.socket()  # takes the lowest free number: the one just closed
        try:
            sock.close()  # what collecting the object does
            os.fstat(other.fileno())  # still open
            return number, other.fileno()
        finally:
            other.close()

    try:
        number, reused = uvloop.run(body())
    finally:
        server.close()
    assert reused == number  # the case that matters: the number was taken again
