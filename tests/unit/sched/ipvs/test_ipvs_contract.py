"""What every IPVS scheduler keeps beyond the common contract (../test_sched_contract.py).

* an empty list gives None;
* a pick is a member of the list, never a quiesced (weight 0) or overloaded dest;
* when some dest is eligible a pick is made -- except dh, and sh / mh without their fallback
  flag, which may answer "no destination" when the hashed bucket's owner is unusable, and ovf,
  for which a dest with more active connections than its weight is not eligible.

The lists are built through the server_added hook, newest at the head, as the kernel does.
"""

import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceFlags, ServiceKey, VirtualService
from pylvs.sched import ipvs
from pylvs.sched.base import Flow

ALL = ipvs.names()
FALLBACK = {"sh", "mh"}  # SCHED1 = *-fallback
MAY_MISS = {"dh"}


def test_every_scheduler_is_registered() -> None:
    assert set(ALL) == set(ipvs.KEEPALIVED_SCHEDULERS) | set(ipvs.IPVSADM_SCHEDULERS)
    assert "wlc" in ALL


def service(name: str, flags: ServiceFlags = ServiceFlags.NONE) -> VirtualService:
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    return VirtualService(key, scheduler=name, flags=flags)


@pytest.mark.parametrize("name", ALL)
def test_empty_list_gives_none(name: str) -> None:
    s = ipvs.create(service(name), [], random.Random(0))
    flow = Flow(ipaddress.ip_address("1.2.3.4"), 1, ipaddress.ip_address("10.0.0.1"), 80)
    assert s.pick([], flow, 0.0) is None
    assert s.pick([], flow, 100.0) is None


dest_spec = st.tuples(
    st.integers(0, 4),  # weight
    st.booleans(),  # overloaded
    st.integers(0, 6),  # activeconns
    st.integers(0, 6),  # inactconns
)


def eligible(name: str, d: Destination) -> bool:
    ok = d.weight > 0 and not d.overloaded
    if name == "ovf":
        ok = ok and d.activeconns <= d.weight
    return ok


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=60, deadline=None)
@given(
    specs=st.lists(dest_spec, min_size=1, max_size=8),
    clients=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_picks_are_members_and_usable(
    name: str, specs: list[tuple[int, bool, int, int]], clients: list[int], seed: int
) -> None:
    flags = ServiceFlags.SCHED1 if name in FALLBACK else ServiceFlags.NONE
    s = ipvs.create(service(name, flags), [], random.Random(seed))
    ds: list[Destination] = []
    for i, (w, ovl, act, inact) in enumerate(reversed(specs)):
        d = Destination(RealServer(ipaddress.ip_address(f"192.168.{i}.{i + 1}"), 80, weight=w))
        d.overloaded, d.activeconns, d.inactconns = ovl, act, inact
        ds.insert(0, d)
        s.server_added(ds, d)
    any_eligible = any(eligible(name, d) for d in ds)
    for t, c in enumerate(clients):
        addr = ipaddress.IPv4Address(c)
        got = s.pick(ds, Flow(addr, c & 0xFFFF, addr, 80), float(t))
        if got is None:
            assert not any_eligible or name in MAY_MISS, ds
            continue
        assert any(got is d for d in ds)
        assert got.weight > 0 and not got.overloaded
        assert eligible(name, got)


@pytest.mark.parametrize("name", ["sh", "mh"])
def test_without_fallback_hash_schedulers_may_miss_but_never_pick_unusable(name: str) -> None:
    ds = [
        Destination(RealServer(ipaddress.ip_address(f"192.168.0.{i}"), 80, weight=1))
        for i in range(1, 5)
    ]
    for d in ds[:3]:
        d.overloaded = True
    s = ipvs.create(service(name), ds)
    got = [
        s.pick(ds, Flow(ipaddress.IPv4Address(c), 0, ipaddress.IPv4Address(c), 80), 0)
        for c in range(0x0A000000, 0x0A000000 + 64)
    ]
    assert None in got
    assert {id(g) for g in got if g is not None} == {id(ds[3])}
