"""Snapshots of a running director: what `ipvsadm -L`, `pylvs status` and web/ render.

`Snapshot` is the service table as the kernel reports it (`ipvs_get_services`,
`ipvs_get_dests`, `ipvs_get_timeout`, `ipvs_get_daemon`, /proc/net/ip_vs_conn): services in the
order the daemon keeps them (what `--nosort` shows), each destination in *kernel list order*,
newest first (ip_vs_ctl.c `__ip_vs_update_dest` inserts at the head), with its live counters and
rates (model/stats.py).  `snapshot_from_table` builds one with zero counters from a
`ServiceTable`, for listing without a daemon (tests, `-R` lines that list).

`DirectorSnapshot` adds what health checking and VRRP report: each pool's quorum, each real
server's checker results, each VRRP instance's state.  Renderers (control/ipvsadm,
control/status.py) take these values and never reach into the runtime's objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.conn import Timeouts
from pylvs.model.service import Address, RealServer, ServiceKey, VirtualService
from pylvs.model.stats import CounterValues, Rates
from pylvs.model.syncd import SyncDaemon
from pylvs.model.table import ServiceTable

IPVS_VERSION = (1, 2, 1)  # IP_VS_VERSION_CODE 0x010201
CONN_TAB_SIZE = 4096  # 1 << CONFIG_IP_VS_TAB_BITS (12)

DEFAULT_TIMEOUTS = Timeouts()
Stats = CounterValues
ZERO_STATS = Stats()
ZERO_RATES = Rates()
# One running sync daemon as `ipvs_get_daemon` reports it (model/syncd.py).
DaemonView = SyncDaemon


@dataclass(frozen=True, slots=True)
class DestView:
    config: RealServer
    activeconns: int = 0
    inactconns: int = 0
    persistconns: int = 0
    stats: Stats = ZERO_STATS
    rates: Rates = ZERO_RATES


@dataclass(frozen=True, slots=True)
class ServiceView:
    service: VirtualService
    stats: Stats = ZERO_STATS
    rates: Rates = ZERO_RATES
    dests: tuple[DestView, ...] = ()  # kernel list order: newest first

    def dest(self, key: tuple[Address, int]) -> DestView | None:
        for d in self.dests:
            if d.config.key == key:
                return d
        return None


@dataclass(frozen=True, slots=True)
class ConnView:
    """One row of /proc/net/ip_vs_conn (ip_vs_conn.c `ip_vs_conn_seq_show`)."""

    protocol: str  # "TCP", "UDP", "SCTP", "IP" (fwmark templates), ...
    caddr: Address
    cport: int
    vaddr: Address
    vport: int
    daddr: Address
    dport: int
    state: str
    expires: int  # seconds
    pe_name: str = ""
    pe_data: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The table with its live counters, timeouts, sync daemons and connections."""

    services: tuple[ServiceView, ...] = ()
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    daemons: tuple[DaemonView, ...] = ()
    conns: tuple[ConnView, ...] = ()
    version: tuple[int, int, int] = IPVS_VERSION
    conn_tab_size: int = CONN_TAB_SIZE

    def service(self, key: ServiceKey) -> ServiceView | None:
        for s in self.services:
            if s.service.key == key:
                return s
        return None


def snapshot_from_table(
    table: ServiceTable,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    daemons: tuple[DaemonView, ...] = (),
) -> Snapshot:
    """A snapshot with zero counters; dests newest first like the kernel lists them."""
    services = tuple(
        ServiceView(
            service=entry.service,
            dests=tuple(DestView(config=d) for d in reversed(entry.dests)),
        )
        for entry in table.values()
    )
    return Snapshot(services=services, timeouts=timeouts, daemons=daemons)


# -- health and VRRP ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckView:
    """One checker of a real server and its last result."""

    kind: str  # "TCP_CHECK", "HTTP_GET", ...
    target: str  # where it connects ("" when it does not)
    up: bool
    last_ok: bool | None  # None: not probed yet
    reason: str
    at: float | None  # wall-clock time of the last result
    duration: float | None = None  # seconds the last probe took (None: not probed)
    probes_ok: int = 0  # results since the checker started (reloads keep them)
    probes_failed: int = 0


@dataclass(frozen=True, slots=True)
class ServerHealth:
    """A real server as health checking sees it."""

    pool: str  # the pool's id (PoolHealth.name)
    name: str  # the real server's name (keepalived FMT_RS)
    key: tuple[Address, int]
    services: tuple[ServiceKey, ...]  # the pool's services, where the server is a destination
    alive: bool
    weight: int  # the weight health checking gives it (effective, as given to IPVS)
    in_table: bool  # health checking puts it in the table
    checks: tuple[CheckView, ...] = ()
    since: float | None = None  # wall-clock time it last went up or down (None: never)


@dataclass(frozen=True, slots=True)
class PoolHealth:
    name: str  # the pool's id (keepalived FMT_VS, made unique)
    quorum_up: bool
    sorry_active: bool  # the sorry server replaces the real servers


@dataclass(frozen=True, slots=True)
class InstanceView:
    """A VRRP instance as `pylvs status` shows it."""

    name: str
    state: str  # "MASTER", "BACKUP", "FAULT", "INIT", "STOP"
    base_priority: int
    effective_priority: int
    master_address: Address | None
    last_transition: float | None  # wall-clock seconds since the epoch
    vrid: int
    interface: str
    family: int
    # keepalived's per-instance statistics (proto/vrrp/stats.py `Counter` values by name).
    stats: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class PlaneView:
    """What the data plane reports of itself beyond the table's counters."""

    name: str  # "proxy", "nftables", "ipvs", "fake"
    flows: int  # entries in its connection table (templates included)
    # New flows the kernel plane forwarded without recording them (a full flow map).
    unrecorded: int = 0
    # Packets or connections the plane dropped since start, by reason (DataPlane.drops).
    drops: tuple[tuple[str, int], ...] = ()
    # The kernel plane's dynamic sets as last read: (name, elements, capacity).
    sets: tuple[tuple[str, int, int], ...] = ()
    # The proxy's descriptors: in use by connections, its cap, times the cap was reached.
    descriptors: DescriptorUse | None = None


@dataclass(frozen=True, slots=True)
class DescriptorUse:
    """The proxy plane's own descriptors against its cap (dataplane/proxy/descriptors.py)."""

    in_use: int
    cap: int
    cap_reached: int  # times new connections had to wait (or UDP flows were dropped)


@dataclass(frozen=True, slots=True)
class ProcessView:
    """The daemon itself: when it started, its reloads, what it is."""

    started: float  # wall-clock seconds since the epoch
    version: str
    config: str  # the configuration file
    reloads_ok: int = 0
    reloads_failed: int = 0
    last_reload: float | None = None  # wall-clock time of the last reload (None: none yet)
    last_reload_ok: bool = True


@dataclass(frozen=True, slots=True)
class DirectorSnapshot:
    """Everything `pylvs status` shows, at one moment."""

    table: Snapshot = Snapshot()
    pools: tuple[PoolHealth, ...] = ()
    servers: tuple[ServerHealth, ...] = ()
    vrrp: tuple[InstanceView, ...] = ()
    # Services in the table whose address the data plane cannot listen on yet, and why.
    unbound: tuple[tuple[ServiceKey, str], ...] = ()
    plane: PlaneView | None = None
    process: ProcessView | None = None

    def live_weight(self, server: ServerHealth) -> int | None:
        """The weight the server has in the live table (operator edits included), or None
        when it is a destination of none of its pool's services there."""
        for key in server.services:
            view = self.table.service(key)
            dest = view.dest(server.key) if view is not None else None
            if dest is not None:
                return dest.config.weight
        return None
