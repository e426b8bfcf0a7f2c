"""The backend pool (sched/haproxy/pool.py): ids, verdicts, states, weights, slowstart, limits.

Pick orders are checked against the real HAProxy in test_haproxy_recorded.py; these tests cover the
rules around them: server ids as cfgparse.c assigns them (observed with `show servers state`
on 2.6.12: `id 3, -, -` gives 3 2 4 and `-, id 1, -` gives 2 1 4), assign_server's verdicts,
maintenance and drain, `set weight` messages, slowstart (server_recalc_eweight), the dynamic
maxconn (srv_dynamic_maxconn), bounded-load consistent hashing, `random`'s draws, and servers
added and removed at run time.
"""

import dataclasses
import ipaddress
import random
from collections import Counter

import pytest

from pylvs.sched.base import Flow
from pylvs.sched.haproxy import FULL, NO_SERVER, Admin, HashType, LbParams, Pool, Server, State

CLIENT = ipaddress.IPv4Address("10.0.0.1")
FLOW = Flow(CLIENT, 1234, ipaddress.IPv4Address("10.0.0.100"), 80)


def state(s: Server) -> State:
    """s.cur_state, read afresh: mypy keeps it narrowed by an earlier assert across the
    calls that change it."""
    return s.cur_state


def servers(*weights: int, **kw: int) -> list[Server]:
    return [Server(f"s{i + 1}", w, **kw) for i, w in enumerate(weights)]  # type: ignore[arg-type]


def names(pool: Pool, n: int, now: float = 0.0, hold: bool = False) -> list[str]:
    out = []
    for _ in range(n):
        got = pool.assign(FLOW, now)
        if not isinstance(got, Server):
            out.append("-")
            continue
        out.append(got.name)
        pool.take_conn(got)
        if not hold:
            pool.drop_conn(got)
    return out


def test_ids_as_cfgparse_assigns_them() -> None:
    a = [Server("s1", puid=3), Server("s2"), Server("s3")]
    Pool(a)
    assert [s.puid for s in a] == [3, 2, 4]
    b = [Server("s1"), Server("s2", puid=1), Server("s3")]
    Pool(b)
    assert [s.puid for s in b] == [2, 1, 4]


def test_verdicts() -> None:
    pool = Pool(servers(1, 1), LbParams(algorithm="first"))
    for s in pool.servers:
        pool.set_admin(s, Admin.FMAINT, 1.0)
    assert pool.assign(FLOW, 2.0) is NO_SERVER
    pool.clear_admin(pool.servers[0], Admin.FMAINT, 3.0)
    pool.servers[0].maxconn = pool.servers[0].minconn = 1
    assert names(pool, 2, hold=True) == ["s1", "-"]
    assert pool.assign(FLOW, 4.0) is FULL


def test_round_robin_waits_behind_the_backend_queue() -> None:
    pool = Pool(servers(1, 1))
    pool.lb.queued, pool.lb.beconn = 1, 3  # someone else's connection is queued
    assert pool.assign(FLOW, 0.0) is FULL
    pool.lb.beconn = 1  # ... unless every backend connection is queued
    assert isinstance(pool.assign(FLOW, 0.0), Server)


def test_drain_and_maintenance() -> None:
    pool = Pool(servers(1, 1, 1))
    s1 = pool.servers[0]
    pool.set_admin(s1, Admin.FDRAIN, 5.0)
    assert s1.draining and s1.cur_state is State.RUNNING  # drained servers stay up: stickable
    assert "s1" not in names(pool, 6)
    pool.set_admin(s1, Admin.FMAINT, 6.0)
    assert s1.in_maintenance and state(s1) is State.STOPPED and s1.last_change == 6.0
    pool.mark_up(s1, 7.0)  # checks are paused in maintenance
    assert state(s1) is State.STOPPED
    pool.clear_admin(s1, Admin.FMAINT | Admin.FDRAIN, 8.0)
    assert s1.currently_usable() and "s1" in names(pool, 3)


def test_configured_disabled_is_a_marker_beside_forced_maintenance() -> None:
    s1 = Server("s1", admin=Admin.CMAINT | Admin.FMAINT, state=State.STOPPED)
    pool = Pool([s1, Server("s2")])
    assert names(pool, 2) == ["s2", "s2"]
    pool.clear_admin(s1, Admin.FMAINT, 1.0)  # `enable server`: CMAINT alone is not MAINT
    assert s1.currently_usable()


def test_weight_changes_and_messages() -> None:
    pool = Pool(servers(1, 2, 3))
    s3 = pool.servers[2]
    assert pool.change_weight(s3, "50%", 1.0) is None and pool.weight_text(s3) == "1 (initial 3)"
    assert pool.change_weight(s3, "300", 1.0) == (
        "Absolute weight can only be between 0 and 256 inclusive.\n"
    )
    assert pool.change_weight(s3, "", 1.0) == "Require <weight> or <weight%>.\n"
    assert pool.change_weight(s3, "x", 1.0) == "Empty weight string empty or preceded by garbage"
    assert pool.change_weight(s3, "4x", 1.0) == "Trailing garbage in weight string"
    assert pool.change_weight(s3, "-5%", 1.0) == "Relative weight must be positive.\n"
    assert pool.change_weight(s3, "2000%", 1.0) is None and s3.uweight == 60
    assert pool.change_weight(s3, "0", 1.0) is None and not s3.currently_usable()
    static = Pool(servers(1, 2, 3), LbParams(algorithm="static-rr"))
    assert static.change_weight(static.servers[0], "2", 1.0) == (
        "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
    )
    assert static.change_weight(static.servers[0], "0%", 1.0) is None
    assert static.change_weight(static.servers[0], "100%", 1.0) is None


def test_slowstart_ramps_the_effective_weight_and_the_connection_limit() -> None:
    s1 = Server("s1", 10, slowstart=100, maxconn=50)
    pool = Pool([s1, Server("s2", 10)])
    assert s1.cur_eweight == 160  # no slowstart at start-up
    pool.mark_down(s1, 1000.0)
    pool.mark_up(s1, 1000.0)
    assert s1.cur_state is State.STARTING and s1.cur_eweight == 10  # 10 * (16 * 0 + 100) // 100
    pool.recalc_eweight(s1, 1025.0)
    assert s1.cur_eweight == 50  # 10 * ((16 * 25 + 100) // 100)
    assert pool.lb.dynamic_maxconn(s1, 1025.0) == 12  # 50 * 25% ...
    assert pool.lb.dynamic_maxconn(s1, 1000.5) == 1  # ... never below 1
    pool.recalc_eweight(s1, 1100.0)
    assert state(s1) is State.RUNNING and s1.cur_eweight == 160


def test_static_algorithms_do_not_slow_start() -> None:
    s1 = Server("s1", 2, slowstart=100)
    pool = Pool([s1, Server("s2", 4)], LbParams(algorithm="static-rr"))
    pool.mark_down(s1, 10.0)
    pool.mark_up(s1, 10.0)
    assert s1.cur_state is State.STARTING and s1.cur_eweight == 1  # 2 / gcd 2, at once


def test_dynamic_maxconn_follows_the_backend_load() -> None:
    s1 = Server("s1", maxconn=100, minconn=10)
    pool = Pool([s1])
    pool.lb.fullconn = 1000
    pool.lb.beconn = 0
    assert pool.lb.dynamic_maxconn(s1, 0.0) == 10
    pool.lb.beconn = 500
    assert pool.lb.dynamic_maxconn(s1, 0.0) == 50
    pool.lb.beconn = 1000
    assert pool.lb.dynamic_maxconn(s1, 0.0) == 100


def test_bounded_loads_spill_to_the_next_server_on_the_ring() -> None:
    params = LbParams(algorithm="source", hash_type=HashType.CONSISTENT, avalanche=True)
    free = Pool(servers(1, 1, 1), params)
    assert len(set(names(free, 9, hold=True))) == 1  # one client, one server
    bounded = Pool(servers(1, 1, 1), dataclasses.replace(params, hash_balance_factor=100))
    counts = Counter(names(bounded, 9, hold=True))
    assert sorted(counts.values()) == [3, 3, 3]  # 100%: nobody above the average


def test_random_keeps_the_least_loaded_of_its_draws() -> None:
    one = Pool(servers(1, 3), LbParams(algorithm="random", draws=1), random.Random(7))
    counts = Counter(names(one, 4000))
    assert 0.2 < counts["s1"] / 4000 < 0.3  # weights 1:3
    two = Pool(servers(1, 1, 1, 1), LbParams(algorithm="random", draws=2), random.Random(7))
    held = Counter(names(two, 400, hold=True))
    assert max(held.values()) - min(held.values()) <= 4  # the power of two choices


def test_random_gives_up_when_the_chosen_server_is_full() -> None:
    s1 = Server("s1", maxconn=1)
    pool = Pool([s1], LbParams(algorithm="random"), random.Random(1))
    assert names(pool, 2, hold=True) == ["s1", "-"]


@pytest.mark.parametrize("algorithm", ["roundrobin", "leastconn", "first", "random", "source"])
def test_servers_added_and_removed_at_run_time(algorithm: str) -> None:
    params = LbParams(algorithm=algorithm, hash_type=HashType.CONSISTENT)
    pool = Pool(servers(1, 1), params, random.Random(3))
    s1, s2 = pool.servers
    new = Server("s9", 2)
    pool.add_server(new, 1.0)
    assert new.puid == 3 and new.currently_usable()
    assert pool.lb.srv_act == 3 and pool.lb.tot_weight == 4 * 16
    pool.mark_down(s1, 2.0)
    pool.mark_down(s2, 2.0)
    assert set(names(pool, 5)) == {"s9"}
    pool.mark_up(s1, 3.0)
    pool.mark_up(s2, 3.0)
    with pytest.raises(ValueError, match="Only servers in maintenance mode can be deleted"):
        pool.remove_server(new)
    pool.take_conn(new)
    pool.set_admin(new, Admin.FMAINT, 4.0)
    with pytest.raises(ValueError, match="Server still has connections attached to it"):
        pool.remove_server(new)
    pool.drop_conn(new)
    pool.remove_server(new)
    assert new not in pool.servers and pool.lb.srv_act == 2
    assert "s9" not in names(pool, 20)


def test_static_backends_refuse_servers_at_run_time() -> None:
    pool = Pool(servers(1, 1), LbParams(algorithm="static-rr"))
    with pytest.raises(ValueError, match="dynamic load balancing"):
        pool.add_server(Server("s9"), 1.0)
