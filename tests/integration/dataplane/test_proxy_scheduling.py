"""Real TCP through the proxy: each scheduler's choice, persistence, dest removal, quiescing."""

import pytest
from proxy_helpers import Clock, TcpBackend, ask, drained, open_to, proxy, run, settle, tcp_key

from pylvs.model.service import ServiceFlags, VirtualService
from pylvs.model.table import DeleteDest, EditDest

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
        await settle(lambda: not plane.listener(KEY).relays)  # type: ignore[union-attr]
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


def test_removed_dest_keeps_its_live_connection_new_ones_go_elsewhere() -> None:
    async def body() -> None:
        a, b = await backends("a", "b")
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server(), b.real_server())
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"b\n"
        await plane.apply([DeleteDest(KEY, b.real_server().key)])
        assert [await ask(plane, KEY) for _ in range(3)] == ["a", "a", "a"]
        writer.write(b"still here")
        assert await reader.readexactly(10) == b"still here"
        rt = plane.service(KEY)
        assert rt is not None and [d.key for d in rt.trash] == [b.real_server().key]
        writer.close()
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
