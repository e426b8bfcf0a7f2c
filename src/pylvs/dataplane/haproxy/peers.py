"""The peers sections of a proxy runtime on the event loop: listeners, connections, timers.

proto/peers is the protocol (sans-IO); this driver owns the sockets.  Each section listens
where its local peer does (`bind`, `fd@N` from the parent, or the `peer` line's address;
SO_REUSEPORT, so that a new process can listen there while the old one still does), connects
to the peers the section's task asks for (a connect that has not succeeded in 5 s fails, as
HAProxy's peers proxy's `timeout connect`), closes an accepted connection silent for 5 s
(its `timeout client`), writes what the sessions produce and runs the task when it asked to
or when anything happened.  Peer traffic is a few small messages per stick-table change: it
shares the loop with the stats socket and checks, never the relay's hot path.

On a soft stop (`stop` with a grace: SIGUSR1 after `-sf`) the sessions are cut and the old
process teaches the new one before it goes (bounded: TEACH_LIMIT).  `OLD_PROCESSES` is
HAProxy's nb_oldpids: `pylvs haproxy -sf/-st` sets it, and a new process then waits up to
5 s for the old one's lesson before asking its remote peers.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Callable, Mapping
from typing import cast

from pylvs.dataplane.proxy.context import log
from pylvs.model.peers import PeersSpec
from pylvs.proto.peers.session import END, PeerSession
from pylvs.proto.peers.state import Peer
from pylvs.proto.peers.sync import PeersSection
from pylvs.proto.stick.table import StickTable, ms
from pylvs.system import inherited

OLD_PROCESSES = 0
CONNECT_TIMEOUT = 5.0
IDLE_TIMEOUT = 5.0
TEACH_LIMIT = 10.0  # seconds a stopping process waits to teach the new one


class PeerConnection(asyncio.Protocol):
    """One TCP connection carrying a PeerSession."""

    def __init__(self, driver: SectionDriver, session: PeerSession) -> None:
        self.driver = driver
        self.session = session
        self.transport: asyncio.Transport | None = None
        self._idle: asyncio.TimerHandle | None = None
        self.outgoing = session.outgoing

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: what it has is used
        self.transport = cast(asyncio.Transport, transport)
        self.session.src = _addr(transport.get_extra_info("peername"))
        self.session.dst = _addr(transport.get_extra_info("sockname"))
        self.driver.connections[self.session] = self
        self._arm()
        if self.outgoing:
            self.session.connected(self.driver.now())
        self.driver.after(self.session)

    def data_received(self, data: bytes) -> None:
        self._arm()
        try:
            self.session.received(data, self.driver.now())
        except Exception:  # a bug must cost this connection only
            log.exception("peers %s: session failed", self.driver.section.name)
            self.session.st0 = END
        self.driver.after(self.session)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self.driver.connections.pop(self.session, None)
        self.session.closed(self.driver.now())
        self.driver.kick()

    def _arm(self) -> None:
        """An accepted connection that says nothing for IDLE_TIMEOUT goes (HAProxy's peers
        frontend `timeout client`); ours are watched by the section's heartbeats."""
        if self.outgoing:
            return
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT, self._expired)

    def _expired(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.session.out:
            self.transport.write(bytes(self.session.out))
            self.session.out.clear()
        if self.session.ended:
            self.transport.close()


class SectionDriver:
    """One peers section: its listener, connections and task timer."""

    def __init__(
        self,
        spec: PeersSpec,
        tables: Mapping[str, StickTable],
        clock: Callable[[], float],
        *,
        old_process: bool,
    ) -> None:
        self.spec = spec
        self.clock = clock
        peers = [Peer(p.name, p.local, p.host, p.port) for p in spec.peers]
        shared = [tables[name] for name in spec.tables if name in tables]
        self.section = PeersSection(
            spec.name, spec.local_name, peers, shared,
            pid=os.getpid(), rng=random.Random(), old_process=old_process,
        )  # fmt: skip
        self.section.on_wake = self.kick
        self.connections: dict[PeerSession, PeerConnection] = {}
        self.server: asyncio.AbstractServer | None = None
        self.last_change = time.time()
        self._timer: asyncio.TimerHandle | None = None
        self._kicked = False
        self._connects: set[asyncio.Task[None]] = set()

    def now(self) -> int:
        return ms(self.clock())

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        sock = self._listening_socket()
        if sock is not None:
            loop = asyncio.get_running_loop()
            self.server = await loop.create_server(self._accepted, sock=sock)
            local = self.section.local
            if local is not None and self.spec.listen_fd is not None:
                host, port = sock.getsockname()[:2]  # what the parent bound
                local.host, local.port = host, port
        for table in self.section.tables:  # what a reload carried over is taught too
            for entry in table.entries(self.clock()):
                if entry.upd.tree is None:
                    table.touch_remote(entry, entry.expire)
        self.kick()

    def _listening_socket(self) -> socket.socket | None:
        spec = self.spec
        try:
            if spec.listen_fd is not None:
                return inherited.listening_socket(f"fd@{spec.listen_fd}", 16)
            if spec.listen_host is None:
                return None
            return _listen(spec.listen_host, spec.listen_port)
        except OSError as e:
            raise OSError(
                f"{spec.where}: peers {spec.name}: cannot bind socket ({e.strerror or e})"
                f" [{spec.listen_host}:{spec.listen_port}]"
            ) from None

    def close_listener(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def soft_stop(self) -> None:
        """The old process's turn: no more accepting (the new one listens), sessions cut,
        then the lesson to the new process (the task connects to the local peer)."""
        self.close_listener()
        self.section.soft_stop()

    async def stop(self, teach: bool) -> None:
        """Teach the new process first if asked (bounded), then close everything."""
        if self.section.on_wake is None:
            return  # stopped already
        if teach and self.section.local is not None:
            if not self.section.stopping:
                self.soft_stop()
            deadline = time.monotonic() + TEACH_LIMIT
            while not self.section.may_stop and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        self.close_listener()
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._connects):
            task.cancel()
        for conn in list(self.connections.values()):
            if conn.transport is not None:
                conn.transport.abort()
        self.section.on_wake = None
        for table in self.section.tables:
            table.sync = None
        await asyncio.sleep(0)

    # -- events -----------------------------------------------------------------------------

    def _accepted(self) -> PeerConnection:
        return PeerConnection(self, PeerSession(self.section))

    def kick(self) -> None:
        """Run the task soon (once however many events ask)."""
        if self._kicked:
            return
        self._kicked = True
        asyncio.get_running_loop().call_soon(self._run)

    def after(self, session: PeerSession) -> None:
        conn = self.connections.get(session)
        if conn is not None:
            conn.flush()
        self.kick()

    def _run(self) -> None:
        self._kicked = False
        if self.section.on_wake is None:
            return  # stopped
        now = self.now()
        try:
            at = self.section.tick(now)
        except Exception:
            log.exception("peers %s: task failed", self.section.name)
            at = now + 1000
        for session in self.section.new_sessions:
            self._connect(session)
        self.section.new_sessions.clear()
        for conn in list(self.connections.values()):
            conn.flush()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if at is not None:
            delay = max(at - now, 0) / 1000
            self._timer = asyncio.get_running_loop().call_later(delay, self.kick)

    def _connect(self, session: PeerSession) -> None:
        task = asyncio.get_running_loop().create_task(self._connecting(session))
        self._connects.add(task)
        task.add_done_callback(self._connects.discard)

    async def _connecting(self, session: PeerSession) -> None:
        peer = session.peer
        assert peer is not None
        loop = asyncio.get_running_loop()
        try:
            if not peer.port:
                raise ConnectionRefusedError("no address")  # a peer left without one
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: PeerConnection(self, session), peer.host or "0.0.0.0", peer.port
                ),
                CONNECT_TIMEOUT,
            )
        except (TimeoutError, OSError) as e:
            log.debug("peers %s: connect to %s failed: %s", self.section.name, peer.name, e)
            session.closed(self.now())
            self.kick()


class PeersRuntime:
    """Every peers section of a runtime."""

    def __init__(
        self,
        specs: tuple[PeersSpec, ...],
        tables: Mapping[str, StickTable],
        clock: Callable[[], float],
    ) -> None:
        self.drivers = [
            SectionDriver(s, tables, clock, old_process=OLD_PROCESSES > 0) for s in specs
        ]

    async def start(self) -> None:
        started = []
        try:
            for d in self.drivers:
                await d.start()
                started.append(d)
        except BaseException:
            for d in started:
                await d.stop(teach=False)
            raise

    def soft_stop(self) -> None:
        for d in self.drivers:
            d.soft_stop()

    async def stop(self, teach: bool) -> None:
        await asyncio.gather(*(d.stop(teach) for d in self.drivers))

    def sections(self) -> list[tuple[SectionDriver, PeersSection]]:
        return [(d, d.section) for d in self.drivers]


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(16)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _addr(value: object) -> str | None:
    if isinstance(value, tuple) and len(value) >= 2:
        host, port = value[0], value[1]
        return f"{host}:{port}"
    return None
