"""ProxyDataPlane: the user-space full-NAT data plane (no root needed).

Each TCP or UDP virtual service gets a listening socket on its own address and port; clients'
connections are relayed to the real server the service's scheduler picks, with the IPVS
connection table, persistence and counters kept by the pure core (DataPlaneState).  What the
proxy cannot do is refused with a DataPlaneError naming the service:

* fwmark services (they match packets by firewall mark, not by address:port);
* SCTP services;
* listening sockets that cannot be bound (address in use, privileged port, ...).

Port 0 in a service key means "any free port" here (IPVS reads it as "all ports" for a
persistent service, which a socket cannot listen on); `bound_address(key)` tells which port
was taken.  Route (DR) and Tunnel real servers are reached like Masq ones, through a new
connection to their address and port; one warning per service says that direct return needs a
kernel data plane.

A housekeeping timer (every `housekeeping_interval` seconds) expires connection-table entries
and templates (closing the sockets of expired ones), runs the rate estimators and forgets
deleted real servers nothing uses any more; `housekeep()` runs one round by hand, which with an
injected `clock` makes expiry testable without sleeping.  `stop(grace)` closes the listeners,
waits up to `grace` seconds for live connections to finish, then resets the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from pylvs.dataplane.base import DataPlane, DataPlaneError, DataPlaneState, change_key
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import Address, ForwardMethod, ModelError, Protocol, ServiceKey
from pylvs.model.table import AddDest, AddService, Change, DeleteDest, DeleteService, EditDest
from pylvs.proto.conntrack.states import Timeouts
from pylvs.proto.conntrack.table import Conn, ConnEntry

from .context import ProxyContext, log
from .sockets import listen_socket
from .tcp import TcpListener
from .udp import UdpListener

Listener = TcpListener | UdpListener


class ProxyDataPlane(DataPlane):
    name: ClassVar[str] = "proxy"

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        timeouts: Timeouts | None = None,
        connect_timeout: float = 5.0,
        high_water: int = 256 * 1024,
        low_water: int = 64 * 1024,
        housekeeping_interval: float = 1.0,
        backlog: int = 1024,
        freebind: bool = True,
        expire_quiescent_template: bool = False,
        expire_nodest_conn: bool = False,
    ) -> None:
        self.state = DataPlaneState(
            timeouts=timeouts, rng=rng, expire_quiescent_template=expire_quiescent_template
        )
        self.ctx = ProxyContext(
            state=self.state,
            clock=clock,
            connect_timeout=connect_timeout,
            high_water=high_water,
            low_water=low_water,
        )
        self.housekeeping_interval = housekeeping_interval
        self.backlog = backlog
        self.freebind = freebind
        # sysctl expire_nodest_conn: connections of a deleted real server are closed at once
        # (default 0: they run on; see the report on kernel differences).
        self.expire_nodest_conn = expire_nodest_conn
        self.listeners: dict[ServiceKey, Listener] = {}
        # TCP listeners of deleted services whose relays are still running.
        self._retired: list[TcpListener] = []
        self._warned: set[ServiceKey] = set()
        self._housekeeper: asyncio.Task[None] | None = None
        self._stopped = False

    # -- DataPlane ---------------------------------------------------------------------

    async def start(self) -> None:
        if self._housekeeper is None:
            self._housekeeper = asyncio.get_running_loop().create_task(self._housekeeping())

    async def apply(self, changes: Sequence[Change]) -> None:
        now = self.ctx.clock()
        failures: list[tuple[Change | None, str]] = []
        refused: set[ServiceKey] = set()
        for change in changes:
            key = change_key(change)
            if key in refused:
                continue  # its AddService failed and was reported once
            try:
                if isinstance(change, AddService):
                    await self._add_service(change, now)
                else:
                    self.state.apply_one(change, now)
                    self._after(change)
            except (DataPlaneError, ModelError) as exc:
                failures.append((change, str(exc)))
                if isinstance(change, AddService):
                    refused.add(key)
        if any(isinstance(c, DeleteDest | DeleteService | AddDest) for c in changes):
            self._sync_holds()
        if failures:
            raise DataPlaneError.from_failures(failures)

    def services(self) -> Sequence[ServiceRuntime]:
        self.harvest()
        return list(self.state.runtimes.values())

    def connections(self, now: float | None = None) -> list[ConnEntry]:
        self.harvest()
        return self.state.connections(self.ctx.clock() if now is None else now)

    def connections_later(self) -> Callable[[], list[ConnEntry]]:
        self.harvest()
        now = self.ctx.clock()
        rows = self.state.table.rows()  # the live entries; their fields are read later
        return lambda: [c.entry(now) for c in rows]

    def harvest(self) -> None:
        """Bring counters and idle timers up to date with what the C fast path relayed
        (poller.py): before anything reads them or expires connections."""
        poller = self.ctx.current_poller
        if poller is not None:
            poller.harvest()

    @property
    def timeouts(self) -> Timeouts:
        return self.state.table.timeouts

    def set_timeouts(self, timeouts: Timeouts) -> None:
        self.state.table.timeouts = timeouts

    def zero(self, key: ServiceKey | None = None) -> None:
        self.harvest()  # what was relayed before the zeroing must not count after it
        self.state.zero(key, self.ctx.clock())

    async def stop(self, grace: float) -> None:
        self._stopped = True
        for listener in self.listeners.values():
            listener.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, grace)
        while self._live_relays() and loop.time() < deadline:
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
        for listener in [*self.listeners.values(), *self._retired]:
            listener.abort_all()
        self._retired.clear()
        tasks = list(self.ctx.tasks)
        if self._housekeeper is not None:
            tasks.append(self._housekeeper)
            self._housekeeper = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.listeners.clear()
        self.ctx.close_poller()
        # Let the transports' close callbacks run so every socket is really closed on return.
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    # -- what tests and the engine look at ---------------------------------------------

    def bound_address(self, key: ServiceKey) -> tuple[Address, int]:
        """The address and port the service's socket is bound to (port 0 resolved)."""
        listener = self.listeners.get(key)
        if listener is None:
            raise DataPlaneError(f"Service not defined: {key}")
        return listener.address

    def listener(self, key: ServiceKey) -> Listener:
        listener = self.listeners.get(key)
        if listener is None:
            raise DataPlaneError(f"Service not defined: {key}")
        return listener

    def housekeep(self, now: float | None = None) -> list[Conn]:
        """One housekeeping round; returns the table entries that expired."""
        now = self.ctx.clock() if now is None else now
        self.harvest()
        dead = self.state.housekeep(now)
        for conn in dead:
            if conn.on_expire is not None:
                conn.on_expire(conn)
        for listener in self.listeners.values():
            if isinstance(listener, UdpListener):
                listener.housekeep(now)
        return dead

    # -- internals ---------------------------------------------------------------------

    async def _add_service(self, change: AddService, now: float) -> None:
        svc = change.service
        key = svc.key
        if key.is_fwmark:
            raise DataPlaneError(
                f"{key}: fwmark services need a kernel data plane (nftables or ipvs); "
                "the proxy listens on an address and port"
            )
        if key.protocol is Protocol.SCTP:
            raise DataPlaneError(f"{key}: SCTP is not supported by the proxy data plane")
        if key in self.state.runtimes:
            raise DataPlaneError(f"Service already exists: {key}")
        if self._stopped:
            raise DataPlaneError(f"{key}: the proxy data plane is stopped")
        assert key.address is not None
        stream = key.protocol is Protocol.TCP
        try:
            sock = listen_socket(
                key.address, key.port, stream=stream, backlog=self.backlog, freebind=self.freebind
            )
        except OSError as exc:
            raise DataPlaneError(f"{key}: cannot listen: {exc.strerror or exc}") from exc
        try:
            self.state.apply_one(change, now)
        except ModelError:
            sock.close()
            raise
        rt = self.state.runtimes[key]
        listener: Listener
        if stream:
            listener = TcpListener(self.ctx, rt, sock)
        else:
            listener = UdpListener(self.ctx, rt, sock)
        try:
            await listener.start()
        except OSError as exc:
            sock.close()
            del self.state.runtimes[key]
            raise DataPlaneError(f"{key}: cannot listen: {exc}") from exc
        self.listeners[key] = listener

    def _after(self, change: Change) -> None:
        """Side effects of an applied change on sockets."""
        match change:
            case DeleteService(key=key):
                listener = self.listeners.pop(key, None)
                if isinstance(listener, TcpListener):
                    listener.close()  # live connections run on, as IPVS conns outlive it
                    self._retired = [r for r in self._retired if r.relays]
                    self._retired.append(listener)
                elif listener is not None:
                    # Without the service socket no reply can reach a UDP client.
                    listener.close()
                    listener.abort_all()
                self._warned.discard(key)
            case AddDest(key=key, dest=rs) | EditDest(key=key, dest=rs):
                if rs.method in (ForwardMethod.ROUTE, ForwardMethod.TUNNEL):
                    self._warn_direct_return(key, rs.method)
            case DeleteDest(key=key, dest=dkey) if self.expire_nodest_conn:
                rt = self.state.runtimes[key]
                dest = next((d for d in rt.trash if d.key == dkey), None)
                if dest is not None:
                    for conn in self.state.table.drop_dest(dest):
                        if conn.on_expire is not None:
                            conn.on_expire(conn)
            case _:
                pass

    def _warn_direct_return(self, key: ServiceKey, method: ForwardMethod) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        log.warning(
            "%s: real servers with forwarding method %s are reached through the proxy "
            "(full NAT); direct return needs the kernel data plane",
            key,
            method.value,
        )

    def _sync_holds(self) -> None:
        """Hold the client side of every relay whose real server is not AVAILABLE (deleted,
        alone or with its service), release those whose server came back (TcpRelay.hold)."""
        for listener in [*self.listeners.values(), *self._retired]:
            if isinstance(listener, TcpListener):
                for relay in list(listener.relays):
                    if relay.conn is not None:
                        relay.hold(not relay.conn.dest.available)

    def _live_relays(self) -> bool:
        listeners = [*self.listeners.values(), *self._retired]
        return any(isinstance(lst, TcpListener) and lst.relays for lst in listeners)

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.housekeeping_interval)
            try:
                self.housekeep()
            except Exception:  # keep the timer alive whatever one round hit
                log.exception("proxy housekeeping failed")
