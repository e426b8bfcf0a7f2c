"""What a `resolvers` section decides for its servers, as events for the driver to apply
(HAProxy 2.6 src/server.c `srv_update_addr`, `srv_update_fqdn`, `srv_set_admin_flag`,
`server_parse_weight_change_request`; src/resolvers.c `resolv_check_response` for the SRV
record's port and weight), and the server's state the decisions start from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pylvs.proto.dns.answers import Owner
from pylvs.proto.dns.wire import IpAddress


@dataclass(frozen=True, slots=True)
class State:
    """A server as the resolution sees it: its address (None: none) and whether it is in
    maintenance "resolution"."""

    address: IpAddress | None
    rmaint: bool


@dataclass(frozen=True, slots=True)
class Send:
    nameserver: int  # index in the section's nameservers
    data: bytes


@dataclass(frozen=True, slots=True)
class AddressChanged:
    """srv_update_addr: "B/S changed its IP from OLD to NEW by UPDATER"."""

    owner: Owner
    old: IpAddress | None
    new: IpAddress
    updater: str


@dataclass(frozen=True, slots=True)
class AddressCleared:
    """The server's address is forgotten (it went to RMAINT for want of one)."""

    owner: Owner


@dataclass(frozen=True, slots=True)
class MaintSet:
    owner: Owner
    cause: str


@dataclass(frozen=True, slots=True)
class MaintCleared:
    """Back from RMAINT: "Server B/S administratively READY thanks to valid DNS answer"
    (`said`), or quietly as an SRV record's server comes back (srvrq_update_srv_status)."""

    owner: Owner
    said: bool = True


@dataclass(frozen=True, slots=True)
class FqdnSet:
    """An SRV record's server takes the record's target as its name (None: it lost it);
    `note` is srv_update_fqdn's answer, sent to the backend's logs."""

    owner: Owner
    fqdn: str | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class PortSet:
    """An SRV record's server takes the record's port (0: it lost it)."""

    owner: Owner
    port: int


@dataclass(frozen=True, slots=True)
class WeightSet:
    """An SRV record's weight, as HAProxy maps it ((weight + 255) / 256)."""

    owner: Owner
    weight: int


Event = (
    Send | AddressChanged | AddressCleared | MaintSet | MaintCleared | FqdnSet | PortSet | WeightSet
)
Lookup = Callable[[Owner], State]
