"""`balance roundrobin`: HAProxy's fast weighted round robin, as src/lb_fwrr.c does it.

Each group (active, backup) has three trees.  `init` holds servers not yet placed in the
current window, keyed `4096 - eweight` (heaviest first, ties in the order they were queued);
`curr` holds placed servers keyed by their next position `npos` (`256 * npos + (4096 + rweight
- eweight) / 16`, heavier first at equal positions); `next` holds servers pushed past the window.
A pick takes the head of `curr` if its position is due (`npos <= curr_pos`), else the head of
`init`, else the head of `curr` anyway; once both are empty the `init` and `next` trees swap
and a new window of `next_weight` positions starts.  The picked server advances by
`next_weight / eweight` positions (the remainder accumulates in `rweight`) and is requeued.
Saturated servers (maxconn reached or a queue) and the server to avoid are taken out, advanced
as if picked, and requeued afterwards.  Weight changes and servers coming up recompute a
position from where the group stands (fwrr_update_server_weight, fwrr_set_server_status_up).
Weights 1:2:3 give s3 s2 s3 s1 s3 s2, again and again.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.sched.base import Flow
from pylvs.sched.haproxy.algorithm import Algorithm, tree_node
from pylvs.sched.haproxy.server import SRV_EWGHT_MAX, SRV_UWGHT_RANGE, Server
from pylvs.sched.haproxy.tree import EbTree, unlink
from pylvs.sched.registry import register

BE_WEIGHT_SCALE = 16


class Group:
    """struct fwrr_group."""

    __slots__ = ("curr", "curr_pos", "curr_weight", "init", "next", "next_weight")

    def __init__(self, weight: int) -> None:
        self.curr = EbTree()
        self.init = EbTree()
        self.next = EbTree()
        self.curr_pos = self.curr_weight = self.next_weight = weight

    def switch_trees(self) -> None:
        """fwrr_switch_trees: `next` becomes the new `init`, and a new window starts."""
        self.init, self.next = self.next, self.init
        self.curr_weight = self.next_weight
        self.curr_pos = self.curr_weight


@register
class RoundRobin(Algorithm):
    name = "roundrobin"

    act: Group
    bck: Group

    def rebuild(self, servers: Sequence[Server]) -> None:
        """fwrr_init_server_groups: every usable server into its group's `init` tree."""
        lb = self.lb
        self.act = Group(lb.tot_wact)
        self.bck = Group(lb.tot_wbck)
        for s in lb.servers:
            s.lb_tree = None
            s.npos = s.lpos = s.rweight = 0
            unlink(s.lb_node)
            if s.currently_usable():
                self._queue_by_weight(self._group(s).init, s)

    def _group(self, s: Server) -> Group:
        return self.bck if s.backup else self.act

    # -- tree moves ----------------------------------------------------------------------

    @staticmethod
    def _queue_by_weight(tree: EbTree, s: Server) -> None:
        tree.insert(tree_node(s), SRV_EWGHT_MAX - s.next_eweight)
        s.lb_tree = tree

    @staticmethod
    def _dequeue(s: Server) -> None:
        unlink(s.lb_node)

    def _queue(self, s: Server) -> None:
        """fwrr_queue_srv: into `curr` at its position, or `next` past the window."""
        grp = self._group(s)
        if not s.willbe_usable():
            s.lb_tree = None
        elif (
            s.next_eweight <= 0
            or s.npos >= 2 * grp.curr_weight
            or s.npos >= grp.curr_weight + grp.next_weight
        ):
            s.npos -= grp.curr_weight
            self._queue_by_weight(grp.next, s)
        else:
            key = SRV_UWGHT_RANGE * s.npos + (SRV_EWGHT_MAX + s.rweight - s.next_eweight) // (
                BE_WEIGHT_SCALE
            )
            grp.curr.insert(tree_node(s), key)
            s.lb_tree = grp.curr

    def _get_srv(self, s: Server) -> None:
        """fwrr_get_srv: prepare a server taken out of whichever tree it was in."""
        grp = self._group(s)
        if s.lb_tree is grp.init:
            s.npos = s.rweight = 0
        elif s.lb_tree is grp.next:
            s.npos += grp.curr_weight
        elif s.lb_tree is None:
            s.npos = grp.curr_pos

    @staticmethod
    def _update_position(grp: Group, s: Server) -> None:
        """fwrr_update_position: advance by next_weight / eweight (remainder kept)."""
        eweight = s.cur_eweight
        if not eweight:
            return
        if not s.npos:
            s.npos = grp.curr_pos
        s.lpos = s.npos
        s.npos += grp.next_weight // eweight
        s.rweight += grp.next_weight % eweight
        if s.rweight >= eweight:
            s.rweight -= eweight
            s.npos += 1

    # -- state hooks ---------------------------------------------------------------------

    def server_up(self, servers: Sequence[Server], server: Server) -> None:
        """fwrr_set_server_status_up: into `curr` a fair distance ahead of the group."""
        grp = self._group(server)
        grp.next_weight += server.next_eweight
        self._get_srv(server)
        server.npos = (
            grp.curr_pos + (grp.next_weight + grp.curr_weight - grp.curr_pos) // server.next_eweight
        )
        self._queue(server)

    def server_down(self, servers: Sequence[Server], server: Server) -> None:
        """fwrr_set_server_status_down: out of every tree."""
        self._group(server).next_weight -= server.cur_eweight
        self._dequeue(server)
        server.lb_tree = None

    def weight_changed(self, servers: Sequence[Server], server: Server) -> None:
        """fwrr_update_server_weight for a server that stays usable."""
        grp = self._group(server)
        grp.next_weight += server.next_eweight - server.cur_eweight
        if server.lb_tree is grp.init:
            self._dequeue(server)
            self._queue_by_weight(grp.init, server)
            return
        if server.lb_tree is None:
            self._dequeue(server)
            self._get_srv(server)
            server.npos = (
                grp.curr_pos
                + (grp.next_weight + grp.curr_weight - grp.curr_pos) // server.next_eweight
            )
            self._queue(server)
            return
        self._get_srv(server)
        if server.next_eweight > 0:
            prev_next = server.npos
            step = grp.next_weight // server.next_eweight
            server.npos = server.lpos + step
            server.rweight = 0
            server.npos = min(server.npos, prev_next)
            if server.npos < grp.curr_pos + 2:
                server.npos = grp.curr_pos + step
        else:
            server.npos = grp.curr_pos + grp.curr_weight
        self._dequeue(server)
        self._queue(server)

    # -- the pick ------------------------------------------------------------------------

    def _from_group(self, grp: Group) -> Server | None:
        """fwrr_get_server_from_group."""
        node1 = grp.curr.first()
        s1: Server | None = None
        if node1 is not None:
            s1 = node1.item
            assert s1 is not None
            if s1.cur_eweight and s1.npos <= grp.curr_pos:
                return s1
        node2 = grp.init.first()
        if node2 is not None:
            s2: Server = node2.item
            if s2.cur_eweight:
                s2.npos = s2.rweight = 0
                return s2
        return s1

    def pick(
        self,
        servers: Sequence[Server],
        flow: Flow,
        now: float,
        avoid: Server | None = None,
    ) -> Server | None:
        """fwrr_get_next_server."""
        lb = self.lb
        if avoid is None and lb.srv_act:
            # The common pick, inline: an active server due in its window, with no maxconn
            # (so never saturated): what the loop below does on its first turn for it.
            act = self.act
            if act.curr_weight:
                due = self._from_group(act)
                if due is not None and not due.maxconn:
                    self._update_position(act, due)
                    unlink(due.lb_node)
                    act.curr_pos += 1
                    self._queue(due)
                    return due
        grp = self.group(self.act, self.bck)
        if not isinstance(grp, Group):
            return grp
        switched = False
        avoided: Server | None = None
        full: list[Server] = []  # taken out while saturated or avoided, newest first
        srv: Server | None
        while True:
            if not grp.curr_weight:
                grp.curr_pos = grp.curr_weight = grp.next_weight
            while True:
                srv = self._from_group(grp)
                if srv is not None:
                    break
                if switched:
                    if avoided is not None:
                        self._queue(avoided)
                        self._requeue(grp, full, avoided, switched)
                        return avoided
                    self._requeue(grp, full, None, switched)
                    return None
                switched = True
                grp.switch_trees()
            self._update_position(grp, srv)
            self._dequeue(srv)
            grp.curr_pos += 1
            if lb.has_room(srv, now):
                if srv is not avoid or avoided is not None:
                    break
                avoided = srv
            full.insert(0, srv)
        self._queue(srv)
        self._requeue(grp, full, srv, switched)
        return srv

    def _requeue(
        self, grp: Group, full: list[Server], chosen: Server | None, switched: bool
    ) -> None:
        """Put back what the pick took out: by weight into `init` if the trees switched
        (their places were lost), else at their advanced positions."""
        for s in full:
            if s is chosen:
                continue
            if switched:
                self._queue_by_weight(grp.init, s)
            else:
                self._queue(s)
