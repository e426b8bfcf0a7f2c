"""Spliced sessions (_splice.h through Poller.splice): the C pump runs a pair of connected
TCP sockets from data to close, with half-close carried through, backpressure, a failed client
resetting the server and a failed server leaving the client a FIN (as HAProxy), `kill`, and one
report at the end with every byte counted once."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from pylvs.dataplane.proxy import poller as poller_module
from pylvs.dataplane.proxy.poller import (
    SPLICE_CLIENT_FAILED,
    SPLICE_CLOSED,
    SPLICE_SERVER_FAILED,
    Poller,
)
from tests.integration.dataplane.proxy_helpers import run
from tests.integration.dataplane.test_proxy_bodies import drain, tcp_pair
from tests.integration.dataplane.test_proxy_poller import Owner, until
from tests.port_helpers import closed_port

pytestmark = pytest.mark.skipif(
    poller_module._pump is None, reason="the C fast path (_pump) was not built"
)


class Session(Owner):
    def __init__(self) -> None:
        super().__init__()
        self.how: list[int] = []
        self.halves: list[Any] = []

    def half_closed(self, end: Any) -> None:
        self.halves.append(end)

    def spliced_end(self, how: int, counts: tuple[int, int, int, int, float]) -> None:
        cp, cb, sp, sb, last = counts
        if cp:
            self.counted("c", cp, cb, last)
        if sp:
            self.counted("s", sp, sb, last)
        self.how.append(how)

    def total(self, end: str) -> int:
        return sum(n for e, _, n, _ in self.counts if e == end)


@contextlib.contextmanager
def spliced(
    notify: bool = False,
) -> Iterator[tuple[Poller, Session, socket.socket, socket.socket, socket.socket, socket.socket]]:
    """client_peer <-> c | pump | s <-> server_peer, spliced on the running loop."""
    poller = Poller(65536)
    poller.attach(asyncio.get_running_loop())
    owner = Session()
    c, client = tcp_pair()
    s, server = tcp_pair()
    for sock in (c, s, client, server):
        sock.setblocking(False)
    poller.splice(c.fileno(), s.fileno(), owner, ("c", "s"), notify=notify)
    try:
        yield poller, owner, c, s, client, server
    finally:
        poller.close()
        for sock in (client, server):
            sock.close()
        for sock in (c, s):  # closed by the pump: only forget the numbers
            sock.detach()


def test_both_ways_then_both_eofs_close_both_and_report_once() -> None:
    async def body() -> None:
        with spliced(notify=True) as (_, owner, _c, _s, client, server):
            client.send(b"request")
            await until(lambda: drain_into(server, got_s) == b"request")
            server.send(b"response!")
            await until(lambda: drain_into(client, got_c) == b"response!")
            client.shutdown(socket.SHUT_WR)  # carried through to the server
            await until(lambda: at_eof(server))
            assert owner.halves == ["c"] and owner.how == []
            server.send(b"late")  # the other way still runs
            await until(lambda: drain_into(client, got_c) == b"response!late")
            server.shutdown(socket.SHUT_WR)
            await until(lambda: owner.how == [SPLICE_CLOSED])
            assert at_eof(client)
            assert (owner.total("c"), owner.total("s")) == (7, 13)
            assert owner.halves == ["c"]  # the first EOF only

    got_c: list[bytes] = []
    got_s: list[bytes] = []
    run(body)


def at_eof(sock: socket.socket) -> bool:
    try:
        return sock.recv(10) == b""
    except BlockingIOError:
        return False


def drain_into(sock: socket.socket, got: list[bytes]) -> bytes:
    got.append(drain(sock))
    return b"".join(got)


def test_a_full_peer_holds_the_rest_and_reading_stops_until_it_drains() -> None:
    async def body() -> None:
        with spliced() as (poller, owner, _c, s, client, server):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            payload = bytes(range(256)) * 8192  # 2 MiB, far more than the buffers
            loop = asyncio.get_running_loop()
            sender = loop.run_in_executor(None, blocking_send, client, payload)
            await asyncio.sleep(0.3)  # the server reads nothing for a while
            got = b""
            while len(got) < len(payload):
                await asyncio.sleep(0.001)
                got += drain(server)
            await sender
            assert got == payload
            poller.harvest()
            assert owner.total("c") == len(payload)
            client.shutdown(socket.SHUT_WR)
            server.shutdown(socket.SHUT_WR)
            await until(lambda: owner.how == [SPLICE_CLOSED])

    run(body)


def blocking_send(sock: socket.socket, data: bytes) -> None:
    sock.setblocking(True)
    sock.sendall(data)


def test_a_server_reset_leaves_the_client_a_fin() -> None:
    """As HAProxy (haproxy 2.6.12, captured): the client's side is closed cleanly."""

    async def body() -> None:
        with spliced() as (_, owner, _c, _s, client, server):
            server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            server.close()  # a reset towards the pump
            await until(lambda: owner.how == [SPLICE_SERVER_FAILED])
            await until(lambda: client_eof(client))

    run(body)


def test_a_client_reset_resets_the_server() -> None:
    async def body() -> None:
        with spliced() as (_, owner, _c, _s, client, server):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # a reset towards the pump
            await until(lambda: owner.how == [SPLICE_CLIENT_FAILED])
            await until(lambda: client_reset(server))

    run(body)


def client_eof(sock: socket.socket) -> bool:
    try:
        return sock.recv(10) == b""
    except BlockingIOError:
        return False


def client_reset(sock: socket.socket) -> bool:
    try:
        sock.recv(10)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    return False


def test_kill_ends_it_now_with_resets_and_its_counts() -> None:
    async def body() -> None:
        with spliced() as (poller, owner, c, _s, client, server):
            client.send(b"abc")
            await until(lambda: drain(server) == b"abc")
            poller.kill(c.fileno(), reset=True)
            assert owner.total("c") == 3 and owner.how == []
            await until(lambda: client_reset(client))
            assert poller.spliced == {}

    run(body)


def test_connect_splice_connects_and_splices_in_one_call() -> None:
    """Pump.connect_splice: a server that answers inside connect(2) (loopback) is spliced
    at once; the stream then runs and ends as a spliced one, counted once."""

    async def body() -> None:
        poller = Poller(65536)
        poller.attach(asyncio.get_running_loop())
        assert poller.pump is not None
        owner = Session()
        c, client = tcp_pair()
        listener = socket.create_server(("127.0.0.1", 0))
        c.setblocking(False)
        client.setblocking(False)
        try:
            host, port = listener.getsockname()
            sfd, err = poller.pump.connect_splice(c.fileno(), host, port, False, False)
            assert err == 0 and sfd >= 0
            server, _ = listener.accept()
            server.setblocking(False)
            poller.spliced_by_pump(c.fileno(), sfd, owner, ("c", "s"))
            nodelay = socket.socket(fileno=os.dup(sfd))
            assert nodelay.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            nodelay.close()
            client.send(b"ping")
            await until(lambda: drain_into(server, got_s) == b"ping")
            server.send(b"pong!")
            await until(lambda: drain_into(client, got_c) == b"pong!")
            client.shutdown(socket.SHUT_WR)
            server.shutdown(socket.SHUT_WR)
            await until(lambda: owner.how == [SPLICE_CLOSED])
            assert (owner.total("c"), owner.total("s")) == (4, 5)
            assert poller.spliced == {}
            server.close()
        finally:
            poller.close()
            listener.close()
            client.close()
            c.detach()  # closed by the pump

    got_c: list[bytes] = []
    got_s: list[bytes] = []
    run(body)


def test_connect_splice_refused_is_told_at_once_and_bad_addresses_raise() -> None:
    async def body() -> None:
        poller = Poller(65536)
        poller.attach(asyncio.get_running_loop())
        assert poller.pump is not None
        c, client = tcp_pair()
        port = closed_port()  # nothing listens there
        try:
            # Loopback refuses inside connect(2): told at once, the socket left to the caller
            sfd, err = poller.pump.connect_splice(c.fileno(), "127.0.0.1", port, False, False)
            assert sfd >= 0 and err == errno.ECONNREFUSED
            assert poller.spliced == {}
            os.close(sfd)
            with pytest.raises(ValueError):
                poller.pump.connect_splice(c.fileno(), "::1", port, False, False)
            with pytest.raises(ValueError):
                poller.pump.connect_splice(c.fileno(), "127.0.0.1", 70000, False, False)
            c.send(b"still mine")  # the client's socket was not touched
            assert client.recv(20) == b"still mine"
        finally:
            poller.close()
            c.close()
            client.close()

    run(body)
