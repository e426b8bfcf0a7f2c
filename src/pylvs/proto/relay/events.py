"""What the relay driver observed on one proxied TCP connection: the relay machine's input.

Past tense, frozen, slotted (docs/ARCHITECTURE.md).  The driver (pylvs.dataplane.proxy.tcp)
turns socket readiness, system-call results and the C fast path's reports into these; the
machine (machine.py) answers each with commands.  Events without a payload are shared
constants (`ACCEPTED`, `EOF_READ[side]`, ...), so a relay's common life allocates none.

Events compare and hash by identity (`eq=False`): the machine looks its answers up by
(state, event), and the constants are what a driver sends; an event made anew with the same
fields is mapped to its constant first.

`Side` names a socket of the relay: the client's or the real server's.  Events about bytes
carry how many bytes now wait in the relay's queue towards a side: the machine compares them
with its high- and low-water marks (backpressure is its decision, the bytes are the driver's).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Side(enum.Enum):
    """One socket of a relay."""

    __hash__ = object.__hash__  # identity hash: looked up on every event

    CLIENT = "client"
    SERVER = "server"

    @property
    def peer(self) -> Side:
        return Side.SERVER if self is Side.CLIENT else Side.CLIENT


CLIENT, SERVER = Side.CLIENT, Side.SERVER


@dataclass(frozen=True, slots=True, eq=False)
class Accepted:
    """A client was accepted and scheduled to a real server (its table entry exists)."""


@dataclass(frozen=True, slots=True, eq=False)
class Connecting:
    """connect(2) to the real server is in progress (it did not complete at once)."""

    now: float


@dataclass(frozen=True, slots=True, eq=False)
class Connected:
    """The real server's socket is connected."""


@dataclass(frozen=True, slots=True, eq=False)
class ConnectFailed:
    """The real server could not be reached (refused, unreachable, no descriptor...)."""

    reason: str


@dataclass(frozen=True, slots=True, eq=False)
class ConnectTimedOut:
    """The connect deadline (StartTimer) passed."""


@dataclass(frozen=True, slots=True, eq=False)
class DataQueued:
    """Bytes were queued towards `side`; `queued` bytes wait for it in all."""

    side: Side
    queued: int


@dataclass(frozen=True, slots=True, eq=False)
class Flushed:
    """What was queued towards `side` was written down to `queued` bytes (0: all of it)."""

    side: Side
    queued: int


@dataclass(frozen=True, slots=True, eq=False)
class Spilled:
    """The C path relayed a chunk from `side` that its peer took only part of: it gave the
    side back, and the rest waits towards the peer (`queued` bytes in all)."""

    side: Side
    queued: int


@dataclass(frozen=True, slots=True, eq=False)
class EofRead:
    """`side` sent EOF (a read returned 0, or the read that drained it saw its FIN)."""

    side: Side


@dataclass(frozen=True, slots=True, eq=False)
class HungUp:
    """The kernel reported `side` hung up, or its FIN, while the relay was not reading it."""

    side: Side


@dataclass(frozen=True, slots=True, eq=False)
class Failed:
    """A read, a write or the socket error of `side` failed: it was reset or is broken."""

    side: Side


@dataclass(frozen=True, slots=True, eq=False)
class FastShut:
    """The C path took `side`'s EOF (its mode allowed it): it shut the peer down for
    writing and stopped watching `side` (epoll mask 0)."""

    side: Side


@dataclass(frozen=True, slots=True, eq=False)
class FastClosed:
    """The C path took `side`'s EOF and closed both sockets (the peer's EOF was passed on
    before, so both directions are over)."""

    side: Side


@dataclass(frozen=True, slots=True, eq=False)
class Held:
    """The real server was deleted (IPVS: not AVAILABLE): the client's packets are dropped."""


@dataclass(frozen=True, slots=True, eq=False)
class Released:
    """The real server came back from the trash: the client's side goes on."""


@dataclass(frozen=True, slots=True, eq=False)
class Expired:
    """The connection-table entry timed out (idle): IPVS forgets the connection."""


@dataclass(frozen=True, slots=True, eq=False)
class Aborted:
    """The data plane stops: reset what is left."""


Event = (
    Accepted
    | Connecting
    | Connected
    | ConnectFailed
    | ConnectTimedOut
    | DataQueued
    | Flushed
    | Spilled
    | EofRead
    | HungUp
    | Failed
    | FastShut
    | FastClosed
    | Held
    | Released
    | Expired
    | Aborted
)

ACCEPTED = Accepted()
CONNECTED = Connected()
CONNECT_TIMED_OUT = ConnectTimedOut()
HELD = Held()
RELEASED = Released()
EXPIRED = Expired()
ABORTED = Aborted()
EOF_READ = {side: EofRead(side) for side in Side}
HUNG_UP = {side: HungUp(side) for side in Side}
FAILED = {side: Failed(side) for side in Side}
FAST_SHUT = {side: FastShut(side) for side in Side}
FAST_CLOSED = {side: FastClosed(side) for side in Side}
