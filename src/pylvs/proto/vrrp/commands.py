"""Commands the VRRP state machine asks its driver to carry out, in the imperative.

The driver (pylvs.vrrp) encodes and sends adverts, programs addresses, sends GARP/NA frames,
runs notify scripts and writes FIFO and log lines, in the order the commands are returned.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass

from pylvs.model.vrrp import Vip as Vip  # a parameter of the instance (model/vrrp.py)


class State(enum.Enum):
    """keepalived's instance states (include/vrrp.h); values are its numbers."""

    INIT = 0
    BACKUP = 1
    MASTER = 2
    FAULT = 3
    STOP = 98


Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


@dataclass(frozen=True, slots=True)
class SendAdvert:
    priority: int

    def __post_init__(self) -> None:
        if not 0 <= self.priority <= 255:
            raise ValueError("priority is 0..255")


@dataclass(frozen=True, slots=True)
class AddAddresses:
    """Add the VIPs and excluded VIPs (with the instance's routes and rules)."""

    vips: tuple[Vip, ...]


@dataclass(frozen=True, slots=True)
class RemoveAddresses:
    vips: tuple[Vip, ...]


@dataclass(frozen=True, slots=True)
class SendGratuitousArp:
    """`repeat` rounds over all `vips` (IPv4), keepalived `vrrp_send_link_update`."""

    vips: tuple[Vip, ...]
    repeat: int


@dataclass(frozen=True, slots=True)
class SendNeighbourAdvert:
    """`repeat` rounds of unsolicited NAs over all `vips` (IPv6)."""

    vips: tuple[Vip, ...]
    repeat: int


@dataclass(frozen=True, slots=True)
class RunNotify:
    """Run a script; `timeout_us` is set for STOP scripts (killed after 1 s, vrrp_notify.c)."""

    argv: tuple[str, ...]
    timeout_us: int | None = None


@dataclass(frozen=True, slots=True)
class WriteFifo:
    line: str


@dataclass(frozen=True, slots=True)
class Log:
    line: str


@dataclass(frozen=True, slots=True)
class ReportState:
    """The instance's state changed: the engine follows it (desired table, LVS sync daemon)."""

    state: State
    priority: int


Command = (
    SendAdvert
    | AddAddresses
    | RemoveAddresses
    | SendGratuitousArp
    | SendNeighbourAdvert
    | RunNotify
    | WriteFifo
    | Log
    | ReportState
)
