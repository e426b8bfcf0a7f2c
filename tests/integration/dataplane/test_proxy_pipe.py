"""The C pump's kernel splicing (_pipe.h) on real TCP sockets on loopback: a byte budget
moved with splice(2) exactly, the next pipelined message left in the socket and the bytes
counted as spliced; a full peer gets the rest handed back in order and the body resumes
spliced; a tunnel's bytes (DATA) spliced up to the EOF, which stays Python's; PIPE_AUTO
copies until three reads in a row filled the buffer, then splices; `set` and `set_body`
reset the choice."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pylvs.dataplane.proxy import poller as poller_module
from pylvs.dataplane.proxy.poller import DATA, PEER_EOF, PIPE_AUTO, PIPE_ON, READ
from pylvs.proto.relay import CLIENT, BodyMode, Relayed
from tests.integration.dataplane.proxy_helpers import run
from tests.integration.dataplane.test_proxy_bodies import (
    body_pair,
    drain,
    pass_body,
    resumes,
    small_peer,
)
from tests.integration.dataplane.test_proxy_poller import until

pytestmark = pytest.mark.skipif(
    poller_module._pump is None, reason="the C fast path (_pump) was not built"
)


def test_a_spliced_budget_is_exact_counted_and_leaves_the_next_request() -> None:
    async def body() -> None:
        with body_pair(tcp=True, size=65536) as (poller, owner, (x, x_peer, y, y_peer), seen):
            pass_body(poller, owner, x, y, BodyMode.LENGTH, 60_000)
            poller.pipe_through(x.fileno(), PIPE_ON)
            payload = bytes(range(256)) * 234 + b"x" * 96  # 60,000 bytes: fits y's buffers
            sender = asyncio.get_running_loop().run_in_executor(
                None, x_peer.sendall, payload + b"GET /next HTTP/1.1\r\n\r\n"
            )
            got = b""

            def more() -> bool:
                nonlocal got
                got += drain(y_peer)
                return bool(owner.bodies) and len(got) == len(payload)

            await until(more)
            await sender
            assert got == payload
            ((_, event),) = owner.bodies
            assert isinstance(event, Relayed) and (event.side, event.n) == (CLIENT, 60_000)
            assert owner.counted_bytes == 60_000
            assert poller.piped(x.fileno()) == (60_000, 60_000)
            assert poller.piped(x.fileno()) == (0, 0)  # taken once
            await until(lambda: bool(seen))
            assert x.recv(100) == b"GET /next HTTP/1.1\r\n\r\n"
            assert owner.spills == []

    run(body)


def test_a_full_peer_gets_the_pipe_drained_back_in_order_and_the_body_resumes() -> None:
    async def body() -> None:
        with (
            body_pair(tcp=True, size=65536) as (poller, owner, (x, x_peer, _, _), _),
            small_peer() as (y, y_peer),
        ):
            real_pass = poller.pass_body

            def pass_and_pipe(fd: int, peer: int, *args: object, **kwargs: object) -> None:
                real_pass(fd, peer, *args, **kwargs)  # type: ignore[arg-type]
                poller.pipe_through(fd, PIPE_ON)  # `resume_body` keeps it

            poller.pass_body = pass_and_pipe  # type: ignore[method-assign]
            await resumes(poller, owner, x, x_peer, y, y_peer)
            piped, sent = poller.piped(x.fileno())
            assert piped == 1_000_000  # every byte came in through the pipe
            assert 0 < sent < piped  # what the peer refused went back through `spill`

    run(body)


def test_a_tunnel_is_spliced_and_its_eof_stays_with_python() -> None:
    async def body() -> None:
        with body_pair(tcp=True, size=65536) as (poller, owner, (x, x_peer, y, y_peer), seen):
            poller.make_fast(x.fileno(), y.fileno(), owner, "x", DATA)
            poller.pipe_through(x.fileno(), PIPE_ON)
            x_peer.sendall(b"t" * 200_000)
            x_peer.shutdown(socket.SHUT_WR)
            got = b""

            def more() -> bool:
                nonlocal got
                got += drain(y_peer)
                return len(got) == 200_000 and bool(seen)

            await until(more)
            assert got == b"t" * 200_000
            assert poller.piped(x.fileno()) == (200_000, 200_000)
            assert x.recv(10) == b""  # the EOF came to the handler, unread

    run(body)


def test_auto_splices_once_three_reads_in_a_row_filled_the_buffer() -> None:
    async def body() -> None:
        size = 16384
        with body_pair(tcp=True, size=size) as (poller, owner, (x, x_peer, y, y_peer), _):
            pass_body(poller, owner, x, y, BodyMode.LENGTH, 2 * size)
            poller.pipe_through(x.fileno(), PIPE_AUTO)
            x_peer.sendall(b"a" * (2 * size))
            await until(lambda: bool(owner.bodies))
            assert drain(y_peer) == b"a" * (2 * size)
            assert poller.piped(x.fileno()) == (0, 0)  # two full reads: still copied
            owner.bodies.clear()
            total = 40 * size
            pass_body(poller, owner, x, y, BodyMode.LENGTH, total)
            poller.pipe_through(x.fileno(), PIPE_AUTO)
            sender = asyncio.get_running_loop().run_in_executor(None, x_peer.sendall, b"b" * total)
            got = 0

            def more() -> bool:
                nonlocal got
                got += len(drain(y_peer))
                return bool(owner.bodies) and got == total

            await until(more, timeout=10)
            await sender
            piped, sent = poller.piped(x.fileno())
            assert piped == sent and 0 < piped <= total - 3 * size  # three copies first

    run(body)


def test_set_and_set_body_reset_the_choice() -> None:
    async def body() -> None:
        with body_pair(tcp=True, size=65536) as (poller, owner, (x, x_peer, y, y_peer), _):
            pass_body(poller, owner, x, y, BodyMode.LENGTH, 1000)
            poller.pipe_through(x.fileno(), PIPE_ON)
            pass_body(poller, owner, x, y, BodyMode.LENGTH, 1000)  # no pipe_through again
            x_peer.sendall(b"c" * 1000)
            await until(lambda: bool(owner.bodies))
            assert drain(y_peer) == b"c" * 1000
            assert poller.piped(x.fileno()) == (0, 0)
            with pytest.raises(ValueError, match="DATA or LENGTH"):
                poller.pipe_through(x.fileno(), PIPE_ON)  # handed back: nothing to splice
            poller.modify(x.fileno(), READ | PEER_EOF)

    run(body)


def test_a_unix_socket_pair_splices_too() -> None:
    """splice(2) takes any stream socket (TLS binds hand the streams a socketpair end; the
    driver keeps those off the pipe as HAProxy does, but the pump itself may move them)."""

    async def body() -> None:
        with body_pair(tcp=False, size=65536) as (poller, owner, (x, x_peer, y, y_peer), _):
            pass_body(poller, owner, x, y, BodyMode.LENGTH, 5000)
            poller.pipe_through(x.fileno(), PIPE_ON)
            x_peer.sendall(b"u" * 5000)
            await until(lambda: bool(owner.bodies))
            assert drain(y_peer) == b"u" * 5000
            assert poller.piped(x.fileno())[0] == 5000

    run(body)
