"""Build the `ipvsadm` snapshot (what the kernel would report) from a running data plane."""

from __future__ import annotations

from pylvs.control.ipvsadm.snapshot import (
    ConnView,
    DaemonView,
    DestView,
    Rates,
    ServiceView,
    Snapshot,
    Stats,
)
from pylvs.dataplane.base import DataPlane
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.stats import Stats as LiveStats
from pylvs.proto.conntrack.table import ConnEntry

# ip_vs_proto_name(): the protocol column of /proc/net/ip_vs_conn
PROTO_NAMES = {6: "TCP", 17: "UDP", 132: "SCTP", 0: "IP"}


def _stats(s: LiveStats) -> tuple[Stats, Rates]:
    return s.values(), s.rates()


def service_view(rt: ServiceRuntime) -> ServiceView:
    dests = []
    for d in rt.dests:  # kernel list order: newest first
        stats, rates = _stats(rt.stats_of(d))
        dests.append(DestView(d.config, d.activeconns, d.inactconns, d.persistconns, stats, rates))
    stats, rates = _stats(rt.stats)
    return ServiceView(rt.service, stats, rates, tuple(dests))


def conn_view(c: ConnEntry) -> ConnView:
    return ConnView(
        PROTO_NAMES.get(c.protocol, "??"),
        c.caddr,
        c.cport,
        c.vaddr,
        c.vport,
        c.daddr,
        c.dport,
        c.state.value,
        c.expires,
        c.pe_name,
        c.pe_data,
    )


def build_snapshot(
    dp: DataPlane, *, with_conns: bool = True, daemons: tuple[DaemonView, ...] = ()
) -> Snapshot:
    return Snapshot(
        services=tuple(service_view(rt) for rt in dp.services()),
        timeouts=dp.timeouts,
        daemons=daemons,
        conns=tuple(conn_view(c) for c in dp.connections()) if with_conns else (),
    )
