"""TCP relay behaviour: half-close, backpressure, failures, bad clients, stop, IPv6, refusals."""

import asyncio
import contextlib
import logging
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import time
from ipaddress import ip_address
from typing import Any

import pytest

from pylvs.dataplane.base import DataPlaneError
from pylvs.dataplane.proxy import ProxyDataPlane
from pylvs.dataplane.proxy.poller import DATA, EOF_SHUT
from pylvs.dataplane.proxy.tcp import TcpRelay
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.table import AddDest, AddService
from pylvs.proto.conntrack import ConnState
from pylvs.proto.conntrack.states import Timeouts
from tests.integration.dataplane.proxy_helpers import (
    A,
    TcpBackend,
    closed_port,
    drained,
    expect_reset,
    open_to,
    proxy,
    relays,
    run,
    runtime,
    settle,
    tcp_key,
)

# Every test on both relay paths: the C fast path (when built) and pure Python.
pytestmark = pytest.mark.usefixtures("relay_path")

KEY = tcp_key()


def test_half_close_client_still_gets_the_reply() -> None:
    async def body() -> None:
        a = await TcpBackend("a").start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
        reader, writer = await open_to(plane, KEY)
        writer.write(b"hello")
        writer.write_eof()
        # The backend only says "bye" after it saw our EOF, i.e. after shutdown(SHUT_WR).
        assert await reader.read() == b"a\nhellobye"
        writer.close()
        rt = plane.service(KEY)
        assert rt is not None
        v = rt.stats.values()
        assert (v.conns, v.inbytes) == (1, 5)
        assert v.outbytes == len(b"a\nhellobye")
        assert await settle(lambda: not relays(plane, KEY))
        (entry,) = plane.connections()
        assert entry.state is ConnState.TIME_WAIT
        await drained(plane)

    run(body)


def test_a_slow_reader_that_half_closes_still_gets_everything_queued_for_it() -> None:
    """The client half-closes while the proxy holds data queued towards it: the queue is
    still flushed.  (The C path took the EOF and stopped watching the client socket, EPOLLOUT
    included, and the rest of the response never came.)"""

    async def body() -> None:
        size = 4 * 1024 * 1024
        a = await TcpBackend("a", flood=size).start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
        addr, port = plane.bound_address(KEY)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, (str(addr), port))
        live = relays(plane, KEY)
        assert await settle(lambda: bool(live) and next(iter(live)).server is not None)
        relay = next(iter(live))
        assert await settle(lambda: relay.client.queued > 0)
        sock.shutdown(socket.SHUT_WR)
        got = 0
        while data := await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 5):
            got += len(data)
        assert got == 2 + size + 3  # "a\n", the flood, and "bye" once it saw our EOF
        sock.close()
        await drained(plane)

    run(body)


def test_backpressure_pauses_reading_the_fast_side() -> None:
    async def body() -> None:
        size = 16 * 1024 * 1024
        a = await TcpBackend("a", flood=size).start()
        plane = await proxy(
            VirtualService(KEY, scheduler="rr"),
            a.real_server(),
            high_water=64 * 1024,
            low_water=16 * 1024,
        )
        addr, port = plane.bound_address(KEY)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (str(addr), port))
        reader, writer = await asyncio.open_connection(sock=sock)
        live = relays(plane, KEY)
        assert await settle(lambda: bool(live) and next(iter(live)).server is not None)
        relay = next(iter(live))
        # The client does not read: the proxy stops reading the real server ...
        assert await settle(lambda: not relay.server.reading)
        assert relay.server.mask & select.EPOLLIN == 0
        # ... and holds at most about one high-water mark plus one read chunk.
        assert 64 * 1024 <= relay.client.queued <= 64 * 1024 + 256 * 1024
        await asyncio.sleep(0.1)
        assert relay.client.queued <= 64 * 1024 + 256 * 1024
        assert not relay.server.reading
        got = len(await reader.readexactly(2 + size))
        assert got == 2 + size
        writer.close()
        await drained(plane)

    run(body, timeout=20)


def test_connect_timeout_resets_the_client_and_counts() -> None:
    async def body() -> None:
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(0)
        port = hole.getsockname()[1]
        fillers = []
        for _ in range(3):  # fill the accept queue: further SYNs are dropped
            s = socket.socket()
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(("127.0.0.1", port))
            fillers.append(s)
        await asyncio.sleep(0.05)
        rs = RealServer(A("127.0.0.1"), port, method=ForwardMethod.MASQ)
        plane = await proxy(VirtualService(KEY, scheduler="rr"), rs, connect_timeout=0.3)
        reader, writer = await open_to(plane, KEY)
        start = time.monotonic()
        with pytest.raises(ConnectionResetError):
            await reader.read()
        assert 0.25 < time.monotonic() - start < 2.0
        rt = plane.service(KEY)
        assert rt is not None
        assert (rt.stats.errors, rt.stats_of(rt.dests[0]).errors) == (1, 1)
        (entry,) = plane.connections()
        assert entry.state is ConnState.CLOSE
        writer.close()
        await drained(plane)
        for s in [hole, *fillers]:
            s.close()

    run(body)


def test_refused_backend_resets_the_client_and_counts() -> None:
    async def body() -> None:
        rs = RealServer(A("127.0.0.1"), closed_port(), method=ForwardMethod.MASQ)
        plane = await proxy(VirtualService(KEY, scheduler="rr"), rs)
        for _ in range(2):
            await expect_reset(plane, KEY)
        rt = plane.service(KEY)
        assert rt is not None
        assert (rt.stats.errors, rt.stats_of(rt.dests[0]).errors) == (2, 2)
        assert [e.state for e in plane.connections()] == [ConnState.CLOSE] * 2
        assert rt.dests[0].inactconns == 2 and rt.dests[0].activeconns == 0
        await drained(plane)

    run(body)


def test_no_destination_resets_the_client() -> None:
    async def body() -> None:
        plane = await proxy(VirtualService(KEY, scheduler="rr"))
        await expect_reset(plane, KEY)
        rt = plane.service(KEY)
        assert rt is not None and rt.stats.errors == 1 and rt.stats.values().conns == 0
        assert plane.connections() == []
        await drained(plane)

    run(body)


def test_bad_clients_do_not_hurt_others() -> None:
    async def body() -> None:
        a = await TcpBackend("a").start()
        silent = await TcpBackend("s", "127.0.0.2", silent=True).start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
        key2 = tcp_key("127.0.0.3")
        await plane.apply([AddService(VirtualService(key2, scheduler="rr"))])
        await plane.apply([AddDest(key2, silent.real_server())])
        # 1. connects and sends nothing, stays open
        _, idle = await open_to(plane, KEY)
        # 2. resets mid-stream
        r2, w2 = await open_to(plane, KEY)
        assert await r2.readline() == b"a\n"
        w2.write(b"partial")
        sock = w2.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w2.transport.abort()
        # 3. garbage
        r3, w3 = await open_to(plane, KEY)
        junk = bytes(range(256)) * 64
        w3.write(junk)
        w3.write_eof()
        assert await r3.read() == b"a\n" + junk + b"bye"
        w3.close()
        # 4. a real server that accepts and never answers
        r4, w4 = await open_to(plane, key2)
        w4.write(b"anyone?")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r4.read(1), 0.2)
        w4.close()
        # A well-behaved client is served all along.
        r5, w5 = await open_to(plane, KEY)
        w5.write_eof()
        assert await r5.read() == b"a\nbye"
        w5.close()
        idle.close()
        assert await settle(lambda: not relays(plane, KEY) and not relays(plane, key2))
        await drained(plane)

    run(body)


async def expired_with_reset(
    plane: ProxyDataPlane, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """The next housekeeping expires the one (established) connection: the client is reset
    and the relay is gone."""
    (dead,) = plane.housekeep()
    assert dead.state is ConnState.ESTABLISHED
    with pytest.raises(ConnectionResetError):
        await reader.read()
    writer.close()
    assert not relays(plane, KEY)
    await drained(plane)


def test_idle_connection_closed_when_its_entry_expires() -> None:
    async def body() -> None:
        from tests.integration.dataplane.proxy_helpers import Clock

        clock = Clock()
        a = await TcpBackend("a").start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server(), clock=clock)
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"a\n"
        clock.advance(899)
        assert plane.housekeep() == []
        clock.advance(1)
        await expired_with_reset(plane, reader, writer)

    run(body)


def test_traffic_keeps_a_connection_alive_and_counts_while_it_is_open(relay_path: str) -> None:
    """On the real clock (the C path runs there): chunks relayed move the idle timer and
    show in the counters while the connection is still open, and `-Z` forgets them."""

    async def body() -> None:
        a = await TcpBackend("a").start()
        plane = await proxy(
            VirtualService(KEY, scheduler="rr"), a.real_server(), timeouts=Timeouts(tcp=1)
        )
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"a\n"
        for _ in range(5):  # 1.5 s of traffic against a 1 s idle timeout
            writer.write(b"ping\n")
            assert await reader.readline() == b"ping\n"
            await asyncio.sleep(0.3)
            assert plane.housekeep() == []
        (relay,) = relays(plane, KEY)
        # Handed over to the C path once both sides connected, when it is there: data and EOF.
        want = EOF_SHUT | DATA if relay_path == "c" else 0
        assert relay.client.fast == relay.server.fast == want
        rt = plane.service(KEY)
        assert rt is not None
        v = rt.stats.values()
        assert (v.inpkts, v.inbytes) == (5, 25)
        assert (v.outpkts, v.outbytes) == (6, 2 + 25)
        d = rt.stats_of(rt.dests[0]).values()
        assert (d.inbytes, d.outbytes) == (25, 27)
        plane.zero()
        writer.write(b"x\n")
        assert await reader.readline() == b"x\n"
        v = runtime(plane, KEY).stats.values()
        assert (v.inpkts, v.inbytes, v.outbytes) == (1, 2, 2)
        await asyncio.sleep(1.2)  # idle past the timeout
        await expired_with_reset(plane, reader, writer)

    run(body)


def test_set_reaches_an_established_connection_at_its_next_packet(relay_path: str) -> None:
    """`ipvsadm --set`: set_tcp_state assigns timeout_table[state] on every packet, so an
    ESTABLISHED connection's next chunk re-arms it with the new tcp timeout (it kept 900 s
    until a state change, on both relay paths)."""

    async def body() -> None:
        a = await TcpBackend("a").start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"a\n"
        plane.set_timeouts(plane.timeouts.with_set(1, 0, 0))
        for _ in range(3):  # traffic keeps it alive against the new 1 s timeout...
            writer.write(b"ping\n")
            assert await reader.readline() == b"ping\n"
            await asyncio.sleep(0.3)
            assert plane.housekeep() == []
        (entry,) = plane.connections()
        assert entry.state is ConnState.ESTABLISHED and entry.expires <= 1
        await asyncio.sleep(1.2)  # ...and idling past it ends it
        await expired_with_reset(plane, reader, writer)

    run(body)


def test_many_connections_with_large_and_small_messages_arrive_intact(
    relay_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Echoes of random sizes (a few bytes to more than the socket buffers hold, so the C path
    hands chunks back and takes them again) on concurrent connections: every byte comes back
    in order, and the counters add up to what was sent."""
    handed_back: list[int] = []
    real = TcpRelay.spilled

    def counting(self: TcpRelay, end: Any, data: bytes | None, err: int) -> None:
        handed_back.append(len(data or b""))
        real(self, end, data, err)

    monkeypatch.setattr(TcpRelay, "spilled", counting)
    rng = random.Random(7)
    plans = [[rng.choice((5, 900, 70_000, 16_000_000)) for _ in range(4)] for _ in range(8)]

    async def one(plane: ProxyDataPlane, sizes: list[int], seed: int) -> int:
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"a\n"
        for i, size in enumerate(sizes):
            data = bytes([(seed + i) % 251]) * size
            writer.write(data)
            # Not reading while the message goes out: the echo piles up towards us, the
            # proxy's writes to us fall short and its queue and backpressure take over.
            await writer.drain()
            assert await reader.readexactly(size) == data
        writer.write_eof()
        assert await reader.read() == b"bye"
        writer.close()
        return sum(sizes)

    async def body() -> None:
        a = await TcpBackend("a").start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
        sent = await asyncio.gather(*(one(plane, p, i) for i, p in enumerate(plans)))
        assert await settle(lambda: not relays(plane, KEY))
        v = runtime(plane, KEY).stats.values()
        assert v.inbytes == sum(sent)
        assert v.outbytes == sum(sent) + len(plans) * len(b"a\nbye")
        await drained(plane)
        assert (handed_back != []) is (relay_path == "c")

    run(body, timeout=60)


def test_a_request_response_connection_runs_without_its_python_handler(
    relay_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that answers and closes (HTTP with `Connection: close`): with the C path the
    relay hands both sockets over once connected, and the C path relays the request and the
    answer, passes the server's EOF on and closes both on the client's, so the relay's Python
    event handler never runs (poller.py); the counters and the table see it all the same."""
    events: list[int] = []
    real = TcpRelay._event

    def counting(self: TcpRelay, end: Any, ev: int) -> None:
        events.append(ev)
        real(self, end, ev)

    monkeypatch.setattr(TcpRelay, "_event", counting)

    async def answer_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"answer\n")
        writer.close()

    async def body() -> None:
        server = await asyncio.start_server(answer_and_close, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        plane = await proxy(
            VirtualService(KEY, scheduler="rr"), RealServer(ip_address("127.0.0.1"), port)
        )
        for _ in range(3):
            reader, writer = await open_to(plane, KEY)
            writer.write(b"question\n")
            assert await reader.read() == b"answer\n"  # and the EOF
            writer.close()
        assert await settle(lambda: not relays(plane, KEY))
        v = runtime(plane, KEY).stats.values()
        assert (v.conns, v.inpkts, v.inbytes, v.outpkts, v.outbytes) == (3, 3, 27, 3, 21)
        states = {c.state for c in plane.ctx.state.table.conns()}
        assert states == {ConnState.TIME_WAIT}
        assert (events == []) is (relay_path == "c")
        server.close()
        await server.wait_closed()
        await drained(plane)

    run(body)


def test_every_way_a_connection_ends_leaves_no_descriptor_behind(relay_path: str) -> None:
    """Server closes first, client half-closes first, client resets, server resets, client
    closes while the server still writes: whichever path (C or Python) takes each end, every
    relay goes away and the process holds exactly the descriptors it held before."""

    async def answer_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"answer\n")
        writer.close()

    async def reset_after_reading(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readline()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def body() -> None:
        echo = await TcpBackend("a").start()
        flood = await TcpBackend("f", "127.0.0.2", flood=8_000_000).start()
        closer = await asyncio.start_server(answer_and_close, "127.0.0.3", 0)
        resetter = await asyncio.start_server(reset_after_reading, "127.0.0.4", 0)
        keys = [tcp_key(f"127.0.0.{i}") for i in (11, 12, 13, 14)]
        backends = [
            echo.real_server(),
            flood.real_server(),
            RealServer(ip_address("127.0.0.3"), closer.sockets[0].getsockname()[1]),
            RealServer(ip_address("127.0.0.4"), resetter.sockets[0].getsockname()[1]),
        ]
        plane = await proxy(VirtualService(keys[0], scheduler="rr"), backends[0])
        for key, backend in zip(keys[1:], backends[1:], strict=True):
            await plane.apply([AddService(VirtualService(key, scheduler="rr"))])
            await plane.apply([AddDest(key, backend)])
        before = fds()
        for _ in range(5):
            # Client half-closes first, then reads the rest.
            r, w = await open_to(plane, keys[0])
            w.write(b"x")
            w.write_eof()
            assert await r.read() == b"a\nxbye"
            w.close()
            # Client resets mid-stream.
            r, w = await open_to(plane, keys[0])
            assert await r.readline() == b"a\n"
            w.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            w.transport.abort()
            # Client closes while the server is still writing to it.
            r, w = await open_to(plane, keys[1])
            assert await r.readline() == b"f\n"
            w.close()
            # Server answers and closes first.
            r, w = await open_to(plane, keys[2])
            w.write(b"q\n")
            assert await r.read() == b"answer\n"
            w.close()
            # Server resets.
            r, w = await open_to(plane, keys[3])
            w.write(b"q\n")
            with contextlib.suppress(ConnectionError):
                assert await r.read() == b""
            w.close()
        assert await settle(lambda: not any(relays(plane, k) for k in keys), timeout=5)
        assert await settle(lambda: fds() == before, timeout=5), (fds(), before)
        for server in (closer, resetter):
            server.close()
            await server.wait_closed()
        await drained(plane)

    run(body, timeout=60)


def test_stop_gives_live_connections_their_grace() -> None:
    async def body() -> None:
        a = await TcpBackend("a").start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"a\n"
        addr, port = plane.bound_address(KEY)
        stopping = asyncio.create_task(plane.stop(5.0))
        await asyncio.sleep(0.1)
        # No new clients ...
        with pytest.raises(OSError):
            await asyncio.open_connection(str(addr), port)
        # ... but the live one still works, and stop returns as soon as it is done.
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        start = time.monotonic()
        writer.write_eof()
        assert await reader.read() == b"bye"
        await stopping
        assert time.monotonic() - start < 1.0
        writer.close()

    run(body)


def test_stop_resets_what_is_left_after_the_grace() -> None:
    async def body() -> None:
        a = await TcpBackend("a").start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"a\n"
        start = time.monotonic()
        await plane.stop(0.3)
        assert 0.25 < time.monotonic() - start < 2.0
        with pytest.raises(ConnectionResetError):
            await reader.read()
        writer.close()

    run(body)


def test_ipv6_loopback() -> None:
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("::1 is not available")

    async def body() -> None:
        key = tcp_key("::1")
        a = await TcpBackend("a6", "::1").start()
        plane = await proxy(VirtualService(key, scheduler="rr"), a.real_server())
        reader, writer = await open_to(plane, key)
        writer.write_eof()
        assert await reader.read() == b"a6\nbye"
        writer.close()
        (entry,) = plane.connections()
        assert entry.caddr == A("::1") and entry.daddr == A("::1")
        await drained(plane)

    run(body)


def test_what_the_proxy_refuses() -> None:
    async def body() -> None:
        plane = await proxy(VirtualService(KEY, scheduler="rr"))
        taken = plane.bound_address(KEY)[1]
        mark = ServiceKey.mark(1)
        sctp = ServiceKey.inet(Protocol.SCTP, "127.0.0.1", 5000)
        busy = ServiceKey.inet(Protocol.TCP, "127.0.0.1", taken)
        changes = [
            AddService(VirtualService(mark)),
            AddService(VirtualService(sctp)),
            AddService(VirtualService(busy)),
        ]
        with pytest.raises(DataPlaneError) as info:
            await plane.apply(changes)
        reasons = [r for _, r in info.value.failures]
        assert "fwmark" in reasons[0]
        assert "SCTP" in reasons[1]
        assert "cannot listen" in reasons[2]
        assert [rt.key for rt in plane.services()] == [KEY]
        await drained(plane)

    run(body)


def test_direct_return_warned_once_per_service(caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> None:
        a = await TcpBackend("a").start()
        plane = await proxy(
            VirtualService(KEY, scheduler="rr"), a.real_server(method=ForwardMethod.ROUTE)
        )
        b = await TcpBackend("b").start()
        await plane.apply([AddDest(KEY, b.real_server(method=ForwardMethod.TUNNEL))])
        # Reached through the proxy all the same.
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"b\n"
        writer.close()
        await drained(plane)

    with caplog.at_level(logging.WARNING, logger="pylvs.proxy"):
        run(body)
    warnings = [r for r in caplog.records if "direct return" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None, reason="needs root and nft")
def test_a_connect_that_completes_later_queues_the_client_and_then_relays() -> None:
    """On loopback connect(2) finishes at once; on a real network it does not.  A throw-away
    nft table of this test (loopback only, deleted in every case) drops the SYNs to the real
    server for 0.3 s, so the handshake completes on the kernel's SYN retransmission, seen
    through epoll.  What the client sent meanwhile is queued and arrives, and its EOF too."""
    table = f"pylvs_test_syn_{os.getpid()}"

    async def body() -> None:
        a = await TcpBackend("a", "127.0.0.88").start()
        rule = (
            f"table inet {table} {{ chain out {{ type filter hook output priority 0; "
            f"ip daddr 127.0.0.88 tcp dport {a.port} tcp flags syn drop; }}; }}"
        )
        subprocess.run(["nft", "-f", "-"], input=rule, text=True, check=True)
        try:
            plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server())
            reader, writer = await open_to(plane, KEY)
            writer.write(b"early")
            writer.write_eof()
            await asyncio.sleep(0.3)
            (relay,) = relays(plane, KEY)
            assert relay.server is not None and not relay.server.connected
            assert relay.server.queued == len(b"early") and relay.server.shut_pending
        finally:
            subprocess.run(["nft", "delete", "table", "inet", table], check=False)
        # The SYN is retransmitted after about 1 s (RFC 6298 initial RTO).
        assert await asyncio.wait_for(reader.read(), 5.0) == b"a\nearlybye"
        writer.close()
        rt = plane.service(KEY)
        assert rt is not None and rt.stats.errors == 0
        assert await settle(lambda: not relays(plane, KEY))
        (entry,) = plane.connections()
        assert entry.state is ConnState.TIME_WAIT
        await drained(plane)

    try:
        run(body, timeout=10)
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], check=False, capture_output=True)
