"""An in-memory HAProxy runtime for the stats socket and page: tests, demos, and a reference.

`FakeRuntime` implements `admin.Runtime` over sched.haproxy's real balancer (one `Pool` per
backend, so weights, states, backups and messages are the lb engineer's) and proto/stick's
real tables, and keeps what a real runtime gets from its data plane and checks as plain
values the caller sets: check results (`set_check`), counters (`set_counters`), sessions,
captured errors.  Build it from `FakeProxy` descriptions (configuration order; ids are given
as HAProxy numbers them when not set: 1 is taken by the stats socket's own frontend).

Its admin side does what HAProxy's does to the state `show stat` shows: maintenance pauses
the health check and zeroes its health, leaving it restarts the check at `rise` (src/server.c
srv_update_status), `set server health` sets the health to its top or to 0 before marking the
server up or down, `clear counters` zeroes the maxima or everything.  `add server` takes an
address and the `weight`, `backup`, `disabled`, `maxconn` and `maxqueue` keywords (the real
runtime reads the whole server line through the configuration reader).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pylvs.control.haproxy.admin import ErrorLog
from pylvs.control.haproxy.from_pool import admin_transition, backend_lb, server_lb
from pylvs.control.haproxy.peers import PeersView
from pylvs.model.proxies import (
    ADMF_MAINT,
    NO_AGENT,
    NO_CHECK,
    ZERO,
    BackendView,
    CheckView,
    Counters,
    ErrorCapture,
    FrontendView,
    ListenerView,
    ProcessInfo,
    ProxiesSnapshot,
    ProxyView,
    ServerView,
    SessionView,
)
from pylvs.model.resolvers import ResolversSpec
from pylvs.proto.cache.store import HttpCache
from pylvs.proto.rules.compiled import SetVarCompiler, proc_var, set_proc_var
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.stream import Process
from pylvs.proto.sample.types import Smp
from pylvs.proto.stick import StickTable
from pylvs.proto.tls_store import CaStore
from pylvs.sched.haproxy import Admin, LbParams, Pool, Server, State
from pylvs.sched.haproxy.cnum import strtol

_MAXIMA = (
    "sess_max",
    "nbpend_max",
    "sps_max",
    "cps_max",
    "qtime_max",
    "ctime_max",
    "dtime_max",
    "ttime_max",
)


@dataclass
class FakeServer:
    name: str
    addr: str = "127.0.0.1"
    port: int = 0
    weight: int = 1
    id: int = 0
    backup: bool = False
    disabled: bool = False
    maxconn: int = 0
    maxqueue: int = 0
    family: str = "ipv4"
    check: CheckView = NO_CHECK
    agent: CheckView = NO_AGENT
    counters: Counters = ZERO
    tracked: str | None = None
    idle_max: int | None = None  # `pool-max-conn`; a dynamic server's is 0
    use_ssl: int = 0  # srv->use_ssl
    ssl_ready: bool = False  # TLS settings prepared (`set server B/S ssl` may flip it)
    forced_id: bool = field(init=False, default=False)  # SRV_F_FORCED_ID

    def __post_init__(self) -> None:
        self.forced_id = self.id != 0


@dataclass
class FakeProxy:
    name: str
    kind: str = "listen"  # frontend | backend | listen
    mode: str = "tcp"
    id: int = 0
    servers: list[FakeServer] = field(default_factory=list)
    balance: LbParams = field(default_factory=LbParams)
    maxconn: int = 0  # frontend: 0 means the global maxconn
    fullconn: int = 0
    listeners: list[ListenerView] = field(default_factory=list)
    frontend: FrontendView | None = None  # set by FakeRuntime from kind/maxconn
    backend_counters: Counters = ZERO
    table: StickTable | None = None


def _balanced(fs: FakeServer, admin: Admin) -> Server:
    """The balancer's server for a FakeServer; in maintenance it is stopped."""
    state = State.STOPPED if admin & Admin.FMAINT else State.RUNNING
    return Server(
        fs.name,
        fs.weight,
        puid=fs.id,
        backup=fs.backup,
        maxconn=fs.maxconn,
        maxqueue=fs.maxqueue,
        admin=admin,
        state=state,
    )


class FakeRuntime:
    """The in-memory runtime (see the module doc)."""

    def __init__(
        self,
        proxies: Sequence[FakeProxy],
        clock: Callable[[], float],
        info: ProcessInfo | None = None,
    ) -> None:
        self.clock = clock  # HAProxy's `now`: seconds since the epoch
        self.info = info or ProcessInfo(maxconn=1000, hard_maxconn=1000)
        self.proxies = list(proxies)
        self.pools: dict[str, Pool] = {}
        self.servers: dict[tuple[str, str], FakeServer] = {}
        self.live_sessions: list[SessionView] = []
        self.error_log = ErrorLog()
        self.pattern_store = PatternStore()
        self.peers_views: list[PeersView] = []
        self.ca_store = CaStore()
        # proc. variables (`get var`) and how `set var` compiles: a test passes the
        # configuration's compiler (CompiledProxies.set_var_compiler), control cannot import it
        self.process = Process()
        self.set_var_compiler: SetVarCompiler | None = None
        self.started = clock()
        next_id = 2  # 1: the stats socket's frontend ("GLOBAL")
        now = clock()
        for px in self.proxies:
            px.id = px.id or next_id
            next_id = max(next_id, px.id) + 1
            if px.kind in ("frontend", "listen") and px.frontend is None:
                px.frontend = FrontendView(maxconn=px.maxconn or self.info.maxconn)
            if px.kind in ("backend", "listen"):
                self.pools[px.name] = self._pool(px, now)

    def _pool(self, px: FakeProxy, now: float) -> Pool:
        members = []
        for fs in px.servers:
            admin = Admin.FMAINT | Admin.CMAINT if fs.disabled else Admin.NONE
            members.append(_balanced(fs, admin))
            if fs.disabled:
                fs.check = dataclasses.replace(fs.check, paused=True, health=0)
            self.servers[px.name, fs.name] = fs
        pool = Pool(members, px.balance, now=now)
        for s in pool.servers:
            s.last_change = now
        return pool

    # -- StatsSource -------------------------------------------------------------------

    def snapshot(self) -> ProxiesSnapshot:
        now = self.clock()
        views = tuple(self._proxy_view(px) for px in self.proxies)
        info = (
            dataclasses.replace(self.info, started=self.started)
            if not self.info.started
            else self.info
        )
        return ProxiesSnapshot(now=now, info=info, proxies=views)

    def _proxy_view(self, px: FakeProxy) -> ProxyView:
        pool = self.pools.get(px.name)
        backend = servers = None
        if pool is not None:
            lb = backend_lb(pool)
            backend = BackendView(
                fullconn=px.fullconn, counters=px.backend_counters, last_change=self.started, **lb
            )
            servers = tuple(self._server_view(px, s) for s in pool.servers)
        return ProxyView(
            name=px.name,
            id=px.id,
            mode=px.mode,
            frontend=px.frontend,
            backend=backend,
            servers=servers or (),
            listeners=tuple(px.listeners),
        )

    def _server_view(self, px: FakeProxy, s: Server) -> ServerView:
        fs = self.servers[px.name, s.name]
        track = None
        if fs.tracked is not None:
            be, _, name = fs.tracked.partition("/")
            track = self.servers[be, name].check
        return ServerView(
            **server_lb(s),
            addr=fs.addr,
            family=fs.family,
            port=fs.port,
            check=fs.check,
            agent=fs.agent,
            counters=fs.counters,
            tracked=fs.tracked,
            track_check=track,
            idle_max=fs.idle_max,
            forced_id=fs.forced_id,
            use_ssl=fs.use_ssl,
        )

    def sessions(self) -> Sequence[SessionView]:
        return tuple(self.live_sessions)

    def errors(self) -> ErrorLog:
        return self.error_log

    def tables(self) -> Sequence[StickTable]:
        return [px.table for px in self.proxies if px.table is not None]

    def table_now(self) -> float:
        return self.clock()

    def resolvers_counters(self) -> Sequence[tuple[ResolversSpec, Sequence[Mapping[str, int]]]]:
        return ()  # a fake runtime has no resolvers section

    def caches(self) -> tuple[Sequence[HttpCache], int]:
        return (), 0  # nor any cache

    def peers(self) -> Sequence[PeersView]:
        return list(self.peers_views)

    def patterns(self) -> PatternStore:
        return self.pattern_store

    def proc_var(self, name: str) -> Smp | None:
        return proc_var(self.process, name)

    # -- what tests and demos set ------------------------------------------------------

    def set_check(self, backend: str, server: str, check: CheckView) -> None:
        """A check result: the server goes up or down with it, as check.c would make it."""
        fs = self.servers[backend, server]
        fs.check = check
        pool, s = self.pools[backend], self._server(backend, server)
        if check.health >= check.rise:
            pool.mark_up(s, self.clock())
        else:
            pool.mark_down(s, self.clock())

    def set_counters(self, backend: str, server: str, counters: Counters) -> None:
        self.servers[backend, server].counters = counters

    # -- ProxyAdmin --------------------------------------------------------------------

    def _server(self, backend: str, name: str) -> Server:
        server = self.pools[backend].server(name)
        assert server is not None
        return server

    def set_server_state(self, backend: str, server: str, state: str) -> None:
        """srv_adm_set_*, with srv_update_status's effects on the health check: entering
        maintenance pauses an enabled check and zeroes its health (and any running server's,
        counted as a down transition); leaving it restarts an enabled check at `rise`."""
        pool, s, fs = (
            self.pools[backend],
            self._server(backend, server),
            self.servers[backend, server],
        )
        now = self.clock()
        was_maint, was_running = bool(s.cur_admin & ADMF_MAINT), s.cur_state != State.STOPPED
        add, remove = admin_transition(state)
        pool.clear_admin(s, remove, now)
        pool.set_admin(s, add, now)
        in_maint, chk = bool(s.cur_admin & ADMF_MAINT), fs.check
        if in_maint and not was_maint:
            if chk.enabled:
                chk = dataclasses.replace(chk, paused=True, health=0)
            if was_running:
                chk = dataclasses.replace(chk, health=0)
                fs.counters = dataclasses.replace(
                    fs.counters, down_trans=fs.counters.down_trans + 1
                )
        elif was_maint and not in_maint and chk.enabled:
            chk = dataclasses.replace(chk, paused=False, health=chk.rise)
        fs.check = chk

    def set_server_weight(self, backend: str, server: str, text: str) -> str | None:
        pool = self.pools[backend]
        return pool.change_weight(self._server(backend, server), text, self.clock())

    def set_server_health(self, backend: str, server: str, health: str) -> None:
        pool, s, fs = (
            self.pools[backend],
            self._server(backend, server),
            self.servers[backend, server],
        )
        chk, now = fs.check, self.clock()
        top = chk.rise + chk.fall - 1
        fs.check = dataclasses.replace(chk, health=0 if health == "down" else top)
        {"up": pool.mark_up, "stopping": pool.mark_stopping, "down": pool.mark_down}[health](s, now)

    def set_server_agent(self, backend: str, server: str, state: str) -> None:
        pool, s, fs = (
            self.pools[backend],
            self._server(backend, server),
            self.servers[backend, server],
        )
        agent = fs.agent
        up = state == "up"
        fs.agent = dataclasses.replace(agent, health=agent.rise + agent.fall - 1 if up else 0)
        (pool.mark_up if up else pool.mark_down)(s, self.clock())

    def tls_store(self) -> CaStore:
        return self.ca_store

    def set_server_ssl(self, backend: str, server: str, on: bool | None) -> str | None:
        fs = self.servers[backend, server]
        if not fs.ssl_ready:
            return (
                "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n"
            )
        if on is not None:
            fs.use_ssl = int(on)
        return None

    def set_check_enabled(self, backend: str, server: str, agent: bool, on: bool) -> None:
        fs = self.servers[backend, server]
        if agent:
            fs.agent = dataclasses.replace(fs.agent, enabled=on)
        else:
            fs.check = dataclasses.replace(fs.check, enabled=on)

    def set_server_addr(
        self, backend: str, server: str, addr: str | None, port: int | None
    ) -> None:
        fs = self.servers[backend, server]
        fs.addr = addr if addr is not None else fs.addr
        fs.port = port if port is not None else fs.port

    def set_server_fqdn(self, backend: str, server: str, fqdn: str) -> tuple[bool, str]:
        return True, "set server <b>/<s> fqdn failed because no resolution is configured.\n"

    def set_server_maxconn(self, backend: str, server: str, maxconn: int) -> None:
        s = self._server(backend, server)
        if s.maxconn == s.minconn:
            s.minconn = maxconn
        s.maxconn = maxconn

    def shutdown_server_sessions(self, backend: str, server: str) -> None:
        self.live_sessions = [
            x for x in self.live_sessions if (x.backend, x.server) != (backend, server)
        ]

    def shutdown_session(self, session_id: int) -> bool:
        before = len(self.live_sessions)
        self.live_sessions = [x for x in self.live_sessions if x.id != session_id]
        return len(self.live_sessions) != before

    def add_server(self, backend: str, server: str, words: Sequence[str]) -> str:
        if self.pools[backend].server(server) is not None:
            return "Already exists a server with the same name in backend.\n"
        if not words:
            return "'server' expects <name> and <addr>[:<port>] as arguments.\n"
        host, _, port = words[0].rpartition(":") if ":" in words[0] else (words[0], "", "")
        fs = FakeServer(server, addr=host, port=strtol(port)[0] if port else 0, idle_max=0)
        fs.check = dataclasses.replace(NO_CHECK, health=0)
        i = 1
        while i < len(words):
            word = words[i]
            if word in ("weight", "maxconn", "maxqueue") and i + 1 < len(words):
                setattr(fs, word, strtol(words[i + 1])[0])
                i += 2
            elif word in ("backup", "disabled"):
                setattr(fs, word, True)
                i += 1
            else:
                return f"unknown keyword '{word}'.\n"
        s = _balanced(fs, Admin.FMAINT)  # dynamic servers start in maintenance
        pool = self.pools[backend]
        s.last_change = self.clock()
        try:
            pool.add_server(s, self.clock())
        except ValueError as e:
            return f"{e}\n"
        fs.id = s.puid
        self.servers[backend, server] = fs
        next(px for px in self.proxies if px.name == backend).servers.append(fs)
        return "New server registered.\n"

    def del_server(self, backend: str, server: str) -> str:
        pool, s = self.pools[backend], self._server(backend, server)
        try:
            pool.remove_server(s)
        except ValueError as e:
            return str(e)
        del self.servers[backend, server]
        return "Server deleted."

    def _frontend(self, name: str) -> FakeProxy:
        return next(px for px in self.proxies if px.name == name and px.frontend is not None)

    def pause_frontend(self, name: str) -> bool:
        px = self._frontend(name)
        assert px.frontend is not None
        px.frontend = dataclasses.replace(px.frontend, paused=True)
        return True

    def resume_frontend(self, name: str) -> bool:
        px = self._frontend(name)
        assert px.frontend is not None
        px.frontend = dataclasses.replace(px.frontend, paused=False)
        return True

    def stop_frontend(self, name: str) -> None:
        px = self._frontend(name)
        assert px.frontend is not None
        px.frontend = dataclasses.replace(px.frontend, stopped=True)

    def set_frontend_maxconn(self, name: str, maxconn: int) -> None:
        px = self._frontend(name)
        assert px.frontend is not None
        px.frontend = dataclasses.replace(px.frontend, maxconn=maxconn)

    def set_global_maxconn(self, maxconn: int) -> None:
        self.info = dataclasses.replace(self.info, maxconn=maxconn)

    def set_rate_limit(self, kind: str, value: int) -> None:
        if kind == "connections":
            self.info = dataclasses.replace(self.info, conn_rate_limit=value)
        elif kind == "sessions":
            self.info = dataclasses.replace(self.info, sess_rate_limit=value)
        else:
            self.info = dataclasses.replace(self.info, ssl_rate_limit=value)

    def set_proc_var(self, name: str, fmt: bool, text: str) -> str | None:
        if self.set_var_compiler is None:
            return "this runtime has no configuration to compile expressions with"
        return set_proc_var(self.process, self.set_var_compiler, name, fmt, text, now=self.clock())

    def clear_counters(self, all_counters: bool) -> None:
        def cleared(c: Counters) -> Counters:
            if all_counters:
                return ZERO
            return dataclasses.replace(
                c, **{k: 0 for k in _MAXIMA}, http=dataclasses.replace(c.http, rps_max=0)
            )

        for px in self.proxies:
            px.backend_counters = cleared(px.backend_counters)
            if px.frontend is not None:
                px.frontend = dataclasses.replace(
                    px.frontend, counters=cleared(px.frontend.counters)
                )
            for fs in px.servers:
                fs.counters = cleared(fs.counters)
        self.info = dataclasses.replace(self.info, max_conn_rate=0, max_sess_rate=0)

    def count_page(self, proxy: str, status: int, received: int, sent: int, first: bool) -> None:
        """A request answered by the stats page of `proxy` (StatsPageServer's on_exchange): what
        HAProxy counts on that frontend for its stats applet."""
        px = self._frontend(proxy)
        assert px.frontend is not None
        c = px.frontend.counters
        rsp = list(c.http.responses)
        rsp[status // 100 if 100 <= status < 600 else 0] += 1
        http = dataclasses.replace(
            c.http,
            requests=c.http.requests + 1,
            responses=(rsp[0], rsp[1], rsp[2], rsp[3], rsp[4], rsp[5]),
            intercepted=c.http.intercepted + 1,
        )
        c = dataclasses.replace(
            c,
            cum_conn=c.cum_conn + first,
            cum_sess=c.cum_sess + first,
            bytes_in=c.bytes_in + received,
            bytes_out=c.bytes_out + sent,
            http=http,
        )
        px.frontend = dataclasses.replace(px.frontend, counters=c)

    def capture_error(self, capture: ErrorCapture) -> None:
        self.error_log = ErrorLog(self.error_log.total + 1, (*self.error_log.captures, capture))
