"""`balance first`: HAProxy's first available server, as src/lb_fas.c does it.

Usable servers sit in one tree per group keyed by their id (`puid`: `id` or the one the
config gave them in order), so the pick is the lowest id whose `maxconn` is not reached and
whose queue is empty; weights are ignored.  A server with no maxconn takes everything.  When
every server is full the pick gives nothing and the connection waits in the backend queue.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.sched.base import Flow
from pylvs.sched.haproxy.algorithm import Algorithm, first_fit, tree_node
from pylvs.sched.haproxy.server import Server
from pylvs.sched.haproxy.tree import EbTree, unlink
from pylvs.sched.registry import register


@register
class First(Algorithm):
    name = "first"

    act: EbTree
    bck: EbTree

    def rebuild(self, servers: Sequence[Server]) -> None:
        """fas_init_server_tree."""
        self.act, self.bck = EbTree(), EbTree()
        for s in self.lb.servers:
            unlink(s.lb_node)
            s.lb_tree = None
            if s.currently_usable():
                self._queue(s)

    def _queue(self, s: Server) -> None:
        s.lb_tree = self.bck if s.backup else self.act
        s.lb_tree.insert(tree_node(s), s.puid)

    def server_up(self, servers: Sequence[Server], server: Server) -> None:
        self._queue(server)

    def server_down(self, servers: Sequence[Server], server: Server) -> None:
        unlink(server.lb_node)
        server.lb_tree = None

    def weight_changed(self, servers: Sequence[Server], server: Server) -> None:
        unlink(server.lb_node)
        self._queue(server)

    def _reposition(self, s: Server) -> None:
        """fas_srv_reposition: dequeued and queued again at its id."""
        if s.lb_tree is not None:
            unlink(s.lb_node)
            self._queue(s)

    def conn_taken(self, server: Server) -> None:
        self._reposition(server)

    def conn_dropped(self, server: Server) -> None:
        self._reposition(server)

    def pick(
        self,
        servers: Sequence[Server],
        flow: Flow,
        now: float,
        avoid: Server | None = None,
    ) -> Server | None:
        """fas_get_next_server."""
        tree = self.group(self.act, self.bck)
        if not isinstance(tree, EbTree):
            return tree
        return first_fit(tree, lambda s: self.lb.has_room(s, now), avoid)
