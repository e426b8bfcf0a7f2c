"""One backend's servers and balance algorithm: what the HAProxy runtime calls.

A `Pool` is built from the backend's servers (declaration order) and its `LbParams`; it gives
servers without an `id` the first spare ids (src/cfgparse.c), computes effective weights, and
creates the algorithm the params name (`haproxy:<balance>`, through `sched.registry`).  Then:

* `assign(flow, now, avoid)` -> a `Server`, or `NO_SERVER` / `FULL` (src/backend.c
  assign_server: no usable server at all, or every one saturated, so the connection queues
  in the backend);
* `take_conn(server)` / `drop_conn(server)`: a connection was given to / released by a
  server (sess_change_server: `served` counts, then the algorithm's hook);
* `mark_up` / `mark_down` / `mark_stopping` (health and agent results, srv_set_running,
  srv_set_stopped, srv_set_stopping), `set_admin` / `clear_admin` (maintenance and drain),
  `set_weight` / `change_weight` (`set server B/S weight`, `set weight`, with HAProxy's
  messages), `recalc_eweight` (slowstart; the runtime calls it at every check), each of which
  recounts the backend and tells the algorithm (server up, down or weight hook) before
  committing the server's state (srv_update_status);
* `add_server` / `remove_server` (`add server`, `del server`, with HAProxy's refusals);
* `server(name)`, `server_by_id(puid)`: the lookups stick tables need.

The runtime also keeps `lb.beconn`, `lb.queued` and `lb.fullconn` (the backend's connection
and queue counts, `fullconn`) and each server's `queued`, which the algorithms read.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence

from pylvs.sched import registry
from pylvs.sched.base import Flow
from pylvs.sched.haproxy.algorithm import Algorithm
from pylvs.sched.haproxy.cnum import strtol
from pylvs.sched.haproxy.lbprm import Lbprm
from pylvs.sched.haproxy.params import LbParams
from pylvs.sched.haproxy.server import MAINT, SRV_UWGHT_MAX, Admin, Server, State


class Verdict(enum.Enum):
    """Why `assign` gave no server (SRV_STATUS_NOSRV, SRV_STATUS_FULL)."""

    NO_SERVER = "no server available"
    FULL = "all servers full"


NO_SERVER = Verdict.NO_SERVER
FULL = Verdict.FULL

# The algorithms that never pick while the backend queue holds someone else's connection
# (assign_server: all their servers must be full).
_QUEUE_FIRST = frozenset({"first", "roundrobin", "static-rr"})


def assign_ids(servers: Sequence[Server]) -> None:
    """cfgparse.c: a server without an id gets the first spare one from a running counter."""
    used = {s.puid for s in servers if s.puid}
    next_id = 1
    for s in servers:
        if not s.puid:
            while next_id in used:
                next_id += 1
            s.puid = next_id
            used.add(next_id)
        next_id += 1


def algorithm_class(params: LbParams) -> type[Algorithm]:
    cls = registry.get(params.registry_name)
    if not issubclass(cls, Algorithm):
        raise KeyError(params.registry_name)
    return cls


class Pool:
    """The servers of one backend and the algorithm that balances over them."""

    def __init__(
        self,
        servers: Sequence[Server],
        params: LbParams | None = None,
        rng: random.Random | None = None,
        *,
        now: float = 0.0,
    ) -> None:
        params = params if params is not None else LbParams()
        assign_ids(servers)
        self.lb = Lbprm(servers, params)
        self.params = params
        self.algorithm = algorithm_class(params)(self.lb, rng)
        for s in self.lb.servers:
            s.next_eweight = self.lb.eweight(s, now)
            s.commit()
        self.lb.recount()
        self.algorithm.rebuild(self.lb.servers)

    @property
    def servers(self) -> list[Server]:
        return self.lb.servers

    def server(self, name: str) -> Server | None:
        return next((s for s in self.lb.servers if s.name == name), None)

    def server_by_id(self, puid: int) -> Server | None:
        return next((s for s in self.lb.servers if s.puid == puid), None)

    # -- picking -------------------------------------------------------------------------

    def assign(self, flow: Flow, now: float, avoid: Server | None = None) -> Server | Verdict:
        """assign_server's balancing part: the server for a new connection or request."""
        lb = self.lb
        if not lb.tot_weight:
            return NO_SERVER
        if lb.queued and lb.queued != lb.beconn and self.params.algorithm in _QUEUE_FIRST:
            return FULL
        server = self.algorithm.pick(lb.servers, flow, now, avoid)
        if server is None:
            return FULL
        self.balanced(server)
        return server

    def balanced(self, server: Server, n: int = 1) -> None:
        """assign_server counts each pick of the algorithm (not a persistence's or a
        `use-server`'s) in cum_lbconn, the backend's and the server's (src/backend.c)."""
        self.lb.lbconn += n
        server.lbconn += n

    def take_conn(self, server: Server) -> None:
        server.served += 1
        self.lb.served += 1
        self.algorithm.conn_taken(server)

    def drop_conn(self, server: Server) -> None:
        server.served -= 1
        self.lb.served -= 1
        self.algorithm.conn_dropped(server)

    # -- state changes -------------------------------------------------------------------

    def _propagate(self, server: Server, now: float) -> None:
        """srv_update_status for load balancing: recount, tell the algorithm, commit."""
        server.next_eweight = self.lb.eweight(server, now)
        if not server.lb_status_changed():
            return
        was, will = server.currently_usable(), server.willbe_usable()
        self.lb.recount()
        servers = self.lb.servers
        if will and not was:
            self.algorithm.server_up(servers, server)
        elif was and not will:
            self.algorithm.server_down(servers, server)
        elif was and will:
            self.algorithm.weight_changed(servers, server)
        server.commit()

    def mark_up(self, server: Server, now: float) -> None:
        """srv_set_running: up (in slowstart if it has one); ignored in maintenance."""
        if server.cur_admin & MAINT or server.next_state in (State.RUNNING, State.STARTING):
            return
        server.next_state = State.STARTING if server.slowstart > 0 else State.RUNNING
        server.last_change = now
        self._propagate(server, now)

    def mark_down(self, server: Server, now: float) -> None:
        """srv_set_stopped; ignored in maintenance."""
        self._set_state(server, State.STOPPED, now)

    def mark_stopping(self, server: Server, now: float) -> None:
        """srv_set_stopping: still up, but no new connections from load balancing (NOLB)."""
        self._set_state(server, State.STOPPING, now)

    def restore_state(self, server: Server, state: State, now: float) -> None:
        """The operational state a server-state file gives (src/server_state.c): RUNNING as
        srv_set_running (kept STARTING if it is), STOPPING / STOPPED as srv_set_stopping /
        _stopped, STARTING set as it is; all ignored in maintenance."""
        if state is State.RUNNING and server.next_state is State.STARTING:
            return
        self._set_state(server, state, now)

    def _set_state(self, server: Server, state: State, now: float) -> None:
        if server.cur_admin & MAINT or server.next_state is state:
            return
        server.next_state = state
        server.last_change = now
        self._propagate(server, now)

    def set_admin(self, server: Server, flags: Admin, now: float) -> None:
        """srv_set_admin_flag: maintenance (a MAINT flag) or drain (a DRAIN flag).

        Entering maintenance stops the server (srv_update_status: next_state STOPPED).
        """
        if not flags or server.next_admin & flags:
            return
        entering = flags & MAINT and not server.next_admin & MAINT
        server.next_admin |= flags
        if entering and server.next_state is not State.STOPPED:
            server.health_zeroed = True
            server.next_state = State.STOPPED
            server.last_change = now
        self._propagate(server, now)

    def clear_admin(self, server: Server, flags: Admin, now: float) -> None:
        """srv_clr_admin_flag: leave maintenance or drain.

        Leaving maintenance brings the server up at once (its checks restart at `rise`, as
        srv_update_status does); a runtime whose server tracks a down server, or whose agent
        says down, marks it down right after.
        """
        before = server.next_admin
        server.next_admin &= ~flags
        if server.next_admin == before:
            return
        if before & MAINT and not server.next_admin & MAINT:
            server.last_change = now
            server.next_state = State.STARTING if server.slowstart > 0 else State.RUNNING
        self._propagate(server, now)

    def set_weight(self, server: Server, weight: int, now: float) -> None:
        """A new user weight (0..256), checked by the caller (see `change_weight`)."""
        server.uweight = weight
        self._propagate(server, now)

    def recalc_eweight(self, server: Server, now: float) -> None:
        """server_recalc_eweight: the slowstart ramp, at every check of a starting server."""
        self._propagate(server, now)

    def change_weight(self, server: Server, text: str, now: float) -> str | None:
        """server_parse_weight_change_request: `set weight` / `set server B/S weight`.

        None on success, else HAProxy's message (with its trailing newline where it has one).
        """
        if not text:
            return "Require <weight> or <weight%>.\n"
        digits, end = strtol(text)
        if end == 0:
            return "Empty weight string empty or preceded by garbage"
        rest = text[end:]
        if rest == "%":
            if digits < 0:
                return "Relative weight must be positive.\n"
            weight = min(server.iweight * min(digits, 25600) // 100, SRV_UWGHT_MAX)
        elif digits < 0 or digits > SRV_UWGHT_MAX:
            return "Absolute weight can only be between 0 and 256 inclusive.\n"
        elif rest:
            return "Trailing garbage in weight string"
        else:
            weight = digits
        if weight and weight != server.iweight and not self.params.dynamic:
            return (
                "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n"
            )
        self.set_weight(server, weight, now)
        return None

    @staticmethod
    def weight_text(server: Server) -> str:
        """`get weight`: "<current> (initial <configured>)"."""
        return f"{server.uweight} (initial {server.iweight})"

    # -- membership ----------------------------------------------------------------------

    def add_server(self, server: Server, now: float) -> None:
        """`add server`: appended to the backend; up at once if its state says so.

        HAProxy adds servers only to backends whose algorithm is dynamic (the map of a static
        one is sized for the configured servers); ValueError with its message otherwise.
        """
        if not self.params.dynamic:
            raise ValueError(
                "Backend must use a dynamic load balancing to support dynamic servers."
            )
        if not server.puid:
            used = {s.puid for s in self.lb.servers}
            server.puid = next(i for i in range(1, len(used) + 2) if i not in used)
        self.lb.servers.append(server)
        server.cur_eweight = 0  # not usable yet: _propagate brings it up if it should be
        self.algorithm.server_added(self.lb.servers, server)
        self._propagate(server, now)

    def remove_server(self, server: Server) -> None:
        """`del server`: only a server in maintenance with no connection (ValueError with
        HAProxy's message otherwise, cli_parse_delete_server)."""
        if not server.cur_admin & MAINT:
            raise ValueError("Only servers in maintenance mode can be deleted.")
        if server.served or server.queued:
            raise ValueError("Server still has connections attached to it, cannot remove it.")
        index = self.lb.servers.index(server)
        del self.lb.servers[index]
        self.lb.recount()
        self.algorithm.server_removed(self.lb.servers, server, index)
