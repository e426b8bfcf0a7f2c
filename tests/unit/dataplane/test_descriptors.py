"""The proxy's descriptor cap (pylvs.dataplane.proxy.descriptors) and the daemon's reserve
(pylvs.dataplane.descriptors), with the limit and the open count given as numbers."""

from __future__ import annotations

import logging

import pytest

from pylvs.dataplane.descriptors import CONTROL_CLIENTS, PROCESS_RESERVE, reserve_for
from pylvs.dataplane.proxy.descriptors import RESUME_GAP, Descriptors


class Box:
    """A process with a limit and some descriptors open besides the proxy's."""

    def __init__(self, limit: int, others: int) -> None:
        self.limit = limit
        self.others = others
        self.fds = Descriptors(limit=lambda: self.limit, count=lambda: self.others + self.fds.own)


def full(box: Box) -> bool:
    """box.fds.full, read afresh: mypy keeps it narrowed by an earlier assert across the
    calls that change it."""
    return box.fds.full


def test_the_reserve_grows_with_checkers_vrrp_and_control_clients() -> None:
    base = reserve_for(0, 0)
    assert base == PROCESS_RESERVE + CONTROL_CLIENTS
    assert reserve_for(10, 0) > reserve_for(1, 0) > base
    assert reserve_for(0, 3) > base
    assert reserve_for(-1, -1) == base


def test_the_cap_leaves_the_reserve_beside_what_is_open(caplog: pytest.LogCaptureFixture) -> None:
    box = Box(limit=1024, others=40)
    box.fds.keep_free(100)
    assert box.fds.cap == 1024 - 40 - 100
    taken = 0
    with caplog.at_level(logging.WARNING, logger="pylvs.proxy"):
        while box.fds.take(2):
            taken += 2
        assert taken == 884 and box.fds.full
        assert not box.fds.take(2) and not box.fds.take(1)
    assert box.fds.reached == 1  # one episode, however many refusals (metrics)
    assert [r.getMessage() for r in caplog.records if "limit reached" in r.getMessage()] == [
        "proxy: descriptor limit reached: 884 in use by connections, limit 1024, 100 kept "
        "free for checks, control and VRRP; new connections wait in the listen backlog"
    ]


def test_listeners_wait_and_resume_once_relays_end(caplog: pytest.LogCaptureFixture) -> None:
    box = Box(limit=200, others=20)
    box.fds.keep_free(80)
    resumed: list[str] = []
    while box.fds.take(2):
        pass
    box.fds.wait(lambda: resumed.append("a"))
    box.fds.wait(lambda: resumed.append("b"))
    with caplog.at_level(logging.WARNING, logger="pylvs.proxy"):
        box.fds.give(2)  # not yet: a woken listener would hit the cap at once
        assert resumed == [] and box.fds.full
        box.fds.give(RESUME_GAP)
    assert resumed == ["a", "b"] and not full(box)
    assert sum("available again" in r.getMessage() for r in caplog.records) == 1
    box.fds.give(2)
    assert resumed == ["a", "b"]  # once per episode
    while box.fds.take(2):
        pass
    assert box.fds.reached == 2


def test_descriptors_the_rest_of_the_daemon_closed_are_found_when_the_cap_is_hit() -> None:
    box = Box(limit=300, others=150)
    box.fds.keep_free(50)
    while box.fds.take(2):
        pass
    assert box.fds.own == 100
    box.others = 50  # checks finished, a reload closed listeners
    assert box.fds.take(2)


def test_a_waiting_listener_resumes_when_housekeeping_finds_room() -> None:
    box = Box(limit=300, others=150)
    box.fds.keep_free(50)
    while box.fds.take(2):
        pass
    resumed: list[int] = []
    box.fds.wait(lambda: resumed.append(1))
    box.fds.tick()
    assert resumed == []
    box.others = 100
    box.fds.tick()
    assert resumed == [1]


def test_a_limit_too_low_for_the_reserve_halves_it_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    box = Box(limit=64, others=24)
    with caplog.at_level(logging.WARNING, logger="pylvs.proxy"):
        box.fds.keep_free(100)
    assert box.fds.cap == 20  # 40 free: 20 kept, 20 for connections
    assert any("too low" in r.getMessage() for r in caplog.records)
