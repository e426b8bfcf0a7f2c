"""Snapshots: the table as the kernel lists it, and where a real server's live weight is."""

from __future__ import annotations

import ipaddress

from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.snapshot import DirectorSnapshot, ServerHealth, snapshot_from_table
from pylvs.model.table import ServiceEntry, ServiceTable

A = ipaddress.ip_address
K1 = ServiceKey(Protocol.TCP, A("10.0.0.1"), 80)
K2 = ServiceKey(Protocol.TCP, A("10.0.0.2"), 80)


def rs(last: int, weight: int = 1) -> RealServer:
    return RealServer(A(f"10.1.0.{last}"), 80, weight=weight)


def table() -> ServiceTable:
    return ServiceTable(
        [
            ServiceEntry(VirtualService(K1), (rs(1), rs(2, 3))),
            ServiceEntry(VirtualService(K2), (rs(2, 7),)),
        ]
    )


def test_snapshot_from_table_lists_dests_newest_first_with_zero_counters() -> None:
    snap = snapshot_from_table(table())
    assert [v.service.key for v in snap.services] == [K1, K2]
    first = snap.services[0]
    assert [d.config for d in first.dests] == [rs(2, 3), rs(1)]
    assert first.stats.conns == 0 and first.dests[0].activeconns == 0
    assert (
        snap.service(K2) is snap.services[1]
        and snap.service(ServiceKey(Protocol.UDP, A("10.0.0.1"), 80)) is None
    )
    assert first.dest(rs(1).key) is first.dests[1] and first.dest((A("9.9.9.9"), 1)) is None


def server(*keys: ServiceKey, last: int = 2) -> ServerHealth:
    return ServerHealth("pool", "rs", rs(last).key, keys, True, 9, True)


def test_live_weight_is_the_first_service_that_has_the_server() -> None:
    snap = DirectorSnapshot(table=snapshot_from_table(table()))
    assert snap.live_weight(server(K1, K2)) == 3
    assert snap.live_weight(server(K2, K1)) == 7
    assert snap.live_weight(server(K1, last=9)) is None  # not a destination there
    assert snap.live_weight(server()) is None
