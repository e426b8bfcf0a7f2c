"""A server as HAProxy's load balancing sees it: state, admin flags, weights and load.

The fields are those of HAProxy 2.6's `struct server` (include/haproxy/server-t.h) that the
balance algorithms and the queue read: the operational state (`SRV_ST_*`), the administrative
flags (`SRV_ADMF_*`: maintenance, drain), the user weight (`uweight`, 0..256, `iweight` the
configured one) and the effective weight the algorithms use (`eweight`, src/server.c
server_recalc_eweight), `maxconn` / `maxqueue` / `minconn`, and the live `served` / `queued`
counts.  Like HAProxy, every state-bearing field has a *next* value the runtime sets and a
*current* value the algorithms last committed (`srv_lb_commit_status`), so a hook can tell what
changed; `sched.haproxy.pool.Pool` makes the changes, calls the hooks and commits.

The algorithms' own per-server data (tree positions, map scores, ring nodes) also lives here,
as it does in HAProxy's struct, so a pick touches one object per server.

Mutable on purpose: the runtime updates it on every connection.
"""

from __future__ import annotations

import enum
from typing import Any

SRV_UWGHT_MAX = 256  # include/haproxy/server-t.h
SRV_UWGHT_RANGE = 256
SRV_EWGHT_MAX = SRV_UWGHT_MAX * 16  # BE_WEIGHT_SCALE
SRV_EWGHT_RANGE = SRV_UWGHT_RANGE * 16


class State(enum.IntEnum):
    """enum srv_state; the numbers `show servers state` prints as srv_op_state."""

    STOPPED = 0  # down: checks failed, or marked down
    STARTING = 1  # up, in slowstart
    RUNNING = 2  # up
    STOPPING = 3  # up but soft-stopping (agent/health "stopping", NOLB)


class Admin(enum.IntFlag):
    """enum srv_admin (SRV_ADMF_*): why a server is in maintenance or drain."""

    NONE = 0
    FMAINT = 0x01  # forced maintenance (CLI `disable server`, `set server state maint`)
    IMAINT = 0x02  # inherited from a tracked server
    CMAINT = 0x04  # configured `disabled` (a marker beside FMAINT, not maintenance itself)
    FDRAIN = 0x08  # forced drain (CLI, weight 0 via agent)
    IDRAIN = 0x10  # inherited drain
    RMAINT = 0x20  # DNS resolution failed
    HMAINT = 0x40  # the FQDN was set from the stats socket (a marker)


# SRV_ADMF_MAINT / SRV_ADMF_DRAIN: the masks that make a server "in maintenance" / draining.
MAINT = Admin.FMAINT | Admin.IMAINT | Admin.RMAINT
DRAIN = Admin.FDRAIN | Admin.IDRAIN
_NOT_LB = int(MAINT | DRAIN)
_LB_STATES = frozenset({State.STARTING.value, State.RUNNING.value})


class Server:
    """One server of one backend (see the module doc)."""

    __slots__ = (
        "backup",
        "cumulative_weight",
        "cur_admin",
        "cur_eweight",
        "cur_state",
        "full_next",
        "health_zeroed",
        "iweight",
        "last_change",
        "lb_node",
        "lb_nodes",
        "lb_nodes_now",
        "lb_tree",
        "lbconn",
        "lpos",
        "maxconn",
        "maxqueue",
        "minconn",
        "name",
        "next_admin",
        "next_eweight",
        "next_state",
        "non_stick",
        "npos",
        "puid",
        "queued",
        "rweight",
        "served",
        "slowstart",
        "uweight",
        "wscore",
    )

    def __init__(
        self,
        name: str,
        weight: int = 1,
        *,
        puid: int = 0,
        backup: bool = False,
        maxconn: int = 0,
        maxqueue: int = 0,
        minconn: int = 0,
        slowstart: int = 0,
        non_stick: bool = False,
        state: State = State.RUNNING,
        admin: Admin = Admin.NONE,
    ) -> None:
        if not 0 <= weight <= SRV_UWGHT_MAX:
            raise ValueError(f"weight of server {name} is not within 0 and 256 ({weight})")
        self.name = name
        self.puid = puid  # 0: assigned by the pool (src/cfgparse.c, first spare id)
        self.backup = backup
        self.iweight = weight
        self.uweight = weight
        # cfgparse.c: minconn alone is a static limit; maxconn alone sets minconn to it.
        self.maxconn = max(maxconn, minconn)
        self.minconn = minconn or maxconn
        self.maxqueue = maxqueue
        self.slowstart = slowstart  # seconds
        self.non_stick = non_stick  # `non-stick`: never stored in stick tables
        self.cur_state = self.next_state = state
        self.cur_admin = self.next_admin = admin
        self.cur_eweight = self.next_eweight = 0  # set by the pool from uweight
        self.served = 0  # connections assigned and not released
        self.queued = 0  # connections waiting in this server's queue
        self.last_change = 0.0
        self.cumulative_weight = 0
        # Algorithm data (one algorithm per backend, so they can share the slots).
        self.lb_tree: Any = None  # the tree the server is queued in (fwrr, fwlc, first)
        self.lb_node: Any = None
        self.lb_nodes: list[Any] = []  # consistent hash ring nodes
        self.lb_nodes_now = 0
        self.npos = 0  # fwrr positions
        self.lpos = 0
        self.rweight = 0
        self.wscore = 0  # map building score
        self.full_next: Server | None = None
        # entered maintenance while not stopped: srv_update_status sets check.health to 0,
        # checked or not, and leaving it restores only a checked server's (show servers state)
        self.health_zeroed = False
        self.lbconn = 0  # the algorithm picked it (counters.cum_lbconn: show stat's lbtot)

    # -- include/haproxy/backend.h -----------------------------------------------------

    def willbe_usable(self) -> bool:
        """srv_willbe_usable: the *next* state and weight allow load balancing to it."""
        # Called on every pick: plain int tests, not Flag operators (they run in Python).
        return (
            self.next_eweight > 0
            and not self.next_admin._value_ & _NOT_LB
            and self.next_state._value_ in _LB_STATES
        )

    def currently_usable(self) -> bool:
        """srv_currently_usable: the committed state and weight allow it."""
        return (
            self.cur_eweight > 0
            and not self.cur_admin._value_ & _NOT_LB
            and self.cur_state._value_ in _LB_STATES
        )

    def lb_status_changed(self) -> bool:
        """srv_lb_status_changed: something changed since the last commit."""
        return (
            self.next_state != self.cur_state
            or self.next_admin != self.cur_admin
            or self.next_eweight != self.cur_eweight
        )

    def commit(self) -> None:
        """srv_lb_commit_status."""
        self.cur_state = self.next_state
        self.cur_admin = self.next_admin
        self.cur_eweight = self.next_eweight

    @property
    def in_maintenance(self) -> bool:
        return bool(self.cur_admin & MAINT)

    @property
    def draining(self) -> bool:
        return bool(self.cur_admin & DRAIN)

    def __repr__(self) -> str:
        return (
            f"Server({self.name} id={self.puid} w={self.uweight}/{self.cur_eweight} "
            f"{self.cur_state.name} {self.cur_admin!r} served={self.served})"
        )
