"""A backend's queues as the checks move them (pendconn_redistribute, pendconn_grab_from_px)."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from pylvs.dataplane.haproxy.backend import BackendRuntime
from pylvs.dataplane.haproxy.check_queues import BackendQueues
from pylvs.model.proxy_spec import BackendSpec
from tests.unit.dataplane.haproxy.test_backend import Waiting, servers


class Requeued:
    """A stream queued on a server, re-balanced when that server goes down."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def redispatch_queued(self) -> None:
        self.log.append("rebalanced")


def backend(redispatch: bool = True, persist: bool = False) -> BackendRuntime:
    spec = BackendSpec("b", 2, servers(("s1", 1, 1), ("s2", 1, 1)))
    spec = dataclasses.replace(spec, redispatch=redispatch, persist=persist)
    return BackendRuntime(spec, {})


def test_a_server_that_comes_up_takes_the_backend_queue_up_to_its_maxconn() -> None:
    be = backend()
    s1 = be.servers[0].lb
    log: list[tuple[str, str]] = []
    for i in range(3):
        w = Waiting(f"w{i}", float(i), log)
        w.backend = be
        be.enqueue(cast(Any, w), None)
    assert BackendQueues(be).grab(s1) == 1  # maxconn 1
    assert log == [("w0", "s1")] and len(be.queue) == 2 and be.pool.lb.queued == 2


def test_a_backup_server_takes_nothing_while_an_active_one_is_usable() -> None:
    spec = BackendSpec("b", 2, servers(("s1", 1, 0), ("s2", 1, 0)))
    spec = dataclasses.replace(
        spec, servers=(spec.servers[0], dataclasses.replace(spec.servers[1], backup=True))
    )
    be = BackendRuntime(spec, {})
    log: list[tuple[str, str]] = []
    be.enqueue(cast(Any, Waiting("w", 0.0, log)), None)
    assert BackendQueues(be).grab(be.servers[1].lb) == 0
    assert log == []


def test_a_server_going_down_sends_its_queue_back_to_the_algorithm_with_redispatch() -> None:
    for redispatch, persist, moved in ((True, False, 2), (False, False, 0), (True, True, 0)):
        be = backend(redispatch, persist)
        s1 = be.servers[0].lb
        log: list[str] = []
        for _ in range(2):
            be.enqueue(cast(Any, Requeued(log)), s1)
        assert BackendQueues(be).redistribute(s1) == moved
        assert log == ["rebalanced"] * moved
