"""The director daemon: config -> director spec -> table -> data plane, over the control socket.

`Daemon` loads its configuration through a `ConfigSource` (config/registry.py: any format,
as a neutral `DirectorSpec`), starts health checking (which pushes the table keepalived would
program, then every change) and VRRP, applies the table to the data plane and serves the
control socket (`pylvs ipvsadm`, `pylvs reload`, `pylvs status`).  Signals mean what they mean
to keepalived (engine/signals.py: SIGHUP reloads, in one task the daemon owns; SIGTERM/SIGINT
stop; SIGUSR1/SIGUSR2 write the dumps of engine/dumps.py); a stop closes listeners first, then
live connections get `grace` seconds.  `notify` receives the service manager's state words
(READY=1, RELOADING=1, STOPPING=1; cli/sdnotify.py sends them to systemd).

A config with errors is refused: at start the daemon does not start (`ConfigRefusedError`, its
problems say why), on a reload the running configuration stays (issue 3.7).  Loading — reading,
parsing, converting — runs in a worker thread, so a large file does not stall forwarding,
checks or VRRP adverts on the event loop.  Reload and operator edits combine as
`engine.table_state.TableState` describes; table changes are made one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shlex
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pylvs import __version__
from pylvs.config.errors import Problems
from pylvs.config.keywords import HostFacts
from pylvs.config.registry import (
    ConfigSource,
    Loaded,
    LoadOptions,
    UnknownFormatError,
    failed,
    source_for_all,
)
from pylvs.control import server as control_server
from pylvs.control import status as status_view
from pylvs.control.ipvsadm import command as ipvsadm_cmd
from pylvs.control.ipvsadm.messages import Failure, Stream
from pylvs.control.ipvsadm.session import Result, State, run_command
from pylvs.control.protocol import Request, Response
from pylvs.control.server import ControlServer
from pylvs.dataplane.base import (
    SYNC_UNAVAILABLE,
    DataPlane,
    DataPlaneError,
    StopPolicy,
    TablePolicy,
)
from pylvs.dataplane.descriptors import reserve_for
from pylvs.dataplane.haproxy.runtime import ProxyRuntime, ProxyRuntimeError
from pylvs.engine import signals
from pylvs.engine.dumps import dump_actions
from pylvs.engine.dynamic_servers import no_dynamic_servers
from pylvs.engine.history import History, describe, events_response
from pylvs.engine.ipvsadm_work import IpvsadmWork
from pylvs.engine.proxy_checks import Console, ProxyChecks
from pylvs.engine.proxy_reload import carry_server_states
from pylvs.engine.proxy_resolvers_wanted import wanted as resolvers_wanted
from pylvs.engine.proxy_stats import LiveProxies
from pylvs.engine.snapshot import build_snapshot, conn_view
from pylvs.engine.stats_servers import StatsServers
from pylvs.engine.syncd import SyncdFollower
from pylvs.engine.table_state import TableState
from pylvs.engine.web_actions import RefusedError, command_for
from pylvs.health.manager import HealthManager
from pylvs.model.director import DirectorSpec
from pylvs.model.events import ConfigReloaded, EventLog, InstanceStateChanged, OperatorActed
from pylvs.model.lua_spec import LuaSpec
from pylvs.model.snapshot import ConnView, DirectorSnapshot, PlaneView, ProcessView, Snapshot
from pylvs.model.syncd import SyncState
from pylvs.model.table import ServiceTable, diff, same_table
from pylvs.system import collector
from pylvs.web.actions import ActionResult, ServerAction

if TYPE_CHECKING:
    from pylvs.proto.vrrp.commands import State as VrrpState
    from pylvs.system.netlink import NetlinkHost
    from pylvs.vrrp.manager import VrrpManager
    from pylvs.web.surface import WebSurface

log = logging.getLogger("pylvs")

# ipvsadm returns -1 from main when a kernel call fails (ipvsadm.c): status 255.
KERNEL_FAILURE = 255


# The listings whose numbers a data plane may have to read first (DataPlane.refresh).
LISTS_WITH_COUNTS = frozenset(
    {ipvsadm_cmd.ListWhat.ALL, ipvsadm_cmd.ListWhat.SERVICE, ipvsadm_cmd.ListWhat.CONNECTIONS}
)


class ConfigRefusedError(Exception):
    """The configuration has errors: the daemon does not start with it."""

    def __init__(self, path: str, problems: Problems) -> None:
        self.problems = problems
        n = len(problems.errors)
        super().__init__(
            f"{path}: {n} error(s) in the configuration; not starting (pylvs check -f {path})"
        )


@dataclass
class RunOptions:
    config: str
    control: str
    more_configs: tuple[str, ...] = ()  # run beside `config`: `pylvs run -f A -f B`
    pidfile: str | None = None
    config_id: str | None = None
    grace: float = 5.0
    vrrp: bool = True  # keepalived -C (--checks-only) turns this off
    checks: bool = True  # keepalived -P (--vrrp-only) turns this off
    release_vrrp: bool = True  # keepalived -V (--dont-release-vrrp) turns this off
    http: str | None = None  # --http ADDR:PORT (else global_defs pylvs_http; else none)
    http_users: str | None = None  # --http-users FILE (web/auth.py)
    events_log: str | None = None  # --events-log FILE: events as JSON lines (engine/history.py)


class Daemon:
    def __init__(
        self,
        opts: RunOptions,
        dataplane: DataPlane,
        host: HostFacts | None = None,
        source: ConfigSource | None = None,
    ) -> None:
        self.opts = opts
        self.dp = dataplane
        self.host = host or HostFacts()
        self.source = source  # None: chosen from the file's content at the first load
        self.tables = TableState.empty()
        self.control = ControlServer(opts.control, self.handle)
        self.stopping = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        # One table change at a time: a change is computed from the live table and applied
        # with awaits in between (a listener to bind, an nft transaction); another change
        # computed meanwhile from the same live table would add what the first one adds.
        self._table_lock = asyncio.Lock()
        self._reload_wanted = asyncio.Event()
        self._reloader: asyncio.Task[None] | None = None
        self.health: HealthManager | None = None
        self.vrrp: VrrpManager | None = None
        self._netlink: NetlinkHost | None = None
        self._last_error = ""
        self.ipvsadm_work = IpvsadmWork()
        self.syncd = SyncdFollower(dataplane, vrrp=opts.vrrp, checks=opts.checks)
        self.spec: DirectorSpec | None = None  # the running configuration
        self.proxies: ProxyRuntime | None = None  # HAProxy-style frontends and backends
        self.stats_servers: StatsServers | None = None  # their stats sockets and pages
        self.proxy_checks: ProxyChecks | None = None  # their servers' health checks
        # Where the checks' state lines go besides the log targets (engine/proxy_checks: the
        # daemon's log by default; `pylvs haproxy` prints them as HAProxy does)
        self.check_console: Console | None = None
        self._retiring: set[asyncio.Task[None]] = set()  # old proxy runtimes' last streams
        self.notify: Callable[[str], None] = lambda _state: None
        self.web: WebSurface | None = None
        self.history = History(opts.events_log)
        self._vrrp_states: dict[str, str] = {}  # each instance's last state, for its events
        self.process = ProcessView(time.time(), __version__, opts.config)

    # -- life cycle ----------------------------------------------------------------------

    def _load_now(self) -> Loaded:
        """Read the configuration (in a worker thread: see `_load`), with the garbage
        collector paused: a collection over the objects a large file keeps alive while it is
        read would stop the event loop too (system/collector.py)."""
        if self.source is None:
            options = LoadOptions(config_id=self.opts.config_id, host=self.host)
            try:
                self.source = source_for_all((self.opts.config, *self.opts.more_configs), options)
            except UnknownFormatError as e:
                return failed(self.opts.config, str(e))
        with collector.paused():
            return self.source.load(self.opts.config)

    async def _load(self) -> Loaded:
        """Load off the event loop: the loop goes on forwarding, checking and advertising
        while a large file is read and converted."""
        return await asyncio.to_thread(self._load_now)

    @staticmethod
    def _log_problems(problems: Problems) -> None:
        for p in problems:
            (log.error if p.severity.value == "error" else log.warning)("%s", p)

    async def start(self) -> None:
        """Load the config, apply its table, open the control socket (ConfigRefusedError when
        the config has errors: nothing was started)."""
        self.control.claim()  # first: a second daemon must not touch anything
        result = await self._load()
        if not result.ok:
            await self.control.close()  # the claim goes: nothing started
            raise ConfigRefusedError(self.opts.config, result.problems)
        self._log_problems(result.problems)
        try:
            self.history.open()
        except OSError as e:
            await self.control.close()
            raise OSError(f"--events-log {self.opts.events_log}: {e.strerror}") from None
        spec = self.spec = result.spec
        self.dp.set_table_policy(self._table_policy(spec))
        await self.dp.start()
        await self._start_proxies(spec)
        t = spec.globals.ipvs_timeouts  # = ipvsadm --set (0: unchanged)
        self.dp.set_timeouts(self.dp.timeouts.with_set(t.tcp, t.tcp_fin, t.udp))
        if self.opts.checks:
            # The health manager pushes the table keepalived would program at start, then
            # every change its checkers cause, through _apply_config.
            self.health = HealthManager(
                spec, on_change=self._on_health_change, on_event=self.history.record
            )
            await self.health.start()
        if self.opts.vrrp:
            await self._start_vrrp(spec)
        self.syncd.configure(spec)
        await self.syncd.sync()
        self._update_ha_suspend()
        self._keep_descriptors_free()
        await self._start_web(spec)
        await self.control.start()  # last: its path appearing tells scripts we are ready
        log.info(
            "pylvs started: %d virtual service(s), %d VRRP instance(s), control %s",
            len(self.tables.live),
            len(self.vrrp.status()) if self.vrrp is not None else 0,
            self.opts.control,
        )

    async def _start_web(self, spec: DirectorSpec) -> None:
        """The HTTP surface, where --http or global_defs' pylvs_http asks for it (only
        there: nothing listens by default).  An address that cannot be bound stops the
        start, as a control socket that cannot be bound does."""
        listen = self.opts.http or spec.globals.http
        if listen is None:
            return
        from pylvs.web.surface import WebSurface  # prometheus_client: only where it serves

        try:
            self.web = WebSurface(self, listen, users_file=self.opts.http_users)
            await self.web.start()
        except (ValueError, OSError) as e:
            self.web = None
            raise OSError(f"HTTP surface {listen}: {e}") from None
        log.info("HTTP surface on %s (metrics at %smetrics)", self.web.url, self.web.url)

    async def _rebind_web(self, spec: DirectorSpec) -> None:
        """A reload that changes pylvs_http moves the HTTP surface (--http, given, stays)."""
        wanted = self.opts.http or spec.globals.http
        if wanted == (self.web.listen if self.web is not None else None):
            return
        if self.web is not None:
            await self.web.close()
            self.web = None
            log.info("HTTP surface closed")
        if wanted is not None:
            try:
                await self._start_web(spec)
            except OSError as e:
                log.error("%s: no HTTP surface", e)

    def _table_policy(self, spec: DirectorSpec) -> TablePolicy:
        """keepalived's lvs_flush, lvs_flush_on_stop and --dont-release-ipvs, for a plane
        that shares the kernel's table (check/check_daemon.c, check/ipwrapper.c)."""
        g = spec.globals
        on_stop = StopPolicy.OWN
        if not self.dp.release_on_stop:  # keepalived -I, set where the plane is made
            on_stop = StopPolicy.KEEP
        elif g.flush_on_stop == "all":
            on_stop = StopPolicy.ALL
        elif g.flush_on_stop == "vs":
            on_stop = StopPolicy.SERVICES
        return TablePolicy(flush_at_start=g.flush_at_start, on_stop=on_stop)

    async def _start_vrrp(self, spec: DirectorSpec) -> None:
        """VRRP for the spec's instances (raw IP sockets: root only)."""
        if not spec.vrrp.instances:
            return
        if os.geteuid() != 0:
            log.error(
                "VRRP needs root (raw IP protocol 112 sockets, addresses): %d instance(s) "
                "not started; run as root or with --checks-only",
                len(spec.vrrp.instances),
            )
            return
        from pylvs.system.netlink import NetlinkHost  # pyroute2: only where VRRP runs
        from pylvs.vrrp.manager import VrrpManager

        self._netlink = NetlinkHost()
        self.vrrp = VrrpManager(spec, self._netlink, on_state=self._on_vrrp_state)
        await self.vrrp.start()

    def _on_vrrp_state(self, name: str, state: VrrpState) -> None:
        old = self._vrrp_states.get(name, "INIT")
        self._vrrp_states[name] = state.name
        if old != state.name and self.vrrp is not None:
            cause = self.vrrp.cause(name)
            self.history.record(InstanceStateChanged(time.time(), name, old, state.name, cause))
        self._update_ha_suspend()
        self.syncd.instance_state(name, state.name)

    def _keep_descriptors_free(self) -> None:
        """What checks, VRRP and the control socket need stays free of the data plane's
        connections (issue 18: checks failed for want of descriptors)."""
        checkers = len(self.health.tasks) if self.health is not None else 0
        instances = len(self.vrrp.instances) if self.vrrp is not None else 0
        self.dp.keep_free(
            reserve_for(checkers, instances, control_clients=control_server.IN_FLIGHT)
        )

    def _update_ha_suspend(self) -> None:
        """ha_suspend: checkers of a virtual server run only while its address is here."""
        if self.health is None:
            return
        for address in self.health.ha_suspend_addresses():
            held = self.vrrp is not None and self.vrrp.holds(address)
            self.health.set_address_present(address, held or _is_local(address))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        actions: dict[signals.Action, Callable[[], object]] = {
            signals.Action.STOP: self.stopping.set,
            signals.Action.RELOAD: self.request_reload,
            **dump_actions(self),
        }
        undo = signals.install(loop, actions)  # before start: no signal may end it abruptly
        try:
            await self.start()
        except BaseException:
            undo()
            raise
        try:
            self.notify("READY=1")
            await self.stopping.wait()
        finally:
            await self.shutdown()
            undo()
        return 0

    def request_reload(self) -> None:
        """SIGHUP: reload in the daemon's reloader task.  Signals that come while a reload
        runs make one more reload after it, with the file as it is then."""
        self._reload_wanted.set()
        if self._reloader is None or self._reloader.done():
            self._reloader = asyncio.get_running_loop().create_task(
                self._reloads(), name="pylvs reloader"
            )

    async def _reloads(self) -> None:
        while self._reload_wanted.is_set():
            self._reload_wanted.clear()
            try:
                await self.reload_notified()
            except Exception:  # a reload bug must not end the daemon, nor pass unseen
                log.exception("reload failed")

    async def shutdown(self) -> None:
        log.info("Stopping")
        self.notify("STOPPING=1")
        if self._reloader is not None:
            self._reloader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reloader
            self._reloader = None
        await self.control.close()
        if self.web is not None:
            await self.web.close()
        if self.vrrp is not None:  # priority-0 adverts first: the backup takes over at once
            await self.vrrp.stop(release=self.opts.release_vrrp)
        if self._netlink is not None:
            self._netlink.close()
        if self.health is not None:
            await self.health.stop()
        await self.syncd.stop()
        await self._stop_proxies(self.opts.grace)
        for task in list(self._retiring):
            await task
        await self.dp.stop(self.opts.grace)
        self.ipvsadm_work.close()
        self.history.close()

    # -- HAProxy-style frontends and backends (dataplane/haproxy) --------------------------

    async def _start_proxies(
        self, spec: DirectorSpec, previous: StatsServers | None = None
    ) -> None:
        """Listen on every frontend's addresses (ProxyRuntimeError, naming the bind line,
        when one cannot be bound: nothing of the new runtime stays), then run the servers'
        checks.  `previous`: the stats servers of the runtime a reload replaces, whose
        sockets, tables and server states (check states included: the checks start from
        them) the new one takes (engine/proxy_reload.py)."""
        if spec.proxies.empty:
            return
        old = previous.live.rt if previous is not None else None
        runtime = ProxyRuntime(spec.proxies, previous=old)
        if previous is not None:
            carry_server_states(previous.live, runtime)
        await runtime.start(old)
        checks = ProxyChecks.build(runtime, self.check_console)
        reader = self.source.server_line if self.source is not None else no_dynamic_servers
        live = LiveProxies(runtime, checks, reader)
        if resolvers_wanted(spec.proxies):  # run-time DNS: servers' or do-resolve's
            from pylvs.engine.proxy_resolvers import ProxyResolvers

            live.resolvers = ProxyResolvers(live, spec.proxies.resolvers, self.check_console)
        stats = StatsServers(live, spec.proxies)
        try:
            self._start_lua(spec.proxies.lua, live)
            await stats.start()
        except BaseException:
            self._stop_lua(runtime)
            await runtime.stop(0)
            raise
        self.proxies, self.stats_servers = runtime, stats
        if checks is not None:
            checks.start()
        self.proxy_checks = checks
        if live.resolvers is not None:
            live.resolvers.start()
        log.info(
            "proxies: %d frontend(s), %d backend(s), %d listening socket(s)",
            len(runtime.frontends),
            len(runtime.backends),
            sum(len(fe.listeners) for fe in runtime.frontends.values()),
        )

    def _start_lua(self, spec: LuaSpec, live: LiveProxies) -> None:
        """The `lua-load` scripts of the proxies (engine/lua): loaded, then their init
        functions and tasks started; the runtime's samples and rules call them."""
        if spec.empty:
            return
        from pylvs.engine.lua.engine import LuaEngine

        quiet = not logging.getLogger().isEnabledFor(logging.ERROR)
        engine = LuaEngine(spec, live, quiet=quiet)
        error = engine.load()
        if error:
            raise ProxyRuntimeError(error.rstrip("\n"))
        live.rt.process.lua = engine
        error = engine.start()
        if error:
            raise ProxyRuntimeError(error)

    @staticmethod
    def _stop_lua(runtime: ProxyRuntime) -> None:
        engine = runtime.process.lua
        if engine is not None and hasattr(engine, "stop"):
            engine.stop()
        runtime.process.lua = None

    async def _stop_proxies(self, grace: float) -> None:
        checks, self.proxy_checks = self.proxy_checks, None
        if checks is not None:
            checks.stop()
        stats, self.stats_servers = self.stats_servers, None
        if stats is not None:
            if stats.live.resolvers is not None:
                stats.live.resolvers.stop()
            await stats.close()
        runtime, self.proxies = self.proxies, None
        if runtime is not None:
            self._stop_lua(runtime)
            await runtime.stop(grace)

    async def _reload_proxies(self, spec: DirectorSpec) -> str:
        """A reload that changes the proxies: a new runtime takes the old one's listening
        sockets (no connection refused), stick tables and server states; the old one's
        streams run on (up to the stop grace).  "" or the error (the old runtime then
        serves on, unchanged)."""
        old = self.spec.proxies if self.spec is not None else None
        if old == spec.proxies:
            return ""
        checks, self.proxy_checks = self.proxy_checks, None
        stats, self.stats_servers = self.stats_servers, None
        if stats is not None:
            await stats.close()
        runtime, self.proxies = self.proxies, None
        try:
            await self._start_proxies(spec, stats)
        except (OSError, ProxyRuntimeError) as e:
            self.proxies, self.proxy_checks = runtime, checks  # its checks ran on
            if stats is not None and old is not None:
                self.stats_servers = StatsServers(stats.live, old)
                await self.stats_servers.start()
            return str(e)
        if runtime is not None:  # `hard-stop-after` bounds the old streams, as the old
            old_lua = runtime.process.lua  # its tasks end; its streams keep their Lua
            if old_lua is not None and hasattr(old_lua, "stop"):
                old_lua.stop()
            hard = spec.proxies.hard_stop_after_ms  # haproxy's after -sf
            grace = hard / 1000 if hard is not None else self.opts.grace
            task = asyncio.get_running_loop().create_task(runtime.stop(grace))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        if checks is not None:  # the new checks took over from their state
            checks.stop()
        if stats is not None and stats.live.resolvers is not None:
            stats.live.resolvers.stop()  # the new runtime's resolve from now on
        return ""

    # -- table changes --------------------------------------------------------------------

    async def _push(self, new_live: ServiceTable) -> str:
        """Apply the diff to the data plane; returns an error text ("" when all applied).
        The caller holds `_table_lock` from computing `new_live` until this returns."""
        changes = diff(self.tables.live, new_live)
        error = ""
        if changes:
            try:
                await self.dp.apply(changes)
            except DataPlaneError as e:
                error = str(e)
                log.error("%s", e)
                new_live = self.dp.applied()
        self.tables = TableState(self.tables.config, new_live)
        return error

    async def _observe(self, *, connections: bool = False) -> bool:
        """Take what others changed in a table pylvs shares (the kernel's IPVS, edited with
        the real ipvsadm too) as operator edits, as keepalived leaves them be.  False when
        the plane's table is pylvs's alone.  The caller holds `_table_lock`."""
        try:
            observed = await self.dp.observe(connections=connections)
        except (OSError, DataPlaneError) as e:
            log.error("cannot read the data plane's table: %s", e)
            return True
        if observed is None:
            return False
        if not same_table(observed, self.tables.live):
            log.info("the table was changed outside pylvs (ipvsadm?): kept as an operator edit")
            self.tables = self.tables.edit(observed)
        return True

    async def _on_health_change(self, desired: ServiceTable) -> None:
        """The config + health table changed: apply the difference to the live table."""
        self._last_error = await self._apply_config(desired)

    async def _apply_config(self, config_table: ServiceTable) -> str:
        async with self._table_lock:
            await self._observe()
            target = self.tables.reload(config_table)
            error = await self._push(target.live)
            self.tables = TableState(target.config, self.tables.live)
            return error

    async def reload_notified(self) -> Response:
        """`reload` between the service manager's RELOADING=1 and READY=1."""
        self.notify("RELOADING=1")
        try:
            return await self.reload()
        finally:
            self.notify("READY=1")

    async def reload(self) -> Response:
        """Re-read the config; apply only what changed.  A config with errors is refused."""
        async with self._reload_lock:
            log.info("Reloading")
            before = self.tables.live
            result = await self._load()
            self.process = replace(self.process, last_reload=time.time())
            if result.problems.has_errors():
                self._reloaded(False, (), tuple(str(p) for p in result.problems.errors))
                self._log_problems(result.problems)
                text = "".join(f"{p}\n" for p in result.problems)
                log.error("Reload refused: the configuration has errors; keeping the running one")
                return Response(1, "", text + "pylvs: reload refused, running config kept\n")
            self._log_problems(result.problems)
            self._last_error = await self._reload_proxies(result.spec)
            if self._last_error and self.spec is not None:  # the old proxies serve on
                result = replace(result, spec=replace(result.spec, proxies=self.spec.proxies))
            self.spec = result.spec
            self.dp.set_table_policy(self._table_policy(result.spec))
            self.syncd.configure(result.spec)
            if self.vrrp is not None:
                await self.vrrp.reload(result.spec)
            elif self.opts.vrrp:
                await self._start_vrrp(result.spec)
            if self.health is not None:
                await self.health.reload(result.spec)
                self._update_ha_suspend()
            await self.syncd.sync()
            self._keep_descriptors_free()
            await self._rebind_web(result.spec)
            error = self._last_error
            changes = tuple(describe(c) for c in diff(before, self.tables.live))
            self._reloaded(not error, changes, (error,) if error else ())
            if error:
                return Response(1, "", f"pylvs: {error}\n")
            text = "".join(f"{p}\n" for p in result.problems)
            # A service whose port another process holds is in the table but takes no
            # traffic: the reload did not do all it was asked (issue 18).
            unbound = self.dp.unbound()
            text += "".join(
                f"pylvs: {key}: not listening: {why} (retrying)\n" for key, why in unbound.items()
            )
            return Response(1 if unbound else 0, "", text)

    def _reloaded(self, ok: bool, changes: tuple[str, ...], problems: tuple[str, ...]) -> None:
        """Count the reload (metrics) and tell the event history what it did."""
        p = self.process
        if ok:
            self.process = replace(p, reloads_ok=p.reloads_ok + 1, last_reload_ok=True)
        else:
            self.process = replace(p, reloads_failed=p.reloads_failed + 1, last_reload_ok=False)
        self.history.record(ConfigReloaded(time.time(), ok, changes, problems))

    # -- control requests -------------------------------------------------------------------

    async def handle(self, req: Request) -> Response:
        if req.op == "ipvsadm":
            return await self.ipvsadm(list(req.argv), req.stdin)
        if req.op == "reload":
            return await self.reload_notified()
        if req.op == "status":
            async with self._table_lock:
                await self._observe()
            return self.status()
        if req.op == "events":
            return events_response(self.history)
        self.stopping.set()
        return Response(0, "", "")

    def _state(self) -> State:
        return State(self.tables.live, self.dp.timeouts, self.dp.sync_daemons() or ())

    async def ipvsadm(self, argv: list[str], stdin: str) -> Response:
        """One `ipvsadm ARGS` run against the live table, byte-compatible output.

        Names are looked up and listings built off the loop (engine/ipvsadm_work.py).  The
        kernel data plane's numbers are read first (`refresh`, without blocking the loop);
        nothing is awaited between that and taking the listing's data."""
        work = self.ipvsadm_work
        cmd, lists, resolver = await work.parse(argv, stdin)
        if isinstance(cmd, Failure):
            return _failure_response(cmd)
        wanted = [x.what for x in lists if isinstance(x, ipvsadm_cmd.List)]
        conns = ipvsadm_cmd.ListWhat.CONNECTIONS in wanted
        async with self._table_lock:
            shared = await self._observe(connections=conns)
        if not shared and any(what in LISTS_WITH_COUNTS for what in wanted):
            await self.dp.refresh(connections=conns)
        if isinstance(cmd, ipvsadm_cmd.List | ipvsadm_cmd.Save):
            text = await work.listing(cmd, self.dp, resolver)
            if isinstance(text, Failure):
                return _failure_response(text)
            return Response(0, text, "")
        response, acted = await self.execute(cmd, stdin, connections=conns)
        if acted:  # an edit, or a refused one: not listings, help or version
            self._operator_acted("ipvsadm", "", shlex.join(["ipvsadm", *argv]), response)
        return response

    async def execute(
        self, cmd: ipvsadm_cmd.Command, stdin: str = "", *, connections: bool = False
    ) -> tuple[Response, bool]:
        """Run a parsed ipvsadm command against the live table: what `pylvs ipvsadm` and the
        HTTP API's write actions both go through.  Also whether it acted (changed something,
        or was refused), as opposed to listing or printing help."""
        async with self._table_lock:
            state = self._state()
            syncing = self.dp.sync_daemons() is not None
            run = functools.partial(
                run_command,
                cmd,
                state,
                stdin=stdin,
                resolver=self.ipvsadm_work.lookups.cached(),  # looked up before, off the loop
                no_sync=None if syncing else SYNC_UNAVAILABLE,
                sync_by_kernel=syncing,
            )
            if isinstance(cmd, ipvsadm_cmd.Restore):
                # -R runs every line of its input (~100 µs of CPU each): off the loop, so a
                # restore of tens of thousands of lines does not stop forwarding and VRRP.
                # The table lock keeps other edits out meanwhile; a listing line reads the
                # data plane on the loop, which is free while this awaits.
                loop = asyncio.get_running_loop()

                def snap_on_loop(_s: State) -> Snapshot:
                    return asyncio.run_coroutine_threadsafe(
                        self._snapshot_async(connections), loop
                    ).result()

                result = await asyncio.to_thread(run, snapshot=snap_on_loop)
            else:
                result = run(snapshot=lambda _s: build_snapshot(self.dp, with_conns=connections))
            response = await self._commit(state, result)
        acted = result.state != state or result.zeros or result.syncs or response.rc != 0
        return response, bool(acted)

    async def act(self, action: ServerAction, who: str) -> ActionResult:
        """One write action of the HTTP surface, as the ipvsadm command it amounts to."""
        try:
            async with self._table_lock:
                await self._observe()
                cmd, line = command_for(action, self.tables.live, self.tables.config)
        except RefusedError as e:
            return ActionResult(e.status, e.message, "")
        response, _ = await self.execute(cmd)
        self._operator_acted("http", who, line, response)
        if response.rc != 0:
            return ActionResult(409, response.stderr.strip(), line)
        return ActionResult(200, "", line)

    def _operator_acted(self, via: str, who: str, command: str, response: Response) -> None:
        message = response.stderr.strip().splitlines()[0] if response.stderr.strip() else ""
        self.history.record(OperatorActed(time.time(), via, who, command, response.rc, message))

    async def _snapshot_async(self, conns: bool) -> Snapshot:
        return build_snapshot(self.dp, with_conns=conns)

    def event_log(self) -> EventLog:
        return self.history.events

    async def connections(self) -> tuple[ConnView, ...]:
        """The connection table now (what `ipvsadm -Lnc` lists), read off the loop where
        the plane needs a read (the kernel's)."""
        async with self._table_lock:
            shared = await self._observe(connections=True)
        if not shared:
            await self.dp.refresh(connections=True)
        rows = await asyncio.to_thread(self.dp.connections_later())
        return tuple(conn_view(c) for c in rows)

    async def _commit(self, before: State, result: Result) -> Response:
        out = "".join(e.text for e in result.output if e.stream is Stream.STDOUT)
        err = "".join(e.text for e in result.output if e.stream is Stream.STDERR)
        rc = result.exit_code
        after = result.state
        if after.timeouts != before.timeouts:
            self.dp.set_timeouts(after.timeouts)
        if after.table != before.table:
            error = await self._push(after.table)
            if error:
                err += f"{error}\n"
                rc = KERNEL_FAILURE
        for key in result.zeros:
            with contextlib.suppress(DataPlaneError):
                self.dp.zero(key)
        for sync in result.syncs:
            try:
                await self._sync_command(sync)
            except DataPlaneError as e:
                err += f"{e}\n"
                rc = KERNEL_FAILURE
        return Response(rc, out, err)

    async def _sync_command(self, cmd: ipvsadm_cmd.StartDaemon | ipvsadm_cmd.StopDaemon) -> None:
        """--start-daemon / --stop-daemon on the plane, with what was given (the kernel
        fills in the rest: group, port, ttl, the interface's MTU for maxlen)."""
        if isinstance(cmd, ipvsadm_cmd.StopDaemon):
            await self.dp.stop_sync_daemon(SyncState(cmd.state))
            return
        await self.dp.start_sync_daemon(cmd.daemon.to_sync_daemon())

    def snapshot(self) -> DirectorSnapshot:
        """The director now: the live table with its counters, health, VRRP."""
        pools, servers = self.health.views() if self.health is not None else ((), ())
        return DirectorSnapshot(
            table=build_snapshot(self.dp, with_conns=False),
            pools=pools,
            servers=servers,
            vrrp=tuple(i.view() for i in self.vrrp.status()) if self.vrrp is not None else (),
            unbound=tuple(self.dp.unbound().items()),
            plane=PlaneView(
                self.dp.name,
                self.dp.flow_count(),
                self.dp.unrecorded(),
                drops=tuple(sorted(self.dp.drops().items())),
                sets=tuple(self.dp.set_sizes()),
                descriptors=self.dp.descriptor_use(),
            ),
            process=self.process,
        )

    def status(self) -> Response:
        return Response(0, status_view.render(self.snapshot()), "")


def _is_local(address: str) -> bool:
    """Is `address` configured on this host?  (Binding to it succeeds only then.)"""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.bind((address, 0))
        except OSError:
            return False
    return True


def _failure_response(f: Failure) -> Response:
    if f.stream is Stream.STDOUT:
        return Response(f.exit_code, f.text, "")
    return Response(f.exit_code, "", f.text)
