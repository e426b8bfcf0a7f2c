"""Consistent hashing and `balance random`: HAProxy's ring, as src/lb_chash.c does it.

Each server owns `uweight * 16` points, of which its current effective weight's worth are on
the ring of its group; point `j` of the server with id `puid` sits at `full_hash(puid * 4096 +
j)`, so every HAProxy (and pylvs) with the same ids builds the same ring.  A weight change adds
or removes the server's last points; down removes them all.

* A hash lookup (chash_get_server_hash) finds the first point at or after the hash and the one
  before it (wrapping) and takes the closer (the earlier on a tie), then walks on past the
  server to avoid and, with `hash-balance-factor`, past servers over their bounded load
  (chash_server_is_eligible: `ceil((served + 1) * factor / 100)` slots shared by weight).
* Without a key (a hash algorithm whose key is missing), the ring is walked round-robin from
  the last point used, skipping saturated servers (chash_get_next_server).
* `random` draws `draws` random points and keeps the least loaded of the servers found
  (served / eweight), or none if that one is saturated (backend.c get_server_rnd).
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.sched.base import Flow
from pylvs.sched.haproxy.algorithm import Algorithm, group
from pylvs.sched.haproxy.hashes import full_hash
from pylvs.sched.haproxy.lbprm import BE_WEIGHT_SCALE, Lbprm
from pylvs.sched.haproxy.server import SRV_EWGHT_RANGE, Server
from pylvs.sched.haproxy.tree import M32, EbTree, Node
from pylvs.sched.registry import register


class Ring:
    """struct lb_chash: one tree of points per group and the last point used."""

    __slots__ = ("act", "bck", "last")

    def __init__(self) -> None:
        self.act = EbTree()
        self.bck = EbTree()
        self.last: Node | None = None

    def build(self, lb: Lbprm) -> None:
        """chash_init_server_tree."""
        self.act, self.bck, self.last = EbTree(), EbTree(), None
        for s in lb.servers:
            s.lb_tree = self.bck if s.backup else self.act
            s.lb_nodes = [
                Node(s, full_hash(s.puid * SRV_EWGHT_RANGE + j) & M32)
                for j in range(s.uweight * BE_WEIGHT_SCALE)
            ]
            s.lb_nodes_now = 0
            if s.currently_usable():
                self.queue(s)

    def _forget(self, nodes: list[Node]) -> None:
        """Remove `nodes` from the ring, moving `last` off them as chash_dequeue_srv does:
        to the next point (wrapping) that stays, or to nothing."""
        last = self.last
        if last is not None and any(n is last for n in nodes):
            tree = last.tree
            assert tree is not None
            gone = {id(n) for n in nodes}
            keep = [n for n in tree if id(n) not in gone]
            self.last = None
            if keep:
                after = [n for n in keep if n.key > last.key]
                self.last = after[0] if after else keep[0]
        for tree in (self.act, self.bck):
            tree.delete_many(nodes)

    def queue(self, s: Server) -> None:
        """chash_queue_dequeue_srv: exactly `next_eweight` of the server's points in."""
        want = s.next_eweight
        if s.lb_nodes_now > want:
            self._forget(s.lb_nodes[want : s.lb_nodes_now])
            s.lb_nodes_now = want
        if len(s.lb_nodes) < want:
            self.dequeue(s)
            s.lb_nodes += [
                Node(s, full_hash(s.puid * SRV_EWGHT_RANGE + j) & M32)
                for j in range(len(s.lb_nodes), want)
            ]
        if s.lb_nodes_now < want:
            tree: EbTree = s.lb_tree
            tree.insert_many(s.lb_nodes[s.lb_nodes_now : want])
            s.lb_nodes_now = want

    def dequeue(self, s: Server) -> None:
        """chash_dequeue_srv: every point of the server out."""
        if s.lb_nodes_now:
            self._forget(s.lb_nodes[: s.lb_nodes_now])
            s.lb_nodes_now = 0

    def _root(self, lb: Lbprm) -> EbTree | Server | None:
        return group(lb, self.act, self.bck)

    def get_hash(self, lb: Lbprm, h: int, avoid: Server | None) -> Server | None:
        """chash_get_server_hash."""
        root = self._root(lb)
        if not isinstance(root, EbTree):
            return root
        nxt = root.lookup_ge(h) or root.first()
        if nxt is None:
            return None
        prev = root.prev(nxt) or root.last()
        assert prev is not None
        if (h - prev.key) & M32 <= (nxt.key - h) & M32:
            nxt = prev
        server: Server = nxt.item
        loop = 0
        factor = lb.params.hash_balance_factor
        while server is avoid or (factor and not self._eligible(lb, server, factor)):
            following = root.next(nxt)
            if following is None:
                following = root.first()
                loop += 1
                if loop > 1:
                    break
            assert following is not None
            nxt = following
            server = nxt.item
        return server

    @staticmethod
    def _eligible(lb: Lbprm, s: Server, factor: int) -> bool:
        """chash_server_is_eligible: bounded loads (Mirrokni, Thorup, Zadimoghaddam)."""
        total = lb.tot_weight
        slots_total = ((lb.served + 1) * factor + 99) // 100
        per_weight, remainder = divmod(slots_total, total)
        slots = s.cur_eweight * per_weight
        slots += ((s.cumulative_weight + s.cur_eweight) * remainder) // total - (
            s.cumulative_weight * remainder
        ) // total
        return s.served < max(slots, 1)

    def get_next(self, lb: Lbprm, avoid: Server | None, now: float) -> Server | None:
        """chash_get_next_server: round robin over the points, from the last one used."""
        root = self._root(lb)
        if not isinstance(root, EbTree):
            return root
        node = stop = self.last
        avoided: Server | None = None
        avoided_node: Node | None = None
        while True:
            if node is not None:
                tree = node.tree
                assert tree is not None
                node = tree.next(node)
            if node is None:
                node = root.first()
            self.last = node
            if node is None:
                return None
            if stop is None:
                stop = node
            s: Server = node.item
            if lb.has_room(s, now):
                if s is not avoid:
                    return s
                avoided, avoided_node = s, node
            if node is stop:
                break
        if avoided is not None:
            self.last = avoided_node
        return avoided


class RingAlgorithm(Algorithm):
    """An algorithm whose lookup is the ring (the hooks keep the points right)."""

    ring: Ring

    def rebuild(self, servers: Sequence[Server]) -> None:
        self.ring = Ring()
        self.ring.build(self.lb)

    def server_added(self, servers: Sequence[Server], server: Server) -> None:
        server.lb_tree = self.ring.bck if server.backup else self.ring.act
        server.lb_nodes = []
        server.lb_nodes_now = 0

    def server_removed(self, servers: Sequence[Server], server: Server, index: int) -> None:
        self.ring.dequeue(server)

    def server_up(self, servers: Sequence[Server], server: Server) -> None:
        self.ring.queue(server)

    def server_down(self, servers: Sequence[Server], server: Server) -> None:
        self.ring.dequeue(server)

    def weight_changed(self, servers: Sequence[Server], server: Server) -> None:
        self.ring.queue(server)


@register
class Random(RingAlgorithm):
    name = "random"

    def pick(
        self,
        servers: Sequence[Server],
        flow: Flow,
        now: float,
        avoid: Server | None = None,
    ) -> Server | None:
        """get_server_rnd: the least loaded of `draws` random points' servers."""
        lb = self.lb
        if not lb.tot_weight:
            return None
        curr: Server | None = None
        for _ in range(max(1, lb.params.draws)):
            prev = curr
            curr = self.ring.get_hash(lb, self.rng.getrandbits(32), avoid)
            if curr is None:
                break
            if (
                prev is not None
                and prev is not curr
                and curr.served * prev.cur_eweight > prev.served * curr.cur_eweight
            ):
                curr = prev
        if curr is not None and (
            curr.queued or (curr.maxconn and curr.served >= lb.dynamic_maxconn(curr, now))
        ):
            return None
        return curr
