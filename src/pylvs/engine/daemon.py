"""The director daemon: config -> table -> data plane, steered over the control socket.

`Daemon` loads keepalived.conf, builds the IPVS table keepalived would program
(`config.keepalived.table.to_table`), applies it to the data plane and serves the control
socket (`pylvs ipvsadm`, `pylvs reload`, `pylvs status`).  Signals mean what they mean to
keepalived (engine/signals.py: SIGHUP reloads, SIGTERM/SIGINT stop, SIGUSR1/SIGUSR2 write the
dumps of engine/dumps.py); a stop closes listeners first, then live connections get `grace`
seconds.  `notify` receives the service manager's state words (READY=1, RELOADING=1,
STOPPING=1; cli/sdnotify.py sends them to systemd).

At start a config with errors still runs, with the fallbacks keepalived would apply (they are
logged); a *reload* with errors is refused and the running table stays (issue 3.7).  Reload and
operator edits combine as `engine.table_state.TableState` describes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pylvs.config.errors import Problems
from pylvs.config.keepalived.model import KeepalivedConfig
from pylvs.config.keepalived.parser import LoadResult, load
from pylvs.config.keepalived.table import to_table
from pylvs.config.keywords import HostFacts
from pylvs.control import server as control_server
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
from pylvs.engine import signals
from pylvs.engine.dumps import dump_actions
from pylvs.engine.ipvsadm_work import IpvsadmWork
from pylvs.engine.snapshot import build_snapshot
from pylvs.engine.syncd import SyncdFollower
from pylvs.engine.table_state import TableState
from pylvs.health.manager import HealthManager

if TYPE_CHECKING:
    from pylvs.proto.vrrp.commands import State as VrrpState
    from pylvs.system.netlink import NetlinkHost
    from pylvs.vrrp.manager import VrrpManager
from pylvs.model.table import ServiceTable, diff

log = logging.getLogger("pylvs")

# ipvsadm returns -1 from main when a kernel call fails (ipvsadm.c): status 255.
KERNEL_FAILURE = 255


# The listings whose numbers a data plane may have to read first (DataPlane.refresh).
LISTS_WITH_COUNTS = frozenset(
    {ipvsadm_cmd.ListWhat.ALL, ipvsadm_cmd.ListWhat.SERVICE, ipvsadm_cmd.ListWhat.CONNECTIONS}
)


@dataclass
class RunOptions:
    config: str
    control: str
    pidfile: str | None = None
    config_id: str | None = None
    grace: float = 5.0
    vrrp: bool = True  # keepalived -C (--checks-only) turns this off
    checks: bool = True  # keepalived -P (--vrrp-only) turns this off
    release_vrrp: bool = True  # keepalived -V (--dont-release-vrrp) turns this off


class Daemon:
    def __init__(
        self, opts: RunOptions, dataplane: DataPlane, host: HostFacts | None = None
    ) -> None:
        self.opts = opts
        self.dp = dataplane
        self.host = host or HostFacts()
        self.tables = TableState.empty()
        self.control = ControlServer(opts.control, self.handle)
        self.stopping = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self.health: HealthManager | None = None
        self.vrrp: VrrpManager | None = None
        self._netlink: NetlinkHost | None = None
        self.syncd = SyncdFollower(dataplane, vrrp=opts.vrrp, checks=opts.checks)
        self._last_error = ""
        self.ipvsadm_work = IpvsadmWork()
        self.config: KeepalivedConfig | None = None
        self.notify: Callable[[str], None] = lambda _state: None

    # -- life cycle ----------------------------------------------------------------------

    def _load(self) -> LoadResult:
        return load(self.opts.config, config_id=self.opts.config_id, host=self.host)

    @staticmethod
    def _log_problems(problems: Problems) -> None:
        for p in problems:
            (log.error if p.severity.value == "error" else log.warning)("%s", p)

    async def start(self) -> None:
        """Load the config, apply its table, open the control socket."""
        self.control.claim()  # first: a second daemon must not touch anything
        result = self._load()
        self.config = result.config
        self._log_problems(result.problems)
        self.dp.set_table_policy(self._table_policy(result.config))
        await self.dp.start()
        lt = result.config.global_defs.lvs_timeouts  # = ipvsadm --set (0: unchanged)
        self.dp.set_timeouts(self.dp.timeouts.with_set(lt.tcp or 0, lt.tcpfin or 0, lt.udp or 0))
        if self.opts.checks:
            # The health manager pushes the table keepalived would program at start (the same
            # as to_table), then every change its checkers cause, through _apply_config.
            self.health = HealthManager(result.config, on_change=self._on_health_change)
            await self.health.start()
        if self.opts.vrrp:
            await self._start_vrrp(result.config)
        self._update_ha_suspend()
        self.syncd.configure(result.config)
        await self.syncd.sync()
        self._keep_descriptors_free()
        await self.control.start()
        log.info(
            "pylvs started: %d virtual service(s), %d VRRP instance(s), control %s",
            len(self.tables.live),
            len(self.vrrp.status()) if self.vrrp is not None else 0,
            self.opts.control,
        )

    def _table_policy(self, config: KeepalivedConfig) -> TablePolicy:
        """keepalived's lvs_flush, lvs_flush_on_stop and --dont-release-ipvs, for a plane
        that shares the kernel's table (check/check_daemon.c, check/ipwrapper.c)."""
        g = config.global_defs
        on_stop = StopPolicy.OWN
        if not self.dp.release_on_stop:  # keepalived -I, set where the plane is made
            on_stop = StopPolicy.KEEP
        elif g.lvs_flush_on_stop == "all":
            on_stop = StopPolicy.ALL
        elif g.lvs_flush_on_stop == "vs":
            on_stop = StopPolicy.SERVICES
        return TablePolicy(flush_at_start=g.lvs_flush, on_stop=on_stop)

    async def _start_vrrp(self, config: KeepalivedConfig) -> None:
        """VRRP for the config's instances (raw IP sockets: root only)."""
        if not config.vrrp.instances:
            return
        if os.geteuid() != 0:
            log.error(
                "VRRP needs root (raw IP protocol 112 sockets, addresses): %d instance(s) "
                "not started; run as root or with --checks-only",
                len(config.vrrp.instances),
            )
            return
        from pylvs.system.netlink import NetlinkHost  # pyroute2: only where VRRP runs
        from pylvs.vrrp.manager import VrrpManager

        self._netlink = NetlinkHost()
        self.vrrp = VrrpManager(config, self._netlink, on_state=self._on_vrrp_state)
        await self.vrrp.start()

    def _on_vrrp_state(self, name: str, state: VrrpState) -> None:
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
            signals.Action.RELOAD: lambda: loop.create_task(self.reload_notified()),
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

    async def shutdown(self) -> None:
        log.info("Stopping")
        self.notify("STOPPING=1")
        await self.control.close()
        if self.vrrp is not None:  # priority-0 adverts first: the backup takes over at once
            await self.vrrp.stop(release=self.opts.release_vrrp)
        if self._netlink is not None:
            self._netlink.close()
        if self.health is not None:
            await self.health.stop()
        await self.syncd.stop()
        await self.dp.stop(self.opts.grace)
        self.ipvsadm_work.close()

    # -- table changes --------------------------------------------------------------------

    async def _push(self, new_live: ServiceTable) -> str:
        """Apply the diff to the data plane; returns an error text ("" when all applied)."""
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

    async def _on_health_change(self, desired: ServiceTable) -> None:
        """The config + health table changed: apply the difference to the live table."""
        self._last_error = await self._apply_config(desired)

    async def _observe(self, *, connections: bool = False) -> bool:
        """Take what others changed in a table pylvs shares (the kernel's IPVS, edited with
        the real ipvsadm too) as operator edits, as keepalived leaves them be.  False when
        the plane's table is pylvs's alone."""
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

    async def _apply_config(self, config_table: ServiceTable) -> str:
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
            result = self._load()
            if result.problems.has_errors():
                self._log_problems(result.problems)
                text = "".join(f"{p}\n" for p in result.problems)
                log.error("Reload refused: the configuration has errors; keeping the running one")
                return Response(1, "", text + "pylvs: reload refused, running config kept\n")
            self._log_problems(result.problems)
            self.dp.set_table_policy(self._table_policy(result.config))
            self.syncd.configure(result.config)
            self._last_error = ""
            self.config = result.config
            if self.vrrp is not None:
                await self.vrrp.reload(result.config)
            elif self.opts.vrrp:
                await self._start_vrrp(result.config)
            if self.health is not None:
                await self.health.reload(result.config)
                self._update_ha_suspend()
            elif self.opts.checks:
                await self._on_health_change(to_table(result.config))
            await self.syncd.sync()
            self._keep_descriptors_free()
            error = self._last_error
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

    # -- control requests -------------------------------------------------------------------

    async def handle(self, req: Request) -> Response:
        if req.op == "ipvsadm":
            return await self.ipvsadm(list(req.argv), req.stdin)
        if req.op == "reload":
            return await self.reload_notified()
        if req.op == "status":
            await self._observe()
            return self.status()
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
        shared = await self._observe(connections=conns)
        if not shared and any(what in LISTS_WITH_COUNTS for what in wanted):
            await self.dp.refresh(connections=conns)
        if isinstance(cmd, ipvsadm_cmd.List | ipvsadm_cmd.Save):
            text = await work.listing(cmd, self.dp, resolver)
            if isinstance(text, Failure):
                return _failure_response(text)
            return Response(0, text, "")
        state = self._state()
        syncing = self.dp.sync_daemons() is not None
        result = run_command(
            cmd,
            state,
            stdin=stdin,
            resolver=work.lookups.cached(),  # everything it asks was looked up while parsing
            snapshot=lambda _s: build_snapshot(self.dp, with_conns=conns),
            no_sync=None if syncing else SYNC_UNAVAILABLE,
            sync_by_kernel=syncing,
        )
        return await self._commit(state, result)

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
            await self.dp.stop_sync_daemon(cmd.state)
            return
        await self.dp.start_sync_daemon(cmd.daemon.to_sync_daemon())

    def status(self) -> Response:
        services = self.dp.services()
        unbound = self.dp.unbound()
        lines = [f"pylvs director: {len(services)} virtual service(s)"]
        for rt in services:
            line = f"  {rt.service.key} {rt.service.scheduler}: {len(rt.dests)} dest(s)"
            if rt.key in unbound:
                line += f"; not listening: {unbound[rt.key]} (retrying)"
            lines.append(line)
        for inst in self.vrrp.status() if self.vrrp is not None else []:
            since = (
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(inst.last_transition))
                if inst.last_transition is not None
                else "-"
            )
            lines.append(
                f"  VRRP ({inst.name}) vrid {inst.vrid} on {inst.interface}: {inst.state.name}, "
                f"priority {inst.base_priority} (effective {inst.effective_priority}), "
                f"master {inst.master_address or '-'}, since {since}"
            )
        text = "\n".join(lines) + "\n"
        if self.health is not None:
            text += self.health.status_text()
        return Response(0, text, "")


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


def same_table(a: ServiceTable, b: ServiceTable) -> bool:
    """The same services with the same real servers, whatever the order."""
    if a.keys() != b.keys():
        return False
    for key, entry in a.items():
        other = b[key]
        if entry.service != other.service or set(entry.dests) != set(other.dests):
            return False
    return True
