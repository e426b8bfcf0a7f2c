"""Real TCP through the proxy: each scheduler's choice, persistence, dest removal, quiescing."""

import asyncio
from typing import Any

import pytest

from pylvs.dataplane.proxy import ProxyDataPlane
from pylvs.dataplane.proxy.tcp import HELD_UNWATCHED
from pylvs.model.service import ServiceFlags, VirtualService
from pylvs.model.table import AddDest, AddService, DeleteDest, DeleteService, EditDest
from pylvs.proto.conntrack import ConnState, Timeouts
from tests.integration.dataplane.proxy_helpers import (
    Clock,
    TcpBackend,
    ask,
    drained,
    open_to,
    proxy,
    relays,
    run,
    settle,
    tcp_key,
)

# Every test on both relay paths: the C fast path (when built) and pure Python.
pytestmark = pytest.mark.usefixtures("relay_path")

KEY = tcp_key()


async def backends(*names: str) -> list[TcpBackend]:
    return [await TcpBackend(n).start() for n in names]


def test_rr_alternates_newest_first() -> None:
    async def body() -> None:
        a, b = await backends("a", "b")
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server(), b.real_server())
        # b was added last, so it is at the head of the list and comes first.
        got = [await ask(plane, KEY) for _ in range(6)]
        assert got == ["b", "a", "b", "a", "b", "a"]
        rt = plane.service(KEY)
        assert rt is not None
        assert rt.stats.values().conns == 6
        assert [rt.stats_of(d).values().conns for d in rt.dests] == [3, 3]
        await drained(plane)

    run(body)


def test_wrr_one_to_two() -> None:
    async def body() -> None:
        a, b = await backends("a", "b")
        plane = await proxy(
            VirtualService(KEY, scheduler="wrr"), a.real_server(1), b.real_server(2)
        )
        # ip_vs_wrr.c: adding a (w1) sets cw = mw = 1; adding b (w2) raises mw to 2 but
        # keeps cw = 1 (ip_vs_wrr_dest_changed). Over [b(2), a(1)]: cw=1 -> b, a; then
        # cw drops to 0 -> mw=2 -> b; cw=1 -> b, a; cw=2 -> b ...
        got = [await ask(plane, KEY) for _ in range(6)]
        assert got == ["b", "a", "b", "b", "a", "b"]
        await drained(plane)

    run(body)


def test_wlc_spreads_long_lived_connections_by_weighted_counts() -> None:
    async def body() -> None:
        a, b = await backends("a", "b")
        plane = await proxy(
            VirtualService(KEY, scheduler="wlc"), a.real_server(1), b.real_server(3)
        )
        held = []
        names = []
        for _ in range(4):
            reader, writer = await open_to(plane, KEY)
            names.append((await reader.readline()).decode().strip())
            held.append(writer)
        # Overheads (active << 8) compared as loh * w(dest) > doh * w(least):
        # b first (tie), then a (256*1 > 0*3), then b (256 > 768? no), then b (512 > 768? no).
        assert names == ["b", "a", "b", "b"]
        rt = plane.service(KEY)
        assert rt is not None
        assert [(d.activeconns, d.inactconns) for d in rt.dests] == [(3, 0), (1, 0)]
        for w in held:
            w.close()
        await drained(plane)

    run(body)


def test_lc_with_equal_weights_alternates_while_connections_stay_open() -> None:
    async def body() -> None:
        a, b = await backends("a", "b")
        plane = await proxy(VirtualService(KEY, scheduler="lc"), a.real_server(), b.real_server())
        held, names = [], []
        for _ in range(4):
            reader, writer = await open_to(plane, KEY)
            names.append((await reader.readline()).decode().strip())
            held.append(writer)
        assert names == ["b", "a", "b", "a"]
        for w in held:
            w.close()
        await drained(plane)

    run(body)


def test_sh_pins_each_client_address() -> None:
    async def body() -> None:
        a, b = await backends("a", "b")
        plane = await proxy(VirtualService(KEY, scheduler="sh"), a.real_server(), b.real_server())
        for last in range(10, 18):
            src = f"127.0.0.{last}"
            first = await ask(plane, KEY, src)
            assert first in ("a", "b")
            assert [await ask(plane, KEY, src) for _ in range(3)] == [first] * 3
        await drained(plane)

    run(body)


def test_persistence_pins_a_subnet_until_the_template_expires() -> None:
    async def body() -> None:
        clock = Clock()
        a, b = await backends("a", "b")
        svc = VirtualService(
            KEY, scheduler="rr", flags=ServiceFlags.PERSISTENT, timeout=10, netmask=24
        )
        plane = await proxy(svc, a.real_server(), b.real_server(), clock=clock)
        # All of 127.0.0.0/24 is one client for persistence.
        got = [await ask(plane, KEY, f"127.0.0.{n}") for n in (10, 20, 30, 10)]
        assert got == ["b"] * 4
        rt = plane.service(KEY)
        assert rt is not None and rt.dests[0].persistconns == 1
        templates = [e for e in plane.connections() if e.template]
        assert len(templates) == 1
        assert (templates[0].cport, templates[0].expires) == (0, 10)
        # Another /24 is scheduled on its own: rr moves on to a.
        assert await ask(plane, KEY, "127.0.1.5") == "a"
        await settle(lambda: not relays(plane, KEY))
        # The closed connections sit in TIME_WAIT (120 s) and keep the template alive
        # (re-armed by 60 s); once they are gone the template expires too.
        clock.advance(121)
        plane.housekeep()
        assert [e.template for e in plane.connections()] == [True, True]
        clock.advance(60)
        plane.housekeep()
        assert plane.connections() == []
        assert rt.dests[0].persistconns == 0
        # Rescheduled: rr continues from a.
        assert await ask(plane, KEY, "127.0.0.10") == "b"
        await drained(plane)

    run(body)


async def connected_then_deleted(
    **kw: Any,
) -> tuple[TcpBackend, ProxyDataPlane, asyncio.StreamReader, asyncio.StreamWriter]:
    """rr over servers a and b (`kw` for the plane), a client connected to b, then b deleted
    (`ipvsadm -d`): b, the plane and the client's streams."""
    a, b = await backends("a", "b")
    plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server(), b.real_server(), **kw)
    reader, writer = await open_to(plane, KEY)
    assert await reader.readline() == b"b\n"
    await plane.apply([DeleteDest(KEY, b.real_server().key)])
    return b, plane, reader, writer


def test_removed_dest_holds_its_live_connection_until_it_comes_back() -> None:
    """ipvsadm -d with live connections (expire_nodest_conn = 0, ip_vs_in_hook): new ones go
    elsewhere; the live one stays in the table, bound to the trashed server; the client's
    data no longer reaches it (IPVS drops it, and it waits here) while the server's still
    reaches the client; adding the server back revives it and the held data goes on."""

    async def body() -> None:
        b, plane, reader, writer = await connected_then_deleted()
        assert [await ask(plane, KEY) for _ in range(3)] == ["a", "a", "a"]
        writer.write(b"held")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(4), 0.3)
        b.writers[0].write(b"push\n")  # the server's side still flows
        assert await reader.readline() == b"push\n"
        rt = plane.service(KEY)
        assert rt is not None and [d.key for d in rt.trash] == [b.real_server().key]
        assert [d.activeconns for d in rt.trash] == [1]
        (entry,) = [e for e in plane.connections() if e.dport == b.port]
        assert entry.state is ConnState.ESTABLISHED
        await plane.apply([AddDest(KEY, b.real_server())])  # back from the trash
        assert await reader.readexactly(4) == b"held"
        writer.write(b"more")
        assert await reader.readexactly(4) == b"more"
        writer.close()
        await drained(plane)

    run(body)


def test_a_held_client_that_hangs_up_is_passed_on_once_its_server_is_back() -> None:
    """A client that closes while its server is deleted: its data and FIN wait (its hang-up
    is not reported again and again meanwhile), and reach the server once it is added back;
    the relay then ends as any other."""

    async def body() -> None:
        b, plane, reader, writer = await connected_then_deleted()
        b.writers[0].write_eof()  # the server's side is over: its FIN still reaches the client
        assert await reader.read() == b""
        writer.write(b"last words")
        writer.close()  # both directions over: the proxy's socket reports a hang-up
        await asyncio.sleep(0.3)
        (relay,) = relays(plane, KEY)
        assert relay.held == HELD_UNWATCHED
        assert b.got == [bytearray()]
        await plane.apply([AddDest(KEY, b.real_server())])
        assert await settle(lambda: b.got == [bytearray(b"last words")])
        assert await settle(lambda: not relays(plane, KEY))
        await drained(plane)

    run(body)


def test_a_connection_of_a_deleted_service_goes_on_when_the_service_comes_back() -> None:
    """`ipvsadm -C; ipvsadm -R < saved` with a live connection: while the service is gone
    its connection is held as for a deleted server; the same service and server added back
    revive the same dest (IPVS's trash is per namespace, ip_vs_trash_get_dest), the held data
    goes on, and the server keeps its connection counts; its statistics start from zero
    (__ip_vs_update_dest zeroes them for a dest bound to another service object)."""

    async def body() -> None:
        (a,) = await backends("a")
        svc = VirtualService(KEY, scheduler="rr")
        plane = await proxy(svc, a.real_server())
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"a\n"
        await plane.apply([DeleteService(KEY)])
        writer.write(b"held")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(4), 0.3)
        await plane.apply([AddService(svc), AddDest(KEY, a.real_server())])
        assert await reader.readexactly(4) == b"held"
        rt = plane.service(KEY)
        assert rt is not None
        (dest,) = rt.dests
        assert dest.activeconns == 1 and rt.stats_of(dest).values().conns == 0
        writer.close()
        await drained(plane)

    run(body)


def test_removed_dest_connection_ends_on_its_timer_whatever_the_client_sends() -> None:
    """The client's packets to a deleted server do not re-arm the entry (IPVS drops them
    without restarting the timer): it expires, the client is reset, and its next connection
    is scheduled to a live server."""

    async def body() -> None:
        b, plane, reader, writer = await connected_then_deleted(timeouts=Timeouts(tcp=1))
        for _ in range(4):  # 1.2 s of client traffic against the 1 s timeout
            writer.write(b"ping\n")
            await asyncio.sleep(0.3)
        (dead,) = plane.housekeep()
        assert dead.dest.key == b.real_server().key
        with pytest.raises(ConnectionResetError):
            await reader.read()
        writer.close()
        rt = plane.service(KEY)
        assert rt is not None and rt.trash == []  # nothing bound to it any more
        assert await ask(plane, KEY) == "a"
        await drained(plane)

    run(body)


def test_quiesced_dest_gets_no_new_connections() -> None:
    async def body() -> None:
        a, b = await backends("a", "b")
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server(), b.real_server())
        await plane.apply([EditDest(KEY, b.real_server(weight=0))])
        assert [await ask(plane, KEY) for _ in range(4)] == ["a"] * 4
        await drained(plane)

    run(body)
