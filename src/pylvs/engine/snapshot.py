"""Build the table snapshot (what the kernel would report: model/snapshot.py) from a running
data plane; `ipvsadm -L`, `pylvs status` and metrics render it."""

from __future__ import annotations

from dataclasses import replace

from pylvs.dataplane.base import DataPlane
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.snapshot import ConnView, DaemonView, DestView, ServiceView, Snapshot, Stats
from pylvs.model.stats import Rates
from pylvs.model.stats import Stats as LiveStats
from pylvs.proto.conntrack.table import ConnEntry
from pylvs.proto.ipvs.procfs import proto_name


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
        proto_name(c.protocol),
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


def plane_snapshot(dp: DataPlane, daemons: tuple[DaemonView, ...] | None = None) -> Snapshot:
    """What a listing shows but the connections, read now: the services in the order the
    plane lists them (the kernel's hash order for the kernel's IPVS: what `--nosort` shows),
    the timeouts, its sync daemons and version line if it has them."""
    if daemons is None:
        daemons = dp.sync_daemons() or ()
    info = dp.kernel_info()
    snapshot = Snapshot(
        services=tuple(service_view(rt) for rt in dp.listed()),
        timeouts=dp.timeouts,
        daemons=daemons,
    )
    if info is not None:
        snapshot = replace(snapshot, version=info[0], conn_tab_size=info[1])
    return snapshot


def build_snapshot(
    dp: DataPlane, *, with_conns: bool = True, daemons: tuple[DaemonView, ...] | None = None
) -> Snapshot:
    snapshot = plane_snapshot(dp, daemons)
    if not with_conns:
        return snapshot
    return replace(snapshot, conns=tuple(conn_view(c) for c in dp.connections()))
