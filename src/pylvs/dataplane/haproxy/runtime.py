"""The HAProxy-style proxy runtime: every frontend and backend of `DirectorSpec.proxies`.

`ProxyRuntime(spec)` builds the backends (backend.py: a Pool per backend, stick tables shared
by name), `start()` binds every address and port of every frontend's binds (a port another
process holds is an error that names the bind's line, as HAProxy's "cannot bind socket"),
`stop(grace)` closes the listeners and gives live streams `grace` seconds.  Streams are
relayed by the keepalived mode's machinery (dataplane/proxy: its poller, C pump and relay
machine) under their own context (clock, descriptors, connection table).

The hook for health checks (`hachecks`'s check engine): `set_server_up(backend, server, up)`
reports a server's check result — up: srv_set_running (and it takes queued streams), down:
srv_set_stopped (new streams go elsewhere; live ones run on unless `on-marked-down
shutdown-sessions`, which the caller applies with `shutdown_server_sessions`).  `backend(name)`
gives the run-time backend, its `pool` the servers' states.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import random
import resource
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pylvs.dataplane.base import DataPlaneState
from pylvs.dataplane.proxy.context import ProxyContext, log
from pylvs.dataplane.proxy.descriptors import raise_limit
from pylvs.dataplane.proxy.sockets import listen_socket, unix_listen_socket
from pylvs.model.proxy_spec import BindSpec, ListenAddress, ProxiesSpec, ideal_maxconn
from pylvs.model.service import Address
from pylvs.proto.cache.store import HttpCache
from pylvs.proto.rules.ruleset import ProxyRules
from pylvs.proto.server_state import Restored
from pylvs.proto.stick import StickTable
from pylvs.sched.haproxy import State
from pylvs.system import inherited
from pylvs.system.logsend import LogSender

from . import httplog
from .backend import BackendRuntime, stick_table
from .frontend import Frontend, FrontendListener
from .handover import ListenerKey, keep_tables, listener_key
from .http.state import HttpState, buffer_limits, piping
from .http.stream import HttpSession
from .http2.front import H2Front
from .persistence import CookiePersistence
from .plain import PlainView
from .ratelimit import AcceptRates
from .rules import compiled, process_for
from .server_state import load_files
from .session import HaSession
from .streamlog import stopped
from .timers import StreamTimers
from .tls_hooks import TlsState

if TYPE_CHECKING:
    from .peers import PeersRuntime

_ANY4 = ipaddress.IPv4Address("0.0.0.0")
_ANY6 = ipaddress.IPv6Address("::")
HOUSEKEEPING = 0.1  # seconds between sweeps; a stream timeout due sooner wakes one at its time


# A frontend's socket for one address: bound, or None to be taken from the old runtime.
Opened = tuple[Frontend, BindSpec, ListenAddress, socket.socket | None]


class ProxyRuntimeError(OSError):
    """A frontend could not listen (the message names the bind line)."""


class ProxyRuntime:
    def __init__(
        self,
        spec: ProxiesSpec,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        raise_nofile: bool = True,
        previous: ProxyRuntime | None = None,
    ) -> None:
        self.spec = spec
        self.ctx = ProxyContext(state=DataPlaneState(), clock=clock)
        # The streams' idle timers only: no IPVS states or counts per stream (timers.py).
        self.ctx.state.table = StreamTimers()
        # The wall clock as this runtime's clock shows it (stick tables, stats).
        self.wall_offset = time.time() - clock()
        self.raise_nofile = raise_nofile
        now = clock()
        # The rules engine's view (rules.py): every proxy's ProxyRules, the stick tables
        # (the carrier's; a spec built without a haproxy.cfg has its backends' own).
        self.rules = compiled(spec)
        self.tables: dict[str, StickTable] = dict(self.rules.tables)
        for b in spec.backends:
            if b.stick_table is not None and b.stick_table.name not in self.tables:
                table = stick_table(b)
                if table is not None:
                    self.tables[table.name] = table
        self.backends: dict[str, BackendRuntime] = {
            b.name: BackendRuntime(
                b, self.tables, rng=rng, now=now, rules=self.rules.proxies.get(b.name)
            )
            for b in spec.backends
        }
        # The proxies a stream may be routed to by name (tcp_flow.request's mapping).
        names = {b.name for b in spec.backends} | {f.name for f in spec.frontends}
        self.routes = {n: r for n, r in self.rules.proxies.items() if n in names}
        self.http = HttpState(self.wall)  # what mode http streams share (http/state.py)
        self.http.limits = buffer_limits(spec)
        self.http.comp_level = spec.comp_maxlevel
        # `cache` sections (proto/cache/store.py), on the wall clock
        self.caches = {c.name: HttpCache(c, self.wall_offset) for c in spec.caches}
        self.tls = TlsState(  # TLS binds' contexts, CA files
            spec.ssl_server_verify, spec.ssl_bind_defaults, spec.ssl_server_defaults
        )
        # the accept rate limits and the process's accept counters (ratelimit.py)
        self.rates = AcceptRates(spec, self.tls.counts.sessions)
        CookiePersistence.install(self)  # `cookie` persistence on its hooks
        self.frontends: dict[str, Frontend] = {
            f.name: Frontend(f, self) for f in spec.frontends if f.stats is None
        }
        self.maxconn = spec.maxconn or default_maxconn(spec)
        piping(self.http, spec, self.maxconn)  # kernel splicing's global settings
        for be in self.backends.values():
            be.clock = clock
            be.set_fullconn(self._reaching(be.spec.name))
        self.conns = 0
        # HAProxy's `log` targets (send_log); names resolve here, as HAProxy's at start
        self.logger = LogSender(spec.log, hostname=spec.log_hostname, wall=self.wall)
        self.process = process_for(self, self.rules)
        httplog.install(self)  # mode http frontends' traffic lines
        self._housekeeper: asyncio.Task[None] | None = None
        self._waker: asyncio.TimerHandle | None = None
        self._paused: set[Frontend] = set()
        # `peers` sections: the tables shared with other processes (peers.py, imported only
        # then: a process without them starts as fast as before)
        self.peers: PeersRuntime | None = None
        if spec.peers:
            from .peers import PeersRuntime

            self.peers = PeersRuntime(spec.peers, self.tables, clock)
        # Check states restored from a state file or the runtime a reload replaced
        # (server_state.py): what a check engine starts its servers' checks from.
        self.restored: dict[tuple[str, str], Restored] = {}

    def _reaching(self, backend: str) -> int:
        """The maxconn of the frontends that may send streams to `backend`."""
        total = 0
        for fe in self.spec.frontends:
            names = {fe.default_backend, *self._switch_targets(fe.name)}
            if backend in names:
                total += fe.maxconn or self.maxconn
        return total

    # -- life cycle ----------------------------------------------------------------

    async def start(self, previous: ProxyRuntime | None = None) -> None:
        """Listen on every frontend's addresses.  `previous`: the runtime a reload replaces,
        whose sockets for the addresses listened on again are taken over (the new ones are
        bound first: if one cannot be, nothing of `previous` was touched).  Without it, the
        backends' server-state files are applied first (before any traffic, as HAProxy)."""
        logs = [self.spec.log, *(f.log for f in self.spec.frontends)]
        # names resolved off the loop; one that does not resolve: refused now
        await self.logger.prepare(
            [p.targets for p in (*logs, *(b.log for b in self.spec.backends))]
        )
        if self.raise_nofile:
            if self.spec.ulimit_n:
                set_ulimit(self.spec.ulimit_n)
            else:
                raise_limit(self.maxconn or None, self.ctx.fds.reserve)
        self.ctx.fds.measure()
        self.tls.prepare(self.backends.values())  # servers' TLS files read now, as HAProxy
        if previous is None:
            self.load_state_files()
        old = previous.listeners_by_key() if previous is not None else {}
        opened: list[Opened] = []
        try:
            for fe in self.frontends.values():
                opened.extend(self._open(fe, old))
            for fe, bind, address, bound in opened:
                sock = bound
                if sock is None:  # the old runtime's socket for this address
                    sock = old[listener_key(bind, address, _key_host(address))].release()
                    sock.listen(_backlog(fe, bind))
                listener = FrontendListener(self.ctx, fe, bind, address, sock)
                await listener.start()
                fe.listeners.append(listener)
        except BaseException:
            for *_rest, sock in opened:
                if sock is not None and sock.fileno() >= 0:
                    sock.close()
            await self.stop(0)
            raise
        if previous is not None:  # the old runtime accepts no more: its tables' entries
            keep_tables(self.tables, previous.tables, self.ctx.clock())
        await self._start_peers(previous)
        self._housekeeper = asyncio.get_running_loop().create_task(self._housekeeping())
        timers = self.ctx.state.table
        if isinstance(timers, StreamTimers):
            timers.wake = self._wake_at

    async def _start_peers(self, previous: ProxyRuntime | None) -> None:
        """The peers sections listen and connect (an in-process reload's old runtime lets
        go of its peers first: its tables' entries were carried over)."""
        if previous is not None and previous.peers is not None:
            await previous.peers.stop(teach=False)
        if self.peers is None:
            return
        try:
            await self.peers.start()
        except OSError as e:
            await self.stop(0)
            raise ProxyRuntimeError(str(e)) from None

    def _wake_at(self, at: float) -> None:
        """Sweep at `at` (a stream's deadline before the next sweep): HAProxy's timeouts are
        in milliseconds (src/task.c wakes at each task's expiry), a 1 ms `timeout client`
        ends its stream then, not at the next periodic sweep."""
        timers = self.ctx.state.table
        assert isinstance(timers, StreamTimers)
        if self._waker is not None:
            self._waker.cancel()
        timers.wake_at = at
        delay = max(at - self.ctx.clock(), 0.0)
        self._waker = asyncio.get_running_loop().call_later(delay, self._woken)

    def _woken(self) -> None:
        timers = self.ctx.state.table
        assert isinstance(timers, StreamTimers)
        self._waker = None
        try:
            self.housekeep()
        except Exception:
            log.exception("proxy runtime housekeeping failed")
        at = timers.next_deadline()
        if at is not None and at < self.ctx.clock() + HOUSEKEEPING:
            self._wake_at(at)

    def _open(self, fe: Frontend, old: dict[ListenerKey, FrontendListener]) -> list[Opened]:
        """The sockets of `fe`'s binds: bound now, or None where `old` has one to take."""
        out: list[Opened] = []
        try:
            for bind in fe.spec.binds:
                for address in bind.addresses:
                    if listener_key(bind, address, _key_host(address)) in old:
                        out.append((fe, bind, address, None))
                        continue
                    out.append((fe, bind, address, self._bind(fe, bind, address)))
        except BaseException:
            for *_rest, sock in out:
                if sock is not None:
                    sock.close()
            raise
        return out

    def _bind(self, fe: Frontend, bind: BindSpec, address: ListenAddress) -> socket.socket:
        backlog = _backlog(fe, bind)
        try:
            if address.fd is not None:  # the parent's socket (HAProxy's fd@N)
                return inherited.listening_socket(f"fd@{address.fd}", backlog)
            if address.path is not None:  # unix@ / abns@
                return unix_listen_socket(address.path, backlog)
            return listen_socket(
                _host(address),
                address.port,
                stream=True,
                backlog=backlog,
                freebind=bind.transparent,
            )
        except OSError as e:
            raise ProxyRuntimeError(
                f"{bind.where}: {fe.spec.name}: cannot bind socket ({e.strerror or e}) [{address}]"
            ) from None

    def listeners_by_key(self) -> dict[ListenerKey, FrontendListener]:
        """The open listening sockets, by what a new runtime would bind (a reload)."""
        return {
            listener_key(lst.bind, lst.listen_address, _key_host(lst.listen_address)): lst
            for fe in self.frontends.values()
            for lst in fe.listeners
            if not lst.closed
        }

    def load_state_files(self) -> None:
        """The backends' server-state files, applied (HAProxy's apply_server_state)."""
        restored, messages = load_files(self.backends, self.ctx.clock())
        self.restored.update(restored)
        for m in messages:
            (log.warning if m.level == "warning" else log.info)("%s", m.text)

    async def stop(self, grace: float) -> None:
        if self.peers is not None and grace > 0:
            self.peers.soft_stop()  # the new process learns the tables meanwhile
        for fe in self.frontends.values():
            for listener in fe.listeners:
                listener.close()
                for relay in list(listener.relays):
                    if isinstance(relay, (HttpSession, H2Front)):
                        relay.stopping()  # idle keep-alive connections close now
        if self._housekeeper is not None:  # it started: each proxy says it stopped
            stopped(self)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, grace)
        while self.live() and loop.time() < deadline:
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))
        for fe in self.frontends.values():
            for listener in fe.listeners:
                listener.abort_all()
        self.http.close()
        if self.peers is not None:
            await self.peers.stop(teach=grace > 0)
        if isinstance(self.ctx.state.table, StreamTimers):
            self.ctx.state.table.wake = None
        if self._waker is not None:
            self._waker.cancel()
            self._waker = None
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeper
            self._housekeeper = None
        self.ctx.close_poller()
        self.logger.close()
        await asyncio.sleep(0)

    def wall(self) -> float:
        """Seconds since the epoch, kept in step with the runtime's clock."""
        return self.ctx.clock() + self.wall_offset

    def live(self) -> int:
        return sum(lst.live() for fe in self.frontends.values() for lst in fe.listeners)

    # -- pausing (SIGTTOU / SIGTTIN) ----------------------------------------------------

    def pause_listeners(self) -> tuple[list[str], bool]:
        """Every frontend stops listening (protocol_pause_all): the frontends paused, and
        whether all could be."""
        return self._each_listener(FrontendListener.suspend)

    def resume_listeners(self) -> tuple[list[str], bool]:
        """Every paused frontend listens again (protocol_resume_all)."""
        return self._each_listener(FrontendListener.restart)

    def _each_listener(self, act: Callable[[FrontendListener], bool]) -> tuple[list[str], bool]:
        done, ok = [], True
        for fe in self.frontends.values():
            results = [act(lst) for lst in fe.listeners if not lst.closed]
            ok = ok and all(results)
            if results and all(results):
                done.append(fe.spec.name)
        return done, ok

    # -- limits ------------------------------------------------------------------------

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.conns >= self.maxconn

    def pause_for_slots(self, fe: Frontend) -> None:
        """At a maxconn: stop accepting where the limit is reached until a stream ends."""
        targets = [f for f in self.frontends.values()] if self.full else [fe]
        for f in targets:
            for listener in f.listeners:
                listener.pause()
            self._paused.add(f)

    def stream_ended(self, fe: Frontend) -> None:
        fe.conns -= 1
        self.conns -= 1
        if self._paused:
            self.recheck()

    def recheck(self) -> None:
        """Resume the listeners a limit paused, where it no longer holds (a stream ended, a
        maxconn was raised); a frontend paused from the stats socket stays paused."""
        if self.full:
            return
        for f in list(self._paused):
            if not f.full:
                self._paused.discard(f)
                if not f.admin_paused:
                    for listener in f.listeners:
                        listener.resume()

    # -- logging -------------------------------------------------------------------------

    def send_log(self, proxy: str | None, level: int, text: str) -> None:
        """HAProxy's send_log(proxy, level, text): to the `log` targets of the backend named
        `proxy` (else of the frontend of that name), of `global` when `proxy` is None; a
        proxy without targets logs nothing.  `level` is syslog's (0 emerg .. 7 debug)."""
        px = None
        if proxy is not None:
            px = self.spec.backend(proxy) or self.spec.frontend(proxy)
            if px is None:
                return
        self.logger.send(None if px is None else px.log, level, text)

    # -- the checks' hook ------------------------------------------------------------

    def backend(self, name: str) -> BackendRuntime | None:
        return self.backends.get(name)

    def _switch_targets(self, frontend: str) -> set[str]:
        """The backends `use_backend` names without a `%[...]` part (cfgparse.c counts
        only those for fullconn)."""
        rules = self.rules.proxies.get(frontend)
        if rules is None:
            return set()
        names = (r.backend.constant for r in rules.switching)
        return {n.decode("latin-1") for n in names if n is not None}

    def needs_content(self, fe: ProxyRules) -> bool:
        """Whether a frontend's streams go through the content phase (inspect.py): content
        rules, switching rules, or a default backend with content or use-server rules."""
        if fe.tcp_content or fe.switching:
            return True
        be = self.routes.get(fe.default_backend or fe.name)
        return be is not None and bool(be.tcp_content or be.use_server)

    def usable(self, backend: str, server: str) -> bool:
        """Whether `use-server` may send a stream to backend/server (process_server_rules:
        not down, or `option persist`)."""
        be = self.backends.get(backend)
        srv = be.pool.server(server) if be is not None else None
        if be is None or srv is None:
            return False
        return srv.cur_state is not State.STOPPED or be.spec.persist

    def proxy_rules(self, name: str) -> ProxyRules | None:
        """The compiled rules of the frontend, backend or listen `name`."""
        return self.rules.proxies.get(name)

    def set_server_up(self, backend: str, server: str, up: bool) -> bool:
        """A check result for `backend/server` (False: no such server)."""
        be = self.backends.get(backend)
        return be is not None and be.mark(server, up, self.ctx.clock())

    def shutdown_server_sessions(self, backend: str, server: str) -> None:
        """Reset every stream on `backend/server` (on-marked-down shutdown-sessions, the
        stats socket's `shutdown sessions server`)."""
        for s in self.sessions():
            if s.be.spec.name == backend and s.picked is not None and s.picked.name == server:
                s.abort()

    def shut_all_streams(self) -> None:
        """hard_stop's stream_shutdown of every stream: both sides closed as a timeout
        closes them in HAProxy (a FIN to the client and the server, not a reset); the
        relays then end on the ends they read."""
        for s in self.sessions():
            for end in (s.client, s.server):
                if end is not None and end.fd >= 0:
                    sock = socket.socket(fileno=end.fd)
                    try:
                        sock.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    finally:
                        sock.detach()

    def sessions(self) -> list[HaSession | PlainView]:
        return [
            r
            for fe in self.frontends.values()
            for lst in fe.listeners
            for r in lst.streams()
            if isinstance(r, HaSession | PlainView)
        ]

    def http_sessions(self) -> list[HttpSession]:
        """The mode http client connections (`show sess` lists those with a request)."""
        return [
            r
            for fe in self.frontends.values()
            for lst in fe.listeners
            for r in list(lst.relays)
            if isinstance(r, HttpSession)
        ]

    # -- idle timeouts -----------------------------------------------------------------

    def housekeep(self, now: float | None = None) -> None:
        now = self.ctx.clock() if now is None else now
        poller = self.ctx.current_poller
        if poller is not None:
            poller.harvest()
        for conn in self.ctx.state.table.expire(now):
            if conn.on_expire is not None:
                conn.on_expire(conn)
        for table in self.tables.values():
            table.expire_entries(now)
        self.ctx.fds.tick()
        timers = self.ctx.state.table
        if self._waker is None and isinstance(timers, StreamTimers):
            timers.wake_at = now + HOUSEKEEPING  # what falls due before the next sweep wakes one

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING)
            try:
                self.housekeep()
            except Exception:
                log.exception("proxy runtime housekeeping failed")


def default_maxconn(spec: ProxiesSpec) -> int:
    """The global maxconn when the configuration sets none: HAProxy's, from the descriptor
    limit at start (the larger of the soft and hard limits: HAProxy raises the soft one to
    the hard one), one thread per CPU unless `nbthread` says (model/proxy_spec.py
    ideal_maxconn)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = soft if hard == resource.RLIM_INFINITY else max(soft, hard)
    threads = spec.nbthread or len(os.sched_getaffinity(0)) or 1
    return ideal_maxconn(limit, spec.maxsock, threads)


def set_ulimit(n: int) -> None:
    """`ulimit-n N`: the descriptor limit HAProxy sets (soft and hard).  Where it cannot be
    raised that far (no CAP_SYS_RESOURCE, above nr_open), pylvs warns and runs within the
    highest limit it may have, as the issue asks, rather than refusing to start."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, max(n, hard)))
        return
    except (OSError, ValueError):
        pass
    within = min(n, hard)
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (within, hard))
    log.warning(
        "ulimit-n %d: the descriptor limit cannot be raised above %d here; running within it",
        n,
        within,
    )


def _backlog(fe: Frontend, bind: BindSpec) -> int:
    return bind.backlog or fe.spec.maxconn or 1024


def _key_host(address: ListenAddress) -> str:
    """The address part of a listener's handover key: a unix socket's path, else the IP."""
    return address.path if address.path is not None else str(_host(address))


def _host(address: ListenAddress) -> Address:
    if address.host is not None:
        return address.host
    return _ANY6 if address.family == 6 else _ANY4
