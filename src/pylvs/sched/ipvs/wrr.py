"""wrr: weighted round robin, as net/netfilter/ipvs/ip_vs_wrr.c does it.

State (`struct ip_vs_wrr_mark`): `cl` the dest last returned (or the list head), `cw` the
current weight, `mw` the maximum weight less (di - 1), `di` the gcd of the positive weights.
Each pass walks the list in order taking dests with `weight >= cw` that are not overloaded;
at the end of the list `cw -= di`, and when it drops to 0 or below it restarts at `mw`.  With
weights 4, 3, 2 (list order A, B, C) the picks are A A B A B C A B C, then again.

`ip_vs_wrr_dest_changed` (add, delete and edit of a dest) puts `cl` back at the head,
recomputes `di` and `mw`, and keeps `cw` unless it is now above `mw` or 0 (then `cw = mw`);
otherwise, with `di > 1`, it becomes `(cw / di) * di + 1`.  A pick fails ("all destinations are
overloaded") once every dest has been looked at in a pass with `cw <= di`; the kernel's
`stop` marker makes that last pass cover the dests before the starting point too.

The walk is the kernel's, but instead of testing every dest it jumps to the next dest whose
weight is at least `cw` with a max segment tree over the weights (rebuilt by the hooks), so
a pick costs O(log n) even when a few heavy servers sit among many light ones.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import VirtualService
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.registry import register

_NO_STOP = -2


@register
class WeightedRoundRobin(Scheduler):
    name = "wrr"

    def __init__(self, service: VirtualService, rng: random.Random | None = None) -> None:
        super().__init__(service, rng)
        self._cl: Destination | None = None  # None: the list head
        self._pos = -1
        self._cw = 0
        self._mw = 0
        self._di = 1
        self._n = 0
        self._size = 1
        self._tree: list[int] = [0, 0]

    @property
    def current_weight(self) -> int:
        """`mark->cw`, for tests and `ipvsadm`-style introspection."""
        return self._cw

    @property
    def max_weight(self) -> int:
        """`mark->mw`: the largest weight less (gcd - 1)."""
        return self._mw

    @property
    def step(self) -> int:
        """`mark->di`: the gcd of the positive weights (1 if there are none)."""
        return self._di

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        # ip_vs_edit_service keeps the scheduler state when the scheduler is unchanged.
        self.flags = service.flags

    def rebuild(self, dests: Sequence[Destination]) -> None:
        """ip_vs_wrr_dest_changed (also ip_vs_wrr_init_svc, where cw starts at 0)."""
        weights = [d.weight for d in dests]
        positive = [w for w in weights if w > 0]
        di = math.gcd(*positive) if positive else 1
        mw = max(weights, default=0) - (di - 1)
        self._cl = None
        self._pos = -1
        self._di = di
        self._mw = mw
        if self._cw > mw or self._cw == 0:
            self._cw = mw
        elif di > 1:
            self._cw = (self._cw // di) * di + 1
        self._build_tree(weights)

    def _build_tree(self, weights: list[int]) -> None:
        n = len(weights)
        size = 1
        while size < n:
            size <<= 1
        tree = [0] * (2 * size)
        tree[size : size + n] = weights
        for i in range(size - 1, 0, -1):
            left, right = tree[2 * i], tree[2 * i + 1]
            tree[i] = left if left > right else right
        self._n = n
        self._size = size
        self._tree = tree

    def _next_at_least(self, lo: int, cw: int) -> int:
        """The smallest index >= lo whose weight is >= cw (cw >= 1), or -1."""
        if lo >= self._n:
            return -1
        tree = self._tree
        size = self._size
        i = lo + size
        while True:
            if tree[i] >= cw:
                while i < size:
                    i <<= 1
                    if tree[i] < cw:
                        i += 1
                return i - size
            # Skip to the subtree just right of this one.
            while i & 1:
                i >>= 1
            if i == 0:
                return -1
            i += 1

    def _position(self, dests: Sequence[Destination]) -> int:
        cl = self._cl
        if cl is None:
            return -1
        pos = self._pos
        if 0 <= pos < len(dests) and dests[pos] is cl:
            return pos
        return -1

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        mw = self._mw
        if mw == 0:
            return None
        di = self._di
        cw = self._cw
        last = self._position(dests)
        start = last
        stop = _NO_STOP
        last_pass = False
        restarted = False
        while True:
            j = self._next_at_least(start + 1, cw)
            while j >= 0:
                if start < stop < j:
                    self._fail(dests, stop, cw)
                    return None
                d = dests[j]
                if not d.overloaded and d.weight >= cw:
                    self._cl = d
                    self._pos = j
                    self._cw = cw
                    return d
                if j == stop:
                    self._fail(dests, stop, cw)
                    return None
                j = self._next_at_least(j + 1, cw)
            if stop > start:
                self._fail(dests, stop, cw)
                return None
            cw -= di
            if cw <= 0:
                cw = mw
                # Stop if the last pass (cw <= di) already covered every dest, or if the walk
                # began at the head so its one traversal per cw saw them all.
                if last_pass or last == -1:
                    self._fail(dests, -1, cw)
                    return None
                restarted = True
            last_pass = cw <= di
            if last_pass and restarted and last != -1:
                # The first walk only covered the dests after `last`: check up to it too.
                stop = last
            start = -1

    def _fail(self, dests: Sequence[Destination], pos: int, cw: int) -> None:
        self._cl = dests[pos] if pos >= 0 else None
        self._pos = pos
        self._cw = cw
