"""What configures the sync besides a daemon's own parameters: the kernel's sync sysctls.

`Sysctls` are net.ipv4.vs.sync_* (Documentation/networking/ipvs-sysctl.rst), validated as
the kernel's proc handlers do (proc_do_sync_threshold: threshold < period unless the period
is 0; sync_retries clamped to 0..3; sync_ports a power of two up to 64).  A daemon's
parameters (interface, syncid, maxlen, group, port, TTL) are pylvs.model.syncd.SyncDaemon.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.sync.wire import SyncError

MAX_SYNC_PORTS = 64  # IPVS_SYNC_PORTS_MAX


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
