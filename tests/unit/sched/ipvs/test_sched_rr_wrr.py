"""rr and wrr (ip_vs_rr.c, ip_vs_wrr.c): rotation, skipping, and the hooks' position rules."""

import ipaddress
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.sched.base import Flow
from pylvs.sched.ipvs import Scheduler, create
from pylvs.sched.ipvs.wrr import WeightedRoundRobin

FLOW = Flow(ipaddress.ip_address("1.2.3.4"), 1000, ipaddress.ip_address("10.0.0.1"), 80)


def dests(*weights: int) -> list[Destination]:
    return [
        Destination(RealServer(ipaddress.ip_address(f"192.168.0.{i}"), 80, weight=w))
        for i, w in enumerate(weights, 1)
    ]


def sched(name: str, ds: Sequence[Destination]) -> Scheduler:
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    return create(VirtualService(key, scheduler=name), ds)


def picks(s: Scheduler, ds: Sequence[Destination], n: int, names: str = "ABCDEFGH") -> str:
    out = []
    for _ in range(n):
        d = s.pick(ds, FLOW, 0.0)
        out.append("-" if d is None else names[[id(x) for x in ds].index(id(d))])
    return "".join(out)


# -- rr ---------------------------------------------------------------------------------


def test_rr_rotates_in_list_order_and_skips_quiesced_and_overloaded() -> None:
    ds = dests(1, 0, 5, 1)  # A B C D; B quiesced
    ds[3].overloaded = True
    s = sched("rr", ds)
    assert picks(s, ds, 6) == "ACACAC"


def test_rr_weight_value_does_not_matter() -> None:
    ds = dests(100, 1, 7)
    s = sched("rr", ds)
    assert picks(s, ds, 6) == "ABCABC"


def test_rr_none_when_all_quiesced() -> None:
    ds = dests(0, 0)
    s = sched("rr", ds)
    assert picks(s, ds, 2) == "--"


def test_rr_deleting_the_current_dest_moves_back_to_the_previous_one() -> None:
    ds = dests(1, 1, 1)  # A B C
    a, b, c = ds
    s = sched("rr", ds)
    assert s.pick(ds, FLOW, 0) is a
    assert s.pick(ds, FLOW, 0) is b
    ds.remove(b)
    s.server_removed(ds, b, 1)
    # The saved position is now A, so the rotation goes on with C (not A).
    assert s.pick(ds, FLOW, 0) is c
    assert s.pick(ds, FLOW, 0) is a


def test_rr_deleting_the_current_first_dest_goes_back_to_the_head() -> None:
    ds = dests(1, 1, 1)
    a, b, _ = ds
    s = sched("rr", ds)
    assert s.pick(ds, FLOW, 0) is a
    ds.remove(a)
    s.server_removed(ds, a, 0)
    assert s.pick(ds, FLOW, 0) is b


def test_rr_deleting_another_dest_keeps_the_position() -> None:
    ds = dests(1, 1, 1)
    a, b, c = ds
    s = sched("rr", ds)
    assert s.pick(ds, FLOW, 0) is a
    assert s.pick(ds, FLOW, 0) is b
    ds.remove(a)
    s.server_removed(ds, a, 0)
    assert s.pick(ds, FLOW, 0) is c
    assert s.pick(ds, FLOW, 0) is b


def test_rr_new_dest_goes_to_the_head_and_the_rotation_continues() -> None:
    ds = dests(1, 1)
    a, b = ds
    s = sched("rr", ds)
    assert s.pick(ds, FLOW, 0) is a
    new = dests(1)[0]
    ds.insert(0, new)
    s.server_added(ds, new)
    # Position stays at A: B next, then wrap to the new head, then A.
    assert [s.pick(ds, FLOW, 0) for _ in range(3)] == [b, new, a]


# -- wrr --------------------------------------------------------------------------------


def test_wrr_4_3_2_sequence() -> None:
    ds = dests(4, 3, 2)
    s = sched("wrr", ds)
    assert picks(s, ds, 18) == "AABABCABC" * 2


def test_wrr_gcd_step() -> None:
    # weights 6, 3: di = 3, mw = 6 - 2 = 4; passes cw = 4, 1.
    ds = dests(6, 3)
    s = sched("wrr", ds)
    assert isinstance(s, WeightedRoundRobin)
    assert (s.step, s.max_weight, s.current_weight) == (3, 4, 4)
    assert picks(s, ds, 6) == "AABAAB"


def test_wrr_all_zero_weights_is_no_destination() -> None:
    ds = dests(0, 0)
    s = sched("wrr", ds)
    assert picks(s, ds, 2) == "--"


def test_wrr_skips_overloaded_and_fails_when_all_overloaded() -> None:
    ds = dests(4, 3, 2)
    ds[0].overloaded = True
    s = sched("wrr", ds)
    # Without A: cw 4 -> nobody; cw 3: B; cw 2: B C; cw 1: B C.
    assert picks(s, ds, 5) == "BBCBC"
    for d in ds:
        d.overloaded = True
    assert picks(s, ds, 2) == "--"
    ds[2].overloaded = False
    assert picks(s, ds, 2) == "CC"


def test_wrr_dest_changed_caps_cw_at_new_max_and_restarts_at_head() -> None:
    ds = dests(6, 3)
    a = ds[0]
    s = sched("wrr", ds)
    assert isinstance(s, WeightedRoundRobin)
    assert s.pick(ds, FLOW, 0) is a  # cw = 4
    a.update(RealServer(a.address, 80, weight=3))
    s.weight_changed(ds, a)
    # weights 3, 3: di = 3, mw = 1; cw 4 > mw -> cw = 1, cl = head.
    assert s.current_weight == 1
    assert picks(s, ds, 4) == "ABAB"


def test_wrr_dest_changed_rounds_cw_to_the_new_step() -> None:
    ds = dests(4, 3)
    b = ds[1]
    s = sched("wrr", ds)
    assert isinstance(s, WeightedRoundRobin)
    assert picks(s, ds, 4) == "AABA"  # cw is now 2, after A
    assert s.current_weight == 2
    b.update(RealServer(b.address, 80, weight=2))
    s.weight_changed(ds, b)
    # weights 4, 2: di = 2, mw = 3; cw 2 <= mw and di > 1 -> cw = (2 / 2) * 2 + 1 = 3.
    assert s.current_weight == 3
    # From the head with cw 3: A; then cw 1: A B.  (Keeping cw 2 would give A B.)
    assert picks(s, ds, 3) == "AAB"


def reference_wrr(
    weights: list[int], overloaded_at: list[list[bool]], changes: int
) -> list[int | None]:
    """ip_vs_wrr_schedule written out dest by dest, for comparison."""
    n = len(weights)
    pos_w = [w for w in weights if w > 0]
    di = 1
    if pos_w:
        import math

        di = math.gcd(*pos_w)
    mw = max(weights, default=0) - (di - 1)
    cw = mw
    cl = -1
    out: list[int | None] = []
    for ovl in overloaded_at[:changes]:
        if mw == 0:
            out.append(None)
            continue
        last = cl
        dest = cl
        stop = None
        last_pass = restarted = False
        result = None
        while result is None:
            failed = False
            for j in range(dest + 1, n):
                if not ovl[j] and weights[j] >= cw:
                    result = j
                    break
                if j == stop:
                    failed = True
                    break
            if result is not None:
                cl = result
                break
            if failed:
                cl = stop  # type: ignore[assignment]
                break
            dest = -1
            cw -= di
            if cw <= 0:
                cw = mw
                if last_pass or last == -1:
                    cl = -1
                    break
                restarted = True
            last_pass = cw <= di
            if last_pass and restarted and last != -1:
                stop = last
        out.append(result)
    return out


@settings(max_examples=150, deadline=None)
@given(
    weights=st.lists(st.integers(0, 6), min_size=1, max_size=7),
    data=st.data(),
)
def test_wrr_matches_a_dest_by_dest_walk(weights: list[int], data: st.DataObject) -> None:
    n = len(weights)
    steps = 40
    ovl = data.draw(
        st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=steps, max_size=steps)
    )
    ds = dests(*weights)
    s = sched("wrr", ds)
    got: list[int | None] = []
    for flags in ovl:
        for d, f in zip(ds, flags, strict=True):
            d.overloaded = f
        pick = s.pick(ds, FLOW, 0.0)
        got.append(None if pick is None else [id(x) for x in ds].index(id(pick)))
    assert got == reference_wrr(weights, ovl, steps)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=6), st.integers(1, 4))
def test_wrr_one_cycle_gives_each_dest_its_weight(base: list[int], scale: int) -> None:
    weights = [w * scale for w in base]
    ds = dests(*weights)
    s = sched("wrr", ds)
    import math

    cycle = sum(weights) // math.gcd(*weights)
    counts = [0] * len(ds)
    for _ in range(cycle):
        d = s.pick(ds, FLOW, 0.0)
        assert d is not None
        counts[[id(x) for x in ds].index(id(d))] += 1
    g = math.gcd(*weights)
    assert counts == [w // g for w in weights]
