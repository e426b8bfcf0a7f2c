"""`balance leastconn`: HAProxy 2.6's fast weighted least connections, as src/lb_fwlc.c does it.

Usable servers sit in one tree per group keyed by their load: `(inflight + 1) * 4096 /
eweight` with `inflight = served + queued`, or 0 when idle (integer division, HAProxy 2.6's
formula).  A pick takes the first server in key order that is not saturated (`served + queued <
maxconn + maxqueue` when it has a maxconn), preferring any other to the server to avoid.  A
server is repositioned whenever it takes or drops a connection, and a repositioned server goes
after the servers with the same key.  So with short connections every server is idle and the
picks rotate s1 s2 s3 whatever the weights; with held connections weights 1:2:3 give
s1 s2 s3 s3 s2 s3 s3 s2 s3 s1 ...
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.sched.base import Flow
from pylvs.sched.haproxy.algorithm import Algorithm, first_fit, tree_node
from pylvs.sched.haproxy.server import SRV_EWGHT_MAX, Server
from pylvs.sched.haproxy.tree import EbTree, unlink
from pylvs.sched.registry import register


def _key(s: Server, eweight: int) -> int:
    inflight = s.served + s.queued
    return (inflight + 1) * SRV_EWGHT_MAX // eweight if inflight else 0


@register
class LeastConn(Algorithm):
    name = "leastconn"

    act: EbTree
    bck: EbTree

    def rebuild(self, servers: Sequence[Server]) -> None:
        """fwlc_init_server_tree."""
        self.act, self.bck = EbTree(), EbTree()
        for s in self.lb.servers:
            unlink(s.lb_node)
            s.lb_tree = None
            if s.currently_usable():
                s.lb_tree = self.bck if s.backup else self.act
                s.lb_tree.insert(tree_node(s), _key(s, s.next_eweight))

    def server_up(self, servers: Sequence[Server], server: Server) -> None:
        server.lb_tree = self.bck if server.backup else self.act
        server.lb_tree.insert(tree_node(server), _key(server, server.next_eweight))

    def server_down(self, servers: Sequence[Server], server: Server) -> None:
        unlink(server.lb_node)
        server.lb_tree = None

    def weight_changed(self, servers: Sequence[Server], server: Server) -> None:
        unlink(server.lb_node)
        server.lb_tree = self.bck if server.backup else self.act
        server.lb_tree.insert(tree_node(server), _key(server, server.next_eweight))

    def _reposition(self, s: Server) -> None:
        """fwlc_srv_reposition: a server's key follows its load (same key: it stays put)."""
        if s.lb_tree is None:
            return
        node = tree_node(s)
        key = _key(s, s.cur_eweight or 1)
        if node.tree is not None and node.key == key:
            return
        unlink(node)
        s.lb_tree.insert(node, key)

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
        """fwlc_get_next_server: saturated means served + queued reached maxconn + maxqueue."""
        lb = self.lb
        tree = self.group(self.act, self.bck)
        if not isinstance(tree, EbTree):
            return tree

        def fits(s: Server) -> bool:
            return not s.maxconn or s.served + s.queued < lb.dynamic_maxconn(s, now) + s.maxqueue

        return first_fit(tree, fits, avoid)
