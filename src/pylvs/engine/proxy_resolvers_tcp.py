"""A TCP nameserver (`nameserver NAME tcp@ADDR:PORT`) on the event loop: the connections
proto/dns/stream.py decides, made and read here (HAProxy 2.6 src/dns.c, its DNS stream
server's sessions; the resolvers' proxy has no connect timeout, nor does this).

Queries come from the section (`submit`, counted `sent` once a session takes them, as
dns_process_req counts); each answer read goes back to the section as a UDP datagram would,
under the resolver's id.  The 5 s query expiry and idle check run on a timer of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import cast

from pylvs.model.resolvers import NameserverSpec
from pylvs.proto.dns.stream import Action, Close, Connect, DnsStream, Write

log = logging.getLogger("pylvs.haproxy.resolvers")

Deliver = Callable[[bytes], None]


class _Conn(asyncio.Protocol):
    def __init__(self, owner: TcpNameserver, sid: int) -> None:
        self.owner, self.sid = owner, sid
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.owner.made(self)

    def data_received(self, data: bytes) -> None:
        self.owner.data(self.sid, data)

    def eof_received(self) -> bool:
        return False  # the server is done: close, HAProxy's CF_SHUTW path

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.lost(self)


class TcpNameserver:
    """One TCP nameserver's sessions on the loop."""

    def __init__(
        self,
        spec: NameserverSpec,
        loop: asyncio.AbstractEventLoop,
        now_ms: Callable[[], int],
        deliver: Deliver,
    ) -> None:
        self.spec, self.loop, self.now_ms, self.deliver = spec, loop, now_ms, deliver
        self.stream = DnsStream(now_ms(), spec.maxconn)
        self.conns: dict[int, _Conn] = {}
        self.connecting: dict[int, asyncio.Task[None]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self._arm()

    def submit(self, query: bytes) -> bool:
        """The query to a session; False when it cannot go (snd_error)."""
        actions = self.stream.submit(query)
        if actions is None:
            return False
        self._do(actions)
        self._do(self.stream.writes(self.now_ms()))
        return True

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for task in self.connecting.values():
            task.cancel()
        for conn in list(self.conns.values()):
            if conn.transport is not None:
                conn.transport.abort()
        self.conns.clear()
        self.connecting.clear()

    # -- the connections ----------------------------------------------------------------

    def _do(self, actions: list[Action]) -> None:
        for a in actions:
            if isinstance(a, Connect):
                self.connecting[a.session] = self.loop.create_task(self._connect(a.session))
            elif isinstance(a, Write):
                conn = self.conns.get(a.session)
                if conn is not None and conn.transport is not None:
                    conn.transport.write(a.data)
            elif isinstance(a, Close):
                conn = self.conns.get(a.session)
                if conn is not None and conn.transport is not None:
                    conn.transport.close()

    async def _connect(self, sid: int) -> None:
        spec = self.spec
        try:
            await self.loop.create_connection(lambda: _Conn(self, sid), spec.address, spec.port)
        except OSError as e:
            log.debug("resolvers: nameserver %s: connect: %s", spec.name, e)
            self.stream.failed(sid)
        finally:
            self.connecting.pop(sid, None)

    def made(self, conn: _Conn) -> None:
        self.conns[conn.sid] = conn
        self.stream.connected(conn.sid)
        self._do(self.stream.writes(self.now_ms()))

    def data(self, sid: int, data: bytes) -> None:
        for answer in self.stream.received(sid, data):
            self.deliver(answer)

    def lost(self, conn: _Conn) -> None:
        if self.conns.get(conn.sid) is conn:
            del self.conns[conn.sid]
        if self.timer is None:
            return  # closing
        self._do(self.stream.closed(conn.sid))

    def _wake(self) -> None:
        self.timer = None
        self._do(self.stream.tick(self.now_ms()))
        self._arm()

    def _arm(self) -> None:
        delay = max(self.stream.next_wakeup() - self.now_ms(), 0) / 1000
        with contextlib.suppress(RuntimeError):  # a loop closing
            self.timer = self.loop.call_later(delay, self._wake)
