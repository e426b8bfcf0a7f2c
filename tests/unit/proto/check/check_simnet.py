"""A simulated network for replaying check scenarios on pylvs's check machine.

The servers follow the same timelines as the real ones the recordings were made against
(tests/data/haproxy/checks/check_behaviours.py): a closed port refuses at once, an open one accepts
at once and answers as its behaviour says.  Time is simulated: every event has a time, and
the machine is driven at exactly those times (no clock, no sockets).
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.proto.check.health import LogLine
from pylvs.proto.check.schedule import Checks, Planned
from pylvs.proto.check.server import Effect, ShutdownSessions
from pylvs.proto.check.tcpcheck import Close, Command, Open, Write
from pylvs.sched.base import Flow
from pylvs.sched.haproxy.server import Server
from tests.data.haproxy.checks.check_behaviours import (
    Behaviour,
    Closed,
    Serve,
    behaviour_at,
    satisfied,
)

# The simulated clients' and frontends' address (the scenarios balance round-robin).
LOCALHOST = ipaddress.IPv4Address("127.0.0.1")


@dataclass
class Opened:
    t: float
    server: str | None
    delay_ack: bool
    preface: bytes


@dataclass
class _Conn:
    planned: Planned
    server: str
    behaviour: Serve
    accepted: float
    data: bytes = b""
    replied: bool = False
    closed: bool = False


@dataclass
class Session:
    """A client's connection held through a frontend: the server it got, when it was cut."""

    t: float
    backend: str
    server: Server | None
    cut: float | None = None


@dataclass
class Trace:
    opened: dict[str, list[Opened]] = field(default_factory=dict)
    received: dict[str, list[bytearray]] = field(default_factory=dict)  # per connection
    logs: list[tuple[float, LogLine]] = field(default_factory=list)
    effects: list[tuple[float, Effect]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    checks: Checks | None = None  # the machine, to look at its state afterwards


class SimNet:
    def __init__(
        self, checks: Checks, servers: dict[str, tuple[str, int, list[tuple[float, Behaviour]]]]
    ) -> None:
        """`servers`: name -> (address, port, timeline)."""
        self.checks = checks
        self.servers = servers
        self.by_addr = {(a, p): n for n, (a, p, _tl) in servers.items()}
        self.queue: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.trace = Trace()
        self.now = 0.0
        self._conns: dict[int, _Conn] = {}

    def at(self, t: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (t, next(self.seq), fn))

    def command(self, t: float, fn: Callable[[float], None]) -> None:
        """Run `fn(t)` at `t` (an operator's command) and collect what it did."""

        def run() -> None:
            fn(self.now)
            for sh in self.checks.servers.values():
                self._effects(sh.take_effects())

        self.at(t, run)

    def client(self, t: float, backend: str) -> None:
        """A client connects at `t` to a frontend whose backend is `backend` and stays: the
        balancer picks its server, which serves it until a ShutdownSessions cuts it."""

        def connect() -> None:
            sh = next(h for (b, _n), h in self.checks.servers.items() if b == backend)
            flow = Flow(LOCALHOST, 40000 + len(self.trace.sessions), LOCALHOST, 0)
            got = sh.pool.assign(flow, t)
            server = got if isinstance(got, Server) else None
            if server is not None:
                sh.pool.take_conn(server)
            self.trace.sessions.append(Session(t, backend, server))

        self.at(t, connect)

    def _cut(self, e: ShutdownSessions) -> None:
        for s in self.trace.sessions:
            server = s.server
            if (
                s.cut is None
                and server is not None
                and (s.backend, server.name)
                == (
                    e.backend,
                    e.server,
                )
            ):
                s.cut = self.now
                self.checks.servers[e.backend, e.server].pool.drop_conn(server)

    def run(self, start: float, until: float) -> Trace:
        self.checks.start(start)
        while True:
            wake = self.checks.next_wakeup()
            ev = self.queue[0][0] if self.queue else None
            t = min(x for x in (wake, ev) if x is not None) if (wake or ev) is not None else None
            if t is None or t > until:
                break
            self.now = t
            if ev is not None and ev <= t:
                _t, _s, fn = heapq.heappop(self.queue)
                fn()
                continue
            self._effects(self.checks.tick(t))
            for p, cmds in self.checks.wake(t, t):
                self.apply(p, cmds)
        return self.trace

    def _effects(self, effects: list[Effect]) -> None:
        for e in effects:
            self.trace.effects.append((self.now, e))
            if isinstance(e, LogLine):
                self.trace.logs.append((self.now, e))
            elif isinstance(e, ShutdownSessions):
                self._cut(e)

    def apply(self, p: Planned, cmds: list[Command]) -> None:
        t = self.now
        for c in cmds:
            if isinstance(c, Open):
                self._open(p, c, t)
            elif isinstance(c, Write):
                self._write(p, c.data, t)
            elif isinstance(c, Close):
                conn = self._conns.pop(id(p), None)
                if conn is not None:
                    conn.closed = True
        run = p.run
        if run is not None and run.done:
            self._effects(self.checks.complete(p, t))

    def _open(self, p: Planned, c: Open, t: float) -> None:
        name = self.by_addr.get((c.host, c.port))
        self.trace.opened.setdefault(name or f"{c.host}:{c.port}", []).append(
            Opened(t, name, c.delay_ack, c.preface)
        )
        b: Behaviour = behaviour_at(self.servers[name][2], t) if name else Closed()
        run = p.run
        assert run is not None
        if isinstance(b, Closed):
            self.at(t, lambda: self._event(p, run, lambda: run.failed("Connection refused", t)))
            return
        conn = _Conn(p, name or "", b, t)
        self._conns[id(p)] = conn
        self.trace.received.setdefault(conn.server, []).append(bytearray(c.preface))
        conn.data += c.preface
        self.at(t, lambda: self._event(p, run, lambda: run.connected(t)))
        if b.greeting:
            self.at(t, lambda: self._greet(conn))
        self._maybe_reply(conn, t)

    def _greet(self, conn: _Conn) -> None:
        run = conn.planned.run
        if conn.closed or run is None:
            return
        t = self.now
        self._event(conn.planned, run, lambda: run.received(conn.behaviour.greeting, t))

    def _write(self, p: Planned, data: bytes, t: float) -> None:
        conn = self._conns.get(id(p))
        if conn is None:
            return
        conn.data += data
        self.trace.received[conn.server][-1] += data
        self._maybe_reply(conn, t)

    def _maybe_reply(self, conn: _Conn, t: float) -> None:
        b = conn.behaviour
        if conn.replied:
            return
        if satisfied(conn.data, b.wait_for):
            conn.replied = True
            self.at(t + b.delay, lambda: self._reply(conn))
        elif t == conn.accepted:
            self.at(t + b.read_timeout, lambda: self._timeout_reply(conn))

    def _timeout_reply(self, conn: _Conn) -> None:
        if not conn.replied:
            conn.replied = True
            self.at(self.now + conn.behaviour.delay, lambda: self._reply(conn))

    def _reply(self, conn: _Conn) -> None:
        if conn.closed:
            return
        p, b, t = conn.planned, conn.behaviour, self.now
        run = p.run
        if run is None:
            return
        if b.close == "rst":
            if b.reply:
                self._event(
                    p, run, lambda: run.received(b.reply, t, error="Connection reset by peer")
                )
            else:
                self._event(p, run, lambda: run.failed("Connection reset by peer", t))
            return
        if b.reply:
            self._event(p, run, lambda: run.received(b.reply, t))
        if b.close == "fin":
            self.at(t + 0.5, lambda: self._fin(conn))

    def _fin(self, conn: _Conn) -> None:
        run = conn.planned.run
        if conn.closed or run is None:
            return
        t = self.now
        self._event(conn.planned, run, lambda: run.closed(t))

    def _event(self, p: Planned, run: object, call: Callable[[], list[Command]]) -> None:
        if p.run is not run:  # that run is over
            return
        self.apply(p, call())
