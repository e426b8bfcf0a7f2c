"""A connection-synchronisation daemon as the kernel runs it (pure value).

IPVS runs at most one master and one backup sync thread per network namespace
(net/netfilter/ipvs/ip_vs_sync.c `start_sync_thread`); `ipvsadm --start-daemon` and
keepalived's `lvs_sync_daemon` start them with these settings, and `ipvsadm -L --daemon`
lists them as the kernel reports them (IPVS_CMD_GET_DAEMON: unset values come back as the
kernel's defaults).  0 / None mean "not given".
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.service import Address, ModelError

SYNC_STATES = ("master", "backup")


@dataclass(frozen=True, slots=True)
class SyncDaemon:
    state: str  # "master" | "backup"
    mcast_ifn: str
    syncid: int = 0
    sync_maxlen: int = 0
    mcast_group: Address | None = None
    mcast_port: int = 0
    mcast_ttl: int = 0

    def __post_init__(self) -> None:
        if self.state not in SYNC_STATES:
            raise ModelError(f"invalid sync daemon state {self.state!r}")


@dataclass(frozen=True, slots=True)
class SyncDaemonSpec:
    """The sync daemons a configuration asks for (keepalived `lvs_sync_daemon IF [INSTANCE]`):
    with an `instance`, the master daemon runs while that VRRP instance is MASTER and the
    backup daemon otherwise (syncid: the instance's VRID unless given); without one, both."""

    interface: str
    instance: str | None = None
    syncid: int | None = None
    maxlen: int | None = None
    port: int | None = None
    ttl: int | None = None
    group: Address | None = None
