"""Virtual services and real servers as pure, validated values.

These mirror the kernel's `struct ip_vs_service` / `struct ip_vs_dest` configuration part
(include/uapi/linux/ip_vs.h): what `ipvsadm -A/-a` and keepalived's `virtual_server` /
`real_server` blocks describe.  Live state (connection counts, the overload flag) lives in
`pylvs.model.dest.Destination`; the table of services and its diff in `pylvs.model.table`.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field

from .frozen import fast_init

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

AF_INET = 2
AF_INET6 = 10

MAX_WEIGHT_IPVSADM = 65535
MAX_WEIGHT = 2**31 - 1  # keepalived: IPVS_WEIGHT_MAX = INT32_MAX
MAX_THRESHOLD = 2**32 - 1
MAX_PERSISTENCE_TIMEOUT = 86400 * 31  # ipvsadm.c MAX_TIMEOUT
DEFAULT_PERSISTENCE_TIMEOUT = 6 * 60  # libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT
DEFAULT_SCHEDULER = "wlc"


class Protocol(enum.IntEnum):
    """IP protocol numbers; the sort order of `ipvsadm -L` follows these numbers."""

    TCP = 6
    UDP = 17
    SCTP = 132

    @property
    def label(self) -> str:
        return self.name


class ForwardMethod(enum.Enum):
    """IPVS connection forwarding methods (IP_VS_CONN_F_FWD_MASK), named as ipvsadm prints."""

    MASQ = "Masq"
    LOCAL = "Local"
    TUNNEL = "Tunnel"
    ROUTE = "Route"


class TunnelType(enum.Enum):
    IPIP = "ipip"
    GUE = "gue"
    GRE = "gre"


class TunnelCsum(enum.Enum):
    NOCSUM = "nocsum"
    CSUM = "csum"
    REMCSUM = "remcsum"


class ServiceFlags(enum.IntFlag):
    """IP_VS_SVC_F_* (include/uapi/linux/ip_vs.h)."""

    NONE = 0
    PERSISTENT = 0x1
    HASHED = 0x2
    ONEPACKET = 0x4
    SCHED1 = 0x8  # sh-fallback / mh-fallback / flag-1
    SCHED2 = 0x10  # sh-port / mh-port / flag-2
    SCHED3 = 0x20  # flag-3


_PERSISTENT = int(ServiceFlags.PERSISTENT)
_ONEPACKET = int(ServiceFlags.ONEPACKET)
SCHED_FLAG_MASK = ServiceFlags.SCHED1 | ServiceFlags.SCHED2 | ServiceFlags.SCHED3

# -b names, per scheduler, in ipvsadm's order (ipvsadm.c parse_sched_flags / print_sched_flags).
SCHED_FLAG_NAMES: dict[str, tuple[str, str, str]] = {
    "sh": ("sh-fallback", "sh-port", "flag-3"),
    "mh": ("mh-fallback", "mh-port", "flag-3"),
}
GENERIC_SCHED_FLAG_NAMES = ("flag-1", "flag-2", "flag-3")


def af_of(address: Address) -> int:
    return AF_INET if address.version == 4 else AF_INET6


class ModelError(ValueError):
    """An invalid value was given to a model constructor."""


@fast_init
@dataclass(frozen=True, slots=True, order=False)
class ServiceKey:
    """What identifies a virtual service: <protocol, address, port> or <fwmark, af>."""

    protocol: Protocol | None = None
    address: Address | None = None
    port: int = 0
    fwmark: int = 0
    af: int = AF_INET

    def __post_init__(self) -> None:
        if self.fwmark:
            if not 1 <= self.fwmark <= 0xFFFFFFFF:
                raise ModelError(f"invalid fwmark {self.fwmark}")
            if self.protocol is not None or self.address is not None or self.port:
                raise ModelError("a fwmark service has no protocol, address or port")
            if self.af not in (AF_INET, AF_INET6):
                raise ModelError(f"invalid address family {self.af}")
            return
        if self.protocol is None or self.address is None:
            raise ModelError("a service needs a protocol and an address, or a fwmark")
        if not 0 <= self.port <= 65535:
            raise ModelError(f"invalid port {self.port}")
        if self.af != af_of(self.address):
            object.__setattr__(self, "af", af_of(self.address))

    @classmethod
    def inet(cls, protocol: Protocol, address: Address | str, port: int) -> ServiceKey:
        return cls(protocol=protocol, address=ipaddress.ip_address(address), port=port)

    @classmethod
    def mark(cls, fwmark: int, af: int = AF_INET) -> ServiceKey:
        return cls(fwmark=fwmark, af=af)

    @property
    def is_fwmark(self) -> bool:
        return self.fwmark != 0

    def __str__(self) -> str:
        if self.fwmark:
            return f"FWM {self.fwmark}" + (" IPv6" if self.af == AF_INET6 else "")
        assert self.protocol is not None and self.address is not None
        return f"{self.protocol.name} {format_addr_port(self.address, self.port)}"


def format_addr_port(address: Address, port: int) -> str:
    """`a.b.c.d:port` or `[v6]:port`, as ipvsadm prints numerically."""
    if address.version == 6:
        return f"[{address}]:{port}"
    return f"{address}:{port}"


@fast_init
@dataclass(frozen=True, slots=True)
class TunnelParams:
    """--tun-type / --tun-port / --tun-*csum of ipvsadm 1.31."""

    type: TunnelType = TunnelType.IPIP
    port: int = 0
    csum: TunnelCsum = TunnelCsum.NOCSUM

    def __post_init__(self) -> None:
        if self.type is TunnelType.GUE and not 1 <= self.port <= 65535:
            raise ModelError("gue tunnels need a port 1..65535")
        if self.type is not TunnelType.GUE and self.port:
            raise ModelError("only gue tunnels have a port")
        if self.type is TunnelType.IPIP and self.csum is not TunnelCsum.NOCSUM:
            raise ModelError("ipip tunnels have no checksum option")
        if self.type is TunnelType.GRE and self.csum is TunnelCsum.REMCSUM:
            raise ModelError("gre tunnels have no remcsum option")


@fast_init
@dataclass(frozen=True, slots=True)
class VirtualService:
    """A virtual service's configuration (ipvsadm -A/-E; keepalived virtual_server)."""

    key: ServiceKey
    scheduler: str = DEFAULT_SCHEDULER
    flags: ServiceFlags = ServiceFlags.NONE
    timeout: int = 0  # persistence timeout in seconds; meaningful when PERSISTENT
    netmask: int = -1  # persistence granularity as a prefix length; -1 = host (/32, /128)
    pe_name: str = ""

    def __post_init__(self) -> None:
        if not self.scheduler:
            raise ModelError("empty scheduler name")
        host = 32 if self.key.af == AF_INET else 128
        if self.netmask == -1:
            object.__setattr__(self, "netmask", host)
        if not 0 <= self.netmask <= host:
            raise ModelError(f"invalid persistence netmask /{self.netmask}")
        flags = int(self.flags)  # (an IntFlag's & makes an enum member through Python code)
        if flags & _PERSISTENT:
            if not 1 <= self.timeout <= MAX_PERSISTENCE_TIMEOUT:
                raise ModelError(f"invalid persistence timeout {self.timeout}")
        elif self.timeout:
            raise ModelError("a persistence timeout needs the persistent flag")
        if flags & _ONEPACKET and not (self.key.is_fwmark or self.key.protocol is Protocol.UDP):
            raise ModelError("One-Packet Scheduling is only for UDP virtual services")

    @property
    def persistent(self) -> bool:
        return bool(self.flags & ServiceFlags.PERSISTENT)

    @property
    def one_packet(self) -> bool:
        return bool(self.flags & ServiceFlags.ONEPACKET)

    @property
    def host_prefix(self) -> int:
        return 32 if self.key.af == AF_INET else 128

    def sched_flag_names(self) -> list[str]:
        names = SCHED_FLAG_NAMES.get(self.scheduler, GENERIC_SCHED_FLAG_NAMES)
        bits = (ServiceFlags.SCHED1, ServiceFlags.SCHED2, ServiceFlags.SCHED3)
        return [n for n, b in zip(names, bits, strict=True) if self.flags & b]


@fast_init
@dataclass(frozen=True, slots=True)
class RealServer:
    """A real server's configuration (ipvsadm -a/-e; keepalived real_server)."""

    address: Address
    port: int
    weight: int = 1
    method: ForwardMethod = ForwardMethod.ROUTE
    u_threshold: int = 0
    l_threshold: int = 0
    tunnel: TunnelParams | None = field(default=None)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ModelError(f"invalid port {self.port}")
        if not 0 <= self.weight <= MAX_WEIGHT:
            raise ModelError(f"invalid weight {self.weight}")
        if not 0 <= self.u_threshold <= MAX_THRESHOLD:
            raise ModelError(f"invalid u-threshold {self.u_threshold}")
        if not 0 <= self.l_threshold <= MAX_THRESHOLD:
            raise ModelError(f"invalid l-threshold {self.l_threshold}")
        if self.tunnel is not None and self.method is not ForwardMethod.TUNNEL:
            raise ModelError("Tunnel options conflict with forward method")

    @property
    def key(self) -> tuple[Address, int]:
        return (self.address, self.port)

    def __str__(self) -> str:
        return format_addr_port(self.address, self.port)
