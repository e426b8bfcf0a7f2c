"""The HAProxy side of the load-balancing interface: an algorithm bound to one backend.

Each algorithm is one of HAProxy 2.6's lookups (src/lb_fwrr.c, lb_map.c, lb_fwlc.c, lb_fas.c,
lb_chash.c) behind `sched.base.Balancer`, registered as `haproxy:<balance keyword>`.  It shares
the backend's `Lbprm` (servers in declaration order, usable counts, fbck, weight scale,
connection counts) with the `Pool` that drives it, and keeps its own trees or map.

The hooks follow `struct lbprm`'s callbacks, with the dispatch srv_update_status and
*_update_server_eweight do folded into the pool: when a server's state or weight changes, the
pool recounts the backend, then calls `server_up` if the server became usable, `server_down`
if it stopped being usable, `weight_changed` if it stays usable with another weight, and only
then commits the server's next state (`Server.commit`), so a hook sees both the committed
(`cur_*`) and the coming (`next_*`) values, as HAProxy's do.  `conn_taken` / `conn_dropped`
come after the server's `served` count changed (server_take_conn / server_drop_conn).

`pick` is the algorithm's lookup with HAProxy's group choice: the active servers if any is
usable, else `fbck` directly, else the backup servers (every `*_get_next_server`).  The
`servers` argument of the hooks and of `pick` is the backend's list, which the algorithm
already has (`lb.servers`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar

from pylvs.sched.base import Balancer
from pylvs.sched.haproxy.lbprm import Lbprm
from pylvs.sched.haproxy.server import Server
from pylvs.sched.haproxy.tree import EbTree, Node

T = TypeVar("T")


class Algorithm(Balancer[Server]):
    """One HAProxy balance algorithm for one backend."""

    namespace: ClassVar[str] = "haproxy"

    def __init__(self, lb: Lbprm, rng: random.Random | None = None) -> None:
        self.lb = lb
        self.rng = rng if rng is not None else random.Random()

    def rebuild(self, servers: Sequence[Server]) -> None:
        """*_init_server_*: build from scratch over the committed (initial) states."""

    def server_added(self, servers: Sequence[Server], server: Server) -> None:
        """A server joined the backend, not usable yet (the pool brings it up next)."""
        server.lb_tree = None

    def server_removed(self, servers: Sequence[Server], server: Server, index: int) -> None:
        """A server left the backend; the pool took it down first."""
        server.lb_tree = None

    def group(self, act: T, bck: T) -> T | Server | None:
        return group(self.lb, act, bck)


def group(lb: Lbprm, act: T, bck: T) -> T | Server | None:
    """What picks come from: the active group's structure if an active server is usable, else
    the first backup itself (`fbck`), else the backup group's, else nothing."""
    if lb.srv_act:
        return act
    if lb.fbck is not None:
        return lb.fbck
    return bck if lb.srv_bck else None


def tree_node(s: Server) -> Node:
    """The server's node in the algorithm's tree (made on first use)."""
    if s.lb_node is None:
        s.lb_node = Node(s)
    node: Node = s.lb_node
    return node


def first_fit(tree: EbTree, fits: Callable[[Server], bool], avoid: Server | None) -> Server | None:
    """The first server in tree order that `fits`, preferring any other to `avoid` (the walk
    of fwlc_get_next_server and fas_get_next_server)."""
    avoided: Server | None = None
    node = tree.first()
    while node is not None:
        s: Server = node.item
        if fits(s):
            if s is not avoid:
                return s
            avoided = s
        node = tree.next(node)
    return avoided
