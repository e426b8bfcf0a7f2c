"""UDP through the proxy: replies from the service address, flows, expiry, one-packet."""

import asyncio
import socket
from typing import Any

import pytest

from pylvs.model.service import ServiceFlags, VirtualService
from pylvs.model.table import DeleteDest, EditService
from pylvs.proto.conntrack import ConnState, Timeouts
from tests.integration.dataplane.proxy_helpers import (
    Clock,
    UdpBackend,
    drained,
    flows,
    proxy,
    run,
    udp_key,
)

KEY = udp_key()


class Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.got.put_nowait((data, addr))

    async def ask(self, data: bytes, to: tuple[str, int]) -> tuple[bytes, Any]:
        self.transport.sendto(data, to)
        return await asyncio.wait_for(self.got.get(), 2.0)


async def client(host: str = "127.0.0.1") -> Client:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(Client, local_addr=(host, 0))
    return proto


def target(plane: Any, key: Any = KEY) -> tuple[str, int]:
    addr, port = plane.bound_address(key)
    return str(addr), port


def test_flow_sticks_and_replies_come_from_the_service_address() -> None:
    async def body() -> None:
        a, b = await UdpBackend("a").start(), await UdpBackend("b").start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server(), b.real_server())
        to = target(plane)
        c = await client()
        for i in range(3):
            data, src = await c.ask(b"ping%d" % i, to)
            assert data == b"b:ping%d" % i
            assert src[:2] == to
        # A second client is a second flow: rr moves on.
        c2 = await client()
        assert (await c2.ask(b"x", to))[0] == b"a:x"
        rt = plane.service(KEY)
        assert rt is not None
        v = rt.stats.values()
        assert (v.conns, v.inpkts, v.outpkts) == (2, 4, 4)
        assert (v.inbytes, v.outbytes) == (5 * 3 + 1, 7 * 3 + 3)
        states = [e.state for e in plane.connections()]
        assert states == [ConnState.UDP, ConnState.UDP]
        assert [(d.activeconns, d.inactconns) for d in rt.dests] == [(0, 1), (0, 1)]
        c.transport.close()
        c2.transport.close()
        await drained(plane)

    run(body)


def test_flow_expires_after_the_udp_timeout() -> None:
    async def body() -> None:
        clock = Clock()
        a, b = await UdpBackend("a").start(), await UdpBackend("b").start()
        plane = await proxy(
            VirtualService(KEY, scheduler="rr"),
            a.real_server(),
            b.real_server(),
            clock=clock,
            timeouts=Timeouts(udp=5),
        )
        to = target(plane)
        c = await client()
        assert (await c.ask(b"1", to))[0] == b"b:1"
        clock.advance(4)
        assert (await c.ask(b"2", to))[0] == b"b:2"  # re-armed: 4 + 5
        clock.advance(4.5)
        assert plane.housekeep() == []
        (entry,) = plane.connections()
        assert entry.expires == 0  # 0.5 s left, truncated
        clock.advance(0.5)
        (dead,) = plane.housekeep()
        assert dead.state is ConnState.UDP
        assert flows(plane, KEY) == {}
        # The same client is a new flow now, scheduled afresh.
        assert (await c.ask(b"3", to))[0] == b"a:3"
        c.transport.close()
        await drained(plane)

    run(body)


def test_one_packet_scheduling() -> None:
    async def body() -> None:
        a, b = await UdpBackend("a").start(), await UdpBackend("b").start()
        svc = VirtualService(KEY, scheduler="rr", flags=ServiceFlags.ONEPACKET)
        plane = await proxy(svc, a.real_server(), b.real_server())
        to = target(plane)
        c = await client()
        got = [(await c.ask(b"p", to))[0] for _ in range(4)]
        assert got == [b"b:p", b"a:p", b"b:p", b"a:p"]
        assert plane.connections() == []
        rt = plane.service(KEY)
        assert rt is not None
        assert rt.stats.values().conns == 4
        assert [(d.inactconns, rt.stats_of(d).values().conns) for d in rt.dests] == [
            (0, 2),
            (0, 2),
        ]
        c.transport.close()
        await drained(plane)

    run(body)


def test_switching_one_packet_scheduling_leaves_live_flows_alone() -> None:
    """`-E ... -o` on a service with a live flow: IPVS looks the connection up before it
    schedules, so the flow keeps its server until it expires; switching back makes the next
    new flows connections again.  The ops path used to replace the flow's table entry, leaving
    the flow on a dead entry, absent from `-c` and the counts, never expiring."""

    async def body() -> None:
        clock = Clock()
        a, b = await UdpBackend("a").start(), await UdpBackend("b").start()
        svc = VirtualService(KEY, scheduler="rr")
        plane = await proxy(svc, a.real_server(), b.real_server(), clock=clock)
        to = target(plane)
        c, c2 = await client(), await client()
        assert (await c.ask(b"1", to))[0] == b"b:1"
        await plane.apply([EditService(VirtualService(KEY, scheduler="rr",
                                                      flags=ServiceFlags.ONEPACKET))])  # fmt: skip
        assert [(await c.ask(b"p", to))[0] for _ in range(3)] == [b"b:p"] * 3
        assert [(await c2.ask(b"q", to))[0] for _ in range(2)] == [b"a:q", b"b:q"]
        (entry,) = plane.connections()  # the live flow's; ops made none
        assert entry.cport == c.transport.get_extra_info("sockname")[1]
        await plane.apply([EditService(svc)])
        assert (await c.ask(b"2", to))[0] == b"b:2"
        clock.advance(301)  # the udp timeout since its last packet
        (dead,) = plane.housekeep()
        assert dead.state is ConnState.UDP
        assert flows(plane, KEY) == {}
        assert plane.connections() == []
        c.transport.close()
        c2.transport.close()
        await drained(plane)

    run(body)


def test_a_deleted_servers_flow_gets_nothing_more_and_ends_on_its_timer() -> None:
    """IPVS drops a client's packets whose connection's real server was deleted, without
    re-arming it (ip_vs_in_hook, expire_nodest_conn = 0): a client that keeps sending is not
    served until the flow's timer runs out, then it is scheduled to a live server.  The
    datagrams re-armed the flow and kept reaching the deleted server for ever."""

    async def body() -> None:
        clock = Clock()
        a, b = await UdpBackend("a").start(), await UdpBackend("b").start()
        plane = await proxy(
            VirtualService(KEY, scheduler="rr"), a.real_server(), b.real_server(), clock=clock
        )
        to = target(plane)
        c = await client()
        assert (await c.ask(b"1", to))[0] == b"b:1"
        await plane.apply([DeleteDest(KEY, b.real_server().key)])
        for i in range(3):
            clock.advance(90)
            assert plane.housekeep() == []
            c.transport.sendto(b"x%d" % i, to)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(c.got.get(), 0.2)
        assert plane.drops() == {"destination_deleted": 3}  # counted for /metrics
        clock.advance(30)  # 300 s after its last served datagram
        (dead,) = plane.housekeep()
        assert dead.dest.key == b.real_server().key
        assert (await c.ask(b"2", to))[0] == b"a:2"
        c.transport.close()
        await drained(plane)

    run(body)


def test_ipv6_udp() -> None:
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        import pytest

        pytest.skip("::1 is not available")

    async def body() -> None:
        key = udp_key("::1")
        a = await UdpBackend("a6", "::1").start()
        plane = await proxy(VirtualService(key, scheduler="rr"), a.real_server())
        c = await client("::1")
        data, src = await c.ask(b"hi", target(plane, key))
        assert data == b"a6:hi" and src[:2] == target(plane, key)
        c.transport.close()
        await drained(plane)

    run(body)


def test_datagrams_for_a_service_without_servers_are_dropped_and_counted() -> None:
    """No server to schedule to: IPVS drops the datagram; the plane counts it by reason."""

    async def body() -> None:
        plane = await proxy(VirtualService(KEY, scheduler="rr"))
        to = target(plane)
        c = await client()
        for i in range(2):
            c.transport.sendto(b"x%d" % i, to)
        for _ in range(50):
            if plane.drops().get("no_destination") == 2:
                break
            await asyncio.sleep(0.01)
        assert plane.drops() == {"no_destination": 2}
        c.transport.close()
        await drained(plane)

    run(body)
