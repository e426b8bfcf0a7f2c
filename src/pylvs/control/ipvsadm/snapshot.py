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
from pylvs.model.stats import CounterValues, Rates
from pylvs.model.syncd import SyncDaemon
from pylvs.proto.conntrack.states import Timeouts

IPVS_VERSION = (1, 2, 1)  # IP_VS_VERSION_CODE 0x010201
CONN_TAB_SIZE = 4096  # 1 << CONFIG_IP_VS_TAB_BITS (12)


# The three `--set` / `--timeout` values, and the counters and rates a listing prints, are the
# data plane's own values: one definition each (proto/conntrack/states.py, model/stats.py).
DEFAULT_TIMEOUTS = Timeouts()
Stats = CounterValues
ZERO_STATS = Stats()
ZERO_RATES = Rates()
# One running sync daemon as `ipvs_get_daemon` reports it (the model's value).
DaemonView = SyncDaemon

__all__ = [
    "DEFAULT_TIMEOUTS",
    "ConnView",
    "DaemonView",
    "DestView",
    "Rates",
    "ServiceView",
    "Snapshot",
    "Stats",
    "Timeouts",
    "snapshot_from_table",
]


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
