"""The idle timers of the HAProxy mode's streams, in the shape of the connection table the
relay re-arms (pylvs.proto.conntrack.table.ConnTable: new_conn, tcp_event, moved, drop,
expire), without what only IPVS needs.

HAProxy re-arms a stream's timeouts on any activity (src/stream.c process_stream: both
channels' read and write timeouts); the session (session.py) turns that into one deadline per
stream, `timeout client`/`server`/`tunnel` while both sides are open and `client-fin`/
`server-fin` once one is half-closed.  The keepalived mode's table kept, per stream, IPVS's
TCP states and timeouts, an index by the client's address and port, and the destination's
active/inactive counts, none of which the HAProxy mode reads: ~13 µs of Python per stream
(new_conn, two state changes, drop), a fifth of the per-connection time.  Here an entry is
four fields and a heap slot; states are reduced to the one question the relay asks (is the
stream established, i.e. not half-closed yet), timers are re-armed in place and the heap
is lazy (a slot whose deadline moved is filed again when it comes up), as in ConnTable.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from pylvs.model.dest import Destination
from pylvs.model.service import ServiceKey
from pylvs.proto.conntrack.states import ConnState, TcpEvent
from pylvs.proto.conntrack.table import Conn, ConnKey, ConnTable

_ESTABLISHED = ConnState.ESTABLISHED
# What each event makes of a stream (events that are not here leave its state as it is).
_STEPS = {
    TcpEvent.CLIENT_CONNECTED: ConnState.SYN_RECV,
    TcpEvent.BACKEND_CONNECTED: ConnState.ESTABLISHED,
    TcpEvent.CLIENT_EOF: ConnState.CLOSE_WAIT,
    TcpEvent.SERVER_EOF: ConnState.CLOSE_WAIT,
    TcpEvent.CLOSED: ConnState.CLOSE,
    TcpEvent.CLIENT_RESET: ConnState.CLOSE,
    TcpEvent.SERVER_RESET: ConnState.CLOSE,
}
_NOT_BACK = frozenset({ConnState.CLOSE_WAIT, ConnState.CLOSE})  # no way back to ESTABLISHED


class StreamTimer(Conn):
    """A stream's timer: the fields of a Conn that the relay and the session use (state,
    timeout, expires, on_expire), the others left unset."""

    __slots__ = ()

    def __init__(self, timeout: float, now: float) -> None:
        self.state = ConnState.NONE
        self.timeout = timeout
        self.expires = self.heap_at = now + timeout
        self.dead = False
        self.on_expire = None


class StreamTimers(ConnTable):
    """The HAProxy runtime's table: stream timers only (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._timers: list[tuple[float, int, Conn]] = []
        self._order = itertools.count()
        self._live = 0
        # Told of a deadline earlier than `wake_at` (the runtime's next sweep), so a timeout
        # shorter than the periodic sweep (HAProxy's are ms-exact: `timeout client 1`) ends
        # its stream on time, not at the next sweep.
        self.wake: Callable[[float], None] | None = None
        self.wake_at = float("inf")

    def __len__(self) -> int:
        return self._live

    def new_conn(
        self,
        key: ConnKey,
        service: ServiceKey | None,
        dest: Destination,
        now: float,
        **_: object,
    ) -> StreamTimer:
        """A stream's timer, NONE for 3 s until its first event (as ConnTable's entries)."""
        timer = StreamTimer(3.0, now)
        heapq.heappush(self._timers, (timer.expires, next(self._order), timer))
        self._live += 1
        if timer.expires < self.wake_at and self.wake is not None:
            self.wake(timer.expires)
        return timer

    def tcp_event(self, conn: Conn, event: TcpEvent, now: float) -> None:
        """The stream's state after `event`; its timer re-armed with its timeout."""
        if conn.dead:
            return
        new = _STEPS.get(event)
        if new is not None and not (conn.state in _NOT_BACK and new is _ESTABLISHED):
            conn.state = new
        conn.expires = now + conn.timeout
        self.moved(conn)

    def established(self, conn: Conn, idle: float, now: float) -> None:
        """CLIENT_CONNECTED then BACKEND_CONNECTED at `now` (a stream whose server answered
        inside connect), its timer armed with `idle`: the two events in one call."""
        if conn.dead:
            return
        conn.state = _ESTABLISHED
        conn.timeout = idle
        conn.expires = now + idle
        self.moved(conn)

    def moved(self, conn: Conn) -> None:
        if conn.expires < conn.heap_at and not conn.dead:
            conn.heap_at = conn.expires
            heapq.heappush(self._timers, (conn.expires, next(self._order), conn))
            if conn.expires < self.wake_at and self.wake is not None:
                self.wake(conn.expires)

    def drop(self, conn: Conn) -> None:
        if not conn.dead:
            conn.dead = True
            self._live -= 1

    def next_deadline(self) -> float | None:
        """The earliest deadline filed (perhaps a stale slot: waking for it costs nothing)."""
        return self._timers[0][0] if self._timers else None

    def expire(self, now: float) -> list[Conn]:
        """The timers that ran out by `now` (each once), in the order of their deadlines."""
        dead: list[Conn] = []
        heap = self._timers
        while heap and heap[0][0] <= now:
            at, _, timer = heapq.heappop(heap)
            if timer.dead or at != timer.heap_at:
                continue  # a stale slot: re-armed earlier since, or over
            if timer.expires > at:  # re-armed later since: filed at its real time
                timer.heap_at = timer.expires
                heapq.heappush(heap, (timer.expires, next(self._order), timer))
                continue
            timer.dead = True
            self._live -= 1
            dead.append(timer)
        return dead
