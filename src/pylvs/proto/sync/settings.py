"""What configures the sync: the kernel's sync sysctls and one daemon's parameters.

`Sysctls` are net.ipv4.vs.sync_* (Documentation/networking/ipvs-sysctl.rst), validated as
the kernel's proc handlers do (proc_do_sync_threshold: threshold < period unless the period
is 0; sync_retries clamped to 0..3; sync_ports a power of two up to 64).

`Daemon` is what `ipvsadm --start-daemon` and keepalived's `lvs_sync_daemon` hand the
kernel; `Daemon.resolve(mtu)` fills in the defaults and clamps as start_sync_thread
(ip_vs_sync.c) does: group 224.0.0.81, port 8848, TTL 1, and sync_maxlen from the MTU minus
the IP and UDP headers (a master always assumes 1500; a backup takes the interface's MTU,
at least 1500, and never less than 1024 bytes).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from pylvs.model.service import Address
from pylvs.proto.sync.wire import SYNC_GROUP_V4, SYNC_PORT, SyncError

IPV4_UDP_HEADERS = 20 + 8
IPV6_UDP_HEADERS = 40 + 8
MASTER_MTU = 1500
MAX_SYNC_PORTS = 64  # IPVS_SYNC_PORTS_MAX


class Role(enum.Enum):
    MASTER = "master"
    BACKUP = "backup"


@dataclass(frozen=True, slots=True)
class Sysctls:
    """The sync sysctls with the kernel's defaults; times in seconds."""

    version: int = 1  # sync_version
    threshold: int = 3  # sync_threshold[0]
    period: int = 50  # sync_threshold[1]
    refresh_period: float = 0.0  # sync_refresh_period
    retries: int = 0  # sync_retries
    persist_mode: bool = False  # sync_persist_mode
    ports: int = 1  # sync_ports
    qlen_max: int = 0  # sync_qlen_max; 0: the kernel's default (memory based)
    sock_size: int = 0  # sync_sock_size; 0: the socket's default

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise SyncError(f"sync_version {self.version} is neither 0 nor 1")
        if self.threshold < 0 or self.period < 0 or (self.threshold >= self.period > 0):
            raise SyncError(f"invalid sync_threshold {self.threshold} {self.period}")
        if self.refresh_period < 0:
            raise SyncError("sync_refresh_period cannot be negative")
        # proc_dointvec_minmax with 0..3 refuses other values
        if not 0 <= self.retries <= 3:
            raise SyncError(f"sync_retries {self.retries} is outside 0..3")
        if not 1 <= self.ports <= MAX_SYNC_PORTS or self.ports & (self.ports - 1):
            raise SyncError(f"sync_ports {self.ports} is not a power of two up to 64")
        if self.qlen_max < 0 or self.sock_size < 0:
            raise SyncError("sync_qlen_max and sync_sock_size cannot be negative")


@dataclass(frozen=True, slots=True)
class Daemon:
    """One sync daemon as configured; 0 / None mean "the kernel's default"."""

    role: Role
    interface: str
    syncid: int = 0
    maxlen: int = 0
    group: Address | None = None
    port: int = 0
    ttl: int = 0

    def __post_init__(self) -> None:
        if not self.interface:
            raise SyncError("a sync daemon needs an interface")
        if not 0 <= self.syncid <= 255:
            raise SyncError(f"syncid {self.syncid} is outside 0..255")
        if not 0 <= self.port <= 65535 or not 0 <= self.ttl <= 255:
            raise SyncError("invalid sync port or TTL")
        if self.maxlen < 0:
            raise SyncError("sync_maxlen cannot be negative")
        if self.group is not None and not self.group.is_multicast:
            raise SyncError(f"{self.group} is not a multicast group")

    @property
    def family(self) -> int:
        return 6 if self.group is not None and self.group.version == 6 else 4

    def resolve(self, mtu: int) -> Daemon:
        """The daemon as the kernel runs it on an interface of `mtu` bytes."""
        hlen = IPV6_UDP_HEADERS if self.family == 6 else IPV4_UDP_HEADERS
        if self.role is Role.BACKUP:
            link, least = min(max(mtu, 1500), 65535), 1024
        else:
            link, least = MASTER_MTU, 1
        if self.maxlen:
            maxlen = min(max(self.maxlen, least), 65535 - hlen)
        else:
            maxlen = link - hlen
        return replace(
            self,
            maxlen=maxlen,
            group=self.group if self.group is not None else SYNC_GROUP_V4,
            port=self.port or SYNC_PORT,
            ttl=self.ttl or 1,
        )

    def destination(self, index: int = 0) -> tuple[Address, int]:
        """Where thread `index` of a resolved daemon sends or listens (group, port + index)."""
        group = self.group if self.group is not None else SYNC_GROUP_V4
        return group, (self.port or SYNC_PORT) + index
