"""What the HTTP connection machines are told (past tense, frozen, slotted).

Two kinds: what a driver saw on a socket (`*Read`, `*Blocked`, `*Drained`, connection
results) and what the other side's machine produced for this one, which the driver hands over
as it is (a client machine's `ForwardHead` becomes a server machine's `HeadForwarded`, a
server machine's `DeliverHead` a client machine's `ResponseStarted`, and so on; the table is
in conn/__init__.py).  Time is not in the events: every call passes `now`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.http.answers import Answer
from pylvs.proto.http.connmode import Mode
from pylvs.proto.http.message import Fields, RequestHead, ResponseHead
from pylvs.proto.http.timeouts import Timeouts
from pylvs.proto.relay.body import BodyEnded

# -- a socket, seen by its driver ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataRead:
    """Bytes read from this machine's socket."""

    data: bytes


@dataclass(frozen=True, slots=True)
class EofRead:
    """The peer closed its sending side (a read returned 0)."""


@dataclass(frozen=True, slots=True)
class WriteBlocked:
    """Bytes wait in the driver for this socket to accept them."""


@dataclass(frozen=True, slots=True)
class WriteDrained:
    """Everything written so far has left."""


@dataclass(frozen=True, slots=True)
class Connected:
    """(server side) The connection to the server is established."""


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    """(server side) The connection to the server could not be made (refused, unreachable)."""


@dataclass(frozen=True, slots=True)
class TimerFired:
    """The machine's `deadline` has passed."""


@dataclass(frozen=True, slots=True)
class Stopping:
    """The proxy is stopping (soft stop): keep-alive ends after the current transaction."""


@dataclass(frozen=True, slots=True)
class BodyPassed:
    """The body the driver handed to the relay's C path (`Framer.handover`) ended as `ended`
    says (pylvs.proto.relay.body): the machine goes on from there."""

    ended: BodyEnded


@dataclass(frozen=True, slots=True)
class BodyProgressed:
    """Bytes of a handed-over body or tunnel were read from this machine's socket, the
    latest at `at` (the C path's count): activity, as a `DataRead` would be."""

    at: float


# -- the client side, for the server machine --------------------------------------------


@dataclass(frozen=True, slots=True)
class HeadForwarded:
    """A request head to send (`first`: the client connection's first request; `mode`: the
    frontend's connection option, which counts for the server side too; `timeouts`: the
    stream's when `set-timeout` changed them)."""

    head: RequestHead
    first: bool
    mode: Mode
    timeouts: Timeouts | None = None  # the stream's own (set-timeout), else the backend's


@dataclass(frozen=True, slots=True)
class DataForwarded:
    """Request body bytes (de-chunked)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class TrailersForwarded:
    fields: Fields


@dataclass(frozen=True, slots=True)
class EndForwarded:
    """The request is complete."""


@dataclass(frozen=True, slots=True)
class TunnelForwarded:
    """Client bytes once the connection is a tunnel."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ClientShut:
    """The client closed its side of a tunnel."""


@dataclass(frozen=True, slots=True)
class ClientAborted:
    """The client went away before the transaction's end: drop it."""


# -- the server side, for the client machine --------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseStarted:
    """A response head (an interim 1xx one too)."""

    head: ResponseHead


@dataclass(frozen=True, slots=True)
class ResponseData:
    data: bytes


@dataclass(frozen=True, slots=True)
class ResponseTrailers:
    fields: Fields


@dataclass(frozen=True, slots=True)
class ResponseEnded:
    """The response is complete."""


@dataclass(frozen=True, slots=True)
class ResponseCut:
    """The server side ended in the middle of a response already started."""


@dataclass(frozen=True, slots=True)
class ServerFailed:
    """No response will come: HAProxy answers `status` itself (502 bad or no response, 503
    no server or connection failure, 504 timeout), with `answer` when the driver has one
    (the proxy's error page, a deny's or a `return`'s response), else its own page."""

    status: int
    answer: Answer | None = None


@dataclass(frozen=True, slots=True)
class TunnelDelivered:
    """Server bytes once the connection is a tunnel."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ServerShut:
    """The server closed its side of a tunnel."""


ClientEvent = (
    DataRead
    | EofRead
    | BodyPassed
    | BodyProgressed
    | TimerFired
    | WriteBlocked
    | WriteDrained
    | Stopping
    | ResponseStarted
    | ResponseData
    | ResponseTrailers
    | ResponseEnded
    | ResponseCut
    | ServerFailed
    | TunnelDelivered
    | ServerShut
)
ServerEvent = (
    DataRead
    | EofRead
    | BodyPassed
    | BodyProgressed
    | TimerFired
    | WriteBlocked
    | WriteDrained
    | Connected
    | ConnectFailed
    | Stopping
    | HeadForwarded
    | DataForwarded
    | TrailersForwarded
    | EndForwarded
    | TunnelForwarded
    | ClientShut
    | ClientAborted
)

EOF_READ = EofRead()
TIMER_FIRED = TimerFired()
END_FORWARDED = EndForwarded()
CLIENT_SHUT = ClientShut()
CLIENT_ABORTED = ClientAborted()
RESPONSE_ENDED = ResponseEnded()
SERVER_SHUT = ServerShut()
RESPONSE_CUT = ResponseCut()
