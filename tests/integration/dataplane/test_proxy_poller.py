"""The proxy's epoll set inside the event loop: events reach their handler, one failing
handler does not starve the others, a forgotten descriptor gets nothing more; the C fast
path relays, counts, and hands back what it cannot finish."""

import asyncio
import contextlib
import errno
import logging
import os
import select
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pylvs.dataplane.proxy import poller as poller_module
from pylvs.dataplane.proxy.poller import DATA, EOF_CLOSE, EOF_SHUT, PEER_EOF, READ, Poller
from tests.integration.dataplane.proxy_helpers import run

needs_pump = pytest.mark.skipif(
    poller_module._pump is None, reason="the C fast path (_pump) was not built"
)


@pytest.mark.usefixtures("relay_path")
def test_events_reach_their_handlers_and_a_failing_one_harms_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def body() -> None:
        poller = Poller(4096)
        assert (poller.pump is not None) == poller_module.USE_PUMP
        poller.attach(asyncio.get_running_loop())
        a, a_peer = socket.socketpair()
        b, b_peer = socket.socketpair()
        seen: list[str] = []

        def broken(events: int) -> None:
            a.recv(100)
            seen.append("a")
            raise RuntimeError("bug in one relay")

        def fine(events: int) -> None:
            assert events & READ
            seen.append("b:" + b.recv(100).decode())

        poller.add(a.fileno(), READ, broken)
        poller.add(b.fileno(), READ, fine)
        a_peer.send(b"x")
        b_peer.send(b"hello")
        for _ in range(50):
            await asyncio.sleep(0.01)
            if len(seen) == 2:
                break
        assert sorted(seen) == ["a", "b:hello"]
        # Caught and logged by the poller itself, not left to the event loop's handler.
        (record,) = [r for r in caplog.records if "bug in one relay" in str(r.exc_info)]
        assert record.name == "pylvs.proxy"
        # Forgotten (and closed by its owner): nothing more is delivered for it.
        poller.forget(b.fileno())
        b.close()
        a_peer.send(b"y")
        await asyncio.sleep(0.05)
        assert seen.count("a") == 2
        poller.close()
        for s in (a, a_peer, b_peer):
            s.close()

    with caplog.at_level(logging.ERROR, logger="pylvs.proxy"):
        run(body)


class Owner:
    """Records what the C path hands back to the relay that owns a fast socket."""

    def __init__(self) -> None:
        self.counts: list[tuple[Any, int, int, float]] = []
        self.spills: list[tuple[Any, bytes | None, int]] = []
        self.ends: list[tuple[Any, int]] = []

    def counted(self, end: Any, pkts: int, nbytes: int, last: float) -> None:
        self.counts.append((end, pkts, nbytes, last))

    def spilled(self, end: Any, data: bytes | None, err: int) -> None:
        self.spills.append((end, data, err))

    def ended(self, end: Any, how: int) -> None:
        self.ends.append((end, how))


async def until(predicate: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


@contextlib.contextmanager
def fast_pair(
    size: int = 4096, mode: int = DATA
) -> Iterator[tuple[Poller, Owner, list[socket.socket]]]:
    """A poller on the running loop with x (fast, relayed to y): sockets x, x_peer, y, y_peer.
    Everything is closed afterwards."""
    poller = Poller(size)
    poller.attach(asyncio.get_running_loop())
    owner = Owner()
    x, x_peer = socket.socketpair()
    y, y_peer = socket.socketpair()
    seen: list[int] = []
    # Relay sockets are watched for the peer's FIN too (tcp._READING), which the EOF modes
    # rely on.
    poller.add(x.fileno(), READ | PEER_EOF, seen.append)
    poller.make_fast(x.fileno(), y.fileno(), owner, "x", mode)
    try:
        yield poller, owner, [x, x_peer, y, y_peer]
    finally:
        poller.close()
        for sock in (x, x_peer, y, y_peer):
            sock.close()


@needs_pump
def test_c_path_relays_counts_and_stops_when_cleared() -> None:
    async def body() -> None:
        with fast_pair() as (poller, owner, (x, x_peer, _, y_peer)):
            await relays_counts_and_clears(poller, owner, x, x_peer, y_peer)

    run(body)


async def relays_counts_and_clears(
    poller: Poller, owner: Owner, x: socket.socket, x_peer: socket.socket, y_peer: socket.socket
) -> None:
    y_peer.setblocking(False)
    before = time.monotonic()
    for chunk in (b"hello", b"world!"):
        x_peer.send(chunk)
        await until(lambda c=chunk: _recv(y_peer) == c)
    poller.harvest()
    ((end, pkts, nbytes, last),) = owner.counts
    assert (end, pkts, nbytes) == ("x", 2, 11)
    assert before <= last <= time.monotonic()
    poller.harvest()  # collected once only
    assert len(owner.counts) == 1
    # Cleared (nothing left to collect): the next chunk goes to x's Python handler.
    assert poller.unfast(x.fileno()) is None
    handled: list[int] = []
    poller.handlers[x.fileno()] = handled.append
    x_peer.send(b"more")
    await until(lambda: handled != [])
    assert handled[0] & READ
    assert _recv(y_peer) == b""
    assert owner.spills == []


@needs_pump
def test_c_path_hands_back_what_the_peer_cannot_take() -> None:
    async def body() -> None:
        with fast_pair(256 * 1024) as (poller, owner, (x, x_peer, y, y_peer)):
            await hands_back_the_rest(poller, owner, x, x_peer, y, y_peer)

    run(body)


async def hands_back_the_rest(
    poller: Poller,
    owner: Owner,
    x: socket.socket,
    x_peer: socket.socket,
    y: socket.socket,
    y_peer: socket.socket,
) -> None:
    y.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    y_peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    x_peer.setblocking(False)
    sent = 0
    with_data = b"z" * 65536
    try:
        while sent < 200_000:
            sent += x_peer.send(with_data)
    except BlockingIOError:
        pass
    await until(lambda: owner.spills != [])
    ((end, data, err),) = owner.spills
    assert end == "x" and err == 0 and data
    # The fast path is off for x now: its counts come back on unfast, not by harvest.
    counts = poller.unfast(x.fileno())
    assert counts is not None and counts[0] >= 1
    y_peer.setblocking(False)
    got = b""
    while True:
        try:
            part = y_peer.recv(1 << 20)
        except BlockingIOError:
            break
        got += part
    assert len(got) + len(data) == counts[1]  # what was read = delivered + handed back


@needs_pump
def test_c_path_hands_back_a_failed_send_with_its_error() -> None:
    async def body() -> None:
        with fast_pair() as (_, owner, (_, x_peer, _, y_peer)):
            y_peer.close()  # y's peer is gone: sending to y fails with EPIPE
            x_peer.send(b"lost?")
            await until(lambda: owner.spills != [])
            assert owner.spills == [("x", b"lost?", errno.EPIPE)]

    run(body)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(100)
    except BlockingIOError:
        return b""


@needs_pump
def test_c_path_passes_an_eof_on_and_stops_watching() -> None:
    """EOF_SHUT: the data before the FIN is relayed, the peer is shut down for writing (its
    reader sees EOF), the relay is told, and the socket's EOF is not reported again."""

    async def body() -> None:
        with fast_pair(mode=DATA | EOF_SHUT) as (poller, owner, (x, x_peer, y, y_peer)):
            seen: list[int] = []
            poller.handlers[x.fileno()] = seen.append
            y_peer.setblocking(False)
            x_peer.send(b"last words")
            x_peer.shutdown(socket.SHUT_WR)
            await until(lambda: owner.ends != [])
            assert owner.ends == [("x", EOF_SHUT)]
            y_peer.setblocking(True)
            y_peer.settimeout(2)
            got = b""
            while part := y_peer.recv(100):
                got += part
            assert got == b"last words"  # then EOF: y was shut down for writing
            y_peer.send(b"back")  # only the direction towards y_peer is over
            y.settimeout(2)
            assert y.recv(100) == b"back"
            await asyncio.sleep(0.05)
            assert seen == [] and owner.spills == []
            expected: tuple[object, ...] = (1, 10, pytest.approx(time.monotonic(), abs=2))
            assert poller.unfast(x.fileno()) == expected

    run(body)


@needs_pump
def test_c_path_closes_both_on_the_last_eof_and_leaves_data_to_the_relay() -> None:
    """EOF_CLOSE: data is not the C path's to relay in this mode (the Python handler gets it,
    unread); the EOF after it closes this socket and its peer, and the relay is told."""

    async def body() -> None:
        with fast_pair(mode=EOF_CLOSE) as (poller, owner, (x, x_peer, y, y_peer)):
            got: list[bytes] = []

            def handler(events: int) -> None:
                got.append(x.recv(100))

            poller.handlers[x.fileno()] = handler
            x_peer.send(b"late data")
            await until(lambda: got != [])
            assert got == [b"late data"] and owner.ends == []
            x_peer.shutdown(socket.SHUT_WR)
            await until(lambda: owner.ends != [])
            assert owner.ends == [("x", EOF_CLOSE)]
            assert got == [b"late data"]  # the EOF was not handed to the handler
            # Both descriptors are closed: each peer sees the other end gone.
            y_peer.settimeout(2)
            assert y_peer.recv(100) == b""
            with pytest.raises(OSError):
                os.fstat(y.detach())
            with pytest.raises(OSError):
                os.fstat(x.detach())

    run(body)


@needs_pump
def test_eof_modes_need_the_ended_callback() -> None:
    assert poller_module._pump is not None
    a, b = socket.socketpair()
    ep = select.epoll()
    try:
        pump = poller_module._pump.Pump(ep.fileno(), 4096, {}, print, print)
        pump.set(a.fileno(), b.fileno())  # DATA alone is fine without it
        with pytest.raises(ValueError, match="ended"):
            pump.set(a.fileno(), b.fileno(), EOF_SHUT)
        with pytest.raises(ValueError, match="mode"):
            pump.set(a.fileno(), b.fileno(), 8)
    finally:
        ep.close()
        a.close()
        b.close()


@pytest.mark.usefixtures("relay_path")
def test_an_event_for_a_descriptor_closed_earlier_in_the_round_is_dropped() -> None:
    """One round holds events for a and b; a's handler closes b and a new socket gets b's
    number at once (as an accept in the same round would).  b's event, stale now, must not
    reach the new socket's handler: its EPOLLRDHUP would read as a FIN that never came."""

    async def body() -> None:
        poller = Poller(4096)
        loop = asyncio.get_running_loop()
        a, a_peer = socket.socketpair()
        b, b_peer = socket.socketpair()
        c, c_peer = socket.socketpair()
        reused: list[int] = []
        new_events: list[int] = []

        def on_a(events: int) -> None:
            a.recv(100)
            number = b.fileno()
            poller.forget(number)
            b.close()
            os.dup2(c.fileno(), number)  # the number is taken again at once
            poller.add(number, READ | PEER_EOF, new_events.append)
            reused.append(number)

        poller.add(a.fileno(), READ, on_a)
        poller.add(b.fileno(), READ | PEER_EOF, lambda events: pytest.fail("b was closed"))
        # Both ready before the loop runs the round: a first, then b with data and its FIN.
        a_peer.send(b"x")
        b_peer.send(b"y")
        b_peer.shutdown(socket.SHUT_WR)
        poller.attach(loop)
        await until(lambda: reused != [])
        await asyncio.sleep(0.05)
        assert new_events == []  # the new socket has had nothing to report
        c_peer.send(b"z")
        await until(lambda: new_events != [])
        poller.close()
        os.close(reused[0])
        for sock in (a, a_peer, b_peer, c, c_peer):
            sock.close()

    run(body)


@pytest.mark.usefixtures("relay_path")
def test_what_is_not_an_exception_leaves_the_round() -> None:
    """A handler's KeyboardInterrupt / SystemExit is not logged away as a relay's bug: it
    ends the round, on the C path as on the pure-Python one (which catches Exception only)."""
    poller = Poller(4096)
    a, a_peer = socket.socketpair()
    seen: list[str] = []

    def interrupted(events: int) -> None:
        seen.append(a.recv(10).decode())
        raise KeyboardInterrupt

    poller.add(a.fileno(), READ, interrupted)
    a_peer.send(b"x")
    round_ = poller._run if poller.pump is None else poller.pump.run
    try:
        with pytest.raises(KeyboardInterrupt):
            round_()
        assert seen == ["x"]
        a_peer.send(b"y")  # the poller still works afterwards
        poller.handlers[a.fileno()] = lambda events: seen.append(a.recv(10).decode())
        round_()
        assert seen == ["x", "y"]
    finally:
        poller.close()
        a.close()
        a_peer.close()
