"""lc, wlc, sed, nq, fo, ovf, twos: the selection rules with counters worked out by hand."""

import ipaddress
import random
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.sched.base import Flow
from pylvs.sched.ipvs import Scheduler, create

FLOW = Flow(ipaddress.ip_address("1.2.3.4"), 1000, ipaddress.ip_address("10.0.0.1"), 80)


def dest(weight: int, act: int = 0, inact: int = 0, ovl: bool = False) -> Destination:
    d = Destination(RealServer(ipaddress.ip_address("192.168.0.1"), 80, weight=weight))
    d.activeconns = act
    d.inactconns = inact
    d.overloaded = ovl
    return d


def sched(name: str, ds: Sequence[Destination], rng: random.Random | None = None) -> Scheduler:
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    return create(VirtualService(key, scheduler=name), ds, rng)


def pick(name: str, ds: Sequence[Destination]) -> int | None:
    d = sched(name, ds).pick(ds, FLOW, 0.0)
    return None if d is None else [id(x) for x in ds].index(id(d))


# -- lc ---------------------------------------------------------------------------------


def test_lc_uses_active_times_256_plus_inactive_and_ignores_weight() -> None:
    # overheads: 1*256+0 = 256, 0*256+255 = 255, 0*256+300 = 300
    ds = [dest(100, act=1), dest(1, inact=255), dest(5, inact=300)]
    assert pick("lc", ds) == 1


def test_lc_tie_keeps_first_and_skips_weight0_and_overloaded() -> None:
    ds = [dest(0), dest(1, ovl=True), dest(1, inact=3), dest(9, inact=3)]
    assert pick("lc", ds) == 2


# -- wlc --------------------------------------------------------------------------------


def test_wlc_cross_multiplied_overhead_per_weight() -> None:
    # A: 2 active -> 512 / 1; B: 3 active -> 768 / 2 = 384; C: 1 active + 200 inactive
    # -> 456 / 1.  B is least.
    ds = [dest(1, act=2), dest(2, act=3), dest(1, act=1, inact=200)]
    assert pick("wlc", ds) == 1


def test_wlc_tie_keeps_the_earlier_dest() -> None:
    # 256/1 vs 512/2: equal, `>` is strict so A stays.
    ds = [dest(1, act=1), dest(2, act=2)]
    assert pick("wlc", ds) == 0


def test_wlc_weight0_never_wins_even_idle() -> None:
    ds = [dest(1, act=50), dest(0)]
    assert pick("wlc", ds) == 0


def test_wlc_first_candidate_must_have_positive_weight() -> None:
    ds = [dest(0), dest(3, act=1, ovl=True), dest(1, act=9), dest(2, act=17)]
    # start at C (9*256/1 = 2304), D: 17*256/2 = 2176 < 2304 -> D
    assert pick("wlc", ds) == 3


# -- sed --------------------------------------------------------------------------------


def test_sed_uses_active_plus_one_and_ignores_inactive() -> None:
    # A: (1+1)/1 = 2; B: (2+1)/2 = 1.5 -> B, though B has many inactive conns.
    ds = [dest(1, act=1), dest(2, act=2, inact=1000)]
    assert pick("sed", ds) == 1
    # wlc on the same counters prefers A (256 vs 1512/2 = 756).
    assert pick("wlc", ds) == 0


def test_sed_tie_keeps_first() -> None:
    # (0+1)/1 vs (1+1)/2: equal.
    ds = [dest(1), dest(2, act=1)]
    assert pick("sed", ds) == 0


# -- nq ---------------------------------------------------------------------------------


def test_nq_returns_first_idle_dest() -> None:
    # B is idle (activeconns 0) though its weight is low and it has inactive conns;
    # D is idle too but later in the list.
    ds = [dest(10, act=1), dest(1, inact=50), dest(0), dest(5)]
    assert pick("nq", ds) == 1


def test_nq_skips_idle_but_quiesced_or_overloaded() -> None:
    ds = [dest(0), dest(4, ovl=True), dest(1, act=3), dest(2, act=3)]
    # no usable idle dest: sed minimum: C (4/1) vs D (4/2) -> D
    assert pick("nq", ds) == 3


# -- fo / ovf ---------------------------------------------------------------------------


def test_fo_highest_weight_first_on_tie() -> None:
    ds = [dest(2), dest(7, ovl=True), dest(5, act=100), dest(5), dest(0)]
    assert pick("fo", ds) == 2


def test_ovf_skips_dests_with_more_active_than_weight() -> None:
    # A weight 5 but 6 active -> skipped; B weight 3 with 3 active is fine (> not >=).
    ds = [dest(5, act=6), dest(3, act=3), dest(3), dest(0)]
    assert pick("ovf", ds) == 1


def test_ovf_none_when_all_full() -> None:
    ds = [dest(1, act=2), dest(2, act=3)]
    assert pick("ovf", ds) is None


# -- twos -------------------------------------------------------------------------------


class FixedBits(random.Random):
    """A Random whose getrandbits returns the given values in turn."""

    def __init__(self, values: list[int]) -> None:
        super().__init__(0)
        self.values = list(values)

    def getrandbits(self, k: int) -> int:
        return self.values.pop(0)


def test_twos_walk_and_comparison() -> None:
    # Eligible: A(w2), C(w3) (B quiesced, D overloaded): S = 5, total 6.
    ds = [dest(2, act=1), dest(0), dest(3, act=1), dest(4, ovl=True)]
    # r1 = 13 % 6 = 1 -> A (1-2 <= 0); r2 = 4 % 6 = 4 -> 4-2 = 2, 2-3 <= 0 -> C.
    # weight2*overhead1 = 3*256 > weight1*overhead2 = 2*256 -> C.
    s = sched("twos", ds, FixedBits([13, 4]))
    assert s.pick(ds, FLOW, 0.0) is ds[2]
    # r1 = 0 -> A (0-2 <= 0), r2 = 2 -> A as well.
    s = sched("twos", ds, FixedBits([0, 2]))
    assert s.pick(ds, FLOW, 0.0) is ds[0]
    # A's overhead 1*256, C idle: choice2 = C wins if 3*256 > 2*0.
    ds[2].activeconns = 0
    s = sched("twos", ds, FixedBits([1, 5]))
    assert s.pick(ds, FLOW, 0.0) is ds[2]
    # choice1 = C (r1 = 5: 5-2 = 3, 3-3 <= 0), choice2 = A: 2*0 > 3*256 is false -> C.
    s = sched("twos", ds, FixedBits([5, 1]))
    assert s.pick(ds, FLOW, 0.0) is ds[2]


def test_twos_none_when_nothing_eligible() -> None:
    ds = [dest(0), dest(3, ovl=True)]
    assert sched("twos", ds, random.Random(1)).pick(ds, FLOW, 0.0) is None


# -- convergence: bind every pick as an active connection that stays open ---------------


def run_bound(name: str, weights: list[int], total: int) -> list[int]:
    ds = [dest(w) for w in weights]
    s = sched(name, ds)
    counts = [0] * len(ds)
    ids = [id(x) for x in ds]
    for _ in range(total):
        d = s.pick(ds, FLOW, 0.0)
        assert d is not None
        d.bind(active=True)
        counts[ids.index(id(d))] += 1
    return counts


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["wlc", "sed"]), st.lists(st.integers(1, 8), min_size=2, max_size=6))
def test_wlc_sed_shares_follow_weights(name: str, weights: list[int]) -> None:
    total = 50 * sum(weights)
    counts = run_bound(name, weights, total)
    for c, w in zip(counts, weights, strict=True):
        # Each pick goes to the least-loaded dest per weight, so no dest ends more than
        # one connection away from its exact share.
        assert abs(c - total * w / sum(weights)) <= 1.0 + 1e-9, (counts, weights)
