"""ProxyDataPlane: the user-space full-NAT data plane (no root needed).

Each TCP or UDP virtual service gets a listening socket on its own address and port; clients'
connections are relayed to the real server the service's scheduler picks, with the IPVS
connection table, persistence and counters kept by the pure core (DataPlaneState).  What the
proxy cannot do is refused with a DataPlaneError naming the service:

* fwmark services (they match packets by firewall mark, not by address:port);
* SCTP services;
* listening sockets that cannot be bound (a port one of its own services holds, a
  privileged port, ...).

A service whose port *another process* holds (EADDRINUSE) is kept in the table and listens
as soon as the port is free: binding is retried after `bind_retry` seconds, doubling up to
30 s; `unbound()` says which services wait and why (`pylvs status`, `pylvs reload`).

Port 0 in a service key means "any free port" here (IPVS reads it as "all ports" for a
persistent service, which a socket cannot listen on); `bound_address(key)` tells which port
was taken.  Route (DR) and Tunnel real servers are reached like Masq ones, through a new
connection to their address and port; one warning per service says that direct return needs a
kernel data plane.

Descriptors (descriptors.py): at start the soft RLIMIT_NOFILE is raised to what `maxconn`
connections need (None, the default as in IPVS: to the hard limit), and the proxy's sockets
are kept below a cap that leaves the rest of the daemon what `keep_free` asks for; at the cap
listeners stop accepting until relays end.

Connection sync (issue 24): `--start-daemon` runs pylvs's own master / backup daemons
(pylvs.sync).  A backup installs what it receives into the connection table (proto/sync's
TableTarget): synced connections show in `-Lnc` and count for lc / wlc, synced persistence
templates send a client's new connections to the same real server after a takeover.  A
proxied TCP connection itself cannot move: its sockets end with the director, as with any
full proxy.  The master is fed the table each housekeeping round (the C relay counts
chunks, not packets: Sender.observed) and every template the table re-arms.

A housekeeping timer (every `housekeeping_interval` seconds) expires connection-table entries
and templates (closing the sockets of expired ones), runs the rate estimators and forgets
deleted real servers nothing uses any more; `housekeep()` runs one round by hand, which with an
injected `clock` makes expiry testable without sleeping.  `stop(grace)` closes the listeners,
waits up to `grace` seconds for live connections to finish, then resets the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from pylvs.dataplane import syncing
from pylvs.dataplane.base import DataPlane, DataPlaneError, DataPlaneState, change_key
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.dest import Destination
from pylvs.model.loops import Listening
from pylvs.model.service import (
    Address,
    ForwardMethod,
    ModelError,
    Protocol,
    ServiceKey,
    format_addr_port,
)
from pylvs.model.snapshot import DescriptorUse
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import AddDest, AddService, Change, DeleteDest, DeleteService, EditDest
from pylvs.proto.conntrack.states import Timeouts
from pylvs.proto.conntrack.table import Conn, ConnEntry
from pylvs.proto.sync.install import TableTarget
from pylvs.sync.runner import SyncRunner

from .context import ProxyContext, log
from .descriptors import raise_limit
from .sockets import listen_socket
from .tcp import TcpListener
from .udp import UdpListener

Listener = TcpListener | UdpListener

# Binding a service whose port another process holds is retried after `bind_retry` seconds,
# then twice as long each time, up to this.
BIND_RETRY_MAX = 30.0
YIELD_EVERY = 256  # changes applied between two turns of the event loop


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
        maxconn: int | None = None,
        raise_nofile: bool = True,
        bind_retry: float = 1.0,
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
        # Connections the descriptor limit is raised for at start (None: the hard limit).
        self.maxconn = maxconn
        self.raise_nofile = raise_nofile
        self.listeners: dict[ServiceKey, Listener] = {}
        # TCP listeners of deleted services whose relays are still running.
        self._retired: list[TcpListener] = []
        self._warned: set[ServiceKey] = set()
        self._loop_warned: set[tuple[ServiceKey, tuple[Address, int]]] = set()
        # Services whose port another process holds, with why, and their binding tasks.
        self.bind_retry = bind_retry
        self._unbound: dict[ServiceKey, str] = {}
        self._binders: dict[ServiceKey, asyncio.Task[None]] = {}
        self._housekeeper: asyncio.Task[None] | None = None
        self._stopped = False
        self.syncd = SyncRunner(self._sync_target, clock=clock)
        self._said_sync = False
        self.state.table.rearmed = self.syncd.rearmed

    # -- DataPlane ---------------------------------------------------------------------

    async def start(self) -> None:
        if self.raise_nofile:
            raise_limit(self.maxconn, self.ctx.fds.reserve)
        self.ctx.fds.measure()
        if self._housekeeper is None:
            self._housekeeper = asyncio.get_running_loop().create_task(self._housekeeping())

    async def apply(self, changes: Sequence[Change]) -> None:
        now = self.ctx.clock()
        failures: list[tuple[Change | None, str]] = []
        refused: set[ServiceKey] = set()
        for n, change in enumerate(changes, 1):
            if n % YIELD_EVERY == 0:
                # A big change set (`ipvsadm -R` of 20,000 lines: ~1.5 s) lets the loop
                # forward, check and advertise in between, as the kernel serves traffic
                # between ipvsadm -R's lines; the daemon's table lock keeps other edits out.
                await asyncio.sleep(0)
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
        self._find_loops()
        if failures:
            raise DataPlaneError.from_failures(failures)

    def services(self) -> Sequence[ServiceRuntime]:
        self.harvest()
        return list(self.state.runtimes.values())

    def flow_count(self) -> int:
        return len(self.state.table)

    def drops(self) -> Mapping[str, int]:
        return dict(self.ctx.drops)

    def descriptor_use(self) -> DescriptorUse:
        fds = self.ctx.fds
        return DescriptorUse(fds.own, fds.cap, fds.reached)

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

    def keep_free(self, descriptors: int) -> None:
        self.ctx.fds.keep_free(descriptors)

    def unbound(self) -> dict[ServiceKey, str]:
        return dict(self._unbound)

    @property
    def timeouts(self) -> Timeouts:
        return self.state.table.timeouts

    def set_timeouts(self, timeouts: Timeouts) -> None:
        self.state.table.timeouts = timeouts

    def zero(self, key: ServiceKey | None = None) -> None:
        self.harvest()  # what was relayed before the zeroing must not count after it
        self.state.zero(key, self.ctx.clock())

    def sync_daemons(self) -> tuple[SyncDaemon, ...]:
        return self.syncd.daemons()

    async def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        syncing.start(self.syncd, daemon)
        if daemon.state is SyncState.BACKUP and not self._said_sync:
            self._said_sync = True
            log.info(
                "proxy: synced connections are listed (-c) and counted (lc/wlc), synced "
                "persistence templates pin clients after a takeover; a proxied connection "
                "itself ends with the director that held its sockets"
            )

    async def stop_sync_daemon(self, state: SyncState) -> None:
        syncing.stop(self.syncd, state)

    def _sync_target(self) -> TableTarget:
        return TableTarget(self.state.table, self.state.runtimes.get, self.syncd.marks)

    async def stop(self, grace: float) -> None:
        self._stopped = True
        self.syncd.close()
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
        self._unbound.clear()
        self._binders.clear()
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
        self.ctx.fds.tick()
        self.syncd.observe(self.state.table.rows())
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
        try:
            sock = self._listen(key)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or self._holds_port(key):
                raise DataPlaneError(f"{key}: cannot listen: {exc.strerror or exc}") from exc
            # Another process holds the port: the service is in the table all the same (IPVS
            # has no such thing as a busy port) and listens as soon as the port is free.
            self.state.apply_one(change, now)
            self._bind_later(key, exc.strerror or str(exc))
            return
        try:
            self.state.apply_one(change, now)
        except ModelError:
            sock.close()
            raise
        try:
            await self._start_listener(key, sock)
        except OSError as exc:
            del self.state.runtimes[key]
            raise DataPlaneError(f"{key}: cannot listen: {exc}") from exc

    def _listen(self, key: ServiceKey) -> socket.socket:
        assert key.address is not None
        stream = key.protocol is Protocol.TCP
        return listen_socket(
            key.address, key.port, stream=stream, backlog=self.backlog, freebind=self.freebind
        )

    async def _start_listener(self, key: ServiceKey, sock: socket.socket) -> None:
        rt = self.state.runtimes[key]
        listener: Listener
        if key.protocol is Protocol.TCP:
            listener = TcpListener(self.ctx, rt, sock)
        else:
            listener = UdpListener(self.ctx, rt, sock)
        try:
            await listener.start()
        except OSError:
            sock.close()
            raise
        self.listeners[key] = listener

    def _holds_port(self, key: ServiceKey) -> bool:
        """One of this proxy's own listeners has the port `key` asks for (a conflict in
        the table, which retrying cannot resolve)."""
        assert key.address is not None
        for other, listener in self.listeners.items():
            address, port = listener.address
            same = address == key.address or address.is_unspecified or key.address.is_unspecified
            family = address.version == key.address.version  # IPv6 listeners are V6ONLY
            if other.protocol is key.protocol and port == key.port and same and family:
                return True
        return False

    def _bind_later(self, key: ServiceKey, reason: str) -> None:
        log.error(
            "%s: cannot listen: %s; the service is kept and listens as soon as the port is "
            "free (retrying)",
            key,
            reason,
        )
        self._unbound[key] = reason
        self._binders[key] = self.ctx.spawn(self._bind_when_free(key))

    async def _bind_when_free(self, key: ServiceKey) -> None:
        """Retry binding `key` with backoff until it works or the service goes."""
        delay = self.bind_retry
        while key in self._unbound:
            await asyncio.sleep(delay)
            delay = min(delay * 2, BIND_RETRY_MAX)
            if key not in self._unbound or key not in self.state.runtimes:
                return
            try:
                sock = self._listen(key)
                await self._start_listener(key, sock)
            except OSError as exc:
                self._unbound[key] = exc.strerror or str(exc)
                continue
            del self._unbound[key]
            self._binders.pop(key, None)
            log.info("%s: listening now", key)
            self._find_loops()

    def _forget_binding(self, key: ServiceKey) -> None:
        self._unbound.pop(key, None)
        task = self._binders.pop(key, None)
        if task is not None:
            task.cancel()

    def _after(self, change: Change) -> None:
        """Side effects of an applied change on sockets."""
        match change:
            case DeleteService(key=key):
                self._forget_binding(key)
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

    def _find_loops(self) -> None:
        """Real servers that are one of the proxy's own listening addresses: connections to
        them would come back to a listener and loop until descriptors ran out
        (pylvs.model.loops).  The relays refuse them; each is logged once."""
        listening = Listening(
            ServiceKey(protocol=key.protocol, address=lst.address[0], port=lst.address[1])
            for key, lst in self.listeners.items()
        )
        loops: set[Destination] = set()
        for key, rt in self.state.runtimes.items():
            if key.protocol is None:
                continue
            for dest in rt.dests:
                target = listening.target(key.protocol, dest.address, dest.port)
                if target is None:
                    continue
                loops.add(dest)
                if (key, dest.key) not in self._loop_warned:
                    self._loop_warned.add((key, dest.key))
                    log.warning(
                        "%s: real server %s is the proxy's own listening address (virtual "
                        "service %s): its connections would loop back; they are refused",
                        key,
                        format_addr_port(dest.address, dest.port),
                        target,
                    )
        self.ctx.loops = loops

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
