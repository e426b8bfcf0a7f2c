"""What the relay machine tells its driver to do: the machine's output.

Imperative, frozen, slotted (docs/ARCHITECTURE.md); commands without a payload, or with a
payload from a small set, are shared constants, so a relay's common life allocates none.

Readiness masks (`Watch`) use epoll(7)'s bit values (the driver passes them to epoll_ctl
as they are; it checks that they match `select.EPOLL*`): READ is EPOLLIN, WRITE EPOLLOUT,
PEER_EOF EPOLLRDHUP.  The C fast path's modes (`Handover`) are _pump.c's MODE_* values:
DATA (relay plain reads to the peer), EOF_SHUT (on EOF shut the peer down for writing),
EOF_CLOSE (on EOF close both; the peer's EOF was passed on before); 0 takes the side back.

Commands that make the driver report new events (`Connect`, `Read`, `Drain`) come last in
the machine's answer, after every command that reflects the state they start from.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.conntrack.states import TcpEvent

from .events import Side

READ = 0x001  # EPOLLIN
WRITE = 0x004  # EPOLLOUT
PEER_EOF = 0x2000  # EPOLLRDHUP
READING = READ | PEER_EOF

DATA = 1  # _pump.c MODE_DATA
EOF_SHUT = 2  # MODE_EOF_SHUT
EOF_CLOSE = 4  # MODE_EOF_CLOSE


@dataclass(frozen=True, slots=True)
class Connect:
    """Open the real server's socket and connect(2) it (report Connected, Connecting or
    ConnectFailed)."""


@dataclass(frozen=True, slots=True)
class Watch:
    """Wait for `mask` on `side`'s socket (registering it first if it is not watched)."""

    side: Side
    mask: int


@dataclass(frozen=True, slots=True)
class Unwatch:
    """Stop watching `side`'s socket altogether (it stays open): nothing more can happen on
    it that the relay waits for, and a level-triggered hang-up would repeat."""

    side: Side


@dataclass(frozen=True, slots=True)
class Handover:
    """Let the C fast path handle `side`'s events in `mode` (0: take the side back)."""

    side: Side
    mode: int


@dataclass(frozen=True, slots=True)
class ShutWrite:
    """Pass EOF on to `side`: shutdown(SHUT_WR)."""

    side: Side


@dataclass(frozen=True, slots=True)
class Record:
    """Feed the connection-table entry the packets `event` stands for (set_tcp_state)."""

    event: TcpEvent


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Report ConnectTimedOut at `at` (the driver's clock) unless stopped."""

    at: float


@dataclass(frozen=True, slots=True)
class StopTimer:
    """Forget the connect deadline."""


@dataclass(frozen=True, slots=True)
class CountError:
    """The real server failed this connection: count an error on the service and the real
    server (`ipvsadm` shows none; the proxy's own statistics do), saying why."""

    reason: str


@dataclass(frozen=True, slots=True)
class Read:
    """Read one chunk from `side` and relay it (report what the read found: data, EOF,
    failure)."""

    side: Side


@dataclass(frozen=True, slots=True)
class Drain:
    """Read everything `side` sent up to its EOF into the queue towards its peer, without
    writing any of it (report DataQueued, then EofRead or Failed)."""

    side: Side


@dataclass(frozen=True, slots=True)
class CloseSide:
    """Close `side`'s socket alone (its data was read: the close sends a FIN)."""

    side: Side


@dataclass(frozen=True, slots=True)
class Close:
    """Close both sockets (those still open), with a reset (SO_LINGER 0) where told: the
    relay is over; its table entry lives on its own timer."""

    reset_client: bool
    reset_server: bool


Command = (
    Connect
    | Watch
    | Unwatch
    | Handover
    | ShutWrite
    | Record
    | StartTimer
    | StopTimer
    | CountError
    | Read
    | Drain
    | CloseSide
    | Close
)

CONNECT = Connect()
STOP_TIMER = StopTimer()
UNWATCH = {side: Unwatch(side) for side in Side}
SHUT_WRITE = {side: ShutWrite(side) for side in Side}
READ_ONE = {side: Read(side) for side in Side}
DRAIN = {side: Drain(side) for side in Side}
CLOSE_SIDE = {side: CloseSide(side) for side in Side}
RECORD = {event: Record(event) for event in TcpEvent}
CLOSE = {(c, s): Close(c, s) for c in (False, True) for s in (False, True)}
_MASKS = (0, READ, WRITE, READ | WRITE, PEER_EOF, PEER_EOF | WRITE, READING, READING | WRITE)
WATCH = {(side, mask): Watch(side, mask) for side in Side for mask in _MASKS}
_MODES = (0, DATA, EOF_SHUT, DATA | EOF_SHUT, EOF_CLOSE)
HANDOVER = {(side, mode): Handover(side, mode) for side in Side for mode in _MODES}
