"""One backend at run time: its Pool, queues, stick tables, timeouts and counters.

The balancing is sched/haproxy's `Pool` (HAProxy 2.6's algorithms and pick order); this adds
what src/backend.c, src/queue.c and src/stream.c do around it for a `mode tcp` stream:

* `route` (assign_server_and_queue): the sticking rules first (proto/stick: a stored server
  that may be used is the stream's, SF_DIRECT), else the algorithm; a server at its
  `maxconn` queues the stream on that server (up to `maxqueue`, else the algorithm again
  with `option redispatch`, else it fails); every server saturated queues it in the backend;
* `release` (sess_change_server + process_srv_queue): a server's connection ends and the
  oldest stream waiting for it (its own queue or the backend's) takes the slot;
* `grab` (pendconn_grab_from_px): a server that comes up takes streams from the backend
  queue up to its maxconn;
* idle timeouts: `timeout tunnel`, else the smaller of `timeout client` / `timeout server`
  (in mode tcp HAProxy refreshes both sides' timeouts on any activity: option
  independent-streams is off), `client-fin` / `server-fin` once a side is half-closed.
"""

from __future__ import annotations

import collections
import dataclasses
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.poller import USE_PUMP
from pylvs.model.dest import Destination
from pylvs.model.proxy_spec import BackendSpec, ConnFacts, ServerSpec
from pylvs.model.service import Address, RealServer
from pylvs.model.stats import Counters
from pylvs.proto.http.h1counters import H1Counters
from pylvs.proto.http2.counters import H2Counters
from pylvs.proto.relay import RelayParams
from pylvs.proto.rules.ruleset import ProxyRules
from pylvs.proto.rules.sticking import Sticking as StickRules
from pylvs.proto.sample.stream import Stream
from pylvs.proto.stick import (
    KeyFormat,
    KeyType,
    Sticking,
    StickTable,
    TableSpec,
    process_sticking_rules,
    process_store_rules,
)
from pylvs.sched.base import Flow
from pylvs.sched.haproxy import FULL, NO_SERVER, Admin, LbParams, Pool, Server, State
from pylvs.sched.haproxy.params import HashFunction, HashType

from . import cbalance
from .cbalance import MirroredPool
from .rules import Rate
from .tls_contexts import ServerTls

_RR_KIND = frozenset({"roundrobin", "static-rr", "random"})  # BE_LB_KIND_RR
# The algorithms that never look at the connection (sched/haproxy: only hashed.py's read
# the flow): they are handed one shared Flow instead of a new one per connection.
_FLOW_BLIND = frozenset({"roundrobin", "static-rr", "leastconn", "first", "random"})

if TYPE_CHECKING:
    from .session_queue import QueueingSession

# HAProxy's timers are 31-bit milliseconds; "no timeout" is an eternity.
ETERNITY = 0x7FFFFFFF / 1000.0
DEFAULT_CONNECT = 5.0  # the relay needs some connect limit; HAProxy warns without one


def seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000.0


def lb_params(spec: BackendSpec) -> LbParams:
    b = spec.balance
    return LbParams(
        algorithm=b.algorithm,
        hash_type=HashType(b.hash_type),
        hash_function=HashFunction(b.hash_function),
        avalanche=b.avalanche,
        draws=b.draws,
        uri_whole=b.uri_whole,
        uri_path_only=b.uri_path_only,
        uri_len=b.uri_len,
        uri_depth=b.uri_depth,
        name=b.name,
        use_domain_only=b.use_domain_only,
        check_post=b.check_post,
        expression=b.expression,
        hash_balance_factor=b.hash_balance_factor,
        allbackups=b.allbackups,
    )


def stick_table(spec: BackendSpec) -> StickTable | None:
    t = spec.stick_table
    if t is None:
        return None
    table = TableSpec(
        name=t.name,
        key=KeyFormat.of(KeyType(t.key_type), t.key_len),
        size=t.size,
        expire_ms=t.expire_ms,
        nopurge=t.nopurge,
        srvkey=t.srvkey,
        store=t.store,
    )
    return StickTable(table)


class ServerRuntime:
    """A server's spec, its balancing state and its counters."""

    __slots__ = (
        "connects",
        "counters",
        "dests",
        "dynamic",
        "failed_conns",
        "h2",
        "lb",
        "max_sess",
        "queue",
        "retries",
        "reuses",
        "sess_rate",
        "spec",
        "tls",
    )

    def __init__(self, spec: ServerSpec, *, dynamic: bool = False) -> None:
        self.spec = spec
        self.tls = ServerTls(spec)  # `ssl`: whether its traffic uses TLS, its context
        self.h2 = H2Counters()  # its HTTP/2 connections' (`proto h2`): the backend row's
        admin = Admin.FMAINT | Admin.CMAINT if spec.disabled else Admin.NONE
        if dynamic:  # `add server`: created in maintenance, stopped (cli_parse_add_server)
            admin |= Admin.FMAINT
        if spec.unresolved:  # `init-addr none`: maintenance "resolution" (srv_iterate_initaddr)
            admin |= Admin.RMAINT
        self.dynamic = dynamic
        self.lb = Server(
            spec.name,
            spec.weight,
            puid=spec.id,
            backup=spec.backup,
            maxconn=spec.maxconn,
            maxqueue=spec.maxqueue,
            minconn=spec.minconn,
            slowstart=(spec.slowstart_ms + 999) // 1000,  # srv_parse_slowstart rounds up
            non_stick=spec.non_stick,
            # srv_parse_disabled; `add server`'s servers start stopped too
            state=State.STOPPED if spec.disabled or dynamic or spec.unresolved else State.RUNNING,
            admin=admin,
        )
        self.counters = Counters()
        self.failed_conns = 0
        self.retries = 0
        self.connects = self.reuses = 0  # show stat's connect and reuse (BackendRuntime.connecting)
        self.max_sess = 0
        self.sess_rate = Rate()  # srv_sess_rate
        self.queue: collections.deque[QueueingSession] = collections.deque()
        self.dests: dict[int, Destination] = {}

    def set_address(self, address: Address | None, port: int | None) -> None:
        """New connections go to `address`:`port` (`set server B/S addr|port`, a state
        file's port); live ones stay where they are."""
        host = str(address) if address is not None else self.spec.host
        self.spec = dataclasses.replace(self.spec, address=address, host=host, port=port)
        self.dests.clear()

    def dest(self, port: int, dst: Address | None = None) -> Destination:
        """The connection table's destination for this server and port (a port-less server
        has one per destination port; `dst`: the client's destination, for a transparent
        backend's target, which has no address)."""
        address = self.spec.address or dst
        assert address is not None
        if self.spec.address is None:
            return Destination(RealServer(address, port, 1))
        d = self.dests.get(port)
        if d is None:
            d = self.dests[port] = Destination(RealServer(address, port, 1))
        return d

    def full(self, pool: Pool, now: float) -> bool:
        """The server is at its (dynamic) maxconn: srv_dynamic_maxconn, which scales
        `minconn`..`maxconn` with the backend's load against `fullconn`, and slowstart."""
        lb = self.lb
        return bool(lb.maxconn) and lb.served >= pool.lb.dynamic_maxconn(lb, now)


class BackendRuntime:
    def __init__(
        self,
        spec: BackendSpec,
        tables: dict[str, StickTable],
        *,
        rng: random.Random | None = None,
        now: float = 0.0,
        rules: ProxyRules | None = None,
    ) -> None:
        self.spec = spec
        self.servers = [ServerRuntime(s) for s in spec.servers]
        self.by_lb: dict[int, ServerRuntime] = {id(s.lb): s for s in self.servers}
        params, members = lb_params(spec), [s.lb for s in self.servers]
        # With the C pump, roundrobin / static-rr / leastconn / first picks are made in C
        # (cbalance.py).
        pool_class = MirroredPool if USE_PUMP and cbalance.worth_it(params, members) else Pool
        self.pool = pool_class(members, params, rng, now=now)
        # dispatch / option transparent: every stream's target, outside the pool and the
        # stats (config/haproxy/convert_dispatch.py)
        self.dispatch = ServerRuntime(spec.dispatch) if spec.dispatch is not None else None
        if self.dispatch is not None:
            self.by_lb[id(self.dispatch.lb)] = self.dispatch
        self.blind_flow: Flow | None = None  # set by the first `assign` of a flow-blind one
        self.flow_blind = spec.balance.algorithm in _FLOW_BLIND
        for srv in self.servers:
            srv.lb.last_change = now
        self.counters = Counters()
        self.h1 = H1Counters()  # its HTTP/1 server connections' (show stat's h1_* columns)
        self.queue: collections.deque[QueueingSession] = collections.deque()
        self.relay = RelayParams(
            connect_timeout=seconds(spec.connect_ms) or DEFAULT_CONNECT,
        )
        self.connect_s = seconds(spec.connect_ms) or DEFAULT_CONNECT
        self.queue_s = seconds(spec.queue_ms if spec.queue_ms is not None else spec.connect_ms)
        self.server_s = seconds(spec.server_ms)
        self.server_fin_s = seconds(spec.server_fin_ms)
        self.tunnel_s = seconds(spec.tunnel_ms)
        # The backend's compiled rules (the carrier's) and its `stick` rules over the tables.
        self.rules = rules
        self.sticking = StickRules.of(rules.stick, tables) if rules and rules.stick else None
        self._idle: dict[tuple[float | None, float | None], tuple[float, float]] = {}
        self.failed_conns = 0
        self.retries = 0
        self.redispatches = 0
        self.denied_resp = 0  # streams a tcp-response content rule rejected
        self.sess_rate = Rate()  # be_sess_rate
        # stot and smax: the streams that came here (stream_set_backend's proxy_inc_be_ctr,
        # whether balanced or answered by the backend's rules) and the most at once
        self.cum_conn = self.conn_max = 0
        self.connects = self.reuses = 0  # show stat's connect and reuse (`connecting`)
        self.clock: Callable[[], float] = lambda: now

    def redispatches_on(self, server: Server, retries: int, *, direct: bool) -> bool:
        """Whether retry number `retries` goes to another server (src/backend.c
        sess_update_st_cer: `option redispatch` with its interval, a stopped server, or a
        round-robin kind backend with another active server, for a stream not sent to its
        server by persistence)."""
        spec = self.spec
        interval = spec.redispatch_interval
        return spec.redispatch and (
            server.cur_state is State.STOPPED
            or (interval > 0 and retries % interval == 0)
            or (interval < 0 and retries % (spec.retries + 1 + interval) == 0)
            or (not direct and self.active_servers > 1 and self.pool.params.algorithm in _RR_KIND)
        )

    def set_fullconn(self, frontends_maxconn: int) -> None:
        """`fullconn`, else HAProxy's default: 10% of the maxconn of the frontends that
        reach the backend, rounded up (proxy.c: (tot_fe_maxconn + 9) / 10), at least 1."""
        self.pool.lb.fullconn = self.spec.fullconn or max(1, (frontends_maxconn + 9) // 10)

    def enter(self) -> None:
        """A stream comes to this backend (beconn counts it, queued or not)."""
        lb = self.pool.lb
        lb.beconn += 1
        self.cum_conn += 1
        self.conn_max = max(self.conn_max, lb.beconn)
        self.sess_rate.count(self.clock())

    def connecting(self, srv: ServerRuntime | None, reused: bool, n: int = 1) -> None:
        """A stream's connection to its server (`n` streams'), new or reused:
        connect_server counts it in the backend's and the server's `connect` or `reuse`
        (src/backend.c)."""
        if reused:
            self.reuses += n
            if srv is not None:
                srv.reuses += n
        else:
            self.connects += n
            if srv is not None:
                srv.connects += n

    def visited(self) -> None:
        """A stream came here and left at once (the backend's rules answered it)."""
        self.enter()
        self.leave()

    def leave(self) -> None:
        self.pool.lb.beconn -= 1

    # -- the sticking rules' view of the servers (proto/stick Servers) ---------------------

    def server(self, name: str) -> Server | None:
        return self.pool.server(name)

    def server_by_id(self, puid: int) -> Server | None:
        return self.pool.server_by_id(puid)

    def server_by_addr(self, addr: str) -> Server | None:
        for s in self.servers:
            if self.address(s.lb) == addr:
                return s.lb
        return None

    def address(self, server: Server) -> str:
        s = self.by_lb[id(server)].spec
        return s.host if s.port is None else f"{s.host}:{s.port}"

    # -- timeouts ----------------------------------------------------------------------

    def idle(self, client_s: float | None, client_fin_s: float | None) -> tuple[float, float]:
        """(idle timeout while both sides are open, once one side is half-closed)."""
        key = (client_s, client_fin_s)
        known = self._idle.get(key)  # a frontend's streams ask the same, once each
        if known is None:
            known = self._idle[key] = self._idle_of(client_s, client_fin_s)
        return known

    def _idle_of(self, client_s: float | None, client_fin_s: float | None) -> tuple[float, float]:
        if self.tunnel_s is not None:
            return self.tunnel_s, self.tunnel_s
        both = _smallest(client_s, self.server_s)
        fin = _smallest(
            client_fin_s if client_fin_s is not None else client_s,
            self.server_fin_s if self.server_fin_s is not None else self.server_s,
        )
        return both, fin

    # -- routing ---------------------------------------------------------------------

    def stick(self, stream: Stream, now: float, assigned: Server | None) -> Sticking | None:
        """The sticking rules for a new stream (process_sticking_rules: matches unless
        `use-server` already `assigned` a server, and the stores it prepares)."""
        rules = self.sticking
        if rules is None:
            return None
        force, _ignore = self.persistence(stream)
        return process_sticking_rules(
            rules.request_rules,
            rules.evaluate(stream),
            self,
            now,
            persist=self.spec.persist,
            force_persist=force,
            assigned=assigned,
        )

    def persistence(self, stream: Stream) -> tuple[bool, bool]:
        """(force, ignore): the backend's `force-persist` / `ignore-persist` rules on
        `stream` (a down server still taken / the persistence cookie ignored)."""
        return (False, False) if self.rules is None else self.rules.persistence(stream)

    def store(self, sticking: Sticking, stream: Stream, server: Server, now: float) -> None:
        """The connection to `server` is up: the `stick store-response` rules (evaluated on
        the stream as it is then) and every prepared store (process_store_rules)."""
        rules = self.sticking
        assert rules is not None
        process_store_rules(
            sticking,
            server,
            self,
            now,
            response_rules=rules.response_rules,
            evaluate=rules.evaluate(stream),
        )

    def assign(self, facts: ConnFacts, now: float, avoid: Server | None) -> Server | bool | None:
        """The algorithm's server; None: no usable server; True: all are full (queue)."""
        if self.dispatch is not None:
            return self.dispatch.lb
        flow = self.blind_flow
        if flow is None:
            flow = Flow(facts.src, facts.src_port, facts.dst, facts.dst_port, 6)
            if self.flow_blind:
                self.blind_flow = flow
        got = self.pool.assign(flow, now, avoid)
        if got is NO_SERVER:
            return None
        if got is FULL:
            return True
        assert isinstance(got, Server)
        return got

    def servers_changed(self) -> None:
        """A server joined or left, or its `maxconn` or address changed (the stats
        socket): what picks and connects in C learns it (cbalance.MirroredPool.resync)."""
        if isinstance(self.pool, MirroredPool):
            self.pool.resync()

    def runtime_of(self, server: Server) -> ServerRuntime:
        return self.by_lb[id(server)]

    def take(self, server: Server) -> None:
        if self.dispatch is not None and server is self.dispatch.lb:
            server.served += 1  # not the pool's: no algorithm state, no queue
        else:
            self.pool.take_conn(server)
        self.counters.conns += 1
        srv = self.runtime_of(server)
        srv.counters.conns += 1
        srv.sess_rate.count(self.clock())
        srv.max_sess = max(srv.max_sess, server.served)

    def served_many(self, server: Server, n: int) -> None:
        """`n` streams that came here, took `server` and left it within one round of the
        pump (own.py's tallies): `enter`, `take`, `release`, `leave` n times, at once.  Not
        for a pool whose picks read live counts (leastconn, first: each take is a C pick's,
        cbalance.MirroredPool.picked_in_c), whose streams are taken one by one."""
        now = self.clock()
        self.sess_rate.count_n(now, n)
        self.cum_conn += n  # (enter's counts)
        self.conn_max = max(self.conn_max, self.pool.lb.beconn + 1)
        self.pool.balanced(server, n)  # C's picks
        self.pool.take_conn(server)  # what the algorithm sees of one; served comes back
        self.counters.conns += n
        srv = self.runtime_of(server)
        srv.counters.conns += n
        srv.sess_rate.count_n(now, n)
        srv.max_sess = max(srv.max_sess, server.served)
        self.release(server)

    def release(self, server: Server) -> None:
        """A stream leaves `server`: the slot goes to the oldest stream waiting for it."""
        if self.dispatch is not None and server is self.dispatch.lb:
            server.served -= 1
            return
        self.pool.drop_conn(server)
        self.process_queue(self.runtime_of(server))

    def process_queue(self, srv: ServerRuntime) -> None:
        """process_srv_queue: hand free slots of `srv` to waiting streams, oldest first."""
        now = self.clock()
        while (
            (srv.queue or self.queue) and not srv.full(self.pool, now) and srv.lb.currently_usable()
        ):
            own = srv.queue[0] if srv.queue else None
            shared = self.queue[0] if self.queue else None
            if own is not None and (shared is None or own.queued_at <= shared.queued_at):
                session = srv.queue.popleft()
                srv.lb.queued -= 1
                self._queue_changed(srv.lb)
            else:
                assert shared is not None
                session = self.queue.popleft()
            self.pool.lb.queued -= 1
            session.dequeued(srv.lb)

    def enqueue(self, session: QueueingSession, server: Server | None) -> bool:
        """Queue `session` on `server` (None: the backend); False if the server's queue is
        at its `maxqueue`."""
        if server is not None:
            srv = self.runtime_of(server)
            if server.maxqueue and server.queued >= server.maxqueue:
                return False
            srv.queue.append(session)
            server.queued += 1
            self._queue_changed(server)
        else:
            self.queue.append(session)
        self.pool.lb.queued += 1
        return True

    def unqueue(self, session: QueueingSession, server: Server | None) -> None:
        """A queued stream gives up (timeout queue, client gone)."""
        queue = self.queue if server is None else self.runtime_of(server).queue
        try:
            queue.remove(session)
        except ValueError:
            return
        if server is not None:
            server.queued -= 1
            self._queue_changed(server)
        self.pool.lb.queued -= 1

    def _queue_changed(self, server: Server) -> None:
        """A server's queue length moved: leastconn's and first's C picks read it."""
        if isinstance(self.pool, MirroredPool):
            self.pool.queue_changed(server)

    def grab(self) -> None:
        """Usable servers take what the backend queue holds (pendconn_grab_from_px)."""
        for srv in self.servers:
            if self.queue or srv.queue:
                self.process_queue(srv)

    @property
    def active_servers(self) -> int:
        """srv_act: usable non-backup servers."""
        return sum(1 for s in self.servers if not s.lb.backup and s.lb.currently_usable())

    def add_server(self, spec: ServerSpec, now: float) -> ServerRuntime:
        """`add server`: a server appended in maintenance (ValueError: HAProxy's message)."""
        srv = ServerRuntime(spec, dynamic=True)
        srv.lb.last_change = now
        self.pool.add_server(srv.lb, now)
        self.servers.append(srv)
        self.by_lb[id(srv.lb)] = srv
        self.servers_changed()
        return srv

    def remove_server(self, name: str) -> None:
        """`del server` (ValueError: HAProxy's message, cli_parse_delete_server)."""
        srv = next(s for s in self.servers if s.spec.name == name)
        if srv.queue:
            raise ValueError("Server still has connections attached to it, cannot remove it.")
        self.pool.remove_server(srv.lb)
        self.servers.remove(srv)
        del self.by_lb[id(srv.lb)]
        self.servers_changed()

    def mark(self, name: str, up: bool, now: float) -> bool:
        """A check result (the check engine's hook): False if there is no such server."""
        server = self.pool.server(name)
        if server is None:
            return False
        if up:
            self.pool.mark_up(server, now)
            self.grab()
        else:
            self.pool.mark_down(server, now)
        return True


def _smallest(*values: float | None) -> float:
    known = [v for v in values if v is not None]
    return min(known) if known else ETERNITY
