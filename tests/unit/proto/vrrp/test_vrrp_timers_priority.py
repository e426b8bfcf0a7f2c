"""Timer formulas (reference §4.4 table) and tracker priority arithmetic (§4.13)."""

from __future__ import annotations

import pytest

from pylvs.proto.vrrp.priority import Tracker, TrackerKind, clamp_priority, contribution, evaluate
from pylvs.proto.vrrp.timers import master_down_interval, skew, skew_min

S = 1_000_000


@pytest.mark.parametrize(
    ("advert", "version", "prio", "skew_us", "down_us"),
    [
        (S, 2, 100, 609_375, 3_609_375),
        (S, 3, 100, 609_375, 3_609_375),
        (S, 2, 150, 414_062, 3_414_062),
        (S, 3, 254, 7_812, 3_007_812),
        (S, 2, 255, 3_906, 3_003_906),
        (3 * S, 2, 100, 609_375, 9_609_375),
        (3 * S, 3, 100, 1_828_125, 10_828_125),
        (100_000, 3, 100, 60_937, 360_937),
    ],
)
def test_reference_timer_table(
    advert: int, version: int, prio: int, skew_us: int, down_us: int
) -> None:
    assert skew(version, advert, prio, prio) == skew_us
    assert master_down_interval(version, 3, advert, prio, prio) == down_us


def test_owner_skew_uses_255_even_when_reduced() -> None:
    assert skew(2, S, 255, 254) == 3_906
    assert skew_min(2, S) == 3_906 and skew_min(3, 2 * S) == 7_812


def sc(weight: int, reverse: bool = False) -> Tracker:
    return Tracker(TrackerKind.SCRIPT, "s", weight, reverse)


@pytest.mark.parametrize(
    ("weight", "reverse", "up", "delta", "fault"),
    [
        (10, False, True, 10, False),
        (10, False, False, 0, False),
        (-10, False, True, 0, False),
        (-10, False, False, -10, False),
        (10, True, True, -10, False),
        (10, True, False, 0, False),
        (-10, True, True, 0, False),
        (-10, True, False, 10, False),
        (0, False, True, 0, False),
        (0, False, False, 0, True),
        (0, True, True, 0, True),
        (0, True, False, 0, False),
    ],
)
def test_weight_reverse_truth_table(
    weight: int, reverse: bool, up: bool, delta: int, fault: bool
) -> None:
    c = contribution(sc(weight, reverse), up)
    assert (c.delta, c.fault) == (delta, fault)


def test_effective_priority_is_clamped_to_1_254() -> None:
    trackers = (Tracker(TrackerKind.SCRIPT, "a", 200), Tracker(TrackerKind.INTERFACE, "eth1", -253))
    key_a, key_i = trackers[0].key, trackers[1].key
    assert evaluate(100, trackers, {key_a: True, key_i: True}).effective_priority == 254
    low = evaluate(100, trackers, {key_a: False, key_i: False})
    assert (low.total_priority, low.effective_priority) == (-153, 1)
    assert clamp_priority(100, 300) == 254 and clamp_priority(100, -5) == 1


def test_owner_is_immune_to_weights() -> None:
    t = (sc(-50),)
    ev = evaluate(255, t, {t[0].key: False})
    assert ev.effective_priority == 255


def test_scripts_without_result_contribute_nothing_and_hold_weight_zero_instances() -> None:
    t = (sc(-50), Tracker(TrackerKind.SCRIPT, "z", 0))
    ev = evaluate(100, t, {})
    assert ev.effective_priority == 100 and ev.pending == ((TrackerKind.SCRIPT, "z"),)


@pytest.mark.parametrize(
    ("weight", "reverse", "value", "delta", "fault"),
    [
        (1, False, 30, 30, False),
        (2, False, 200, 253, False),  # clamped to 253
        (1, False, -253, -253, False),
        (1, False, -254, 0, True),  # -254 is FAULT
        (-3, False, 100, 0, True),  # -300 -> -254
        (0, False, 0, 0, False),
        (0, False, 5, 0, True),  # weight 0: non-zero is a fault
        (0, True, 0, 0, True),  # reversed: zero is the fault
        (5, True, 4, -20, False),
    ],
)
def test_track_file_values(weight: int, reverse: bool, value: int, delta: int, fault: bool) -> None:
    c = contribution(Tracker(TrackerKind.FILE, "f", weight, reverse), value)
    assert (c.delta, c.fault) == (delta, fault)
