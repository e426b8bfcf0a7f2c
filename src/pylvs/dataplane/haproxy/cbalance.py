"""A backend pool's picks in C: the pump's `Balancer` (dataplane/proxy/_balance.h) over a
mirror of the pool's roundrobin (src/lb_fwrr.c) or static-rr (src/lb_map.c) state.

The pool (pylvs.sched.haproxy) stays the one implementation of HAProxy's rules: every state
change (checks, `set server`, `set weight`, drain, maintenance, slowstart, servers added or
removed) runs there.  The mirror only repeats the pick.  So the protocol is:

* `pull()` before Python touches the pool (a pick of its own, a state change, a read of the
  positions): what the C picks moved comes back into the servers and trees;
* `push()` after every change: the pool's state goes to C again;
* `pick()`: a server from C, or None when C cannot decide without the live counts (no active
  server, a candidate with `maxconn`): nothing moved, the caller pulls and asks the pool.

Picks made in C and in Python in any interleaving give the order the pool alone gives
(tests/unit/dataplane/haproxy/test_cbalance.py, against the real haproxy's recordings too).

`MirroredPool` is a Pool that keeps that protocol itself: its `assign` asks C first, and
every method that changes the pool's balancing state (all of them funnel through
`_propagate`, plus `add_server` / `remove_server`) pulls before and pushes after.  The
runtime (backend.py) makes one for a roundrobin or static-rr backend without `maxconn`
servers when the C pump runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pylvs.sched.base import Flow
from pylvs.sched.haproxy import Pool, Server
from pylvs.sched.haproxy.algorithm import tree_node
from pylvs.sched.haproxy.fwrr import RoundRobin
from pylvs.sched.haproxy.lbmap import StaticRoundRobin
from pylvs.sched.haproxy.params import LbParams
from pylvs.sched.haproxy.pool import Verdict
from pylvs.sched.haproxy.tree import EbTree, unlink

if TYPE_CHECKING:
    from pylvs.dataplane.proxy._pump import Balancer

try:
    from pylvs.dataplane.proxy import _pump
except ImportError:  # built without the C extension
    _pump = None  # type: ignore[assignment]

KINDS = ("roundrobin", "static-rr")


def available() -> bool:
    return _pump is not None


def fits(pool: Pool) -> bool:
    """Whether the pool's algorithm has a C pick."""
    return isinstance(pool.algorithm, RoundRobin | StaticRoundRobin)


def worth_it(params: LbParams, servers: Sequence[Server]) -> bool:
    """A backend whose picks C can make: roundrobin or static-rr, no server with `maxconn`
    (whose room depends on live counts: C would hand every pick of it back)."""
    return available() and params.algorithm in KINDS and not any(s.maxconn for s in servers)


class CBalance:
    """One pool's C mirror (see the module doc)."""

    __slots__ = ("c", "index", "pool")

    def __init__(self, pool: Pool) -> None:
        assert _pump is not None and fits(pool)
        self.pool = pool
        self.c: Balancer = _pump.Balancer()
        self.index: dict[int, int] = {}
        self.push()

    def pick(self) -> Server | None:
        i = self.c.pick()
        return self.pool.lb.servers[i] if i >= 0 else None

    # -- state both ways -----------------------------------------------------------------

    def push(self) -> None:
        """The pool's state to C (after a change in Python)."""
        pool = self.pool
        servers = pool.lb.servers
        self.index = {id(s): i for i, s in enumerate(servers)}
        rows = [
            (
                s.cur_eweight,
                s.next_eweight,
                s.npos,
                s.lpos,
                s.rweight,
                s.maxconn,
                int(s.willbe_usable()),
            )
            for s in servers
        ]
        algo = pool.algorithm
        assert _pump is not None
        if isinstance(algo, RoundRobin):
            g = algo.act
            self.c.load(
                _pump.ROUNDROBIN,
                rows,
                (
                    pool.lb.srv_act,
                    g.curr_pos,
                    g.curr_weight,
                    g.next_weight,
                    self._tree(g.curr),
                    self._tree(g.init),
                    self._tree(g.next),
                ),
            )
        else:
            assert isinstance(algo, StaticRoundRobin)
            m = algo.map
            slots = [self.index[id(s)] if s is not None else -1 for s in m.slots]
            self.c.load(_pump.STATIC_RR, rows, (pool.lb.tot_weight, m.rr_idx, slots))

    def _tree(self, tree: EbTree) -> list[tuple[int, int]]:
        index = self.index
        return [(node.key, index[id(node.item)]) for node in tree]

    def pull(self) -> None:
        """What the C picks moved, back into the pool (before Python touches it)."""
        if not self.c.picks:
            return
        state = self.c.dump()
        algo = self.pool.algorithm
        if isinstance(algo, StaticRoundRobin):
            algo.map.rr_idx = state[0]
            return
        assert isinstance(algo, RoundRobin) and len(state) == 6
        curr_pos, curr_weight, curr, init, nxt, positions = state
        servers = self.pool.lb.servers
        for s, (npos, lpos, rweight) in zip(servers, positions, strict=True):
            s.npos, s.lpos, s.rweight = npos, lpos, rweight
        g = algo.act
        g.curr_pos, g.curr_weight = curr_pos, curr_weight
        for s in servers:
            if not s.backup:
                unlink(s.lb_node)
                s.lb_tree = None
        for tree, entries in ((g.curr, curr), (g.init, init), (g.next, nxt)):
            for key, i in entries:  # in tree order: each goes after its equals
                s = servers[i]
                tree.insert(tree_node(s), key)
                s.lb_tree = tree


class MirroredPool(Pool):
    """A Pool whose picks are made in C when they can be (see the module doc)."""

    mirror: CBalance

    def __init__(
        self,
        servers: Sequence[Server],
        params: LbParams | None = None,
        rng: random.Random | None = None,
        *,
        now: float = 0.0,
    ) -> None:
        super().__init__(servers, params, rng, now=now)
        self.mirror = CBalance(self)
        # Told by `resync` (a server joined or left, its address or maxconn changed: the
        # runtime calls it once its own lists are updated): plain.py's listeners.
        self.members_changed: list[Callable[[], None]] = []

    def assign(self, flow: Flow, now: float, avoid: Server | None = None) -> Server | Verdict:
        lb = self.lb
        if avoid is None and not (lb.queued and lb.queued != lb.beconn):
            got = self.mirror.pick()
            if got is not None:
                return got
        self.mirror.pull()
        res = super().assign(flow, now, avoid)
        self.mirror.push()
        return res

    def resync(self) -> None:
        """A server's `maxconn` or address changed outside the pool's methods: the C side
        learns it (the mirror, the plain listeners' addresses)."""
        self.mirror.pull()
        self.mirror.push()
        for hook in list(self.members_changed):
            hook()

    def _propagate(self, server: Server, now: float) -> None:
        self.mirror.pull()
        super()._propagate(server, now)
        self.mirror.push()

    def add_server(self, server: Server, now: float) -> None:
        self.mirror.pull()
        try:
            super().add_server(server, now)
        finally:
            self.mirror.push()

    def remove_server(self, server: Server) -> None:
        self.mirror.pull()
        try:
            super().remove_server(server)
        finally:
            self.mirror.push()
