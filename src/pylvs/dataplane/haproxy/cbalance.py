"""A backend pool's picks in C: the pump's `Balancer` (dataplane/proxy/_balance.h) over a
mirror of the pool's roundrobin (src/lb_fwrr.c) or static-rr (src/lb_map.c) state, or of its
leastconn (src/lb_fwlc.c) or first (src/lb_fas.c) tree with the servers' live counts and
`maxconn` (_leastconn.h).

The pool (pylvs.sched.haproxy) stays the one implementation of HAProxy's rules: every state
change (checks, `set server`, `set weight`, drain, maintenance, slowstart, servers added or
removed) runs there.  The mirror only repeats the pick.  So the protocol is:

* `pull()` before Python touches the pool (a pick of its own, a state change, a read of the
  positions): what the C picks moved comes back into the servers and trees;
* `push()` after every change: the pool's state goes to C again;
* `pick()`: a server from C, or None when C cannot decide (no active server; for roundrobin
  and static-rr a candidate with `maxconn`; for leastconn and first a dynamic limit, a stream
  that would wait in a queue): nothing moved, the caller pulls and asks the pool.

Leastconn and first read live counts: C keeps each server's connections, its own picks
included until Python takes them (`untaken`), and its tree; the pool tells it of every take
and release (`take_conn`, `drop_conn`: a take that follows a C pick is told as one, `ahead`)
and queue change (`queue_changed`), and reads its own tree only after a `pull`.

Picks made in C and in Python in any interleaving give the order the pool alone gives
(tests/unit/dataplane/haproxy/test_cbalance.py, against the real haproxy's recordings too).

`MirroredPool` is a Pool that keeps that protocol itself: its `assign` asks C first, and
every method that changes the pool's balancing state (all of them funnel through
`_propagate`, plus `add_server` / `remove_server`) pulls before and pushes after.  The
runtime (backend.py) makes one for a roundrobin or static-rr backend without `maxconn`
servers, and for any leastconn or first backend, when the C pump runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pylvs.sched.base import Flow
from pylvs.sched.haproxy import Pool, Server
from pylvs.sched.haproxy.algorithm import tree_node
from pylvs.sched.haproxy.fas import First
from pylvs.sched.haproxy.fwlc import LeastConn
from pylvs.sched.haproxy.fwrr import RoundRobin
from pylvs.sched.haproxy.lbmap import StaticRoundRobin
from pylvs.sched.haproxy.params import LbParams
from pylvs.sched.haproxy.pool import Verdict
from pylvs.sched.haproxy.server import MAINT, State
from pylvs.sched.haproxy.tree import EbTree, unlink

if TYPE_CHECKING:
    from pylvs.dataplane.proxy._pump import Balancer

try:
    from pylvs.dataplane.proxy import _pump
except ImportError:  # built without the C extension
    _pump = None  # type: ignore[assignment]

KINDS = ("roundrobin", "static-rr")
LIVE_KINDS = ("leastconn", "first")  # picks that read the live counts (_leastconn.h)


def available() -> bool:
    return _pump is not None


def fits(pool: Pool) -> bool:
    """Whether the pool's algorithm has a C pick."""
    return isinstance(pool.algorithm, RoundRobin | StaticRoundRobin | LeastConn | First)


def worth_it(params: LbParams, servers: Sequence[Server]) -> bool:
    """A backend whose picks C can make: roundrobin or static-rr with no server with
    `maxconn` (its room depends on live counts: C would hand every pick of it back), or
    leastconn or first (whose C mirror keeps the counts)."""
    if not available():
        return False
    if params.algorithm in LIVE_KINDS:
        return True
    return params.algorithm in KINDS and not any(s.maxconn for s in servers)


def static_limit(s: Server) -> int:
    """The limit a C pick applies to `s`: 0 none, -1 one Python computes at each pick
    (srv_dynamic_maxconn: below `fullconn` with a `minconn`, or slowstart)."""
    if not s.maxconn:
        return 0
    if s.minconn != s.maxconn or (s.cur_state is State.STARTING and s.slowstart):
        return -1
    return s.maxconn


class CBalance:
    """One pool's C mirror (see the module doc)."""

    __slots__ = ("c", "index", "live", "pool", "untaken")

    def __init__(self, pool: Pool) -> None:
        assert _pump is not None and fits(pool)
        self.pool = pool
        self.c: Balancer = _pump.Balancer()
        self.index: dict[int, int] = {}
        self.live = isinstance(pool.algorithm, LeastConn | First)
        self.untaken: dict[int, int] = {}  # by id(server): C picks Python has not taken yet
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
        if isinstance(algo, LeastConn | First):
            self._push_live(algo, rows)
        elif isinstance(algo, RoundRobin):
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

    def _push_live(
        self, algo: LeastConn | First, rows: list[tuple[int, int, int, int, int, int, int]]
    ) -> None:
        assert _pump is not None
        untaken = self.untaken
        live = []
        for s in self.pool.lb.servers:
            ahead = untaken.get(id(s), 0)
            live.append((s.served + ahead, s.queued, ahead, static_limit(s), s.maxqueue))
        kind = _pump.LEASTCONN if isinstance(algo, LeastConn) else _pump.FIRST
        self.c.load(kind, rows, (self.pool.lb.srv_act, self._tree(algo.act), live))

    def _tree(self, tree: EbTree) -> list[tuple[int, int]]:
        index = self.index
        return [(node.key, index[id(node.item)]) for node in tree]

    def pull(self) -> None:
        """What the C picks moved, back into the pool (before Python touches it)."""
        if not self.c.picks:
            return
        state = self.c.dump()
        algo = self.pool.algorithm
        if isinstance(algo, LeastConn | First):
            self._pull_live(algo, state)  # type: ignore[arg-type]
            return
        if isinstance(algo, StaticRoundRobin):
            assert len(state) == 1
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

    def _pull_live(
        self, algo: LeastConn | First, state: tuple[list[tuple[int, int]], list[int]]
    ) -> None:
        """The active tree as C moved it, and the picks Python has not taken yet."""
        tree, untaken = state
        servers = self.pool.lb.servers
        self.untaken = {id(s): n for s, n in zip(servers, untaken, strict=True) if n}
        for s in servers:
            if s.lb_tree is algo.act:
                unlink(s.lb_node)
                s.lb_tree = None
        for key, i in tree:  # in tree order: each goes after its equals
            s = servers[i]
            algo.act.insert(tree_node(s), key)
            s.lb_tree = algo.act

    def taken(self, server: Server, *, picked: bool) -> None:
        """`server` took a connection: one C picked (`picked`, counted by the pick), or
        one Python picked."""
        i = self.index[id(server)]
        if picked:
            self.c.taken(i, server.queued)
        else:
            self.c.taken_own(i, server.queued)


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
        # before a server leaves: the pump's records applied by the old indexes; True when
        # the pump still has an exchange on the server (plain.py, http/own.py)
        self.members_changing: list[Callable[[Server], bool]] = []
        # C picks of leastconn / first whose take has not come yet, by id(server)
        self.ahead: dict[int, int] = {}

    def assign(self, flow: Flow, now: float, avoid: Server | None = None) -> Server | Verdict:
        lb = self.lb
        if avoid is None and not (lb.queued and lb.queued != lb.beconn):
            got = self.mirror.pick()
            if got is not None:
                self.picked_in_c(got)
                return got
        self.mirror.pull()
        res = super().assign(flow, now, avoid)
        self.mirror.push()
        return res

    def picked_in_c(self, server: Server) -> None:
        """A C pick of `server` whose take is coming (the caller's session, a plain
        listener's record): that take is told to C as the pick's."""
        self.balanced(server)
        if self.mirror.live:
            self.ahead[id(server)] = self.ahead.get(id(server), 0) + 1

    def take_conn(self, server: Server) -> None:
        mirror = self.mirror
        if not mirror.live:
            super().take_conn(server)
            return
        server.served += 1
        self.lb.served += 1
        if server.backup:  # C keeps only the active tree
            self.algorithm.conn_taken(server)
        ahead = self.ahead.get(id(server), 0)
        if ahead:
            if ahead == 1:
                del self.ahead[id(server)]
            else:
                self.ahead[id(server)] = ahead - 1
        mirror.taken(server, picked=bool(ahead))

    def drop_conn(self, server: Server) -> None:
        mirror = self.mirror
        if not mirror.live:
            super().drop_conn(server)
            return
        server.served -= 1
        self.lb.served -= 1
        if server.backup:
            self.algorithm.conn_dropped(server)
        mirror.c.dropped(mirror.index[id(server)], server.queued)

    def queue_changed(self, server: Server) -> None:
        """`server.queued` changed (backend.py's queues): the C picks read it."""
        mirror = self.mirror
        if mirror.live:
            mirror.c.queued(mirror.index[id(server)], server.queued)

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
        busy = False
        for hook in list(self.members_changing):
            busy = hook(server) or busy
        if busy and server.cur_admin & MAINT:  # cli_parse_delete_server's second refusal
            raise ValueError("Server still has connections attached to it, cannot remove it.")
        self.mirror.pull()
        try:
            super().remove_server(server)
        finally:
            self.mirror.push()
