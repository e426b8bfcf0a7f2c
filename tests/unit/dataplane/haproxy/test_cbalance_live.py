"""leastconn and first picked in C (dataplane/proxy/_leastconn.h through cbalance.MirroredPool)
pick what the pool picks: against the real haproxy's recorded sequences (held connections
for leastconn's weights, `first` with maxconn), against the pool alone under random takes,
releases, queues and state changes, and with picks made in C ahead of their takes (the
plain listeners' records come a round later)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pylvs.dataplane.haproxy import cbalance
from pylvs.sched.base import Flow
from pylvs.sched.haproxy import Admin, Pool, Server
from pylvs.sched.haproxy.params import parse_balance
from tests.unit.sched.haproxy.test_haproxy_recorded import SCENARIOS

pytestmark = pytest.mark.skipif(not cbalance.available(), reason="built without the C pump")

RECORDED = sorted(n for n, sc in SCENARIOS.items() if sc["balance"] in cbalance.LIVE_KINDS)
FLOW = Flow(None, 0, None, 0)  # type: ignore[arg-type]


class _Counting(cbalance.CBalance):
    """A mirror that counts the picks C made."""

    __slots__ = ("made",)

    def __init__(self, pool: Pool) -> None:
        self.made = 0
        super().__init__(pool)

    def pick(self) -> Server | None:
        got = super().pick()
        self.made += got is not None
        return got


def test_the_recordings_cover_both_algorithms_and_maxconn() -> None:
    assert {SCENARIOS[n]["balance"] for n in RECORDED} == {"leastconn", "first"}
    assert any(any(s["maxconn"] for s in SCENARIOS[n]["servers"]) for n in RECORDED)


@pytest.mark.parametrize("name", RECORDED)
def test_a_mirrored_pool_picks_as_haproxy_did(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.unit.sched.haproxy.test_haproxy_recorded as recorded

    monkeypatch.setattr(cbalance, "CBalance", _Counting)
    made: list[_Counting] = []

    def mirrored(*args: Any, **kw: Any) -> cbalance.MirroredPool:
        pool = cbalance.MirroredPool(*args, **kw)
        assert isinstance(pool.mirror, _Counting)
        made.append(pool.mirror)
        return pool

    monkeypatch.setattr(recorded, "Pool", mirrored)
    sc = SCENARIOS[name]
    assert recorded.replay(sc) == sc["observed"]
    assert made[0].made > 0  # C picked (not everything handed back)


def _servers(rng: random.Random, n: int) -> list[Server]:
    return [
        Server(
            f"s{i}",
            rng.choice([1, 1, 2, 3, 5, 16]),
            backup=rng.random() < 0.15,
            maxconn=rng.choice([0, 0, 0, 1, 2, 3]),
            maxqueue=rng.choice([0, 0, 1]),
        )
        for i in range(n)
    ]


def _change(pool: Pool, rng: random.Random, now: float) -> None:
    s = rng.choice(pool.servers)
    what = rng.randrange(5)
    if what == 0:
        pool.change_weight(s, str(rng.choice([0, 1, 2, 4, 9])), now)
    elif what == 1:
        pool.mark_down(s, now)
    elif what == 2:
        pool.mark_up(s, now)
    elif what == 3:
        pool.set_admin(s, Admin.FMAINT, now)
    else:
        pool.clear_admin(s, Admin.FMAINT, now)


def _queue(pool: Pool, s: Server, delta: int) -> None:
    """What backend.py's queues do to a server's count (and tell a mirrored pool)."""
    s.queued += delta
    pool.lb.queued += delta
    if isinstance(pool, cbalance.MirroredPool):
        pool.queue_changed(s)


def _run(cls: type[Pool], balance: str, seed: int) -> tuple[list[str], list[object]]:
    """Picks taken and held, releases, queue moves and state changes, in one random order."""
    rng = random.Random(seed)
    pool = cls(_servers(rng, rng.randrange(1, 8)), parse_balance([balance]))
    held: list[Server] = []
    queued: list[Server] = []
    out: list[str] = []
    now = 100.0
    for _ in range(400):
        now += 0.5
        r = rng.random()
        if r < 0.06:
            _change(pool, rng, now)
        elif r < 0.3 and held:
            pool.drop_conn(held.pop(rng.randrange(len(held))))
        elif r < 0.34:
            s = rng.choice(pool.servers)
            _queue(pool, s, 1)
            queued.append(s)
        elif r < 0.38 and queued:
            _queue(pool, queued.pop(), -1)
        else:
            got = pool.assign(FLOW, now)
            out.append(got.name if isinstance(got, Server) else "-")
            if isinstance(got, Server):
                pool.take_conn(got)
                held.append(got)
    if isinstance(pool, cbalance.MirroredPool):
        pool.mirror.pull()
    algo: Any = pool.algorithm
    order = [(n.key, n.item.name) for n in algo.act]
    return out, [order, [s.served for s in pool.servers]]


@pytest.mark.parametrize("balance", ["leastconn", "first"])
@pytest.mark.parametrize("seed", range(30))
def test_a_mirrored_pool_under_load_and_changes_picks_as_the_pool(balance: str, seed: int) -> None:
    assert _run(cbalance.MirroredPool, balance, seed) == _run(Pool, balance, seed)


@pytest.mark.parametrize("balance", ["leastconn", "first"])
@pytest.mark.parametrize("seed", range(20))
def test_picks_made_in_c_before_their_takes_are_the_pools(balance: str, seed: int) -> None:
    """A plain listener's accepts pick in C one after another; their takes come with the
    records, after the batch.  The picks are those of the pool taking each at once."""
    rng = random.Random(seed)
    servers = [Server(f"s{i}", rng.choice([1, 2, 3]), maxconn=rng.choice([0, 0, 2, 4]))
               for i in range(rng.randrange(1, 6))]  # fmt: skip
    twin = [Server(s.name, s.iweight, maxconn=s.maxconn) for s in servers]
    mirrored = cbalance.MirroredPool(servers, parse_balance([balance]))
    alone = Pool(twin, parse_balance([balance]))
    held: list[tuple[Server, Server]] = []
    for _ in range(30):
        batch: list[Server] = []
        for _ in range(rng.randrange(1, 6)):  # one round of accepts, in C
            got = mirrored.mirror.pick()
            want = alone.assign(FLOW, 0.0)
            if got is None:  # every server full: the stream would wait in the backend queue
                assert not isinstance(want, Server)
                break
            assert isinstance(want, Server) and want.name == got.name
            alone.take_conn(want)
            batch.append(got)
        for got in batch:  # the round's records
            mirrored.picked_in_c(got)
            mirrored.take_conn(got)
            held.append((got, next(t for t in twin if t.name == got.name)))
        for _ in range(rng.randrange(0, 4)):
            if held:
                m, a = held.pop(rng.randrange(len(held)))
                mirrored.drop_conn(m)
                alone.drop_conn(a)
    mirrored.mirror.pull()
    assert [s.served for s in servers] == [s.served for s in twin]
    assert not mirrored.ahead and not mirrored.mirror.untaken


def test_a_full_first_server_goes_to_the_next_then_python_queues() -> None:
    pool = cbalance.MirroredPool(
        [Server("a", maxconn=1), Server("b", maxconn=1)], parse_balance(["first"])
    )
    for name in ("a", "b"):
        got = pool.mirror.pick()
        assert got is not None and got.name == name
        pool.picked_in_c(got)
        pool.take_conn(got)
    assert pool.mirror.pick() is None  # both full: the backend queue is Python's
    assert pool.assign(FLOW, 0.0) is not None and not isinstance(pool.assign(FLOW, 0.0), Server)
    pool.drop_conn(pool.servers[0])
    got = pool.mirror.pick()
    assert got is not None and got.name == "a"


def test_a_dynamic_limit_is_left_to_python_unmoved() -> None:
    """minconn below maxconn: srv_dynamic_maxconn scales with the backend's load, which C
    does not read."""
    pool = cbalance.MirroredPool([Server("a", maxconn=4, minconn=1)], parse_balance(["first"]))
    assert pool.mirror.pick() is None and pool.mirror.c.picks == 0


def test_worth_it_for_leastconn_and_first_with_maxconn_too() -> None:
    lc = parse_balance(["leastconn"])
    assert cbalance.worth_it(lc, [Server("a"), Server("b", maxconn=3)])
    assert cbalance.worth_it(parse_balance(["first"]), [Server("a", maxconn=1)])
    assert not cbalance.worth_it(parse_balance(["source"]), [Server("a")])


def test_bad_calls_are_refused_not_crashed() -> None:
    from pylvs.dataplane.proxy import _pump

    b = _pump.Balancer()
    with pytest.raises(ValueError):
        b.taken(0, 0)  # nothing loaded: not a leastconn mirror
    b.load(_pump.LEASTCONN, [(1, 1, 0, 0, 0, 0, 1)], (1, [(0, 0)], [(0, 0, 0, 0, 0)]))
    with pytest.raises(IndexError):
        b.dropped(5, 0)
    with pytest.raises(ValueError):
        b.load(_pump.FIRST, [(1, 1, 0, 0, 0, 0, 1)], (1, [(0, 3)], [(0, 0, 0, 0, 0)]))
    with pytest.raises(ValueError):
        b.load(_pump.FIRST, [(1, 1, 0, 0, 0, 0, 1)], (1, [], []))
    assert b.pick() == -1
