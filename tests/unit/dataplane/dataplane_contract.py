"""The data-plane contract, as plain async checks any plane can be run through.

A data plane shows back what was applied, applies diffs (deletions, additions, edits) so that
the applied table equals the desired one, keeps the rest of the batch when one change fails
and says which one did, zeroes counters, and keeps the `--set` timeouts.  The proxy binds real
sockets on 127.0.0.x port 0, so the services here use distinct loopback addresses.
`test_contract.py` runs these against the fake and the proxy on any host; tests/vm runs them
against the kernel's IPVS (`IpvsDataPlane`) inside the IPVS VM.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

import pytest

from pylvs.dataplane.base import DataPlane, DataPlaneError
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.table import AddDest, AddService, ServiceEntry, ServiceTable, diff
from pylvs.proto.conntrack import Timeouts

A = ipaddress.ip_address
TCP1 = ServiceKey.inet(Protocol.TCP, "127.0.0.1", 0)
UDP1 = ServiceKey.inet(Protocol.UDP, "127.0.0.1", 0)
TCP2 = ServiceKey.inet(Protocol.TCP, "127.0.0.2", 0)


def rs(last: int, weight: int = 1) -> RealServer:
    return RealServer(A(f"127.0.1.{last}"), 9000, weight=weight, method=ForwardMethod.MASQ)


T1 = ServiceTable(
    [
        ServiceEntry(VirtualService(TCP1, scheduler="rr"), (rs(1), rs(2))),
        ServiceEntry(VirtualService(UDP1, scheduler="wlc"), (rs(3),)),
    ]
)
T2 = ServiceTable(
    [
        ServiceEntry(VirtualService(TCP1, scheduler="wlc"), (rs(2, weight=3), rs(4))),
        ServiceEntry(VirtualService(TCP2, scheduler="rr"), (rs(5),)),
    ]
)

Check = Callable[[DataPlane], Awaitable[None]]


async def shows_back_what_was_applied(plane: DataPlane) -> None:
    assert plane.applied() == ServiceTable()
    await plane.apply(diff(ServiceTable(), T1))
    assert plane.applied() == T1
    assert [rt.key for rt in plane.services()] == [TCP1, UDP1]
    rt = plane.service(TCP1)
    assert rt is not None
    # Kernel list order: newest first.
    assert [d.config for d in rt.dests] == [rs(2), rs(1)]


async def applies_a_diff(plane: DataPlane) -> None:
    await plane.apply(diff(ServiceTable(), T1))
    await plane.apply(diff(T1, T2))
    assert plane.applied() == T2
    rt = plane.service(TCP1)
    assert rt is not None and rt.service.scheduler == "wlc"
    assert plane.service(UDP1) is None
    await plane.apply(diff(T2, ServiceTable()))
    assert plane.applied() == ServiceTable()


async def a_failing_change_does_not_stop_the_others(plane: DataPlane) -> None:
    await plane.apply(diff(ServiceTable(), T1))
    bad = AddDest(TCP1, rs(1))  # already there
    good = AddDest(TCP1, rs(7))
    unknown = AddService(VirtualService(TCP2, scheduler="no-such-scheduler"))
    with pytest.raises(DataPlaneError) as info:
        await plane.apply([bad, good, unknown, AddDest(TCP2, rs(8))])
    failed = [change for change, _ in info.value.failures]
    assert failed == [bad, unknown]
    assert "Destination already exists" in str(info.value)
    # "Scheduler not found" (ip_vs_ctl.c), "Scheduler or persistence engine not found" (the
    # kernel's ENOENT in ipvsadm's words)
    assert "not found" in str(info.value)
    rt = plane.service(TCP1)
    assert rt is not None and rt.dests[0].config == rs(7)
    assert plane.service(TCP2) is None


async def zeroes(plane: DataPlane) -> None:
    await plane.apply(diff(ServiceTable(), T1))
    rt = plane.service(TCP1)
    assert rt is not None
    rt.stats.counters.conns = 5
    rt.stats_of(rt.dests[0]).counters.inbytes = 7
    other = plane.service(UDP1)
    assert other is not None
    other.stats.counters.conns = 9
    plane.zero(TCP1)
    assert rt.stats.values().conns == 0
    assert rt.stats_of(rt.dests[0]).values().inbytes == 0
    assert other.stats.values().conns == 9
    plane.zero()
    assert other.stats.values().conns == 0
    with pytest.raises(DataPlaneError):
        plane.zero(TCP2)


async def keeps_timeouts(plane: DataPlane) -> None:
    assert plane.timeouts == Timeouts(900, 120, 300)
    plane.set_timeouts(plane.timeouts.with_set(0, 30, 10))
    assert plane.timeouts == Timeouts(900, 30, 10)


async def connection_table_starts_empty(plane: DataPlane) -> None:
    await plane.apply(diff(ServiceTable(), T1))
    assert plane.connections() == []


CONTRACT: list[Check] = [
    shows_back_what_was_applied,
    applies_a_diff,
    a_failing_change_does_not_stop_the_others,
    zeroes,
    keeps_timeouts,
    connection_table_starts_empty,
]
