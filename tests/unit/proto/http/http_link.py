"""A driver for tests: one client machine, its server machines and a pool, wired in memory.

Sockets are byte strings; connecting succeeds at once; every server is "s1"; the client
connection is session "c1".  It follows the routing table of proto/http/conn/__init__.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn import route
from pylvs.proto.http.conn.client import ClientMachine, Front
from pylvs.proto.http.conn.pool import Reuse, ServerPool
from pylvs.proto.http.conn.server import Back, ServerMachine


@dataclass
class ServerConn:
    machine: ServerMachine
    received: bytes = b""
    closed: bool = False


@dataclass
class Link:
    front: Front = field(default_factory=Front)
    back: Back = field(default_factory=Back)
    reuse: Reuse = Reuse.SAFE
    now: float = 0.0
    client_got: bytes = b""
    client_closed: bool = False
    client_shut: bool = False
    paused: bool = False
    captures: list[cmd.Capture] = field(default_factory=list)
    conns: dict[int, ServerConn] = field(default_factory=dict)
    current: int | None = None  # the server connection of the running transaction

    def __post_init__(self) -> None:
        self.client = ClientMachine(self.front, self.now)
        self.pool = ServerPool(self.reuse)

    # -- what happens on the sockets -------------------------------------------------------

    def client_sends(self, data: bytes) -> None:
        if not self.client_closed:
            self._client(self.client.handle(ev.DataRead(data), self.now))

    def client_eof(self) -> None:
        self._client(self.client.handle(ev.EofRead(), self.now))

    def server_sends(self, data: bytes, conn: int | None = None) -> None:
        conn = self.current if conn is None else conn
        assert conn is not None
        self._server(conn, self.conns[conn].machine.handle(ev.DataRead(data), self.now))

    def server_eof(self, conn: int | None = None) -> None:
        conn = self.current if conn is None else conn
        assert conn is not None
        self._server(conn, self.conns[conn].machine.handle(ev.EofRead(), self.now))

    def advance(self, seconds: float) -> None:
        """Let time pass, firing the machines' timers that come due, in order."""
        end = self.now + seconds
        while True:
            due = [(self.client.deadline, -1)] + [
                (c.machine.deadline, n) for n, c in self.conns.items() if not c.closed
            ]
            pending = [(d, n) for d, n in due if d is not None and d <= end]
            if not pending:
                break
            at, who = min(pending)
            self.now = max(self.now, at)
            if who < 0:
                self._client(self.client.handle(ev.TimerFired(), self.now))
            else:
                self._server(who, self.conns[who].machine.handle(ev.TimerFired(), self.now))
        self.now = end

    # -- carrying out commands -----------------------------------------------------------

    def _client(self, commands: list[cmd.Command]) -> None:
        for c in commands:
            if isinstance(c, cmd.Write):
                self.client_got += c.data
            elif isinstance(c, cmd.Close):
                self.client_closed = True
                for conn in self.pool.session_ended("c1"):
                    self.conns[conn].closed = True
            elif isinstance(c, cmd.ShutWrite):
                self.client_shut = True
            elif isinstance(c, cmd.PauseReading):
                self.paused = True
            elif isinstance(c, cmd.ResumeReading):
                self.paused = False
            elif isinstance(c, cmd.Capture):
                self.captures.append(c)
            elif isinstance(c, cmd.ForwardHead):
                self._pick(c)
            else:
                event = route(c)
                if event is not None and self.current is not None:
                    conn = self.current
                    self._server(conn, self.conns[conn].machine.handle(event, self.now))  # type: ignore[arg-type]

    def _pick(self, c: cmd.ForwardHead) -> None:
        conn = self.pool.take("s1", "c1", c.first)
        if conn is None:
            conn = self.pool.opened("s1", "c1")
            self.conns[conn] = ServerConn(ServerMachine(self.back))
        self.current = conn
        event = route(c)
        assert isinstance(event, ev.HeadForwarded)
        self._server(conn, self.conns[conn].machine.handle(event, self.now))

    def _server(self, conn: int, commands: list[cmd.Command]) -> None:
        sc = self.conns[conn]
        for c in commands:
            if isinstance(c, cmd.Write):
                sc.received += c.data
            elif isinstance(c, cmd.Connect):
                self._server(conn, sc.machine.handle(ev.Connected(), self.now))
            elif isinstance(c, cmd.Close):
                sc.closed = True
                self.pool.closed(conn)
            elif isinstance(c, cmd.Release):
                if not self.pool.release(conn, c.safe, self.now):
                    sc.closed = True
            elif isinstance(c, cmd.Capture):
                self.captures.append(c)
            elif isinstance(c, cmd.ShutWrite):
                pass
            else:
                event = route(c)
                if event is not None:
                    self._client(self.client.handle(event, self.now))  # type: ignore[arg-type]

    @property
    def forwarded(self) -> bytes:
        """Everything the servers received, connection after connection."""
        return b"".join(c.received for _, c in sorted(self.conns.items()))
