"""lblcr (ip_vs_lblcr.c): server sets per destination address, growth and shrinking by `now`."""

import ipaddress
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.lblcr import LocalityBasedLeastConnectionReplication

ip = ipaddress.ip_address
KEY = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
V1 = ip("10.1.1.1")


def dests(*weights: int) -> list[Destination]:
    return [
        Destination(RealServer(ip(f"192.168.0.{i}"), 80, weight=w))
        for i, w in enumerate(weights, 1)
    ]


def to(vaddr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Flow:
    return Flow(ip("1.2.3.4"), 1000, vaddr, 80)


def lblcr(
    ds: Sequence[Destination], now: float, expiration: float = 86400.0
) -> LocalityBasedLeastConnectionReplication:
    svc = VirtualService(KEY, scheduler="lblcr")
    s = LocalityBasedLeastConnectionReplication(svc, now=now, expiration=expiration)
    s.rebuild(ds)
    return s


def test_lblcr_grows_the_set_then_drops_the_busiest_after_expiration() -> None:
    ds = dests(1, 1)
    a, b = ds
    s = lblcr(ds, now=0.0, expiration=100.0)
    assert s.pick(ds, to(V1), 0) is a
    assert s.members(V1) == [a]
    a.activeconns = 2  # 2 > weight 1 while B is under half its weight: overloaded
    assert s.pick(ds, to(V1), 10) is b  # wlc over the service, B joins at the head
    assert s.members(V1) == [b, a]
    assert s.pick(ds, to(V1), 20) is b  # the set's least-loaded member
    assert s.pick(ds, to(V1), 110) is b  # 110 > 10 + 100 is false: no shrink
    assert s.members(V1) == [b, a]
    assert s.pick(ds, to(V1), 111) is b  # now the busiest (A, 512/1) is dropped
    assert s.members(V1) == [b]


def test_lblcr_set_min_skips_overloaded_quiesced_and_deleted_members() -> None:
    ds = dests(1, 1, 1, 1)
    a, b, c, d = ds
    s = lblcr(ds, now=0.0)
    assert s.pick(ds, to(V1), 0) is a
    for i, busy in enumerate([a, b, c]):
        busy.activeconns = 2 + i  # each in turn locality-overloaded while D is idle
        s.pick(ds, to(V1), 1 + i)
    assert s.members(V1) == [d, c, b, a]
    for x in (a, b, c):
        x.activeconns = 0
    d.activeconns = 1
    # least among members: D 256, C 0 -> C (first in set order with the lowest load)
    assert s.pick(ds, to(V1), 10) is c
    c.overloaded = True
    b.update(RealServer(b.address, 80, weight=0))
    s.weight_changed(ds, b)
    ds.remove(a)
    s.server_removed(ds, a, 0)
    # C overloaded, B quiesced, A deleted: D is all that is left in the set.
    assert s.pick(ds, to(V1), 11) is d


def grown_set(
    expiration: float,
) -> tuple[LocalityBasedLeastConnectionReplication, list[Destination]]:
    ds = dests(4, 1)
    a, b = ds
    s = lblcr(ds, now=0.0, expiration=expiration)
    assert s.pick(ds, to(V1), 0) is a
    a.activeconns = 5  # 5 > 4, and B (0*2 < 1) is under half: A is locality-overloaded
    assert s.pick(ds, to(V1), 1) is b
    assert s.members(V1) == [b, a]
    return s, ds


def test_lblcr_set_max_drops_the_weighted_most_loaded() -> None:
    s, ds = grown_set(50.0)
    a, b = ds
    b.activeconns = 1  # 256 / 1
    a.activeconns, a.inactconns = 4, 10  # 1034 / 4 = 258.5: most loaded per weight
    # min: B (256*4 > 1034*1 is false, B stays); max: 256*4 < 1034*1 -> A is dropped.
    assert s.pick(ds, to(V1), 52) is b
    assert s.members(V1) == [b]


def test_lblcr_set_max_tie_keeps_the_first_member() -> None:
    s, ds = grown_set(50.0)
    a, b = ds
    b.activeconns = 1  # 256 / 1
    a.activeconns = 4  # 1024 / 4 = 256: a tie both ways, so B (first in the set) is
    # both the least and the most loaded member: B is returned and B is dropped.
    assert s.pick(ds, to(V1), 52) is b
    assert s.members(V1) == [a]


def test_lblcr_entries_expire_at_the_full_check() -> None:
    ds = dests(1)
    s = lblcr(ds, now=0.0, expiration=100.0)
    s.pick(ds, to(V1), 0)
    s.pick(ds, to(ip("10.9.9.9")), 1799)
    assert s.members(V1) == ds
    s.pick(ds, to(ip("10.9.9.9")), 1800)
    assert s.members(V1) == []
