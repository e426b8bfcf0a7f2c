"""`stats socket "fd@N"`: the stats socket on a listening socket the parent process bound (what
HAProxy's regression-test driver passes as `fd@${cli}`): served as it is, never unlinked."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time

import pytest

from pylvs.control.haproxy.fake import FakeProxy, FakeRuntime
from pylvs.control.stats_socket import SocketSpec, StatsSocketServer, parse_address
from pylvs.model.proxies import ProcessInfo
from pylvs.proto.stick import Level
from pylvs.system.inherited import InheritedError


def _runtime() -> FakeRuntime:
    return FakeRuntime(
        [FakeProxy("fe", "frontend", "tcp")],
        clock=time.time,
        info=ProcessInfo(maxconn=100, hard_maxconn=100, started=time.time()),
    )


async def _ask(connect: str | int, line: bytes) -> bytes:
    if isinstance(connect, str):
        reader, writer = await asyncio.open_unix_connection(connect)
    else:
        reader, writer = await asyncio.open_connection("127.0.0.1", connect)
    writer.write(line)
    writer.write_eof()  # as varnishtest's CLI client: one command, then SHUT_WR
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


def test_a_parent_bound_tcp_socket_serves_the_cli() -> None:
    parent = socket.create_server(("127.0.0.1", 0))
    port = parent.getsockname()[1]
    fd = parent.detach()  # handed down: the server owns it now

    async def scenario() -> tuple[bytes, list[str]]:
        server = StatsSocketServer(_runtime(), [SocketSpec(f"fd@{fd}", Level.ADMIN)])
        await server.start()
        try:
            answer = await _ask(port, b"show info\n")
            labels = [s.address for s in server.sockets]
        finally:
            await server.close()
        return answer, labels

    answer, labels = asyncio.run(scenario())
    assert b"Process_num: 1\n" in answer
    assert labels == [f"ipv4@127.0.0.1:{port}"]  # named by what it is bound to


def test_a_parent_bound_unix_socket_is_not_unlinked() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cli.sock")
        parent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        parent.bind(path)
        parent.listen()
        fd = parent.detach()

        async def scenario() -> bytes:
            server = StatsSocketServer(_runtime(), [SocketSpec(f"fd@{fd}")])
            await server.start()
            try:
                return await _ask(path, b"show info\n")
            finally:
                await server.close()

        assert b"Name: " in asyncio.run(scenario())
        assert os.path.exists(path)  # the parent's path: not ours to remove


def test_an_fd_that_is_no_socket_is_refused_with_haproxys_words() -> None:
    r, w = os.pipe()
    try:
        server = StatsSocketServer(_runtime(), [SocketSpec(f"fd@{r}")])
        with pytest.raises(InheritedError, match=f"file descriptor '{r}' is not a socket"):
            asyncio.run(server.start())
    finally:
        os.close(r)
        os.close(w)
    with pytest.raises(ValueError, match="not a valid integer"):
        parse_address("fd@cli")
