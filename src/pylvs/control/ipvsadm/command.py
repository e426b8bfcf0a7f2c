"""What one `ipvsadm` command line asks for, as typed values (the parser's output).

Each value carries what ipvsadm.c would put in `struct ipvs_command_entry` and send to the
kernel, with ipvsadm's defaults already applied (scheduler `wlc`, weight 1, `-g`, dest port
= service port, persistence 360 s, ...).  `execute` applies them to a `ServiceTable`;
the listing commands are rendered by `format`, `conns` and `save`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pylvs.model import (
    AF_INET,
    Address,
    ForwardMethod,
    ModelError,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelParams,
    TunnelType,
    VirtualService,
)
from pylvs.model.syncd import SyncDaemon, SyncState


class Fmt(enum.IntFlag):
    """ipvsadm.c FMT_* printing flags."""

    NONE = 0
    NUMERIC = 0x1
    RULE = 0x2
    STATS = 0x4
    RATE = 0x8
    THRESHOLDS = 0x10
    PERSISTENTCONN = 0x20
    NOSORT = 0x40
    EXACT = 0x80
    TUN_INFO = 0x100


def mask_to_prefix(mask: int) -> int | None:
    """A contiguous IPv4 netmask (host order) as a prefix length, else None."""
    inverted = ~mask & 0xFFFFFFFF
    if inverted & (inverted + 1):
        return None
    return 32 - inverted.bit_length()


@dataclass(frozen=True, slots=True)
class ServiceArgs:
    """-A/-E: the service as ipvsadm sends it (every field, defaults filled in).

    `netmask` is what `-M` set: an IPv4 mask as a host-order integer for IPv4 services, a
    prefix length for IPv6 ones (ipvsadm keeps both in one `netmask` field).
    """

    key: ServiceKey
    scheduler: str = "wlc"
    flags: ServiceFlags = ServiceFlags.NONE
    timeout: int = 0
    netmask: int = 0xFFFFFFFF
    pe_name: str = ""

    def prefix(self) -> int | None:
        if self.key.af == AF_INET:
            return mask_to_prefix(self.netmask)
        return self.netmask

    def to_service(self) -> VirtualService:
        """The model value (ModelError when the model cannot hold it, e.g. mask 255.0.255.0)."""
        prefix = self.prefix()
        if prefix is None:
            raise ModelError("non-contiguous persistence netmask")
        return VirtualService(
            key=self.key,
            scheduler=self.scheduler,
            flags=self.flags,
            timeout=self.timeout,
            netmask=prefix,
            pe_name=self.pe_name,
        )


@dataclass(frozen=True, slots=True)
class DestArgs:
    """-a/-e/-d: the real server as ipvsadm sends it."""

    address: Address
    port: int
    method: ForwardMethod = ForwardMethod.ROUTE
    weight: int = 1
    u_threshold: int = 0
    l_threshold: int = 0
    tun_type: TunnelType = TunnelType.IPIP
    tun_port: int = 0
    tun_csum: TunnelCsum = TunnelCsum.NOCSUM

    def to_real_server(self) -> RealServer:
        tunnel = None
        if self.method is ForwardMethod.TUNNEL:
            tunnel = TunnelParams(self.tun_type, self.tun_port, self.tun_csum)
        return RealServer(
            address=self.address,
            port=self.port,
            weight=self.weight,
            method=self.method,
            u_threshold=self.u_threshold,
            l_threshold=self.l_threshold,
            tunnel=tunnel,
        )


@dataclass(frozen=True, slots=True)
class DaemonArgs:
    """--start-daemon: the sync daemon settings (0 / None = not given)."""

    state: str  # "master" | "backup"
    mcast_ifn: str = "eth0"
    syncid: int = 0
    sync_maxlen: int = 0
    mcast_group: Address | None = None
    mcast_port: int = 0
    mcast_ttl: int = 0

    def to_sync_daemon(self) -> SyncDaemon:
        """The daemon as asked for (unset values stay unset: the kernel picks them)."""
        return SyncDaemon(
            SyncState(self.state),
            self.mcast_ifn,
            self.syncid,
            self.sync_maxlen,
            self.mcast_group,
            self.mcast_port,
            self.mcast_ttl,
        )


@dataclass(frozen=True, slots=True)
class AddService:
    service: ServiceArgs


@dataclass(frozen=True, slots=True)
class EditService:
    service: ServiceArgs


@dataclass(frozen=True, slots=True)
class DeleteService:
    key: ServiceKey


@dataclass(frozen=True, slots=True)
class Flush:
    pass


@dataclass(frozen=True, slots=True)
class AddDest:
    key: ServiceKey
    dest: DestArgs


@dataclass(frozen=True, slots=True)
class EditDest:
    key: ServiceKey
    dest: DestArgs


@dataclass(frozen=True, slots=True)
class DeleteDest:
    key: ServiceKey
    dest: DestArgs


@dataclass(frozen=True, slots=True)
class SetTimeouts:
    """--set tcp tcpfin udp; 0 leaves a value unchanged (ip_vs_ctl.c ip_vs_set_timeout)."""

    tcp: int
    tcpfin: int
    udp: int


@dataclass(frozen=True, slots=True)
class StartDaemon:
    daemon: DaemonArgs


@dataclass(frozen=True, slots=True)
class StopDaemon:
    state: str


@dataclass(frozen=True, slots=True)
class Zero:
    """-Z: zero the counters of one service, or of all when `key` is None."""

    key: ServiceKey | None


@dataclass(frozen=True, slots=True)
class Restore:
    """-R: read commands from stdin (see `restore`)."""


@dataclass(frozen=True, slots=True)
class Save:
    """-S [-n]: `fmt` always has RULE."""

    fmt: Fmt


class ListWhat(enum.Enum):
    ALL = "all"
    SERVICE = "service"
    CONNECTIONS = "connections"
    TIMEOUT = "timeout"
    DAEMON = "daemon"


@dataclass(frozen=True, slots=True)
class List:
    """-L/-l (and no arguments at all)."""

    what: ListWhat = ListWhat.ALL
    fmt: Fmt = Fmt.NONE
    key: ServiceKey | None = None


@dataclass(frozen=True, slots=True)
class Help:
    """-h: the usage text on stdout, status 0."""

    prog: str


@dataclass(frozen=True, slots=True)
class Version:
    """-v: the version line on stdout, status 0."""


Command = (
    AddService
    | EditService
    | DeleteService
    | Flush
    | AddDest
    | EditDest
    | DeleteDest
    | SetTimeouts
    | StartDaemon
    | StopDaemon
    | Zero
    | Restore
    | Save
    | List
    | Help
    | Version
)
