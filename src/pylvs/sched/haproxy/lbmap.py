"""`balance static-rr` and map-based hashing: HAProxy's server map, as src/lb_map.c does it.

The map has one slot per unit of the group's total effective weight (weights divided by
their gcd, so 2:4:6 is a 6-slot map like 1:2:3).  It is rebuilt from scratch whenever a server
goes up or down or changes weight (recalc_server_map): for each slot, every usable server of
the group in use adds its weight to a score, the server with the highest `(score + total) /
total` takes the slot (the first declared wins a tie) and loses `total`.  So the first slot
is always the first declared server, and 1:2:3 gives s1 s3 s2 s3 s2 s3.

static-rr walks the map from where it stopped, skipping saturated servers and, if it can,
the server to avoid (map_get_server_rr).  Map-based hashing takes slot `hash % total`
whatever the server's load (map_get_server_hash).  Weights are static: `set weight` accepts
only 0% and 100% (the pool refuses the rest with HAProxy's message).
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.sched.base import Flow
from pylvs.sched.haproxy.algorithm import Algorithm
from pylvs.sched.haproxy.lbprm import Lbprm
from pylvs.sched.haproxy.server import Server
from pylvs.sched.registry import register


class ServerMap:
    """struct lb_map: the slots and the round-robin index."""

    __slots__ = ("rr_idx", "slots")

    def __init__(self) -> None:
        self.slots: list[Server | None] = []
        self.rr_idx = 0

    def recalc(self, lb: Lbprm) -> None:
        """recalc_server_map (on the servers' next state)."""
        if lb.tot_used == 0:
            return  # no server: the old map stays, unused (tot_weight is 0)
        total = lb.tot_weight
        backup = not lb.srv_act
        group = [s for s in lb.servers if s.backup == backup and s.willbe_usable()]
        if total == 1:
            self.slots = [group[0]]
            return
        for s in lb.servers:
            s.wscore = 0
        slots: list[Server | None] = []
        for _ in range(total):
            best: Server | None = None
            best_v = 0
            for s in group:
                s.wscore += s.next_eweight
                v = (s.wscore + total) // total
                if best is None or v > best_v:
                    best, best_v = s, v
            slots.append(best)
            if best is not None:
                best.wscore -= total
        self.slots = slots

    def get_rr(self, lb: Lbprm, avoid: Server | None, now: float) -> Server | None:
        """map_get_server_rr."""
        total = lb.tot_weight
        if total == 0:
            return None
        if self.rr_idx < 0 or self.rr_idx >= total:
            self.rr_idx = 0
        start = newidx = self.rr_idx
        avoided: Server | None = None
        avoididx = 0
        while True:
            srv = self.slots[newidx]
            newidx += 1
            assert srv is not None
            if lb.has_room(srv, now):
                avoided, avoididx = srv, newidx
                if srv is not avoid:
                    self.rr_idx = newidx
                    return srv
            if newidx == total:
                newidx = 0
            if newidx == start:
                break
        if avoided is not None:
            self.rr_idx = avoididx
        return avoided

    def get_hash(self, lb: Lbprm, h: int) -> Server | None:
        """map_get_server_hash: the slot `h % total`, loaded or not."""
        return self.slots[h % lb.tot_weight] if lb.tot_weight else None


@register
class StaticRoundRobin(Algorithm):
    name = "static-rr"

    map: ServerMap

    def rebuild(self, servers: Sequence[Server]) -> None:
        """init_server_map."""
        self.map = ServerMap()
        self.map.recalc(self.lb)

    def server_up(self, servers: Sequence[Server], server: Server) -> None:
        self.map.recalc(self.lb)

    def server_down(self, servers: Sequence[Server], server: Server) -> None:
        self.map.recalc(self.lb)

    def weight_changed(self, servers: Sequence[Server], server: Server) -> None:
        self.map.recalc(self.lb)

    def pick(
        self,
        servers: Sequence[Server],
        flow: Flow,
        now: float,
        avoid: Server | None = None,
    ) -> Server | None:
        return self.map.get_rr(self.lb, avoid, now)
