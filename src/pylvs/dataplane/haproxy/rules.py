"""The rules engine's side of the proxy runtime: the compiled rules the spec carries, the
process-wide state fetches read, and the live counters only the runtime knows.

`ProxiesSpec.rules` (model/proxy_spec.py) carries proto/rules/compiled.py's
`CompiledProxies`: every proxy's `ProxyRules` by name and the stick tables and pattern files
they use, compiled by config/haproxy/compile_rules.py.  `compiled(spec)` narrows it back
(an empty set for a spec built without a haproxy.cfg).  `ProxyRuntime` keeps it as
`runtime.rules` and builds one `proto.sample.Process` for all its streams
(`runtime.process`, see `process_for`): its `tables` are the runtime's stick tables (the
carrier's, which `show table` shows too), its `live` a `RuntimeLive` over the running
frontends, backends and servers (be_conn, nbsrv, connslots, srv_is_up, fe_sess_rate, ...,
src/backend.c and src/frontend.c's fetches).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from pylvs.model.proxy_spec import ConnFacts, ProxiesSpec
from pylvs.proto.rules.compiled import CompiledProxies
from pylvs.proto.sample.stream import Process, Session, Stream
from pylvs.proto.stick.data import FreqCtr
from pylvs.sched.haproxy.server import Server as LbServer
from pylvs.sched.haproxy.server import State

if TYPE_CHECKING:
    from .backend import BackendRuntime, ServerRuntime
    from .frontend import Frontend
    from .runtime import ProxyRuntime

RATE_PERIOD_MS = 1000  # HAProxy's *_sess_rate / *_req_rate: events over the last second


def compiled(spec: ProxiesSpec) -> CompiledProxies:
    """The spec's compiled rules (empty when it carries none)."""
    rules = spec.rules
    if rules is None:
        return CompiledProxies()
    if not isinstance(rules, CompiledProxies):
        raise TypeError(f"ProxiesSpec.rules is a {type(rules).__name__}, not CompiledProxies")
    return rules


class Rate:
    """A per-second event rate on the runtime's clock (HAProxy's freq_ctr over 1 s), with
    the events' total and the highest rate seen: for a frontend's requests, all three of
    proxy_inc_fe_req_ctr (req_tot, req_rate, req_rate_max in `show stat`)."""

    __slots__ = ("ctr", "peak", "total")

    def __init__(self) -> None:
        self.ctr = FreqCtr()
        self.total = 0
        self.peak = 0

    def count(self, now: float) -> None:
        self.total += 1
        ctr = self.ctr
        now_ms = int(now * 1000)
        if now_ms - ctr.curr_tick < RATE_PERIOD_MS:  # FreqCtr.update's common case, inline:
            ctr.curr_ctr += 1  # three of these per new connection
            rate = ctr.curr_ctr
        else:
            rate = ctr.update(RATE_PERIOD_MS, 1, now_ms)
        self.peak = max(self.peak, rate)

    def count_n(self, now: float, n: int) -> None:
        """`n` events now at once (a round's, counted together: the peak is the rate after
        the last of them, as counting them one by one in the same period gives)."""
        self.total += n
        rate = self.ctr.update(RATE_PERIOD_MS, n, int(now * 1000))
        self.peak = max(self.peak, rate)

    def read(self, now: float) -> int:
        return self.ctr.read(RATE_PERIOD_MS, int(now * 1000))


def process_for(runtime: ProxyRuntime, rules: CompiledProxies) -> Process:
    """The one Process of a runtime's streams (proc variables, tables, env, live counters)."""
    process = Process(
        env=rules.env or os.environ,
        hostname=socket.gethostname(),
        pid=os.getpid(),
        live=RuntimeLive(runtime),
    )
    process.tables = runtime.tables
    process.caches.update(runtime.caches)
    process.start = runtime.wall()
    rules.init_process(process)
    return process


class RuntimeLive:
    """proto.sample's `Live` over a running ProxyRuntime (None: no such proxy/server)."""

    def __init__(self, runtime: ProxyRuntime) -> None:
        self.rt = runtime

    def _now(self) -> float:
        return self.rt.ctx.clock()

    def backend_conn(self, backend: str) -> int | None:
        be = self.rt.backends.get(backend)
        return None if be is None else be.pool.lb.beconn

    def backend_queue(self, backend: str) -> int | None:
        """The backend's `totpend`: its own queue and its servers' (queue.c pendconn_add)."""
        be = self.rt.backends.get(backend)
        if be is None:
            return None
        return be.pool.lb.queued + sum(s.lb.queued for s in be.servers)

    def backend_servers_up(self, backend: str) -> int | None:
        """be_usable_srv (backend.c, `nbsrv`): the active servers load balancing may pick;
        with none, 1 for the backup in use, or every usable backup under allbackups."""
        be = self.rt.backends.get(backend)
        return None if be is None else be.pool.lb.usable_servers()

    def backend_free_slots(self, backend: str) -> int | None:
        """smp_fetch_connslots: free connection and queue slots of every server not stopped
        (backups and draining ones too), -1 when one of them has no maxconn or no maxqueue
        (unlimited)."""
        be = self.rt.backends.get(backend)
        if be is None:
            return None
        total = 0
        for s in be.servers:
            lb = s.lb
            if _stopped(lb):
                continue
            if not lb.maxconn or not lb.maxqueue:
                return -1
            total += (lb.maxconn - lb.served) + (lb.maxqueue - lb.queued)
        return total

    def backend_sess_rate(self, backend: str) -> int | None:
        be = self.rt.backends.get(backend)
        return None if be is None else be.sess_rate.read(self._now())

    def frontend_conn(self, frontend: str) -> int | None:
        fe = self.rt.frontends.get(frontend)
        return None if fe is None else fe.conns

    def frontend_sess_rate(self, frontend: str) -> int | None:
        fe = self.rt.frontends.get(frontend)
        return None if fe is None else fe.sess_rate.read(self._now())

    def frontend_req_rate(self, frontend: str) -> int | None:
        fe = self.rt.frontends.get(frontend)
        return None if fe is None else fe.req_rate.read(self._now())

    def listener_conn(self, frontend: str) -> int | None:
        fe = self.rt.frontends.get(frontend)
        return None if fe is None else fe.conns

    def server_conn(self, backend: str, server: str) -> int | None:
        s = self._srv(backend, server)
        return None if s is None else s.lb.served

    def server_queue(self, backend: str, server: str) -> int | None:
        s = self._srv(backend, server)
        return None if s is None else s.lb.queued

    def server_sess_rate(self, backend: str, server: str) -> int | None:
        s = self._srv(backend, server)
        return None if s is None else s.sess_rate.read(self._now())

    def server_up(self, backend: str, server: str) -> bool | None:
        """smp_fetch_srv_is_up: not stopped and not in maintenance (a draining server or
        one of weight 0 is up)."""
        s = self._srv(backend, server)
        return None if s is None else not _stopped(s.lb)

    def server_weight(self, backend: str, server: str) -> int | None:
        s = self._srv(backend, server)
        return None if s is None else s.lb.uweight

    def _srv(self, backend: str, server: str) -> ServerRuntime | None:
        be = self.rt.backends.get(backend)
        if be is None:
            return None
        return next((s for s in be.servers if s.spec.name == server), None)


def _stopped(lb: LbServer) -> bool:
    """SRV_ST_STOPPED as backend.c reads `cur_state` (maintenance stops a server)."""
    return lb.cur_state is State.STOPPED or lb.in_maintenance


def session_for(fe: Frontend, facts: ConnFacts, now: float, listener: str | None) -> Session:
    """A client connection of frontend `fe` as the rules see it (`listener`: the bind's
    name)."""
    rules = fe.rules
    assert rules is not None, "a frontend with rules to run has a carrier"
    f = facts
    sess = Session(fe.runtime.process, rules.ref, src=f.src, src_port=f.src_port, dst=f.dst,
                   dst_port=f.dst_port, listener=listener, accept_time=now)  # fmt: skip
    sess.pp_authority, sess.pp_unique_id = f.pp_authority, f.pp_unique_id
    return sess


def stream_for(fe: Frontend, facts: ConnFacts, backend: BackendRuntime, now: float) -> Stream:
    """A stream for the sticking rules of a connection that needed no rules before them."""
    stream = Stream(session_for(fe, facts, now, None), now=now)
    if backend.rules is not None:
        stream.backend = backend.rules.ref
    return stream
