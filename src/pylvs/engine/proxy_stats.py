"""The live HAProxy runtime behind the stats socket and page: `StatsSource` and `ProxyAdmin`
(control/haproxy/admin.py) over dataplane/haproxy's `ProxyRuntime`.

`snapshot()` reads the runtime as HAProxy's stats.c reads its structs: frontends (live and
maximum streams, bytes, denied connections), backends (sched/haproxy's balancer state through
control/haproxy/from_pool, streams, retries, redispatches, failed connections, bytes summed
over its servers) and servers (state, weights, served and queued streams, counters); the
relay's byte counts are brought up to date first (the C pump keeps its own until harvested).
Times are on the wall clock (HAProxy's `now`).  A proxy the runtime does not serve itself
(a stats page's `listen`) is shown from its spec, with the page's own counts (`count_page`).

The admin side applies what the command set decided (the FakeRuntime is its reference):
maintenance, drain and ready (srv_adm_set_*: leaving maintenance takes queued streams),
weights, health and agent results (the same path as the checks' hook), maxconn, shutting
sessions down, frontends paused, resumed or stopped, maxconn of frontends and the process,
and clearing counters, `add server` (the words read by the configuration's server-line
reader, which the daemon passes in from its config source: config/haproxy/dynamic.py) and
`del server` (src/server.c cli_parse_add_server / cli_parse_delete_server).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pylvs.control.haproxy import promex
from pylvs.control.haproxy.admin import ErrorLog
from pylvs.control.haproxy.commands import Extension
from pylvs.control.haproxy.from_pool import admin_transition, backend_lb, server_lb
from pylvs.control.haproxy.peers import PeersView
from pylvs.control.stats_http import PageExchange
from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
from pylvs.dataplane.haproxy.frontend import Frontend
from pylvs.dataplane.haproxy.http.exchange import Exchange
from pylvs.dataplane.haproxy.http.own import H1View
from pylvs.dataplane.haproxy.ratelimit import AcceptRates
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.dataplane.haproxy.tls import TlsCounters
from pylvs.dataplane.haproxy.tls_hooks import server_tls_modules, tls_modules
from pylvs.engine.dynamic_servers import DynamicServers, ServerLine, no_dynamic_servers
from pylvs.engine.http_stats import HttpStats
from pylvs.engine.proxy_checks import ProxyChecks
from pylvs.engine.session_views import http_view, tcp_view
from pylvs.model.proxies import (
    NO_CHECK,
    BackendView,
    CheckView,
    Counters,
    FrontendView,
    ModuleCounters,
    ProcessInfo,
    ProxiesSnapshot,
    ProxyView,
    ServerView,
    SessionView,
)
from pylvs.model.proxy_spec import FrontendSpec, ServerSpec
from pylvs.model.resolvers import ResolversSpec
from pylvs.proto.cache.store import HttpCache
from pylvs.proto.check.server import ServerHealth
from pylvs.proto.http.answers import raw_page
from pylvs.proto.rules.compiled import proc_var, set_proc_var
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.types import Smp
from pylvs.proto.stick import StickTable
from pylvs.proto.stick.table import ms
from pylvs.proto.tls_store import CaStore
from pylvs.sched.haproxy.server import Admin

if TYPE_CHECKING:
    from pylvs.engine.proxy_resolvers import ProxyResolvers

# A dynamic server's check never ran: its health starts at 0 (srv_init_addr's "none").
DYNAMIC_NO_CHECK = dataclasses.replace(NO_CHECK, health=0)


class LiveProxies:
    """StatsSource + ProxyAdmin over one ProxyRuntime (see the module doc)."""

    def __init__(
        self,
        runtime: ProxyRuntime,
        checks: ProxyChecks | None = None,
        server_line: ServerLine = no_dynamic_servers,
    ) -> None:
        self.rt = runtime
        self.checks = checks  # the running health checks (engine/proxy_checks.py)
        self.dynamic = DynamicServers(runtime, checks, server_line)  # add / del server
        self.started = time.time()
        self.page: dict[str, Counters] = {}  # counts of the stats pages' proxies
        self.checks_enabled: dict[tuple[str, str, bool], bool] = {}
        # HTTP counts by name, fed by the mode http driver (engine/http_stats.py)
        self.http = HttpStats(runtime.frontends, runtime.ctx.clock)
        runtime.http.on_end.append(self.http.exchange_ended)  # the mode http driver's hook
        runtime.http.count = self.http.served  # the same, for the pump's exchange engine
        runtime.http.tally = self.http.tallied  # and for its tallies (own.py)
        for (be, srv), r in runtime.restored.items():  # `disable health|agent` kept
            if r.check_disabled:
                self.checks_enabled[be, srv, False] = False
            if r.agent_disabled:
                self.checks_enabled[be, srv, True] = False
        runtime.http.services["prometheus-exporter"] = self._promex
        self.ids = {f.name: f.id for f in runtime.spec.frontends}
        self.ids.update({b.name: b.id for b in runtime.spec.backends})
        # commands added to the stats socket's (Lua's core.register_cli: engine/lua)
        self.cli_extensions: list[Extension] = []
        # the `resolvers` sections' run-time DNS (engine/proxy_resolvers.py), when any
        self.resolvers: ProxyResolvers | None = None

    # -- StatsSource -------------------------------------------------------------------

    def _wall(self, t: float) -> float:
        return t + self.rt.wall_offset

    def snapshot(self) -> ProxiesSnapshot:
        rt = self.rt
        poller = rt.ctx.current_poller
        if poller is not None:
            poller.harvest()
        # Configuration order: ids were given in it.
        views = [self._proxy(name) for name in sorted(self.ids, key=self.ids.__getitem__)]
        info = ProcessInfo(
            pid=os.getpid(),
            started=self.started,
            maxconn=rt.maxconn,
            hard_maxconn=rt.maxconn,
            curr_conns=rt.conns,
            cum_conns=rt.rates.conns.total,  # totalconn: every accepted connection
            listeners=sum(len(fe.listeners) for fe in rt.frontends.values()),
            ulimit_n=rt.spec.ulimit_n or 0,
            dropped_logs=rt.logger.dropped,
            # every spliced byte sent, both ways (the H1 modules' h1_spliced_bytes_out)
            total_spliced_bytes_out=sum(fe.h1.spliced_out for fe in rt.frontends.values())
            + sum(be.h1.spliced_out for be in rt.backends.values()),
            pipes_used=rt.http.pipes.used,
        )
        info = _with_rates(_with_ssl(info, rt.tls.counts, rt.ctx.clock()), rt.rates, rt.ctx.clock())
        return ProxiesSnapshot(now=self.rt.wall(), info=info, proxies=tuple(views))

    def _proxy(self, name: str) -> ProxyView:
        rt = self.rt
        fe_spec = rt.spec.frontend(name)
        be = rt.backends.get(name)
        fe = rt.frontends.get(name)
        frontend = None
        be_spec = rt.spec.backend(name)
        mode = fe_spec.mode if fe_spec is not None else be_spec.mode if be_spec else "tcp"
        if fe is not None:
            frontend = self._frontend(fe)
        elif fe_spec is not None:
            frontend = self._page_frontend(fe_spec)
        backend = None
        servers: tuple[ServerView, ...] = ()
        if be is not None:
            backend = self._backend(be)
            servers = tuple(self._server(be, s) for s in be.servers)
        return ProxyView(
            name=name,
            id=self.ids[name],
            mode=mode,
            frontend=frontend,
            backend=backend,
            servers=servers,
        )

    def _frontend(self, fe: Frontend) -> FrontendView:
        c = fe.counters
        http, req_rate = self.http.frontend(fe.spec.name)
        dreq, dresp = self.http.denials(fe.spec.name)
        counters = Counters(
            http=http,
            sess_max=fe.max_conns,
            # A stream refused by tcp-request content rules was a session (session.c counts
            # it once the session rules pass); every accepted connection is in conn_tot.
            cum_sess=fe.total + fe.denied_req,
            cum_conn=fe.conn_rate.total,  # proxy_inc_fe_conn_ctr: every accepted connection
            bytes_in=c.inbytes,
            bytes_out=c.outbytes,
            denied_conn=fe.denied,
            denied_sess=fe.denied_sess,
            denied_req=fe.denied_req + dreq,
            denied_resp=dresp + fe.denied_resp,  # HTTP rules' and tcp-response rules'
            failed_rewrites=self.http.rewrites(fe.spec.name),
            internal_errors=self.http.internal_errors(fe.spec.name),
            sps_max=fe.sess_rate.peak,
            cps_max=fe.conn_rate.peak,
            **self.http.compression(fe.spec.name),
        )
        stopped = all(lst.closed for lst in fe.listeners) and bool(fe.listeners)
        now = self.rt.ctx.clock()
        return FrontendView(
            feconn=fe.conns,
            maxconn=fe.maxconn or self.rt.maxconn,
            stopped=stopped,
            paused=fe.admin_paused,
            rate=fe.sess_rate.read(now),
            conn_rate=fe.conn_rate.read(now),
            rate_limit=fe.spec.rate_limit,
            req_rate=req_rate,
            counters=counters,
            modules=ModuleCounters(ssl=tls_modules(fe).ssl, h2=fe.h2.values(), h1=fe.h1.values()),
        )

    def _page_frontend(self, spec: FrontendSpec) -> FrontendView:
        return FrontendView(
            maxconn=spec.maxconn or self.rt.maxconn, counters=self.page.get(spec.name, Counters())
        )

    def _backend(self, be: BackendRuntime) -> BackendView:
        # its servers', and an HTTP stream's that had none (http/sizes.settle)
        inb = be.counters.inbytes + sum(s.counters.inbytes for s in be.servers)
        outb = be.counters.outbytes + sum(s.counters.outbytes for s in be.servers)
        dreq, dresp = self.http.denials(None, be.spec.name)
        counters = Counters(
            http=self.http.backend(be.spec.name),
            failed_rewrites=self.http.rewrites(None, be.spec.name),
            internal_errors=self.http.internal_errors(None, be.spec.name),
            denied_req=dreq,
            denied_resp=dresp + be.denied_resp,  # HTTP rules' and tcp-response rules'
            cum_conn=be.cum_conn,
            cum_lbconn=be.pool.lb.lbconn,
            sess_max=be.conn_max,
            connect=be.connects,
            reuse=be.reuses,
            bytes_in=inb,
            bytes_out=outb,
            failed_conns=be.failed_conns,
            retries=be.retries,
            redispatches=be.redispatches,
            **self.http.compression(None, be.spec.name),
        )
        history = self.checks.backends.get(be.spec.name) if self.checks is not None else None
        changed = history.last_change if history is not None else None
        return BackendView(
            cookie=be.spec.cookie.name if be.spec.cookie is not None else None,
            fullconn=be.pool.lb.fullconn,
            counters=counters,
            last_change=self.started if changed is None else self._wall(changed),
            down_trans=history.down_trans if history is not None else 0,
            down_time=history.down_time if history is not None else 0,
            modules=ModuleCounters(h2=backend_h2(be), h1=be.h1.values()),
            **backend_lb(be.pool),
        )

    def _server(self, be: BackendRuntime, srv: ServerRuntime) -> ServerView:
        spec: ServerSpec = srv.spec
        c = srv.counters
        counters = Counters(
            http=self.http.server(be.spec.name, spec.name),
            failed_rewrites=self.http.rewrites(None, be.spec.name, spec.name),
            internal_errors=self.http.internal_errors(None, be.spec.name, spec.name),
            denied_resp=self.http.denials(None, be.spec.name, spec.name)[1],
            sess_max=srv.max_sess,
            cum_sess=c.conns,
            cum_lbconn=srv.lb.lbconn,
            bytes_in=c.inbytes,
            bytes_out=c.outbytes,
            failed_conns=srv.failed_conns,
            retries=srv.retries,
            connect=srv.connects,
            reuse=srv.reuses,
        )
        view = server_lb(srv.lb)
        view.update(self._pool_gauges(be, srv))
        view["last_change"] = self._wall(srv.lb.last_change)
        family = "ipv6" if spec.address is not None and spec.address.version == 6 else "ipv4"
        srvrecord = spec.resolve.srv_record if spec.resolve is not None else None
        if spec.address is None and (spec.fqdn is not None or srvrecord is not None):
            family = ""  # a name `init-addr none` (or an SRV record) left without an address
        out = ServerView(
            **view,
            addr=spec.host,
            family=family,
            port=spec.port or 0,
            fqdn=spec.fqdn,
            srvrecord=srvrecord,
            cookie=spec.cookie,  # sv->cookie: the cookie column with legends (stats.c)
            counters=counters,
            check=self._check(be, srv) if not srv.dynamic else DYNAMIC_NO_CHECK,
            use_ssl=srv.tls.use_ssl,
            modules=server_tls_modules(srv),
        )
        sh = self._health(be.spec.name, spec.name)
        if sh is not None and self.checks is not None:
            return self.checks.server_view(out, sh)
        return out

    def _pool_gauges(self, be: BackendRuntime, srv: ServerRuntime) -> dict[str, int]:
        """The server's connections in its backend's HTTP pool (http/server_side.py): idle,
        safe, used and the estimated need (est_need_conns: the most used at once), summed
        over its keys (one per PROXY header); a mode tcp backend's are its streams'."""
        got = [0, 0, 0, 0]
        for conns in self.rt.http.all_connections():
            if conns.be is not be:
                continue
            for key in conns.pool.servers():
                if key is srv or (isinstance(key, tuple) and key[0] is srv):
                    got = [a + b for a, b in zip(got, conns.pool.gauges(key), strict=True)]
        idle, safe, used, need = got
        if be.spec.mode == "tcp":  # a stream, a connection (conn_new's srv_use_conn): no pool
            used, need = used + srv.lb.served, max(need, srv.max_sess)
        return {
            "idle_cur": idle + safe,  # curr_idle_conns
            "idle_unsafe": idle,
            "idle_safe": safe,
            "used_conns": used,
            "need_conns": need,
        }

    def _health(self, backend: str, server: str) -> ServerHealth | None:
        return self.checks.health(backend, server) if self.checks is not None else None

    def _check(self, be: BackendRuntime, srv: ServerRuntime) -> CheckView:
        spec = srv.spec
        c = spec.check
        if not c.enabled:  # the check's thresholds are set all the same (show servers state)
            # srv_parse_disabled zeroes it, and so does maintenance "resolution" at start;
            # a server-state file sets it (srv_state_srv_update), checked or not
            health = 0 if spec.disabled or spec.unresolved else c.rise
            restored = self.rt.restored.get((be.spec.name, spec.name))
            if restored is not None:
                health = restored.check_health
            if srv.lb.health_zeroed:  # maintenance zeroed it (server.c srv_update_status)
                health = 0
            return dataclasses.replace(NO_CHECK, rise=c.rise, fall=c.fall, health=health)
        enabled = self.checks_enabled.get((be.spec.name, spec.name, False), True)
        return CheckView(enabled=enabled, rise=c.rise, fall=c.fall, health=c.rise, port=c.port or 0)

    def sessions(self) -> Sequence[SessionView]:
        """Every stream, mode tcp and http (engine/session_views.py)."""
        out = [tcp_view(s, self._wall) for s in self.rt.sessions()]
        for h in self.rt.http_sessions():
            view = http_view(h, self._wall)
            if view is not None:
                out.append(view)
        return out

    def errors(self) -> ErrorLog:
        """The invalid requests and responses mode http streams captured (http/state.py)."""
        http = self.rt.http
        captures = sorted(http.captures.values(), key=lambda c: c.event)
        return ErrorLog(total=http.events, captures=tuple(captures))

    def metrics(self, target: bytes) -> str | None:
        """`use-service prometheus-exporter`'s exposition for a request target (None: the
        query is refused with HAProxy's 400), control/haproxy/promex.py."""
        query = promex.parse_query(target)
        if query is None:
            return None
        return promex.render(self.snapshot(), self.tables(), query)

    def _promex(self, x: Exchange) -> bytes:
        return self.promex_answer(x.frontend, x.request.target if x.request else b"/")

    def promex_answer(self, frontend: str, target: bytes) -> bytes:
        """The whole HTTP/1.1 response of `use-service prometheus-exporter` (the driver's
        `services` entry): promex_send_headers' fields with the exposition (its length given
        instead of chunks: a scraper reads the same bytes), or HAProxy's 400 page for a query
        it refuses (promex_parse_uri).  A HEAD gets the head only (the writer's rule); the
        frontend counts the request as intercepted when its own rules chose the service
        (the rule sets it on the exchange: http_stats.py)."""
        text = self.metrics(target)
        if text is None:
            return raw_page(400)
        body = text.encode()
        fields = [n + b": " + v for n, v in promex.HEAD_FIELDS if n != b"transfer-encoding"]
        head = b"\r\n".join([b"HTTP/1.1 200 OK", *fields, b"content-length: %d" % len(body)])
        return head + b"\r\n\r\n" + body

    def tables(self) -> Sequence[StickTable]:
        return list(self.rt.tables.values())

    def patterns(self) -> PatternStore:
        return self.rt.rules.patterns

    def table_now(self) -> float:
        return self.rt.ctx.clock()  # the tables' clock: the runtime's (monotonic)

    def peers(self) -> Sequence[PeersView]:
        now = ms(self.rt.ctx.clock())
        drivers = self.rt.peers.drivers if self.rt.peers is not None else []
        return [PeersView(d.section, d.last_change, now) for d in drivers]

    def proc_var(self, name: str) -> Smp | None:
        return proc_var(self.rt.process, name)

    def resolvers_counters(self) -> Sequence[tuple[ResolversSpec, Sequence[Mapping[str, int]]]]:
        """Sections no server resolves with count nothing (their runtime is not made)."""
        live = self.resolvers
        sections = []
        for spec in self.rt.spec.resolvers:
            got = live.counters(spec.name) if live is not None else None
            sections.append((spec, got or [{} for _ in spec.nameservers]))
        return sections

    def caches(self) -> tuple[Sequence[HttpCache], int]:
        return list(self.rt.caches.values()), int(self.rt.wall())

    # -- ProxyAdmin --------------------------------------------------------------------

    def _pair(self, backend: str, server: str) -> tuple[BackendRuntime, ServerRuntime]:
        be = self.rt.backends[backend]
        srv = next(s for s in be.servers if s.spec.name == server)
        return be, srv

    def set_server_state(self, backend: str, server: str, state: str) -> None:
        sh = self._health(backend, server)
        if sh is not None and self.checks is not None:
            self.checks.set_state(sh, state)
            return
        be, srv = self._pair(backend, server)
        now = self.rt.ctx.clock()
        add, remove = admin_transition(state)
        be.pool.clear_admin(srv.lb, remove, now)
        be.pool.set_admin(srv.lb, add, now)
        be.grab()

    def set_server_weight(self, backend: str, server: str, text: str) -> str | None:
        sh = self._health(backend, server)
        if sh is not None and self.checks is not None:
            return self.checks.set_weight(sh, text)
        be, srv = self._pair(backend, server)
        return be.pool.change_weight(srv.lb, text, self.rt.ctx.clock())

    def set_server_health(self, backend: str, server: str, health: str) -> None:
        sh = self._health(backend, server)
        if sh is not None and self.checks is not None:
            self.checks.set_health(sh, health)
            return
        be, srv = self._pair(backend, server)
        now = self.rt.ctx.clock()
        if health == "stopping":
            be.pool.mark_stopping(srv.lb, now)
        else:
            be.mark(server, health == "up", now)

    def set_server_agent(self, backend: str, server: str, state: str) -> None:
        sh = self._health(backend, server)
        if sh is not None and self.checks is not None:
            self.checks.set_agent(sh, state)
            return
        self.set_server_health(backend, server, "up" if state == "up" else "down")

    def tls_store(self) -> CaStore:
        return self.rt.tls.store

    def set_server_ssl(self, backend: str, server: str, on: bool | None) -> str | None:
        """cli_parse_set_server's `ssl`: refused on dynamic servers and on servers without
        TLS settings; the server's idle connections go (srv_cleanup_connections)."""
        be, srv = self._pair(backend, server)
        if srv.dynamic:
            return "'set server <srv> ssl' not supported on dynamic servers\n"
        if srv.tls.spec is None:
            return (
                "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n"
            )
        if on is not None:
            srv.tls.set(on)
            self.rt.http.drop_idle(be, srv)
        return None

    def set_check_enabled(self, backend: str, server: str, agent: bool, on: bool) -> None:
        sh = self._health(backend, server)
        if sh is not None and self.checks is not None:
            self.checks.set_enabled(sh, agent, on)
            return
        self.checks_enabled[backend, server, agent] = on

    def set_server_addr(
        self, backend: str, server: str, addr: str | None, port: int | None
    ) -> None:
        """The new address and port (None: kept), then out of maintenance "resolution"
        (cli_parse_set_server clears SRV_ADMF_RMAINT whatever the address did)."""
        be, srv = self._pair(backend, server)
        if addr is not None or port is not None:
            address = ipaddress.ip_address(addr) if addr is not None else srv.spec.address
            srv.set_address(address, port if port is not None else srv.spec.port)
            be.servers_changed()
            sh = self._health(backend, server)
            if sh is not None and self.checks is not None and address is not None:
                self.checks.move(sh, str(address), port)
        if not srv.lb.next_admin & Admin.RMAINT:
            return
        sh = self._health(backend, server)
        if sh is not None and self.checks is not None:
            self.checks.resolved(sh)
        else:
            be.pool.clear_admin(srv.lb, Admin.RMAINT, self.rt.ctx.clock())
        be.grab()

    def set_server_fqdn(self, backend: str, server: str, fqdn: str) -> tuple[bool, str]:
        """srv_update_fqdn through the server's resolvers (engine/proxy_resolvers.py)."""
        if self.resolvers is None or not self.resolvers.resolves(backend, server):
            return True, "set server <b>/<s> fqdn failed because no resolution is configured.\n"
        return False, self.resolvers.set_fqdn(backend, server, fqdn)

    def set_server_maxconn(self, backend: str, server: str, maxconn: int) -> None:
        sh = self._health(backend, server)
        be, srv = self._pair(backend, server)
        if sh is not None and self.checks is not None:
            self.checks.set_maxconn(sh, maxconn)
            be.servers_changed()
            return
        s = srv.lb
        if s.maxconn == s.minconn:
            s.minconn = maxconn
        s.maxconn = maxconn
        be.servers_changed()
        be.process_queue(srv)

    def shutdown_server_sessions(self, backend: str, server: str) -> None:
        self.rt.shutdown_server_sessions(backend, server)

    def shutdown_session(self, session_id: int) -> bool:
        for s in self.rt.sessions():
            if id(s) == session_id:
                s.kill() if isinstance(s, H1View) else s.abort()
                return True
        for h in self.rt.http_sessions():
            if id(h) == session_id and http_view(h, self._wall) is not None:
                h.kill()  # SF_ERR_KILLED: what its request's client sees (HttpSession.kill)
                return True
        return False

    def add_server(self, backend: str, server: str, words: Sequence[str]) -> str:
        return self.dynamic.add(backend, server, words)

    def del_server(self, backend: str, server: str) -> str:
        return self.dynamic.delete(backend, server)

    def set_proc_var(self, name: str, fmt: bool, text: str) -> str | None:
        compiler = self.rt.rules.set_var_compiler
        if compiler is None:
            return "this runtime was started without a configuration to compile expressions"
        return set_proc_var(self.rt.process, compiler, name, fmt, text, now=self.rt.wall())

    def pause_frontend(self, name: str) -> bool:
        fe = self.rt.frontends.get(name)
        if fe is None:
            return False
        fe.admin_paused = True
        for lst in fe.listeners:
            lst.pause()
        return True

    def resume_frontend(self, name: str) -> bool:
        fe = self.rt.frontends.get(name)
        if fe is None:
            return False
        fe.admin_paused = False
        if not fe.full and not self.rt.full:
            for lst in fe.listeners:
                lst.resume()
        return True

    def stop_frontend(self, name: str) -> None:
        fe = self.rt.frontends.get(name)
        if fe is not None:
            for lst in fe.listeners:
                lst.close()

    def set_frontend_maxconn(self, name: str, maxconn: int) -> None:
        fe = self.rt.frontends.get(name)
        if fe is not None:
            fe.maxconn = maxconn
            self.rt.recheck()

    def set_global_maxconn(self, maxconn: int) -> None:
        self.rt.maxconn = maxconn
        self.rt.recheck()

    def set_rate_limit(self, kind: str, value: int) -> None:
        self.rt.rates.set_limit(kind, value)
        for fe in self.rt.frontends.values():  # dequeue_all_listeners
            for listener in fe.listeners:
                listener.rate_limit_changed()

    def clear_counters(self, all_counters: bool) -> None:
        rt = self.rt
        # cli_parse_clear_counters: the process's maxima (cps_max, sps_max, ssl_max, ...)
        tls = rt.tls.counts
        for rate in (rt.rates.conns, rt.rates.sessions, tls.sessions, tls.fe_keys, tls.be_keys):
            rate.peak = 0
        for fe in rt.frontends.values():
            fe.max_conns = fe.conns
            fe.sess_rate.peak = fe.conn_rate.peak = 0
            if all_counters:
                fe.counters.zero()
                fe.total = fe.denied = fe.denied_resp = fe.conn_rate.total = 0
        for be in rt.backends.values():
            for srv in be.servers:
                srv.max_sess = srv.lb.served
                if all_counters:
                    srv.counters.zero()
                    srv.failed_conns = srv.retries = 0
            if all_counters:
                be.counters.zero()
                be.failed_conns = be.retries = be.redispatches = be.denied_resp = 0
        if all_counters:
            self.page.clear()
        self.http.clear(all_counters)

    # -- the stats page's own counts (StatsPageServer on_exchange) -----------------------

    def count_page(self, exchange: PageExchange) -> None:
        c = self.page.get(exchange.proxy, Counters())
        rsp = list(c.http.responses)
        status = exchange.status
        rsp[status // 100 if 100 <= status < 600 else 0] += 1
        http = dataclasses.replace(
            c.http,
            requests=c.http.requests + 1,
            responses=(rsp[0], rsp[1], rsp[2], rsp[3], rsp[4], rsp[5]),
            intercepted=c.http.intercepted + 1,
        )
        self.page[exchange.proxy] = dataclasses.replace(
            c,
            cum_conn=c.cum_conn + exchange.first,
            cum_sess=c.cum_sess + exchange.first,
            bytes_in=c.bytes_in + exchange.received,
            bytes_out=c.bytes_out + exchange.sent,
            http=http,
        )


def _with_rates(info: ProcessInfo, r: AcceptRates, now: float) -> ProcessInfo:
    """show info's ConnRate / SessRate lines, their limits and peaks, and SslRateLimit
    (stats_fill_info: global.conn_per_sec, cps_lim, cps_max, and so on)."""
    return dataclasses.replace(
        info,
        conn_rate=r.conns.read(now),
        conn_rate_limit=r.conn_limit,
        max_conn_rate=r.conns.peak,
        sess_rate=r.sessions.read(now),
        sess_rate_limit=r.sess_limit,
        max_sess_rate=r.sessions.peak,
        ssl_rate_limit=r.ssl_limit,
    )


def _with_ssl(info: ProcessInfo, c: TlsCounters, now: float) -> ProcessInfo:
    """show info's Ssl* lines of the runtime's TLS connections (tls.py TlsCounters)."""
    return dataclasses.replace(
        info,
        curr_ssl_conns=c.curr,
        cum_ssl_conns=c.cum,
        max_ssl_conns=c.limit,
        ssl_rate=c.sessions.read(now),
        max_ssl_rate=c.sessions.peak,
        ssl_fe_key_rate=c.fe_keys.read(now),
        ssl_fe_max_key_rate=c.fe_keys.peak,
        ssl_be_key_rate=c.be_keys.read(now),
        ssl_be_max_key_rate=c.be_keys.peak,
    )


def backend_h2(be: BackendRuntime) -> tuple[int, ...]:
    """The backend row's h2 columns: its servers' HTTP/2 connections together."""
    rows = [srv.h2.values() for srv in be.servers]
    return tuple(sum(col) for col in zip(*rows, strict=True)) if rows else (0,) * 13
