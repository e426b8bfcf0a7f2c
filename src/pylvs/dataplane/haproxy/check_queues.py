"""A backend's queues as the health checks move them (proto/check/server.py's `Sessions`).

When a check (or the operator) changes a server's state, HAProxy 2.6 moves the streams
waiting in the queues (src/queue.c):

* `redistribute` (pendconn_redistribute), the server went down, stopping or into drain:
  with `option redispatch` and without `option persist`, the streams queued on that server
  leave its queue and are balanced again (they were queued there by a stick entry, the
  algorithm or a cookie: the dispatcher now chooses); otherwise they wait for it.
* `grab` (pendconn_grab_from_px), the server came up: it takes the streams waiting in the
  backend's queue, oldest first, up to its dynamic maxconn, unless it is a backup server
  while an active one is usable or another backup is the one in use.
* `dequeue` (process_srv_queue), its maxconn or weight changed: it may take more of its
  queues.

Each count is what the state line reports ("... 2 requeued, 0 remaining in queue.").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.sched.haproxy import Server

if TYPE_CHECKING:
    from .backend import BackendRuntime


class BackendQueues:
    """`Sessions` over one run-time backend (see the module doc)."""

    __slots__ = ("be",)

    def __init__(self, be: BackendRuntime) -> None:
        self.be = be

    def redistribute(self, server: Server) -> int:
        be = self.be
        if not be.spec.redispatch or be.spec.persist:
            return 0
        srv = be.runtime_of(server)
        moved = list(srv.queue)
        for session in moved:
            session.redispatch_queued()
        return len(moved)

    def grab(self, server: Server) -> int:
        be = self.be
        lb = be.pool.lb
        if not server.currently_usable():
            return 0
        if server.backup and (lb.srv_act or (server is not lb.fbck and not lb.params.allbackups)):
            return 0
        srv = be.runtime_of(server)
        now = be.clock()
        xferred = 0
        while be.queue and not srv.full(be.pool, now):
            session = be.queue.popleft()
            lb.queued -= 1
            session.dequeued(server)
            xferred += 1
        return xferred

    def dequeue(self, server: Server) -> None:
        self.be.process_queue(self.be.runtime_of(server))
