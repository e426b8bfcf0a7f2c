"""The backend at run time without sockets: queues, slots, timeouts, stickiness, check hook."""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from pylvs.dataplane.haproxy.backend import ETERNITY, BackendRuntime
from pylvs.model.proxy_spec import (
    BackendSpec,
    ConnFacts,
    ServerSpec,
)

ip = ipaddress.ip_address


class Waiting:
    """A stand-in for a queued HaSession: what the backend reads and calls."""

    backend: BackendRuntime | None = None

    def __init__(self, name: str, at: float, log: list[tuple[str, str]]) -> None:
        self.name, self.queued_at, self.log = name, at, log

    def dequeued(self, server: Any) -> None:
        self.log.append((self.name, server.name))
        if self.backend is not None:
            self.backend.take(server)  # what HaSession._go does with its slot


class Src:
    def fetch(self, facts: ConnFacts) -> Any:
        return facts.src


def servers(*specs: tuple[str, int, int]) -> tuple[ServerSpec, ...]:
    return tuple(
        ServerSpec(name=n, id=i + 1, host="127.0.0.1", address=ip("127.0.0.1"), port=80 + i,
                   weight=w, maxconn=m)
        for i, (n, w, m) in enumerate(specs)
    )  # fmt: skip


def facts(src: str = "10.0.0.1") -> ConnFacts:
    return ConnFacts(ip(src), 1000, ip("10.0.0.100"), 80)


def test_a_freed_slot_goes_to_the_oldest_waiting_stream() -> None:
    be = BackendRuntime(BackendSpec("b", 2, servers(("s1", 1, 1), ("s2", 1, 1))), {})
    log: list[tuple[str, str]] = []
    s1, s2 = (s.lb for s in be.servers)
    be.take(s1)
    be.take(s2)
    assert be.assign(facts(), 0.0, None) is True  # every server is full: the backend queue
    late = Waiting("late", 2.0, log)
    early = Waiting("early", 1.0, log)
    late.backend = early.backend = be
    assert be.enqueue(cast(Any, early), None) and be.enqueue(cast(Any, late), s2)
    assert be.pool.lb.queued == 2 and s2.queued == 1
    be.release(s2)  # the backend's (older) stream gets s2's slot, not s2's own queue
    assert log == [("early", "s2")] and s2.queued == 1
    be.release(s2)
    assert log == [("early", "s2"), ("late", "s2")] and be.pool.lb.queued == 0


def test_maxqueue_refuses_a_full_server_queue_and_unqueue_forgets() -> None:
    spec = BackendSpec("b", 2, (servers(("s1", 1, 1))[0].__class__(
        name="s1", id=1, host="127.0.0.1", address=ip("127.0.0.1"), port=80, maxconn=1,
        maxqueue=1),))  # fmt: skip
    be = BackendRuntime(spec, {})
    s1 = be.servers[0].lb
    log: list[tuple[str, str]] = []
    one, two = Waiting("one", 1.0, log), Waiting("two", 2.0, log)
    assert be.enqueue(cast(Any, one), s1)
    assert not be.enqueue(cast(Any, two), s1)
    be.unqueue(cast(Any, one), s1)
    assert s1.queued == 0 and be.pool.lb.queued == 0


def test_a_server_coming_up_takes_the_backend_queue() -> None:
    be = BackendRuntime(BackendSpec("b", 2, servers(("s1", 1, 0))), {})
    log: list[tuple[str, str]] = []
    assert be.mark("s1", False, 0.0)
    assert be.assign(facts(), 0.0, None) is None  # nothing usable
    assert be.enqueue(cast(Any, Waiting("w", 1.0, log)), None)
    assert be.mark("s1", True, 1.0) and log == [("w", "s1")]
    assert not be.mark("nope", True, 1.0)


def test_idle_timeouts() -> None:
    be = BackendRuntime(BackendSpec("b", 2, server_ms=30000, server_fin_ms=1000), {})
    assert be.idle(10.0, None) == (10.0, 1.0)  # server-fin, the smaller, once half-closed
    assert be.idle(60.0, 5.0) == (30.0, 1.0)
    assert BackendRuntime(BackendSpec("b", 2), {}).idle(None, None) == (ETERNITY, ETERNITY)
    tunnel = BackendRuntime(BackendSpec("b", 2, server_ms=1000, tunnel_ms=3600000), {})
    assert tunnel.idle(1.0, None) == (3600.0, 3600.0)


def test_fullconn_defaults_to_a_tenth_of_the_frontends() -> None:
    be = BackendRuntime(BackendSpec("b", 2), {})
    be.set_fullconn(2000)
    assert be.pool.lb.fullconn == 200
    be.set_fullconn(0)
    assert be.pool.lb.fullconn == 1
    fixed = BackendRuntime(BackendSpec("b", 2, fullconn=7), {})
    fixed.set_fullconn(2000)
    assert fixed.pool.lb.fullconn == 7


def test_streams_served_at_once_count_as_one_by_one() -> None:
    """served_many (the pump's tallies): what enter, take, release and leave count for each
    of n streams on a server, at once; nothing stays taken."""
    one, many = (
        BackendRuntime(BackendSpec("b", 2, servers(("s1", 1, 0), ("s2", 1, 0))), {})
        for _ in range(2)
    )
    for _ in range(5):
        one.enter()
        one.take(one.servers[0].lb)
        one.release(one.servers[0].lb)
        one.leave()
    many.served_many(many.servers[0].lb, 5)
    for be in (one, many):
        s1 = be.servers[0]
        assert (be.counters.conns, s1.counters.conns, s1.max_sess) == (5, 5, 1)
        assert (be.sess_rate.total, s1.sess_rate.total, s1.sess_rate.peak) == (5, 5, 5)
        assert (s1.lb.served, be.pool.lb.served, be.pool.lb.beconn) == (0, 0, 0)
        assert be.servers[1].counters.conns == 0
