"""Issue 18 on the proxy: a real server that is the proxy's own listening address (it would
loop until descriptors ran out) and a virtual service whose port another process holds (it
was absent forever)."""

import asyncio
import logging
import os
import socket

import pytest

from pylvs.dataplane.base import DataPlaneError
from pylvs.dataplane.proxy.tcp import HELD_UNWATCHED
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.table import AddDest, AddService, DeleteDest, DeleteService
from tests.integration.dataplane.proxy_helpers import (
    TcpBackend,
    ask,
    drained,
    expect_reset,
    flows,
    open_to,
    proxy,
    relays,
    run,
    settle,
    tcp_key,
    udp_key,
)

pytestmark = pytest.mark.usefixtures("relay_path")

KEY = tcp_key()


def test_a_real_server_at_the_proxys_own_address_is_refused_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def body() -> None:
        plane = await proxy(VirtualService(KEY, scheduler="rr"))
        host, port = plane.bound_address(KEY)
        itself = RealServer(host, port, method=ForwardMethod.MASQ)
        await plane.apply([AddDest(KEY, itself)])
        for _ in range(3):
            await expect_reset(plane, KEY)
        assert await settle(lambda: not relays(plane, KEY))
        rt = plane.service(KEY)
        assert rt is not None
        assert rt.stats.errors == 3 and rt.stats_of(rt.dests[0]).errors == 3
        assert rt.stats.values().conns == 3  # scheduled, not relayed: no loop
        assert len(plane.connections()) == 3
        await drained(plane)

    with caplog.at_level(logging.WARNING, logger="pylvs.proxy"):
        run(body)
    loops = [r for r in caplog.records if "own listening address" in r.getMessage()]
    assert len(loops) == 1


def test_a_udp_real_server_at_the_proxys_own_address_gets_nothing() -> None:
    async def body() -> None:
        key = udp_key()
        plane = await proxy(VirtualService(key, scheduler="rr"))
        host, port = plane.bound_address(key)
        await plane.apply([AddDest(key, RealServer(host, port, method=ForwardMethod.MASQ))])
        loop = asyncio.get_running_loop()
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.setblocking(False)
        for _ in range(3):
            await loop.sock_sendto(client, b"x", (str(host), port))
        await asyncio.sleep(0.2)
        rt = plane.service(key)
        assert rt is not None and rt.stats.errors == 3
        assert flows(plane, key) == {}
        client.close()
        await drained(plane)

    run(body)


def busy_port(host: str = "127.0.0.1") -> socket.socket:
    """A port another process (here: a plain socket) listens on."""
    s = socket.socket()
    s.bind((host, 0))
    s.listen(1)
    return s


def test_a_service_whose_port_is_busy_listens_once_it_is_free() -> None:
    async def body() -> None:
        blocker = busy_port()
        port = blocker.getsockname()[1]
        key = ServiceKey.inet(Protocol.TCP, "127.0.0.1", port)
        a = await TcpBackend("a").start()
        plane = await proxy(VirtualService(key, scheduler="rr"), a.real_server(), bind_retry=0.05)
        assert plane.unbound() == {key: "Address already in use"}
        assert [rt.key for rt in plane.services()] == [key]  # in the table all the same
        with pytest.raises(DataPlaneError):
            plane.bound_address(key)
        await asyncio.sleep(0.3)  # still busy: retried, still waiting
        assert key in plane.unbound()
        blocker.close()
        assert await settle(lambda: not plane.unbound(), timeout=5)
        assert await ask(plane, key) == "a"
        await drained(plane)

    run(body)


def test_a_waiting_service_that_is_deleted_stops_waiting() -> None:
    async def body() -> None:
        blocker = busy_port()
        key = ServiceKey.inet(Protocol.TCP, "127.0.0.1", blocker.getsockname()[1])
        plane = await proxy(VirtualService(KEY, scheduler="rr"), bind_retry=0.05)
        await plane.apply([AddService(VirtualService(key, scheduler="rr"))])
        assert key in plane.unbound()
        await plane.apply([DeleteService(key)])
        assert plane.unbound() == {}
        blocker.close()
        await asyncio.sleep(0.3)
        assert [rt.key for rt in plane.services()] == [KEY]
        with pytest.raises(DataPlaneError):
            plane.bound_address(key)
        await drained(plane)

    run(body)


def test_a_port_one_of_its_own_services_holds_is_still_refused() -> None:
    async def body() -> None:
        plane = await proxy(VirtualService(KEY, scheduler="rr"))
        taken = plane.bound_address(KEY)[1]
        clash = ServiceKey.inet(Protocol.TCP, "0.0.0.0", taken)
        with pytest.raises(DataPlaneError, match="cannot listen"):
            await plane.apply([AddService(VirtualService(clash, scheduler="rr"))])
        assert plane.unbound() == {}
        await drained(plane)

    run(body)


def test_a_held_client_that_closes_frees_its_descriptor_at_once() -> None:
    """Issue 18: a client of a deleted real server that closed stayed in CLOSE-WAIT, its
    descriptor held until the entry expired.  Its FIN is still not passed on nor recorded
    (IPVS drops it), but its socket is closed at once; what it sent goes on, with its FIN,
    if the server comes back."""

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def body() -> None:
        a, b = TcpBackend("a"), TcpBackend("b")
        await a.start()
        await b.start()
        plane = await proxy(VirtualService(KEY, scheduler="rr"), a.real_server(), b.real_server())
        reader, writer = await open_to(plane, KEY)
        assert await reader.readline() == b"b\n"
        await plane.apply([DeleteDest(KEY, b.real_server().key)])
        (relay,) = relays(plane, KEY)
        (entry,) = plane.connections()
        before = fds()
        writer.write(b"last words")
        writer.close()  # FIN; the server side stays open
        await writer.wait_closed()
        assert await settle(lambda: relay.held == HELD_UNWATCHED)
        assert await settle(lambda: fds() == before - 2)  # ours, and the proxy's end of it
        assert plane.connections() == [entry]  # the entry as it was: the FIN was dropped
        assert b.got == [bytearray()]
        await plane.apply([AddDest(KEY, b.real_server())])
        assert await settle(lambda: b.got == [bytearray(b"last words")] and b.eofs == 1)
        assert await settle(lambda: not relays(plane, KEY))
        await drained(plane)

    run(body)
