"""The contract every registered load-balancing algorithm keeps, driven through its hooks.

Principle 5 of docs/ARCHITECTURE.md: one suite, run against every algorithm of every namespace
(`sched_kits.py` says how each family's servers are changed before a hook is called).  Random
sequences of the interface's operations -- add, remove, down, up, weight, connection taken and
dropped, pick -- must keep these true:

* an empty pool gives None;
* a pick is a server of the pool that the family calls eligible (never a removed, down,
  quiesced or saturated one, nor a backup while an active server is usable);
* when some server is eligible a pick is made, except where the kit says the algorithm may
  miss (a hash bucket whose owner is unusable, with no fallback);
* the same operations give the same picks (algorithms are deterministic given their rng);
* where the family honours `avoid`, the avoided server is picked only when nothing else can be.
"""

from __future__ import annotations

import ipaddress
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.sched import registry
from pylvs.sched.base import Flow, HttpRequest, Need
from tests.unit.sched.sched_kits import Kit, Pool, kit_for

ALL = registry.names()


def test_names_are_namespaced_and_bare_names_are_ipvs() -> None:
    assert all(":" in n for n in ALL)
    assert "ipvs:wrr" in ALL
    assert registry.get("wrr") is registry.get("ipvs:wrr")
    with pytest.raises(KeyError):
        registry.get("nosuch")


@pytest.mark.parametrize("name", ALL)
def test_every_algorithm_declares_its_name_and_need(name: str) -> None:
    cls = registry.get(name)
    assert cls.qualified_name() == name
    assert isinstance(cls.need, Need)


def flow_for(value: int) -> Flow:
    """A flow carrying everything any algorithm may need, varied by `value`."""
    client = ipaddress.IPv4Address(0x0A000000 + value)
    request = HttpRequest.of(
        "GET",
        f"/d{value % 7}/p{value}?id={value}&x=1",
        [("Host", f"h{value}.example.com"), ("Cookie", f"sid={value}")],
    )
    return Flow(
        client,
        1024 + value % 60000,
        ipaddress.IPv4Address(0x0A010000 + value % 5),
        80,
        # An RDP connection request: TPKT (4) and X.224 (7) headers, then the cookie line.
        payload=b"\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00"
        + f"Cookie: mstshash=u{value}\r\n".encode(),
        request=request,
        sample=str(value).encode(),
    )


@pytest.mark.parametrize("name", ALL)
def test_empty_pool_gives_none(name: str) -> None:
    kit = kit_for(name)
    pool = kit.create(name, random.Random(0))
    assert pool.balancer.pick(pool.servers, flow_for(1), 0.0) is None
    assert pool.balancer.pick(pool.servers, flow_for(2), 100.0) is None


OPS = ("add", "remove", "down", "up", "weight", "take", "drop", "pick", "pick", "pick")
op_strategy = st.tuples(
    st.sampled_from(OPS), st.integers(0, 63), st.integers(0, 8), st.integers(0, 2**16)
)


class Run:
    """One pool driven through a list of operations; `picks` records what each pick gave."""

    def __init__(self, kit: Kit, name: str, seed: int) -> None:
        self.kit = kit
        self.pool: Pool = kit.create(name, random.Random(seed))
        self.conns: dict[int, int] = {}  # id(server) -> connections taken and not dropped
        self.picks: list[int | None] = []
        self.now = 0.0

    def index_of(self, server: object) -> int:
        return next(i for i, s in enumerate(self.pool.known) if s is server)

    def apply(self, op: str, which: int, weight: int, value: int) -> None:
        kit, pool = self.kit, self.pool
        self.now += 0.5
        if op == "add" or not pool.servers:
            if len(pool.servers) < 10:
                kit.add(pool, kit.new_server(pool, weight or 1))
            return
        server = pool.servers[which % len(pool.servers)]
        if op == "remove":
            if not self.conns.get(id(server)):
                kit.down(pool, server)
                kit.remove(pool, server)
        elif op == "down":
            kit.down(pool, server)
        elif op == "up":
            kit.up(pool, server)
        elif op == "weight":
            kit.set_weight(pool, server, weight)
        elif op == "take":
            self.take(server)
        elif op == "drop":
            if self.conns.get(id(server)):
                self.conns[id(server)] -= 1
                kit.drop(pool, server)
        else:
            self.pick(value)

    def take(self, server: object) -> None:
        self.conns[id(server)] = self.conns.get(id(server), 0) + 1
        self.kit.take(self.pool, server)

    def pick(self, value: int) -> None:
        kit, pool = self.kit, self.pool
        eligible = [s for s in pool.servers if kit.eligible(pool, s)]
        got = pool.balancer.pick(pool.servers, flow_for(value), self.now)
        if got is None:
            assert not eligible or kit.may_miss(pool), (pool.name, pool.servers)
            self.picks.append(None)
            return
        assert any(got is s for s in pool.servers), (pool.name, got)
        assert kit.eligible(pool, got), (pool.name, got, pool.servers)
        self.picks.append(self.index_of(got))
        if value % 3:
            self.take(got)


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=40, deadline=None)
@given(ops=st.lists(op_strategy, min_size=1, max_size=60), seed=st.integers(0, 2**16))
def test_hooks_keep_picks_eligible_and_deterministic(
    name: str, ops: list[tuple[str, int, int, int]], seed: int
) -> None:
    kit = kit_for(name)
    first, second = Run(kit, name, seed), Run(kit, name, seed)
    for op in ops:
        first.apply(*op)
        second.apply(*op)
    assert first.picks == second.picks


@pytest.mark.parametrize("name", [n for n in ALL if kit_for(n).honours_avoid(n)])
@settings(max_examples=25, deadline=None)
@given(weights=st.lists(st.integers(1, 5), min_size=2, max_size=6), value=st.integers(0, 999))
def test_avoided_server_only_when_nothing_else(name: str, weights: list[int], value: int) -> None:
    kit = kit_for(name)
    pool = kit.create(name, random.Random(value))
    for w in weights:
        kit.add(pool, kit.new_server(pool, w, plain=True))
    flow = flow_for(value)
    first = pool.balancer.pick(pool.servers, flow, 0.0)
    assert first is not None
    again = pool.balancer.pick(pool.servers, flow, 1.0, avoid=first)
    assert again is not None and again is not first
    for other in pool.servers:
        if other is not first:
            kit.down(pool, other)
    assert pool.balancer.pick(pool.servers, flow, 2.0, avoid=first) is first


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=25, deadline=None)
@given(
    weights=st.lists(st.integers(1, 5), min_size=1, max_size=6),
    value=st.integers(0, 999),
    how=st.sampled_from(["down", "weight", "saturate"]),
)
def test_a_server_taken_out_is_not_picked(
    name: str, weights: list[int], value: int, how: str
) -> None:
    kit = kit_for(name)
    pool = kit.create(name, random.Random(value))
    for w in weights:
        kit.add(pool, kit.new_server(pool, w, plain=True))
    for i in range(value % 7):  # move the algorithm's state along a little first
        pool.balancer.pick(pool.servers, flow_for(value + i), float(i))
    flow = flow_for(value)
    first = pool.balancer.pick(pool.servers, flow, 10.0)
    assert first is not None
    if how == "down":
        kit.down(pool, first)
    elif how == "weight":
        kit.set_weight(pool, first, 0)
    elif not kit.saturate(pool, first):
        return
    eligible = [s for s in pool.servers if kit.eligible(pool, s)]
    for t in range(3):
        again = pool.balancer.pick(pool.servers, flow_for(value + t), 11.0 + t)
        if again is None:
            assert not eligible or kit.may_miss(pool)
        else:
            assert kit.eligible(pool, again), (name, how, again, pool.servers)
