"""lblc and lblcr (ip_vs_lblc.c, ip_vs_lblcr.c): the cache, its replication, and expiry
driven by explicit `now` values (checks every 60 s, a full pass every 30th check)."""

import ipaddress
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.sched.base import Flow
from pylvs.sched.ipvs import create
from pylvs.sched.ipvs.lblc import LocalityBasedLeastConnection
from pylvs.sched.ipvs.lblcr import LocalityBasedLeastConnectionReplication

ip = ipaddress.ip_address
KEY = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)


def dests(*weights: int) -> list[Destination]:
    return [
        Destination(RealServer(ip(f"192.168.0.{i}"), 80, weight=w))
        for i, w in enumerate(weights, 1)
    ]


def to(vaddr: str) -> Flow:
    return Flow(ip("1.2.3.4"), 1000, ip(vaddr), 80)


def lblc(
    ds: Sequence[Destination], now: float, expiration: float = 86400.0
) -> LocalityBasedLeastConnection:
    svc = VirtualService(KEY, scheduler="lblc")
    s = LocalityBasedLeastConnection(svc, now=now, expiration=expiration)
    s.rebuild(ds)
    return s


def lblcr(
    ds: Sequence[Destination], now: float, expiration: float = 86400.0
) -> LocalityBasedLeastConnectionReplication:
    svc = VirtualService(KEY, scheduler="lblcr")
    s = LocalityBasedLeastConnectionReplication(svc, now=now, expiration=expiration)
    s.rebuild(ds)
    return s


# -- lblc -------------------------------------------------------------------------------


def test_lblc_sticks_to_the_cached_dest_per_destination_address() -> None:
    ds = dests(1, 1)
    a, b = ds
    s = lblc(ds, now=0.0)
    assert s.pick(ds, to("10.1.1.1"), 0) is a  # wlc tie -> first
    a.bind(active=True)
    # wlc alone would now pick B, but the cache keeps 10.1.1.1 on A (1 active is not > 1).
    assert s.pick(ds, to("10.1.1.1"), 1) is a
    assert s.pick(ds, to("10.1.1.2"), 2) is b


def test_lblc_leaves_a_locality_overloaded_dest() -> None:
    ds = dests(1, 4)
    a, b = ds
    s = lblc(ds, now=0.0)
    assert s.pick(ds, to("10.1.1.1"), 0) is a
    a.activeconns = 2  # 2 > weight 1, and B has 0*2 < 4: "overloaded" -> reschedule
    assert s.pick(ds, to("10.1.1.1"), 1) is b
    assert s.cached(ip("10.1.1.1")) is b


def test_lblc_cache_hit_ignores_the_overload_flag_like_the_kernel() -> None:
    ds = dests(1, 1)
    a, _ = ds
    s = lblc(ds, now=0.0)
    assert s.pick(ds, to("10.1.1.1"), 0) is a
    a.overloaded = True  # ip_vs_lblc_schedule checks AVAILABLE, weight, is_overloaded() only
    assert s.pick(ds, to("10.1.1.1"), 1) is a


def test_lblc_reschedules_when_the_cached_dest_was_deleted_or_quiesced() -> None:
    ds = dests(1, 1, 1)
    a, b, c = ds
    s = lblc(ds, now=0.0)
    assert s.pick(ds, to("10.1.1.1"), 0) is a
    ds.remove(a)
    s.server_removed(ds, a, 0)
    assert s.pick(ds, to("10.1.1.1"), 1) is b
    b.update(RealServer(b.address, 80, weight=0))
    s.weight_changed(ds, b)
    assert s.pick(ds, to("10.1.1.1"), 2) is c


def scenario_lblc(check_time: float, expiration: float) -> Destination:
    ds = dests(1, 1)
    a, _ = ds
    s = lblc(ds, now=0.0, expiration=expiration)
    assert s.pick(ds, to("10.1.1.1"), 0) is a
    a.bind(active=True)  # from now on wlc prefers B: a rescheduled entry goes to B
    picked = s.pick(ds, to("10.1.1.1"), check_time)
    assert picked is not None
    return picked


def test_lblc_entries_expire_only_at_the_30th_check() -> None:
    a_or_b = scenario_lblc
    # Checks run at 60, 120, ...; counter 1..29 for the first 29, the 30th (t = 1800) is the
    # full pass that deletes entries idle for >= expiration (1000 s here).
    assert a_or_b(1799.0, 1000.0).address == ip("192.168.0.1")
    assert a_or_b(1800.0, 1000.0).address == ip("192.168.0.2")
    # default expiration: 24 h; at 1800 s the entry is young enough to stay.
    assert a_or_b(1800.0, 86400.0).address == ip("192.168.0.1")
    # idle since 0, full passes at 1800, 3600, ... 86400 + a bit: the pass at 86400 deletes it.
    assert a_or_b(86400.0, 86400.0).address == ip("192.168.0.2")
    assert a_or_b(86399.0, 86400.0).address == ip("192.168.0.1")


def test_lblc_use_refreshes_the_entry() -> None:
    ds = dests(1, 1)
    a, b = ds
    s = lblc(ds, now=0.0, expiration=1000.0)
    assert s.pick(ds, to("10.1.1.1"), 0) is a
    a.bind(active=True)
    assert s.pick(ds, to("10.1.1.1"), 1500) is a  # lastuse = 1500
    # the full pass at 1800 keeps it (1500 + 1000 > 1800); the one at 3600 drops it.
    assert s.pick(ds, to("10.1.1.9"), 1801) is b
    assert s.cached(ip("10.1.1.1")) is a
    assert s.pick(ds, to("10.1.1.9"), 3600) is b
    assert s.cached(ip("10.1.1.1")) is None


def test_lblc_clock_starts_at_first_lookup_when_created_by_the_registry() -> None:
    ds = dests(1, 1)
    a, _ = ds
    s = create(VirtualService(KEY, scheduler="lblc"), ds)
    assert isinstance(s, LocalityBasedLeastConnection)
    s.table.expiration = 10.0
    assert s.pick(ds, to("10.1.1.1"), 5000.0) is a  # timer: first check at 5060
    assert s.pick(ds, to("10.1.1.2"), 5000.0 + 29 * 60) is not None
    assert s.cached(ip("10.1.1.1")) is a
    s.pick(ds, to("10.1.1.2"), 5000.0 + 30 * 60)
    assert s.cached(ip("10.1.1.1")) is None


def ref_bucket(address: str) -> int:
    """hash_32(addr, 10): top 10 bits of addr * 0x61C88647 mod 2**32."""
    return ((int(ip(address)) * 0x61C88647) % 2**32) >> 22


def test_lblc_partial_collection_over_max_size_goes_bucket_by_bucket() -> None:
    ds = dests(1)
    s = lblc(ds, now=0.0)
    s.table.max_size = 40
    addrs = [f"10.2.{i // 200}.{i % 200}" for i in range(100)]
    for t, addr in enumerate(addrs):
        s.pick(ds, to(addr), t * 0.5)  # lastuse 0 .. 49.5
    # Checks at 60 .. 300: 100 > 40 entries, but none idle for ENTRY_TIMEOUT (360 s) yet.
    s.pick(ds, to(addrs[0]), 359.0)  # refreshes addrs[0] before the check at 360
    s.pick(ds, to(addrs[0]), 360.25)  # the check at 360 finds nothing idle >= 360 s
    assert len(s.table) == 100
    assert s.table.rover == 0  # fruitless sweeps go all the way round
    # At 420 every entry but addrs[0] is idle >= 360 s.  goal = min((100 - 40) * 4 / 3,
    # 40 / 2) = 20; whole buckets are swept from rover + 1 = 1 until 20 have gone.
    s.pick(ds, to(addrs[0]), 420.0)
    by_bucket: dict[int, list[str]] = {}
    for a in addrs[1:]:
        by_bucket.setdefault(ref_bucket(a), []).append(a)
    deleted: set[str] = set()
    goal = 20
    j = 0
    for _ in range(1024):
        j = (j + 1) % 1024
        for a in by_bucket.get(j, []):
            deleted.add(a)
            goal -= 1
        if goal <= 0:
            break
    assert len(deleted) >= 20
    assert s.table.rover == j
    assert {str(a) for a in s.table.entries} == set(addrs) - deleted
