"""The proxy's epoll set inside the event loop: events reach their handler, one failing
handler does not starve the others, a forgotten descriptor gets nothing more."""

import asyncio
import logging
import socket

import pytest
from proxy_helpers import run

from pylvs.dataplane.proxy.poller import READ, Poller


def test_events_reach_their_handlers_and_a_failing_one_harms_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def body() -> None:
        poller = Poller(4096)
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
