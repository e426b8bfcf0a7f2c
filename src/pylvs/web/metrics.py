"""`/metrics`: the director in Prometheus's text format, through prometheus_client.

A custom collector (prometheus_client's "custom collectors") turns one `DirectorSnapshot`
(model/snapshot.py) into metric families at each scrape: nothing is kept between scrapes and
nothing reaches into the engine, so the keepalived mode and the HAProxy mode export the same
way.  The exposition is prometheus_client's own (`generate_latest`), never written by hand.

Names and labels (the whole list with their meanings: docs/web.md) follow Prometheus's
naming conventions (base units, `_total` counters, `_seconds`, `_timestamp_seconds`).  Where
node_exporter's ipvs collector (collector/ipvs_linux.go) or keepalived_exporter
(internal/collector/collector.go) export the same thing, pylvs keeps their label names:
`local_address`, `local_port`, `remote_address`, `remote_port`, `proto`, `local_mark` for IPVS,
`iname`, `intf`, `vrid` for VRRP, and keepalived's state numbers for `pylvs_vrrp_state`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from pylvs.model.service import ServiceKey
from pylvs.model.snapshot import (
    DestView,
    DirectorSnapshot,
    InstanceView,
    PlaneView,
    ServiceView,
)
from pylvs.model.stats import CounterValues, Rates

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SERVICE_LABELS = ["proto", "local_address", "local_port", "local_mark"]
BACKEND_LABELS = [*SERVICE_LABELS, "remote_address", "remote_port"]
VRRP_LABELS = ["iname", "intf", "vrid"]
# keepalived's state numbers (vrrp.h VRRP_STATE_*), as keepalived_exporter exports them;
# STOP (an instance being shut down) has no keepalived number: pylvs gives it 4.
VRRP_STATES = {"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3, "STOP": 4}
# VRRP counters with a metric of their own (keepalived_exporter's names after the prefix).
VRRP_COUNTERS = {
    "advert_rcvd": ("advertisements_received", "VRRP adverts received"),
    "advert_sent": ("advertisements_sent", "VRRP adverts sent"),
    "become_master": ("become_master", "Transitions to MASTER"),
    "release_master": ("release_master", "Transitions out of MASTER"),
    "pri_zero_rcvd": ("priority_zero_received", "Priority-0 adverts received"),
    "pri_zero_sent": ("priority_zero_sent", "Priority-0 adverts sent"),
}
# The error counters, by the RFC 6527 (VRRPv3 MIB) statistic each one is, else keepalived's.
VRRP_ERRORS = {
    "packet_len_err": "packet_length",  # vrrpv3StatisticsPacketLengthErrors
    "ip_ttl_err": "ip_ttl",  # vrrpv3StatisticsIpTtlErrors
    "invalid_type_rcvd": "invalid_type",  # vrrpv3StatisticsRcvdInvalidTypePackets
    "addr_list_err": "address_list",  # vrrpv3StatisticsAddressListErrors
    "vers_err": "version",  # vrrpv3RouterVersionErrors
    "chk_err": "checksum",  # vrrpv3RouterChecksumErrors
    "invalid_authtype": "auth_type_invalid",  # RFC 2787 vrrpStatsInvalidAuthType
    "authtype_mismatch": "auth_type_mismatch",  # RFC 2787 vrrpStatsAuthTypeMismatch
    "auth_failure": "auth_failure",  # RFC 2787 vrrpStatsAuthFailures
    "truncated": "truncated",  # pylvs: shorter than an IP header + VRRP header
    "foreign": "foreign",  # pylvs: another VRID or protocol on the socket
    "dropped": "dropped",  # pylvs: refused for another reason (logged)
}
_STATS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes")
_COUNTER_NAMES = {
    "conns": ("connections", "Connections scheduled"),
    "inpkts": ("incoming_packets", "Packets from clients"),
    "outpkts": ("outgoing_packets", "Packets to clients"),
    "inbytes": ("incoming_bytes", "Bytes from clients"),
    "outbytes": ("outgoing_bytes", "Bytes to clients"),
}
_RATE_NAMES = {
    "cps": ("connections", "connections per second"),
    "inpps": ("incoming_packets", "packets per second from clients"),
    "outpps": ("outgoing_packets", "packets per second to clients"),
    "inbps": ("incoming_bytes", "bytes per second from clients"),
    "outbps": ("outgoing_bytes", "bytes per second to clients"),
}


def service_labels(key: ServiceKey) -> list[str]:
    """node_exporter's service labels: a fwmark service has no address or port."""
    if key.fwmark:
        return ["FWM", "", "", str(key.fwmark)]
    proto = key.protocol.name if key.protocol is not None else ""
    return [proto, str(key.address), str(key.port), ""]


class DirectorCollector(Collector):
    """Metric families of the snapshot `snapshot()` returns at each scrape."""

    def __init__(self, snapshot: Callable[[], DirectorSnapshot], wall: Callable[[], float]):
        self.snapshot = snapshot
        self.wall = wall

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot()
        now = self.wall()
        yield from _ipvs(snap.table.services)
        yield from _health(snap, now)
        yield from _vrrp(snap.vrrp)
        yield from _plane(snap)
        yield from _process(snap)


def _traffic(
    prefix: str, doc: str, labels: list[str], rows: Iterable[tuple[list[str], CounterValues, Rates]]
) -> Iterator[Metric]:
    rows = list(rows)
    for field in _STATS:
        name, text = _COUNTER_NAMES[field]
        counter = CounterMetricFamily(f"{prefix}_{name}", f"{text} ({doc})", labels=labels)
        for values, stats, _ in rows:
            counter.add_metric(values, getattr(stats, field))
        yield counter
    for field, (name, text) in _RATE_NAMES.items():
        family = GaugeMetricFamily(
            f"{prefix}_rate_{name}", f"IPVS rate estimator: {text} ({doc})", labels=labels
        )
        for values, _, rates in rows:
            family.add_metric(values, getattr(rates, field))
        yield family


def _ipvs(services: tuple[ServiceView, ...]) -> Iterator[Metric]:
    yield from _traffic(
        "pylvs_ipvs_service",
        "virtual service",
        SERVICE_LABELS,
        ((service_labels(s.service.key), s.stats, s.rates) for s in services),
    )
    backends = [
        (service_labels(s.service.key) + _dest_labels(d), d) for s in services for d in s.dests
    ]
    yield from _traffic(
        "pylvs_ipvs_backend",
        "real server",
        BACKEND_LABELS,
        ((labels, d.stats, d.rates) for labels, d in backends),
    )
    gauges = {
        "connections_active": (
            "Active connections (node_ipvs_backend_connections_active)",
            "activeconns",
        ),
        "connections_inactive": (
            "Inactive connections (node_ipvs_backend_connections_inactive)",
            "inactconns",
        ),
        "connections_persistent": ("Persistence templates pointing at it", "persistconns"),
    }
    for name, (doc, attr) in gauges.items():
        family = GaugeMetricFamily(f"pylvs_ipvs_backend_{name}", doc, labels=BACKEND_LABELS)
        for labels, d in backends:
            family.add_metric(labels, getattr(d, attr))
        yield family
    weight = GaugeMetricFamily(
        "pylvs_ipvs_backend_weight",
        "Weight in the live table (node_ipvs_backend_weight)",
        labels=BACKEND_LABELS,
    )
    for labels, d in backends:
        weight.add_metric(labels, d.config.weight)
    yield weight


def _dest_labels(d: DestView) -> list[str]:
    return [str(d.config.address), str(d.config.port)]


def _health(snap: DirectorSnapshot, now: float) -> Iterator[Metric]:
    pool_labels = ["pool"]
    quorum = GaugeMetricFamily(
        "pylvs_pool_quorum_up", "1 while the pool has its quorum", labels=pool_labels
    )
    sorry = GaugeMetricFamily(
        "pylvs_pool_sorry_server_active",
        "1 while the sorry server serves the pool",
        labels=pool_labels,
    )
    for p in snap.pools:
        quorum.add_metric([p.name], int(p.quorum_up))
        sorry.add_metric([p.name], int(p.sorry_active))
    yield quorum
    yield sorry
    rs_labels = ["pool", "server", "remote_address", "remote_port"]
    up = GaugeMetricFamily(
        "pylvs_real_server_up", "1 while health checking finds it alive", labels=rs_labels
    )
    weight = GaugeMetricFamily(
        "pylvs_real_server_health_weight", "The weight health checking gives it", labels=rs_labels
    )
    stamp = GaugeMetricFamily(
        "pylvs_real_server_transition_timestamp_seconds",
        "When it last went up or down",
        labels=rs_labels,
    )
    since = GaugeMetricFamily(
        "pylvs_real_server_seconds_since_transition",
        "Seconds since it last went up or down",
        labels=rs_labels,
    )
    check_labels = [*rs_labels, "check", "target"]
    c_up = GaugeMetricFamily(
        "pylvs_check_up", "1 while the checker finds the server up", labels=check_labels
    )
    c_probes = CounterMetricFamily(
        "pylvs_check_probes", "Probes by result", labels=[*check_labels, "result"]
    )
    c_duration = GaugeMetricFamily(
        "pylvs_check_duration_seconds", "How long the last probe took", labels=check_labels
    )
    c_last = GaugeMetricFamily(
        "pylvs_check_last_result_timestamp_seconds",
        "When the last probe ended",
        labels=check_labels,
    )
    for s in snap.servers:
        labels = [s.pool, s.name, str(s.key[0]), str(s.key[1])]
        up.add_metric(labels, int(s.alive))
        weight.add_metric(labels, s.weight)
        if s.since is not None:
            stamp.add_metric(labels, s.since)
            since.add_metric(labels, max(0.0, now - s.since))
        for i, c in enumerate(s.checks):
            cl = [*labels, f"{i}:{c.kind}", c.target]
            c_up.add_metric(cl, int(c.up))
            c_probes.add_metric([*cl, "ok"], c.probes_ok)
            c_probes.add_metric([*cl, "failed"], c.probes_failed)
            if c.duration is not None:
                c_duration.add_metric(cl, c.duration)
            if c.at is not None:
                c_last.add_metric(cl, c.at)
    yield from (up, weight, stamp, since, c_up, c_probes, c_duration, c_last)


def _vrrp(instances: tuple[InstanceView, ...]) -> Iterator[Metric]:
    state = GaugeMetricFamily(
        "pylvs_vrrp_state",
        "State by keepalived's numbers: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP",
        labels=VRRP_LABELS,
    )
    base = GaugeMetricFamily("pylvs_vrrp_priority", "Configured priority", labels=VRRP_LABELS)
    eff = GaugeMetricFamily(
        "pylvs_vrrp_effective_priority", "Priority after trackers", labels=VRRP_LABELS
    )
    stamp = GaugeMetricFamily(
        "pylvs_vrrp_transition_timestamp_seconds", "When the state last changed", labels=VRRP_LABELS
    )
    counters = {
        key: CounterMetricFamily(
            f"pylvs_vrrp_{name}", f"{doc} (keepalived_{name}_total)", labels=VRRP_LABELS
        )
        for key, (name, doc) in VRRP_COUNTERS.items()
    }
    errors = CounterMetricFamily(
        "pylvs_vrrp_errors",
        "Adverts refused, by kind (RFC 6527 statistics)",
        labels=[*VRRP_LABELS, "kind"],
    )
    for inst in instances:
        labels = [inst.name, inst.interface, str(inst.vrid)]
        state.add_metric(labels, VRRP_STATES.get(inst.state, 0))
        base.add_metric(labels, inst.base_priority)
        eff.add_metric(labels, inst.effective_priority)
        if inst.last_transition is not None:
            stamp.add_metric(labels, inst.last_transition)
        stats = dict(inst.stats)
        for key, family in counters.items():
            family.add_metric(labels, stats.get(key, 0))
        for key, kind in VRRP_ERRORS.items():
            errors.add_metric([*labels, kind], stats.get(key, 0))
    yield from (state, base, eff, stamp, *counters.values(), errors)


def _plane(snap: DirectorSnapshot) -> Iterator[Metric]:
    if snap.plane is None:
        return
    labels = ["plane"]
    name = [snap.plane.name]
    flows = GaugeMetricFamily(
        "pylvs_dataplane_flows",
        "Entries in the connection table (templates included)",
        labels=labels,
    )
    flows.add_metric(name, snap.plane.flows)
    unrecorded = CounterMetricFamily(
        "pylvs_dataplane_unrecorded_packets",
        "Packets of new flows forwarded by flow hash because a flow map was full (nftables DR)",
        labels=labels,
    )
    unrecorded.add_metric(name, snap.plane.unrecorded)
    unbound = GaugeMetricFamily(
        "pylvs_dataplane_unbound_services",
        "Services in the table that cannot listen yet (their port is taken)",
        labels=labels,
    )
    unbound.add_metric(name, len(snap.unbound))
    yield from (flows, unrecorded, unbound)
    yield from _drops_and_sets(snap.plane)


def _drops_and_sets(plane: PlaneView) -> Iterator[Metric]:
    labels = ["plane"]
    dropped = CounterMetricFamily(
        "pylvs_dataplane_dropped",
        "Datagrams or connections the plane dropped, by reason (no_destination, "
        "destination_deleted, send_buffer_full, descriptor_cap, descriptor_error)",
        labels=[*labels, "reason"],
    )
    for reason, count in plane.drops:
        dropped.add_metric([plane.name, reason], count)
    elements = GaugeMetricFamily(
        "pylvs_dataplane_set_elements",
        "Elements of a dynamic nftables set or map as last read (flow maps, persistence)",
        labels=[*labels, "set"],
    )
    capacity = GaugeMetricFamily(
        "pylvs_dataplane_set_capacity",
        "The declared size of that set (0: the kernel's default)",
        labels=[*labels, "set"],
    )
    for set_name, count, size in plane.sets:
        elements.add_metric([plane.name, set_name], count)
        capacity.add_metric([plane.name, set_name], size)
    yield from (dropped, elements, capacity)
    fds = plane.descriptors
    if fds is None:
        return
    in_use = GaugeMetricFamily(
        "pylvs_dataplane_descriptors", "Descriptors the proxy's connections hold", labels=labels
    )
    in_use.add_metric([plane.name], fds.in_use)
    cap = GaugeMetricFamily(
        "pylvs_dataplane_descriptor_cap",
        "Descriptors the proxy may hold (the limit less the daemon's own and its reserve)",
        labels=labels,
    )
    cap.add_metric([plane.name], fds.cap)
    reached = CounterMetricFamily(
        "pylvs_dataplane_descriptor_cap_reached",
        "Times the proxy reached its descriptor cap (new connections waited in the backlog)",
        labels=labels,
    )
    reached.add_metric([plane.name], fds.cap_reached)
    yield from (in_use, cap, reached)


def _process(snap: DirectorSnapshot) -> Iterator[Metric]:
    p = snap.process
    if p is None:
        return
    info = GaugeMetricFamily(
        "pylvs_build_info", "pylvs's version (always 1)", labels=["version", "dataplane"]
    )
    info.add_metric([p.version, snap.plane.name if snap.plane is not None else ""], 1)
    start = GaugeMetricFamily("pylvs_start_time_seconds", "When the daemon started")
    start.add_metric([], p.started)
    reloads = CounterMetricFamily(
        "pylvs_config_reloads", "Configuration reloads by result", labels=["result"]
    )
    reloads.add_metric(["ok"], p.reloads_ok)
    reloads.add_metric(["failed"], p.reloads_failed)
    last_ok = GaugeMetricFamily(
        "pylvs_config_last_reload_successful", "1 unless the last reload was refused"
    )
    last_ok.add_metric([], int(p.last_reload_ok))
    yield from (info, start, reloads, last_ok)
    if p.last_reload is not None:
        last = GaugeMetricFamily(
            "pylvs_config_last_reload_timestamp_seconds", "When the last reload ran"
        )
        last.add_metric([], p.last_reload)
        yield last


def registry_for(
    snapshot: Callable[[], DirectorSnapshot], wall: Callable[[], float], *, process: bool = True
) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one): the director, and the
    process's CPU, memory and descriptors from prometheus_client's ProcessCollector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DirectorCollector(snapshot, wall))
    if process:
        ProcessCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
