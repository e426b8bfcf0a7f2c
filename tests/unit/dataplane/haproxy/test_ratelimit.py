"""The accept rate limits (dataplane/haproxy/ratelimit.py): listener_accept's order and the
freq_ctr arithmetic behind each limit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from pylvs.dataplane.haproxy.ratelimit import UNLIMITED, AcceptRates
from pylvs.dataplane.haproxy.rules import Rate
from pylvs.model.proxy_spec import ProxiesSpec


def _fe(limit: int = 0) -> Any:
    return cast(Any, SimpleNamespace(spec=SimpleNamespace(rate_limit=limit), sess_rate=Rate(),
                                     total=0))  # fmt: skip


def test_no_limit_no_bound() -> None:
    rates = AcceptRates(ProxiesSpec(), Rate())
    fe = _fe()
    assert not rates.limited(fe)
    assert rates.room(fe, True, 0.0) == (UNLIMITED, 0.0)


def test_the_smallest_limit_bounds_and_the_first_reached_sets_the_wait() -> None:
    ssl = Rate()
    rates = AcceptRates(ProxiesSpec(maxconnrate=10, maxsessrate=8, maxsslrate=3), ssl)
    fe = _fe(limit=6)
    assert rates.limited(fe)
    assert rates.room(fe, False, 0.0) == (6, 0.0)  # the frontend's 6 under the process's 8
    assert rates.room(fe, True, 0.0) == (3, 0.0)  # a TLS bind: maxsslrate too
    for _ in range(3):
        ssl.count(0.0)
    allowed, wait = rates.room(fe, True, 0.0)
    assert allowed == 0 and wait == 0.001  # next_event_delay's minimum, 1 ms
    assert rates.room(fe, False, 0.0) == (6, 0.0)  # a plain bind does not count TLS sessions
    for _ in range(6):
        rates.session(fe, 0.0)  # the frontend's and the process's session counters
    assert (fe.total, rates.sessions.total) == (6, 6)
    assert rates.room(fe, False, 0.0)[0] == 0
    assert rates.frontend_room(fe, 0.0) == 0 and rates.process_room(0.0) == 2
    assert rates.room(_fe(), False, 0.0) == (2, 0.0)  # another frontend: the process's 8 - 6
    assert rates.room(fe, False, 1.002) == (1, 0.0)  # the period turned: one at a time
