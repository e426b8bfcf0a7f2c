"""The C balancer (dataplane/proxy/_balance.h through cbalance.CBalance) picks what the pool
picks: against the real haproxy's recorded sequences, and against the pool alone under random
weight and state changes interleaved with picks."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pylvs.dataplane.haproxy import cbalance
from pylvs.sched.base import Flow
from pylvs.sched.haproxy import Admin, LbParams, Pool, Server
from pylvs.sched.haproxy.params import parse_balance
from tests.unit.sched.haproxy.test_haproxy_recorded import (
    SCENARIOS,
    flow_of,
    params_of,
    run_cli,
    servers_of,
)

pytestmark = pytest.mark.skipif(not cbalance.available(), reason="built without the C pump")

RECORDED = sorted(n for n, sc in SCENARIOS.items() if sc["balance"] in cbalance.KINDS)


class Mirrored:
    """A pool with its C mirror, driven as the runtime drives it: C picks first, Python when
    C says it cannot; every Python touch of the pool between a pull and a push."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.cb = cbalance.CBalance(pool)
        self.from_c = 0

    def assign(self, flow: Flow, now: float) -> Server | object:
        got = self.cb.pick()
        if got is not None:
            self.from_c += 1
            return got
        self.cb.pull()
        res = self.pool.assign(flow, now)
        self.cb.push()
        return res

    def change(self, fn: Any, *args: Any) -> Any:
        self.cb.pull()
        res = fn(*args)
        self.cb.push()
        return res


def replay_mirrored(sc: dict[str, Any]) -> tuple[list[str], int]:
    pool = Pool(servers_of(sc), params_of(sc), random.Random(0))
    m = Mirrored(pool)
    held: list[Server] = []
    observed: list[str] = []
    now = 1000.0
    for step in sc["steps"]:
        now += 0.01
        if step["op"] == "cli":
            observed.append(m.change(run_cli, pool, step["cmd"], now))
        elif step["op"] == "close":
            for server in held:
                pool.drop_conn(server)
            held.clear()
        else:
            got = m.assign(flow_of(sc, step), now)
            if not isinstance(got, Server):
                observed.append("-")
                continue
            observed.append(got.name)
            pool.take_conn(got)
            if step["hold"]:
                held.append(got)
            else:
                pool.drop_conn(got)
    return observed, m.from_c


@pytest.mark.parametrize("name", RECORDED)
def test_c_picks_as_haproxy_did(name: str) -> None:
    sc = SCENARIOS[name]
    observed, from_c = replay_mirrored(sc)
    assert observed == sc["observed"]
    if not any(s["maxconn"] or s["backup"] for s in sc["servers"]):
        assert from_c > 0  # the C side did pick (not everything handed to Python)


def test_the_recordings_cover_both_algorithms() -> None:
    kinds = {SCENARIOS[n]["balance"] for n in RECORDED}
    assert kinds == {"roundrobin", "static-rr"}


FLOW = Flow(None, 0, None, 0)  # type: ignore[arg-type]


def _servers(rng: random.Random, n: int) -> list[Server]:
    return [
        Server(
            f"s{i}",
            rng.choice([0, 1, 1, 2, 3, 5, 7, 16, 100]),
            backup=rng.random() < 0.15,
            maxconn=rng.choice([0, 0, 0, 0, 2]),
        )
        for i in range(n)
    ]


def _change(pool: Pool, rng: random.Random, now: float) -> None:
    s = rng.choice(pool.servers)
    what = rng.randrange(6)
    if what == 0:
        pool.change_weight(s, str(rng.choice([0, 1, 2, 4, 9, 50])), now)
    elif what == 1:
        pool.change_weight(s, f"{rng.choice([0, 25, 50, 100])}%", now)
    elif what == 2:
        pool.mark_down(s, now)
    elif what == 3:
        pool.mark_up(s, now)
    elif what == 4:
        pool.set_admin(s, rng.choice([Admin.FMAINT, Admin.FDRAIN]), now)
    else:
        pool.clear_admin(s, Admin.FMAINT | Admin.FDRAIN, now)


def _run(balance: str, seed: int, mirrored: bool) -> tuple[list[str], list[tuple[int, int, int]]]:
    rng = random.Random(seed)
    pool = Pool(_servers(rng, rng.randrange(1, 9)), parse_balance([balance]), random.Random(0))
    m = Mirrored(pool) if mirrored else None
    out: list[str] = []
    now = 100.0
    for _ in range(400):
        now += 0.5
        if rng.random() < 0.08:
            if m is not None:
                m.change(_change, pool, rng, now)
            else:
                _change(pool, rng, now)
            continue
        got = m.assign(FLOW, now) if m is not None else pool.assign(FLOW, now)
        out.append(got.name if isinstance(got, Server) else "-")
    if m is not None:
        m.cb.pull()
    state = [(s.npos, s.lpos, s.rweight) for s in pool.servers]
    return out, state


@pytest.mark.parametrize("balance", ["roundrobin", "static-rr"])
@pytest.mark.parametrize("seed", range(40))
def test_c_and_python_picks_interleave_as_the_pool_alone(balance: str, seed: int) -> None:
    assert _run(balance, seed, True) == _run(balance, seed, False)


def test_fits_only_the_mirrored_algorithms() -> None:
    for balance, fits in (("roundrobin", True), ("static-rr", True), ("source", False)):
        pool = Pool([Server("a"), Server("b")], parse_balance([balance]))
        assert cbalance.fits(pool) is fits
    assert cbalance.fits(Pool([Server("a")], LbParams()))


def test_a_candidate_with_maxconn_is_left_to_python_unmoved() -> None:
    pool = Pool([Server("a", maxconn=1), Server("b")], parse_balance(["roundrobin"]))
    cb = cbalance.CBalance(pool)
    assert cb.pick() is None  # a, with maxconn, is due first
    assert cb.c.picks == 0
    cb.pull()
    got = pool.assign(FLOW, 0.0)
    assert isinstance(got, Server) and got.name == "a"


def test_bad_state_is_refused_not_crashed() -> None:
    from pylvs.dataplane.proxy import _pump

    b = _pump.Balancer()
    assert b.pick() == -1  # nothing loaded
    with pytest.raises(ValueError):
        b.dump()
    with pytest.raises(ValueError):
        b.load(_pump.ROUNDROBIN, [(1, 1, 0, 0, 0, 0, 1)], (1, 1, 1, 1, [(0, 5)], [], []))
    with pytest.raises(ValueError):
        b.load(_pump.STATIC_RR, [(1, 1, 0, 0, 0, 0, 1)], (2, 0, [0]))
    with pytest.raises(ValueError):
        b.load(7, [], (0, 0, []))
    assert b.pick() == -1


@pytest.mark.parametrize("name", RECORDED)
def test_a_mirrored_pool_picks_as_haproxy_did(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.unit.sched.haproxy.test_haproxy_recorded as recorded

    monkeypatch.setattr(recorded, "Pool", cbalance.MirroredPool)
    sc = SCENARIOS[name]
    assert recorded.replay(sc) == sc["observed"]


@pytest.mark.parametrize("balance", ["roundrobin", "static-rr"])
@pytest.mark.parametrize("seed", range(20))
def test_a_mirrored_pool_under_changes_picks_as_the_pool(balance: str, seed: int) -> None:
    def run(cls: type[Pool]) -> tuple[list[str], list[tuple[int, int, int]]]:
        rng = random.Random(seed)
        pool = cls(_servers(rng, rng.randrange(1, 9)), parse_balance([balance]))
        out = []
        now = 100.0
        for _ in range(300):
            now += 0.5
            if rng.random() < 0.08:
                _change(pool, rng, now)
                continue
            got = pool.assign(FLOW, now)
            out.append(got.name if isinstance(got, Server) else "-")
        if isinstance(pool, cbalance.MirroredPool):
            pool.mirror.pull()
        return out, [(s.npos, s.lpos, s.rweight) for s in pool.servers]

    assert run(cbalance.MirroredPool) == run(Pool)


def test_worth_it_only_without_maxconn() -> None:
    rr = parse_balance(["roundrobin"])
    assert cbalance.worth_it(rr, [Server("a"), Server("b")])
    assert not cbalance.worth_it(rr, [Server("a"), Server("b", maxconn=3)])
    assert not cbalance.worth_it(parse_balance(["random"]), [Server("a")])
