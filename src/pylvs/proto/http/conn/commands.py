"""What the HTTP connection machines ask their driver to do (imperative, frozen, slotted).

`Write`, `ShutWrite`, `Close`, `PauseReading`, `ResumeReading` act on the machine's own
socket; `Connect` (server side) opens it.  The `Forward*` commands of the client machine and
the `Deliver*` commands of the server machine are for the other side's machine (the driver
hands them over as events, conn/__init__.py has the table).  `Capture` asks for a `show
errors` snapshot; `Release` (server side) says the connection may go back to the pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.http.connmode import Mode
from pylvs.proto.http.head import Refusal
from pylvs.proto.http.message import Fields, RequestHead, ResponseHead

# -- this machine's socket ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Write:
    """Send these bytes (in order, after what is already queued)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ShutWrite:
    """Once the queued bytes are sent, shutdown(SHUT_WR)."""


@dataclass(frozen=True, slots=True)
class Close:
    """Once the queued bytes are sent, close the socket (the machine is done)."""


@dataclass(frozen=True, slots=True)
class PauseReading:
    """Stop reading: what was read already fills the buffer HAProxy would have."""


@dataclass(frozen=True, slots=True)
class ResumeReading:
    pass


@dataclass(frozen=True, slots=True)
class Connect:
    """(server side) Open the connection to the server."""


@dataclass(frozen=True, slots=True)
class Reconnect:
    """(server side) The connection failed before it could carry the request (an HTTP/2
    server's first frame is not SETTINGS): the attempt failed, the driver retries it as a
    failed connect (`retries`, redispatch), then `ConnectFailed`."""


@dataclass(frozen=True, slots=True)
class Capture:
    """Record a `show errors` snapshot of a refused message (snapshot.ErrorSnapshot)."""

    refusal: Refusal
    buffer: bytes
    not_first: bool  # (client side) not the connection's first request


@dataclass(frozen=True, slots=True)
class Release:
    """(server side) The transaction is over and the connection may serve another request:
    `safe` when it has served more than one (HAProxy's safe list), else idle."""

    safe: bool


# -- for the server machine (from the client machine) -------------------------------------


@dataclass(frozen=True, slots=True)
class ForwardHead:
    head: RequestHead
    first: bool
    mode: Mode


@dataclass(frozen=True, slots=True)
class ForwardData:
    data: bytes


@dataclass(frozen=True, slots=True)
class ForwardTrailers:
    fields: Fields


@dataclass(frozen=True, slots=True)
class ForwardEnd:
    pass


@dataclass(frozen=True, slots=True)
class ForwardTunnel:
    data: bytes


@dataclass(frozen=True, slots=True)
class ForwardShut:
    pass


@dataclass(frozen=True, slots=True)
class ForwardAbort:
    pass


# -- for the client machine (from the server machine) -------------------------------------


@dataclass(frozen=True, slots=True)
class DeliverHead:
    head: ResponseHead


@dataclass(frozen=True, slots=True)
class DeliverData:
    data: bytes


@dataclass(frozen=True, slots=True)
class DeliverTrailers:
    fields: Fields


@dataclass(frozen=True, slots=True)
class DeliverEnd:
    pass


@dataclass(frozen=True, slots=True)
class DeliverCut:
    pass


@dataclass(frozen=True, slots=True)
class DeliverFailure:
    status: int


@dataclass(frozen=True, slots=True)
class DeliverTunnel:
    data: bytes


@dataclass(frozen=True, slots=True)
class DeliverShut:
    pass


Command = (
    Write
    | ShutWrite
    | Close
    | PauseReading
    | ResumeReading
    | Connect
    | Reconnect
    | Capture
    | Release
    | ForwardHead
    | ForwardData
    | ForwardTrailers
    | ForwardEnd
    | ForwardTunnel
    | ForwardShut
    | ForwardAbort
    | DeliverHead
    | DeliverData
    | DeliverTrailers
    | DeliverEnd
    | DeliverCut
    | DeliverFailure
    | DeliverTunnel
    | DeliverShut
)

CLOSE = Close()
SHUT_WRITE = ShutWrite()
PAUSE = PauseReading()
RESUME = ResumeReading()
CONNECT = Connect()
RECONNECT = Reconnect()
FORWARD_END = ForwardEnd()
FORWARD_SHUT = ForwardShut()
FORWARD_ABORT = ForwardAbort()
DELIVER_END = DeliverEnd()
DELIVER_CUT = DeliverCut()
DELIVER_SHUT = DeliverShut()
