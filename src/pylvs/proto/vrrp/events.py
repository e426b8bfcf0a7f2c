"""Events fed to the VRRP state machine, named in the past tense (ARCHITECTURE principle 3).

Time is not part of an event: every call passes `now` (integer microseconds, monotonic).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.vrrp.packet import IPAddress
from pylvs.proto.vrrp.priority import TrackerKind, TrackerValue


@dataclass(frozen=True, slots=True)
class Started:
    """The daemon finished initialising (keepalived `vrrp_init_state`)."""


@dataclass(frozen=True, slots=True)
class AdvertReceived:
    """A datagram read from the VRRP socket; see validate.Received for the field rules."""

    data: bytes
    src: IPAddress
    dst: IPAddress | None = None
    hop_limit: int | None = None


@dataclass(frozen=True, slots=True)
class TrackerChanged:
    """A tracked interface/script/process/BFD went up (True) or down (False); a track_file's
    value changed (int)."""

    kind: TrackerKind
    name: str
    value: TrackerValue

    def __post_init__(self) -> None:
        if self.kind is not TrackerKind.FILE and not isinstance(self.value, bool | None):
            raise ValueError("only a track_file reports an integer value")


@dataclass(frozen=True, slots=True)
class InterfaceWentDown:
    """The instance's own interface lost carrier or was set down."""


@dataclass(frozen=True, slots=True)
class InterfaceCameUp:
    pass


@dataclass(frozen=True, slots=True)
class SourceAddressLost:
    """The advert source address disappeared (`track_src_ip`, or no address on the interface)."""


@dataclass(frozen=True, slots=True)
class SourceAddressRestored:
    address: IPAddress


@dataclass(frozen=True, slots=True)
class ShutdownRequested:
    """SIGTERM: masters send priority 0 and release their addresses, then STOP."""


Event = (
    Started
    | AdvertReceived
    | TrackerChanged
    | InterfaceWentDown
    | InterfaceCameUp
    | SourceAddressLost
    | SourceAddressRestored
    | ShutdownRequested
)
