"""rr: round robin, as net/netfilter/ipvs/ip_vs_rr.c does it.

The kernel keeps a pointer to the list node last returned (initially the list head).  A pick
walks on from there, wrapping once, and takes the first dest that is not overloaded and has
weight > 0; the weight's value does not matter otherwise.  When the dest under the pointer is
deleted the pointer moves back to the previous node (`ip_vs_rr_del_dest`), so the rotation goes
on with the dest that followed the deleted one.  A new dest goes to the head of the list
and nothing else moves.

Here the pointer is the dest object plus its index in the list (-1 for the head); the index is
kept right by the add/del hooks, so a pick costs O(1) when the next dest is eligible.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import VirtualService
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.registry import register


@register
class RoundRobin(Scheduler):
    name = "rr"

    def __init__(self, service: VirtualService, rng: random.Random | None = None) -> None:
        super().__init__(service, rng)
        self._cur: Destination | None = None  # None: the list head
        self._pos = -1

    def rebuild(self, dests: Sequence[Destination]) -> None:
        self._pos = self._index(dests)
        if self._pos < 0:
            self._cur = None

    def server_added(self, dests: Sequence[Destination], dest: Destination) -> None:
        # The new dest is at the head: the saved node is one further down the list.
        if self._cur is not None:
            self._pos += 1
            self._pos = self._index(dests)

    def server_removed(self, dests: Sequence[Destination], dest: Destination, index: int) -> None:
        if self._cur is None:
            return
        if dest is self._cur:
            # ip_vs_rr_del_dest: sched_data = p->next->prev, the node before the deleted one.
            self._pos = index - 1
            self._cur = dests[index - 1] if index > 0 else None
        else:
            if index < self._pos:
                self._pos -= 1
            self._pos = self._index(dests)
            if self._pos < 0:
                self._cur = None

    def weight_changed(self, dests: Sequence[Destination], dest: Destination) -> None:
        """A weight edit does not move the rotation."""

    def _index(self, dests: Sequence[Destination]) -> int:
        cur = self._cur
        if cur is None:
            return -1
        pos = self._pos
        if 0 <= pos < len(dests) and dests[pos] is cur:
            return pos
        for i, d in enumerate(dests):
            if d is cur:
                return i
        return -1

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        pos = self._index(dests)
        n = len(dests)
        # Walk the nodes after the saved one, then (unless we started at the head) wrap
        # around up to and including the saved node itself.
        for i in range(pos + 1, n):
            d = dests[i]
            if not d.overloaded and d.weight > 0:
                self._cur = d
                self._pos = i
                return d
        for i in range(pos + 1):
            d = dests[i]
            if not d.overloaded and d.weight > 0:
                self._cur = d
                self._pos = i
                return d
        self._pos = pos
        return None
