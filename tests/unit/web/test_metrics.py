"""/metrics from hand-made snapshots (web/metrics.py), read back with prometheus_client's parser."""

from __future__ import annotations

import ipaddress

from prometheus_client.parser import text_string_to_metric_families

from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.snapshot import (
    CheckView,
    DescriptorUse,
    DestView,
    DirectorSnapshot,
    InstanceView,
    PlaneView,
    PoolHealth,
    ProcessView,
    ServerHealth,
    ServiceView,
    Snapshot,
)
from pylvs.model.stats import CounterValues, Rates
from pylvs.web.metrics import exposition, registry_for

A = ipaddress.ip_address
KEY = ServiceKey(Protocol.UDP, A("10.0.0.1"), 53)
MARK = ServiceKey.mark(7)
RS = RealServer(A("10.1.0.1"), 5353, weight=3)


def parsed(
    snap: DirectorSnapshot, now: float = 1000.0
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = exposition(registry_for(lambda: snap, lambda: now, process=False)).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_services_and_backends_carry_node_exporters_labels() -> None:
    dest = DestView(RS, 4, 2, 1, CounterValues(10, 20, 30, 400, 500), Rates(1, 2, 3, 4, 5))
    table = Snapshot(
        services=(
            ServiceView(VirtualService(KEY), CounterValues(11, 21, 31, 401, 501), Rates(), (dest,)),
            ServiceView(VirtualService(MARK)),
        )
    )
    got = parsed(DirectorSnapshot(table=table))
    svc = {"proto": "UDP", "local_address": "10.0.0.1", "local_port": "53", "local_mark": ""}
    be = frozenset({**svc, "remote_address": "10.1.0.1", "remote_port": "5353"}.items())
    assert got[("pylvs_ipvs_service_connections_total", frozenset(svc.items()))] == 11
    assert got[("pylvs_ipvs_service_outgoing_bytes_total", frozenset(svc.items()))] == 501
    assert got[("pylvs_ipvs_backend_connections_active", be)] == 4
    assert got[("pylvs_ipvs_backend_connections_inactive", be)] == 2
    assert got[("pylvs_ipvs_backend_connections_persistent", be)] == 1
    assert got[("pylvs_ipvs_backend_weight", be)] == 3
    assert got[("pylvs_ipvs_backend_incoming_packets_total", be)] == 20
    assert got[("pylvs_ipvs_backend_rate_outgoing_bytes", be)] == 5
    fwm = {"proto": "FWM", "local_address": "", "local_port": "", "local_mark": "7"}
    assert got[("pylvs_ipvs_service_connections_total", frozenset(fwm.items()))] == 0


def test_health_pools_and_checkers() -> None:
    check = CheckView("HTTP_GET", "10.1.0.1:5353", False, False, "timeout", 990.0, 0.25, 7, 3)
    server = ServerHealth(
        "vs", "[10.1.0.1]:udp:5353", (A("10.1.0.1"), 5353), (KEY,), False, 0, False, (check,), 940.0
    )
    snap = DirectorSnapshot(pools=(PoolHealth("vs", False, True),), servers=(server,))
    got = parsed(snap, now=1000.0)
    rs = {
        "pool": "vs",
        "server": "[10.1.0.1]:udp:5353",
        "remote_address": "10.1.0.1",
        "remote_port": "5353",
    }
    ck = {**rs, "check": "0:HTTP_GET", "target": "10.1.0.1:5353"}
    assert got[("pylvs_pool_quorum_up", frozenset({"pool": "vs"}.items()))] == 0
    assert got[("pylvs_pool_sorry_server_active", frozenset({"pool": "vs"}.items()))] == 1
    assert got[("pylvs_real_server_up", frozenset(rs.items()))] == 0
    assert got[("pylvs_real_server_seconds_since_transition", frozenset(rs.items()))] == 60
    assert got[("pylvs_real_server_transition_timestamp_seconds", frozenset(rs.items()))] == 940
    assert got[("pylvs_check_probes_total", frozenset({**ck, "result": "ok"}.items()))] == 7
    assert got[("pylvs_check_probes_total", frozenset({**ck, "result": "failed"}.items()))] == 3
    assert got[("pylvs_check_duration_seconds", frozenset(ck.items()))] == 0.25
    assert got[("pylvs_check_last_result_timestamp_seconds", frozenset(ck.items()))] == 990


def test_vrrp_by_keepalived_exporters_labels_and_state_numbers() -> None:
    stats = (("advert_rcvd", 12), ("advert_sent", 3), ("become_master", 1), ("auth_failure", 2))
    inst = InstanceView("VI_1", "MASTER", 150, 140, None, 990.0, 51, "eth0", 4, stats)
    backup = InstanceView("VI_2", "BACKUP", 100, 100, None, None, 52, "eth1", 4)
    got = parsed(DirectorSnapshot(vrrp=(inst, backup)))
    v1 = {"iname": "VI_1", "intf": "eth0", "vrid": "51"}
    v2 = frozenset({"iname": "VI_2", "intf": "eth1", "vrid": "52"}.items())
    assert got[("pylvs_vrrp_state", frozenset(v1.items()))] == 2
    assert got[("pylvs_vrrp_state", v2)] == 1
    assert got[("pylvs_vrrp_priority", frozenset(v1.items()))] == 150
    assert got[("pylvs_vrrp_effective_priority", frozenset(v1.items()))] == 140
    assert got[("pylvs_vrrp_advertisements_received_total", frozenset(v1.items()))] == 12
    assert got[("pylvs_vrrp_advertisements_sent_total", frozenset(v1.items()))] == 3
    assert got[("pylvs_vrrp_become_master_total", frozenset(v1.items()))] == 1
    assert got[("pylvs_vrrp_errors_total", frozenset({**v1, "kind": "auth_failure"}.items()))] == 2
    assert got[("pylvs_vrrp_errors_total", frozenset({**v1, "kind": "checksum"}.items()))] == 0
    assert ("pylvs_vrrp_transition_timestamp_seconds", v2) not in got


def test_plane_and_process() -> None:
    snap = DirectorSnapshot(
        plane=PlaneView("nftables", 42, 9),
        process=ProcessView(500.0, "0.1.0", "/etc/k.conf", 2, 1, 990.0, False),
    )
    got = parsed(snap)
    plane = frozenset({"plane": "nftables"}.items())
    assert got[("pylvs_dataplane_flows", plane)] == 42
    assert got[("pylvs_dataplane_unrecorded_packets_total", plane)] == 9
    assert (
        got[("pylvs_build_info", frozenset({"version": "0.1.0", "dataplane": "nftables"}.items()))]
        == 1
    )
    assert got[("pylvs_start_time_seconds", frozenset())] == 500
    assert got[("pylvs_config_reloads_total", frozenset({"result": "ok"}.items()))] == 2
    assert got[("pylvs_config_reloads_total", frozenset({"result": "failed"}.items()))] == 1
    assert got[("pylvs_config_last_reload_successful", frozenset())] == 0
    assert got[("pylvs_config_last_reload_timestamp_seconds", frozenset())] == 990


def test_drops_sets_and_descriptors() -> None:
    snap = DirectorSnapshot(
        plane=PlaneView(
            "proxy",
            3,
            drops=(("no_destination", 5), ("send_buffer_full", 2)),
            sets=(("netdev/flows-tcp-10-0-0-1-80", 17, 1 << 20),),
            descriptors=DescriptorUse(in_use=40, cap=900, cap_reached=3),
        ),
    )
    got = parsed(snap)
    plane = {"plane": "proxy"}

    def key(**labels: str) -> frozenset[tuple[str, str]]:
        return frozenset({**plane, **labels}.items())

    assert got[("pylvs_dataplane_dropped_total", key(reason="no_destination"))] == 5
    assert got[("pylvs_dataplane_dropped_total", key(reason="send_buffer_full"))] == 2
    flows = key(set="netdev/flows-tcp-10-0-0-1-80")
    assert got[("pylvs_dataplane_set_elements", flows)] == 17
    assert got[("pylvs_dataplane_set_capacity", flows)] == 1 << 20
    assert got[("pylvs_dataplane_descriptors", key())] == 40
    assert got[("pylvs_dataplane_descriptor_cap", key())] == 900
    assert got[("pylvs_dataplane_descriptor_cap_reached_total", key())] == 3


def test_a_plane_without_descriptors_exports_none() -> None:
    got = parsed(DirectorSnapshot(plane=PlaneView("nftables", 0)))
    assert not any(name.startswith("pylvs_dataplane_descriptor") for name, _ in got)


def test_a_flood_of_scrapes_shares_renderings() -> None:
    """/metrics is rendered again only after 100x its last rendering's cost (web/app.py)."""
    import asyncio

    from pylvs.control.haproxy.web import PageRequest
    from pylvs.model.events import EventLog
    from pylvs.web.app import App

    class Counting:
        def __init__(self) -> None:
            self.snapshots = 0

        def snapshot(self) -> DirectorSnapshot:
            self.snapshots += 1
            return DirectorSnapshot(process=ProcessView(float(self.snapshots), "0.1.0", "k"))

        def event_log(self) -> EventLog:
            return EventLog()

        async def connections(self):  # type: ignore[no-untyped-def]
            return ()

        async def act(self, action, who):  # type: ignore[no-untyped-def]
            raise AssertionError("no actions here")

    ticks = iter([0.0, 0.01, 0.5, 1.0, 1.02, 1.1])  # start/done of each rendering
    director = Counting()
    app = App(director, clock=lambda: next(ticks), process_metrics=False)

    def scrape() -> bytes:
        return asyncio.run(app.handle(PageRequest("GET", "/metrics"))).body

    first = scrape()  # rendered 0.0 -> 0.01: fresh until 0.01 + 100 * 0.01 = 1.01
    assert scrape() == first and scrape() == first  # at 0.5 and 1.0: shared
    assert director.snapshots == 1
    again = scrape()  # at 1.02: rendered anew
    assert director.snapshots == 2 and b"pylvs_start_time_seconds 2.0" in again
