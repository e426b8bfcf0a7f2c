"""A backend's load-balancing parameters and counters, shared by all of HAProxy's algorithms.

HAProxy's `struct lbprm` (include/haproxy/backend-t.h) plus the proxy fields its algorithms
read: the servers in declaration order; how many active and backup servers are usable and
their total effective weights (`srv_act`, `srv_bck`, `tot_wact`, `tot_wbck`); which of those the
algorithms draw from (`tot_weight`, `tot_used`); `fbck`, the one backup server in use when
every active server is down and `option allbackups` is off; the eweight scale (`wdiv`,
`wmult`); and the backend's connection counts (`beconn`, `served`, `queued`, `fullconn`).

The rules are src/backend.c recount_servers / update_backend_weight (the active group if any
active server is usable, else the first usable backup alone, else every usable backup),
src/queue.c srv_dynamic_maxconn (minconn..maxconn scaled by the backend's load against
`fullconn`, and by slowstart) and src/server.c server_recalc_eweight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pylvs.sched.haproxy.params import LbParams
from pylvs.sched.haproxy.server import Server, State

BE_WEIGHT_SCALE = 16


class Lbprm:
    """The load-balancing state of one backend (see the module doc)."""

    def __init__(self, servers: Sequence[Server], params: LbParams) -> None:
        self.servers: list[Server] = list(servers)
        self.params = params
        self.srv_act = 0
        self.srv_bck = 0
        self.tot_wact = 0
        self.tot_wbck = 0
        self.tot_weight = 0
        self.tot_used = 0
        self.fbck: Server | None = None
        # eweight = ceil(uweight * wdiv / wmult): the dynamic algorithms scale weights by 16
        # so slowstart and `set weight` can modulate them finely; the map-based ones divide
        # them by their gcd to keep the map small (lb_map.c init_server_map).
        self.wdiv = 1 if not params.dynamic else BE_WEIGHT_SCALE
        self.wmult = self._gcd() if not params.dynamic else 1
        self.beconn = 0  # connections on the backend, queued ones included
        self.served = 0  # connections the backend's servers serve
        self.queued = 0  # connections in the backend's own queue
        self.lbconn = 0  # the algorithm's picks (be_counters.cum_lbconn: show stat's lbtot)
        self.fullconn = 0  # `fullconn`; 0: dynamic maxconn off

    def _gcd(self) -> int:
        weights = [s.uweight for s in self.servers if s.uweight]
        return math.gcd(*weights) if weights else 1

    def eweight(self, server: Server, now: float) -> int:
        """server_recalc_eweight: the effective weight from the user weight (and slowstart).

        Also ends a finished slowstart (STARTING -> RUNNING), as HAProxy does here.
        """
        since = int(now) - int(server.last_change)
        if (since < 0 or since >= server.slowstart) and server.next_state is State.STARTING:
            server.next_state = State.RUNNING
        if server.next_state is State.STARTING and self.params.dynamic:
            w = (self.wdiv * since + server.slowstart) // server.slowstart
        else:
            w = self.wdiv
        return (server.uweight * w + self.wmult - 1) // self.wmult

    def recount(self) -> None:
        """recount_servers + update_backend_weight, on the servers' *next* state."""
        self.srv_act = self.srv_bck = 0
        self.tot_wact = self.tot_wbck = 0
        self.fbck = None
        allbackups = self.params.allbackups
        for s in self.servers:
            if not s.willbe_usable():
                continue
            if s.backup:
                if not self.srv_bck and not allbackups:
                    self.fbck = s
                self.srv_bck += 1
                s.cumulative_weight = self.tot_wbck
                self.tot_wbck += s.next_eweight
            else:
                self.srv_act += 1
                s.cumulative_weight = self.tot_wact
                self.tot_wact += s.next_eweight
        if self.srv_act:
            self.tot_weight, self.tot_used = self.tot_wact, self.srv_act
        elif self.fbck is not None:
            self.tot_weight, self.tot_used = self.fbck.next_eweight, 1
        else:
            self.tot_weight, self.tot_used = self.tot_wbck, self.srv_bck

    def usable_servers(self) -> int:
        """be_usable_srv: how many servers the algorithms may pick from."""
        if self.srv_act:
            return self.srv_act
        return 1 if self.fbck is not None else self.srv_bck

    def dynamic_maxconn(self, s: Server, now: float) -> int:
        """srv_dynamic_maxconn: the server's connection limit at this moment."""
        if self.beconn >= self.fullconn or s.minconn == s.maxconn:
            limit = s.maxconn
        else:
            limit = max(s.minconn, self.beconn * s.maxconn // self.fullconn)
        since = int(now) - int(s.last_change)
        if s.cur_state is State.STARTING and 0 <= since < s.slowstart:
            limit = max(1, limit * (100 * since // s.slowstart) // 100)
        return limit

    def has_room(self, s: Server, now: float) -> bool:
        """The test most lookups make: no maxconn, or an empty queue and a free slot."""
        return not s.maxconn or (not s.queued and s.served < self.dynamic_maxconn(s, now))
