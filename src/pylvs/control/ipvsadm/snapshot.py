"""What the daemon hands `pylvs ipvsadm` to print: the table with its live counters.

This is the data ipvsadm gets from the kernel (`ipvs_get_services`, `ipvs_get_dests`,
`ipvs_get_timeout`, `ipvs_get_daemon`, /proc/net/ip_vs_conn) as plain values.  Destinations
are in *kernel list order*, newest first (ip_vs_ctl.c `__ip_vs_update_dest` inserts at the
head); services in the order the daemon keeps them (what `--nosort` shows).
`snapshot_from_table` builds one with zero counters from a `ServiceTable`, for listing
without a daemon (tests, `-R` lines that list).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model import Address, RealServer, ServiceTable, VirtualService

IPVS_VERSION = (1, 2, 1)  # IP_VS_VERSION_CODE 0x010201
CONN_TAB_SIZE = 4096  # 1 << CONFIG_IP_VS_TAB_BITS (12)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """`--set` / `--timeout`: TCP established, TCP FIN_WAIT, UDP (ip_vs_proto_*.c defaults)."""

    tcp: int = 900
    tcpfin: int = 120
    udp: int = 300


DEFAULT_TIMEOUTS = Timeouts()


@dataclass(frozen=True, slots=True)
class Stats:
    """Cumulative counters (struct ip_vs_stats64)."""

    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0


@dataclass(frozen=True, slots=True)
class Rates:
    """Estimated per-second rates (ip_vs_est.c read-out)."""

    cps: int = 0
    inpps: int = 0
    outpps: int = 0
    inbps: int = 0
    outbps: int = 0


@dataclass(frozen=True, slots=True)
class DestView:
    config: RealServer
    activeconns: int = 0
    inactconns: int = 0
    persistconns: int = 0
    stats: Stats = Stats()
    rates: Rates = Rates()


@dataclass(frozen=True, slots=True)
class ServiceView:
    service: VirtualService
    stats: Stats = Stats()
    rates: Rates = Rates()
    dests: tuple[DestView, ...] = ()  # kernel list order: newest first


@dataclass(frozen=True, slots=True)
class DaemonView:
    """One running sync daemon as `ipvs_get_daemon` reports it (0 / None = not reported)."""

    state: str  # "master" | "backup"
    mcast_ifn: str
    syncid: int = 0
    sync_maxlen: int = 0
    mcast_group: Address | None = None
    mcast_port: int = 0
    mcast_ttl: int = 0


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
    services: tuple[ServiceView, ...] = ()
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    daemons: tuple[DaemonView, ...] = ()
    conns: tuple[ConnView, ...] = ()
    version: tuple[int, int, int] = IPVS_VERSION
    conn_tab_size: int = CONN_TAB_SIZE


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
