"""The C pump's body modes on real sockets (socketpairs and TCP on loopback): a byte budget
relayed exactly, with the next pipelined message left in the socket; a chunked body passed
on re-framed up to its raw trailer block, refused at the first bad byte, cut by an EOF; a
peer that fills up hands the rest back and the body goes on after `resume_body`; the
socket's write side stays with its Python handler meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from pylvs.dataplane.proxy import poller as poller_module
from pylvs.dataplane.proxy.poller import PEER_EOF, READ, WRITE, Poller
from pylvs.proto.relay import (
    CLIENT,
    BodyCut,
    BodyEnded,
    BodyMode,
    ChunkRefused,
    ChunksRelayed,
    Relayed,
)
from tests.integration.dataplane.proxy_helpers import run
from tests.integration.dataplane.test_proxy_poller import Owner, until

pytestmark = pytest.mark.skipif(
    poller_module._pump is None, reason="the C fast path (_pump) was not built"
)


class BodyOwner(Owner):
    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[tuple[Any, BodyEnded]] = []

    def body_ended(self, end: Any, event: BodyEnded) -> None:
        self.bodies.append((end, event))

    @property
    def counted_bytes(self) -> int:
        return sum(n for _, _, n, _ in self.counts)


@contextlib.contextmanager
def body_pair(
    tcp: bool = False, size: int = 4096
) -> Iterator[tuple[Poller, BodyOwner, list[socket.socket], list[int]]]:
    """x (the body's source, its peer x_peer the sender) relayed to y (y_peer receives);
    x's Python handler records its events."""
    poller = Poller(size)
    poller.attach(asyncio.get_running_loop())
    owner = BodyOwner()
    if tcp:
        x, x_peer = tcp_pair()
        y, y_peer = tcp_pair()
    else:
        x, x_peer = socket.socketpair()
        y, y_peer = socket.socketpair()
    for s in (x, y, y_peer):
        s.setblocking(False)
    seen: list[int] = []
    poller.add(x.fileno(), READ | PEER_EOF, seen.append)
    try:
        yield poller, owner, [x, x_peer, y, y_peer], seen
    finally:
        poller.close()
        for s in (x, x_peer, y, y_peer):
            s.close()


@contextlib.contextmanager
def small_peer() -> Iterator[tuple[socket.socket, socket.socket]]:
    """y and y_peer, nonblocking, y's send buffer small: a unix pair that fills at once."""
    y, y_peer = socket.socketpair()
    y.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    y.setblocking(False)
    y_peer.setblocking(False)
    try:
        yield y, y_peer
    finally:
        y.close()
        y_peer.close()


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as lsock:
        a = socket.create_connection(lsock.getsockname())
        b, _ = lsock.accept()
    return b, a


def drain(sock: socket.socket) -> bytes:
    got = b""
    while True:
        try:
            part = sock.recv(1 << 20)
        except BlockingIOError:
            return got
        if not part:
            return got
        got += part


def pass_body(poller: Poller, owner: BodyOwner, x: socket.socket, y: socket.socket,
              mode: BodyMode, size: int) -> None:  # fmt: skip
    poller.pass_body(x.fileno(), y.fileno(), owner, "x", side=CLIENT, mode=mode, size=size)


@pytest.mark.parametrize("tcp", [False, True])
def test_a_byte_budget_is_relayed_exactly_and_the_next_request_stays(tcp: bool) -> None:
    async def body() -> None:
        with body_pair(tcp) as (poller, owner, (x, x_peer, y, y_peer), seen):
            pass_body(poller, owner, x, y, BodyMode.LENGTH, 10_000)
            payload = bytes(range(256)) * 39 + b"0123456789abcdef"  # 10,000 bytes
            x_peer.sendall(payload[:3000])
            await asyncio.sleep(0.02)
            x_peer.sendall(payload[3000:] + b"GET /next HTTP/1.1\r\n\r\n")
            got = b""

            def more() -> bool:
                nonlocal got
                got += drain(y_peer)
                return bool(owner.bodies)

            await until(more)
            got += drain(y_peer)
            assert got == payload
            ((end, event),) = owner.bodies
            assert end == "x" and isinstance(event, Relayed)
            assert (event.side, event.n) == (CLIENT, 10_000)
            assert owner.counted_bytes == 10_000  # counted before the hand-back
            # The socket is Python's again: the next request reaches its handler, whole.
            await until(lambda: bool(seen))
            assert x.recv(100) == b"GET /next HTTP/1.1\r\n\r\n"
            assert owner.spills == []

    run(body)


CHUNKED = (
    b"5;ext=1\r\nhello\r\n000a\n0123456789\n1F4 \r\n" + b"b" * 500 + b"\r\n0\r\nX-Sum: 42\r\n\r\n"
)
RECHUNKED = b"5\r\nhello\r\nA\r\n0123456789\r\n1F4\r\n" + b"b" * 500 + b"\r\n"


@pytest.mark.parametrize("tcp", [False, True])
@pytest.mark.parametrize("pieces", [1, 7])
def test_a_chunked_body_goes_on_rechunked_and_its_trailers_come_back(
    tcp: bool, pieces: int
) -> None:
    async def body() -> None:
        with body_pair(tcp) as (poller, owner, (x, x_peer, y, y_peer), seen):
            pass_body(poller, owner, x, y, BodyMode.CHUNKED, 1024)
            wire = CHUNKED + b"POST /next HTTP/1.1\r\n"
            step = -(-len(wire) // pieces)
            for i in range(0, len(wire), step):
                x_peer.sendall(wire[i : i + step])
                await asyncio.sleep(0.005)
            await until(lambda: bool(owner.bodies))
            ((_, event),) = owner.bodies
            assert isinstance(event, ChunksRelayed)
            assert event.trailers == b"X-Sum: 42\r\n\r\n"
            assert (event.n, event.payload) == (len(CHUNKED), 515)
            assert drain(y_peer) == RECHUNKED
            assert owner.counted_bytes == len(CHUNKED)
            await until(lambda: bool(seen))
            assert x.recv(100) == b"POST /next HTTP/1.1\r\n"

    run(body)


def test_a_chunked_body_is_refused_at_its_first_bad_byte() -> None:
    async def body() -> None:
        with body_pair() as (poller, owner, (x, x_peer, y, y_peer), _):
            pass_body(poller, owner, x, y, BodyMode.CHUNKED, 1024)
            x_peer.sendall(b"3\r\nabc\r\n4x\r\nrest")
            await until(lambda: bool(owner.bodies))
            ((_, event),) = owner.bodies
            assert isinstance(event, ChunkRefused)
            assert (event.offset, event.n) == (9, 9)
            assert drain(y_peer) == b"3\r\nabc\r\n"  # what came before it went on
            assert x.recv(100) == b"x\r\nrest"  # the refused byte was not read

    run(body)


@pytest.mark.parametrize("mode", [BodyMode.LENGTH, BodyMode.CHUNKED])
def test_an_eof_before_the_end_cuts_the_body(mode: BodyMode) -> None:
    async def body() -> None:
        with body_pair() as (poller, owner, (x, x_peer, y, y_peer), _):
            pass_body(poller, owner, x, y, mode, 100)
            x_peer.sendall(b"10\r\nabc" if mode is BodyMode.CHUNKED else b"abc")
            x_peer.shutdown(socket.SHUT_WR)
            await until(lambda: bool(owner.bodies))
            ((_, event),) = owner.bodies
            assert isinstance(event, BodyCut)
            if mode is BodyMode.CHUNKED:
                assert (event.n, event.payload) == (7, 3)
                assert drain(y_peer) == b"10\r\nabc"
            else:
                assert (event.n, event.payload) == (3, 3)

    run(body)


def test_a_full_peer_hands_the_rest_back_and_the_body_resumes() -> None:
    async def body() -> None:
        with (
            body_pair(tcp=True, size=65536) as (poller, owner, (x, x_peer, _, _), _),
            small_peer() as (y, y_peer),
        ):
            await resumes(poller, owner, x, x_peer, y, y_peer)

    run(body)


async def resumes(
    poller: Poller,
    owner: BodyOwner,
    x: socket.socket,
    x_peer: socket.socket,
    y: socket.socket,
    y_peer: socket.socket,
) -> None:
    total = 1_000_000
    pass_body(poller, owner, x, y, BodyMode.LENGTH, total)
    sender = asyncio.get_running_loop().run_in_executor(
        None, x_peer.sendall, b"q" * total + b"NEXT"
    )
    received = 0
    waiting = b""  # what the peer could not take, written by the "driver"
    spills = 0
    while not owner.bodies or waiting:
        await asyncio.sleep(0.001)
        received += len(drain(y_peer))
        if owner.spills:
            ((_, rest, err),) = owner.spills
            owner.spills.clear()
            assert err == 0 and rest and not waiting
            waiting, spills = rest, spills + 1
            poller.modify(x.fileno(), 0)  # backpressure: x is not read meanwhile
        if waiting:
            with contextlib.suppress(BlockingIOError):
                waiting = waiting[y.send(waiting) :]
            if not waiting and not owner.bodies:
                poller.modify(x.fileno(), READ | PEER_EOF)
                poller.resume_body(x.fileno(), y.fileno())  # goes on
    await sender
    ((_, event),) = owner.bodies
    assert isinstance(event, Relayed) and event.n == total
    assert received + len(drain(y_peer)) == total
    assert spills >= 1
    assert owner.counted_bytes == total  # counted once each, spilled or not
    assert x.recv(10) == b"NEXT"


def test_the_write_side_stays_with_the_python_handler() -> None:
    async def body() -> None:
        with body_pair() as (poller, owner, (x, x_peer, y, y_peer), seen):
            poller.modify(x.fileno(), READ | PEER_EOF | WRITE)
            pass_body(poller, owner, x, y, BodyMode.LENGTH, 5)
            x_peer.sendall(b"abc")
            await until(lambda: WRITE in seen)
            assert all(ev == WRITE for ev in seen)  # reads are the C path's
            assert drain(y_peer) == b"abc"
            poller.modify(x.fileno(), READ | PEER_EOF)
            x_peer.sendall(b"de")
            await until(lambda: bool(owner.bodies))
            assert drain(y_peer) == b"de"

    run(body)
