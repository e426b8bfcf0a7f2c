"""A connection-synchronisation daemon as the kernel runs it (pure value), and what a
configuration asks for.

IPVS runs at most one master and one backup sync daemon per network namespace
(net/netfilter/ipvs/ip_vs_sync.c `start_sync_thread`); `ipvsadm --start-daemon` and
keepalived's `lvs_sync_daemon` start them with these settings, and `ipvsadm -L --daemon`
lists them as the kernel reports them (IPVS_CMD_GET_DAEMON: unset values come back as the
kernel's defaults).  `SyncDaemon` is the one type for all of it: the ipvsadm command, the
kernel's netlink attributes, the listing, and pylvs's own daemons (pylvs.sync).  0 / None
mean "not given"; `resolve(mtu)` fills them in and clamps as start_sync_thread does: group
224.0.0.81, port 8848, TTL 1, and sync_maxlen from the MTU minus the IP and UDP headers (a
master always assumes 1500; a backup takes the interface's MTU, at least 1500, and never
less than 1024 bytes).
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, replace

from pylvs.model.service import Address, ModelError

SYNC_GROUP_V4 = ipaddress.IPv4Address("224.0.0.81")  # IP_VS_SYNC_GROUP 0xe0000051
SYNC_PORT = 8848  # IP_VS_SYNC_PORT
IPV4_UDP_HEADERS = 20 + 8
IPV6_UDP_HEADERS = 40 + 8
MASTER_MTU = 1500  # the master's messages are sized for this whatever the link says


class SyncState(enum.StrEnum):
    """IP_VS_STATE_MASTER / IP_VS_STATE_BACKUP, as ipvsadm spells them."""

    MASTER = "master"
    BACKUP = "backup"


SYNC_STATES = tuple(s.value for s in SyncState)


@dataclass(frozen=True, slots=True)
class SyncDaemon:
    state: SyncState
    mcast_ifn: str
    syncid: int = 0
    sync_maxlen: int = 0
    mcast_group: Address | None = None
    mcast_port: int = 0
    mcast_ttl: int = 0

    def __post_init__(self) -> None:
        if self.state not in SYNC_STATES:
            raise ModelError(f"invalid sync daemon state {self.state!r}")
        object.__setattr__(self, "state", SyncState(self.state))
        if not 0 <= self.syncid <= 255:
            raise ModelError(f"syncid {self.syncid} is outside 0..255")
        if not 0 <= self.mcast_port <= 65535 or not 0 <= self.mcast_ttl <= 255:
            raise ModelError("invalid sync port or TTL")
        if not 0 <= self.sync_maxlen <= 65535:
            raise ModelError(f"invalid sync_maxlen {self.sync_maxlen}")
        if self.mcast_group is not None and not self.mcast_group.is_multicast:
            raise ModelError(f"{self.mcast_group} is not a multicast group")

    @property
    def family(self) -> int:
        return 6 if self.mcast_group is not None and self.mcast_group.version == 6 else 4

    def resolve(self, mtu: int) -> SyncDaemon:
        """The daemon as the kernel runs it on an interface of `mtu` bytes."""
        hlen = IPV6_UDP_HEADERS if self.family == 6 else IPV4_UDP_HEADERS
        if self.state is SyncState.BACKUP:
            link, least = min(max(mtu, 1500), 65535), 1024
        else:
            link, least = MASTER_MTU, 1
        if self.sync_maxlen:
            maxlen = min(max(self.sync_maxlen, least), 65535 - hlen)
        else:
            maxlen = link - hlen
        return replace(
            self,
            sync_maxlen=maxlen,
            mcast_group=self.mcast_group if self.mcast_group is not None else SYNC_GROUP_V4,
            mcast_port=self.mcast_port or SYNC_PORT,
            mcast_ttl=self.mcast_ttl or 1,
        )

    def destination(self, index: int = 0) -> tuple[Address, int]:
        """Where thread `index` sends or listens (group, port + index)."""
        group = self.mcast_group if self.mcast_group is not None else SYNC_GROUP_V4
        return group, (self.mcast_port or SYNC_PORT) + index


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
