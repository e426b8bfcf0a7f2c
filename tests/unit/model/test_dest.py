"""Destination counters and the overload flag (ip_vs_conn.c ip_vs_bind_dest / ip_vs_unbind_dest)."""

import ipaddress

import pytest

from pylvs.model import Destination, RealServer

ADDR = ipaddress.ip_address("10.0.0.1")


def dest(u: int = 0, l: int = 0, w: int = 1) -> Destination:  # noqa: E741
    return Destination(RealServer(ADDR, 80, weight=w, u_threshold=u, l_threshold=l))


def test_overhead_is_active_times_256_plus_inactive() -> None:
    d = dest()
    d.bind(active=True)
    d.bind(active=True)
    d.bind()
    assert (d.activeconns, d.inactconns) == (2, 1)
    assert d.overhead() == 2 * 256 + 1


def test_overload_set_when_total_reaches_u_threshold_at_bind() -> None:
    d = dest(u=3)
    d.bind()
    d.bind(active=True)
    assert not d.overloaded
    d.bind()  # the connection that reaches the threshold is accepted, then the flag is set
    assert d.overloaded


def test_templates_do_not_count_towards_threshold() -> None:
    d = dest(u=2)
    d.bind(template=True)
    d.bind(template=True)
    d.bind()
    assert d.persistconns == 2
    assert not d.overloaded


def test_overload_cleared_below_l_threshold_only() -> None:
    d = dest(u=4, l=2)
    for _ in range(4):
        d.bind()
    assert d.overloaded
    d.unbind()  # 3 left: not below l=2
    d.unbind()  # 2 left: still not < 2
    assert d.overloaded
    d.unbind()  # 1 < 2
    assert not d.overloaded


def test_overload_cleared_below_three_quarters_of_u_without_l() -> None:
    d = dest(u=8)
    for _ in range(8):
        d.bind()
    assert d.overloaded
    d.unbind()
    d.unbind()  # total 6: 6*4 = 24 is not < 8*3 = 24
    assert d.overloaded
    d.unbind()  # total 5: 20 < 24
    assert not d.overloaded


def test_edit_clears_overload_only_when_u_threshold_removed_or_raised() -> None:
    d = dest(u=2)
    d.bind()
    d.bind()
    assert d.overloaded
    d.update(RealServer(ADDR, 80, u_threshold=1))
    assert d.overloaded  # lowered: flag stays
    d.update(RealServer(ADDR, 80, u_threshold=5))
    assert not d.overloaded


def test_last_weight_keeps_latest_non_zero_weight() -> None:
    d = dest(w=5)
    d.update(RealServer(ADDR, 80, weight=0))
    assert (d.weight, d.last_weight) == (0, 5)
    d.update(RealServer(ADDR, 80, weight=7))
    assert (d.weight, d.last_weight) == (7, 7)


def test_tcp_state_change_moves_between_counters() -> None:
    d = dest()
    d.bind()
    d.set_active(True)
    assert (d.activeconns, d.inactconns) == (1, 0)
    d.set_active(False)
    assert (d.activeconns, d.inactconns) == (0, 1)


@pytest.mark.parametrize(
    ("u", "l", "counts", "flags"),
    [
        # u 4, l 2: set at 4 in total (templates do not count), kept at 3 and 2, cleared at 1.
        (4, 2, [(3, 0, 5), (2, 2, 0), (3, 0, 0), (2, 0, 0), (1, 0, 0)],
         [False, True, True, True, False]),
        # u 8 without l: cleared below 3/4 of it (6), not at 6.
        (8, 0, [(8, 0, 0), (6, 0, 0), (5, 0, 0), (7, 0, 0)], [True, True, False, False]),
        # no thresholds: never overloaded.
        (0, 0, [(1000, 1000, 0)], [False]),
    ],
)  # fmt: skip
def test_recount_follows_the_bind_and_unbind_rules(
    u: int,
    l: int,  # noqa: E741
    counts: list[tuple[int, int, int]],
    flags: list[bool],
) -> None:
    d = dest(u=u, l=l)
    got = []
    for active, inactive, persistent in counts:
        d.recount(active, inactive, persistent)
        got.append(d.overloaded)
    assert got == flags
    assert (d.activeconns, d.inactconns, d.persistconns) == counts[-1]
