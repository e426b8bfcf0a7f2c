"""Loopback fixtures for the proxy tests: named backends, a controllable clock, a runner.

Every backend and the proxy listen on 127.0.0.x port 0; tests find the proxy through
`ProxyDataPlane.bound_address`.  `run` bounds every test with a timeout; with
PYLVS_TEST_UVLOOP=1 in the environment it runs them on uvloop, as the daemon does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pylvs.dataplane.proxy import ProxyDataPlane, TcpListener, UdpListener
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.table import ServiceEntry, ServiceTable, diff
from tests.port_helpers import closed_port as closed_port  # the tests import it from here

A = ipaddress.ip_address


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


_OPEN: list[TcpBackend | UdpBackend] = []


def run(body: Callable[[], Awaitable[None]], timeout: float = 10.0) -> None:
    """Run `body` with a time limit, then close every backend it started."""

    async def main() -> None:
        try:
            await asyncio.wait_for(body(), timeout)
        finally:
            while _OPEN:
                await _OPEN.pop().close()
            await asyncio.sleep(0.01)

    if os.environ.get("PYLVS_TEST_UVLOOP"):  # the daemon's loop when installed
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


class TcpBackend:
    """Sends `name\\n` on accept, echoes what it reads, sends `bye` after the client's EOF.

    With `silent=True` it accepts and never writes; with `flood` bytes it writes that many
    bytes at once after the name line.
    """

    def __init__(
        self, name: str, host: str = "127.0.0.1", *, silent: bool = False, flood: int = 0
    ) -> None:
        self.name = name
        self.host = host
        self.silent = silent
        self.flood = flood
        self.server: asyncio.Server | None = None
        self.port = 0
        self.accepted = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.got: list[bytearray] = []  # what each connection sent, in accept order
        self.eofs = 0  # connections whose EOF was read

    async def start(self) -> TcpBackend:
        self.server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self.server.sockets[0].getsockname()[1]
        _OPEN.append(self)
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.writers.append(writer)
        got = bytearray()
        self.got.append(got)
        try:
            if self.silent:
                await reader.read()
                return
            writer.write(self.name.encode() + b"\n")
            if self.flood:
                writer.write(b"x" * self.flood)
            while data := await reader.read(65536):
                got += data
                writer.write(data)
                await writer.drain()
            self.eofs += 1
            writer.write(b"bye")
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        except RuntimeError:  # a test wrote EOF on this writer itself: no echo after it
            pass
        finally:
            writer.close()

    def real_server(
        self, weight: int = 1, method: ForwardMethod = ForwardMethod.MASQ
    ) -> RealServer:
        return RealServer(A(self.host), self.port, weight=weight, method=method)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for w in self.writers:
            w.close()
        await asyncio.sleep(0)


class UdpBackend(asyncio.DatagramProtocol):
    """Answers every datagram with `name:` + the datagram."""

    def __init__(self, name: str, host: str = "127.0.0.1") -> None:
        self.name = name
        self.host = host
        self.port = 0
        self.transport: Any = None
        self.received = 0

    async def start(self) -> UdpBackend:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, 0))
        _OPEN.append(self)
        return self

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.received += 1
        self.transport.sendto(self.name.encode() + b":" + data, addr)

    def real_server(self, weight: int = 1) -> RealServer:
        return RealServer(A(self.host), self.port, weight=weight, method=ForwardMethod.MASQ)

    async def close(self) -> None:
        self.transport.close()
        await asyncio.sleep(0)


def tcp_key(host: str = "127.0.0.1") -> ServiceKey:
    return ServiceKey.inet(Protocol.TCP, host, 0)


def udp_key(host: str = "127.0.0.1") -> ServiceKey:
    return ServiceKey.inet(Protocol.UDP, host, 0)


async def proxy(service: VirtualService, *dests: RealServer, **kw: Any) -> ProxyDataPlane:
    """A started proxy with `service` and `dests` applied (dests added in this order)."""
    kw.setdefault("housekeeping_interval", 3600.0)
    plane = ProxyDataPlane(**kw)
    await plane.start()
    await plane.apply(diff(ServiceTable(), ServiceTable([ServiceEntry(service, dests)])))
    return plane


async def ask(plane: ProxyDataPlane, key: ServiceKey, source: str | None = None) -> str:
    """Connect, read the backend's name line, close cleanly (both FINs); returns the name."""
    reader, writer = await open_to(plane, key, source)
    line = await reader.readline()
    writer.write_eof()
    assert await reader.read() == b"bye"
    writer.close()
    await writer.wait_closed()
    return line.decode().strip()


async def open_to(
    plane: ProxyDataPlane, key: ServiceKey, source: str | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    addr, port = plane.bound_address(key)
    local = (source, 0) if source else None
    return await asyncio.open_connection(str(addr), port, local_addr=local)


async def expect_reset(plane: ProxyDataPlane, key: ServiceKey) -> None:
    """The proxy resets this client: on read, or already during connect when the RST beats
    the client's own look at its handshake (the proxy accepts and resets at once)."""
    try:
        reader, writer = await open_to(plane, key)
    except ConnectionResetError:
        return
    try:
        with pytest.raises(ConnectionResetError):
            await reader.read()
    finally:
        writer.close()


def relays(plane: ProxyDataPlane, key: ServiceKey) -> set[Any]:
    listener = plane.listener(key)
    assert isinstance(listener, TcpListener)
    return listener.relays


def flows(plane: ProxyDataPlane, key: ServiceKey) -> dict[Any, Any]:
    listener = plane.listener(key)
    assert isinstance(listener, UdpListener)
    return listener.flows


def runtime(plane: ProxyDataPlane, key: ServiceKey) -> ServiceRuntime:
    rt = plane.service(key)
    assert rt is not None, key
    return rt


async def settle(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Wait until `predicate()` holds (polling the loop); False if it never did."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.01)
    return True


async def drained(plane: ProxyDataPlane) -> None:
    """Stop the proxy and check nothing leaked: no relays, and every entry expires."""
    keys = [rt.key for rt in plane.services()]
    runtimes = list(plane.services())
    await plane.stop(0)
    now = plane.ctx.clock() + 100_000
    plane.housekeep(now)
    plane.housekeep(now + 100_000)
    assert len(plane.state.table) == 0, plane.connections(now)
    for rt in runtimes:
        for d in rt.all_dests():
            assert (d.activeconns, d.inactconns, d.persistconns) == (0, 0, 0), (keys, d)
