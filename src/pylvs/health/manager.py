"""HealthManager: keepalived's checker process for the pylvs engine.

It takes the pools of a `DirectorSpec` (model/), and owns the pure state (health/effects.py
`LvsState`), one asyncio task per checker (health/runner.py), a poller for FILE_CHECK's
tracked files, and the outlets for what a transition asks for: scripts, the notify FIFOs and
SMTP alerts (the notify/ package) and log lines.  Every change of the desired table is handed to
`on_change` (awaited, in order); the engine diffs it against the applied table, so the data
plane follows health at once.  `reload` keeps the state and timers of every checker whose
virtual server, real server and configuration are unchanged, and starts the new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pylvs.health import reload as reloading
from pylvs.health.checkers.base import ProbeContext, ProbeResult, create, kind_of
from pylvs.health.effects import CheckerRef, LvsState
from pylvs.health.events import Effect, FifoLine, LogLine, RunScript, fmt_rs
from pylvs.health.machine import Change, Step
from pylvs.health.rs_state import IPVS_WEIGHT_FAULT, file_status, misc_delta
from pylvs.health.runner import BOOTSTRAP_DELAY, CheckerTask, first_delay
from pylvs.health.wording import alert_body, transition_line
from pylvs.model.checks import BfdProbe, CheckSpec, FileProbe, MiscProbe
from pylvs.model.director import DirectorSpec
from pylvs.model.events import ServerHealthChanged
from pylvs.model.notify import Alert
from pylvs.model.snapshot import CheckView, PoolHealth, ServerHealth
from pylvs.model.table import ServiceTable
from pylvs.notify.fifo import NotifyFifos
from pylvs.notify.scripts import ScriptRunner
from pylvs.notify.smtp import AlertSender
from pylvs.system import collector, trackfile

log = logging.getLogger("pylvs.health")

OnChange = Callable[[ServiceTable], Awaitable[None]]
OnEvent = Callable[[ServerHealthChanged], object]


@dataclass(slots=True)
class FileWatch:
    check: FileProbe
    status: int | None = 0  # None: fault (checker down)
    wall: float | None = None

    def compute(self) -> tuple[bool, int | None]:
        """(judged, status): not judged when the file holds an out-of-range number."""
        if self.check.path is None:
            return True, 0
        value = trackfile.read(self.check.path)
        if value is None:
            return False, self.status
        s = file_status(value, self.check.weight, self.check.reverse)
        return True, (None if s == IPVS_WEIGHT_FAULT else s)


class HealthManager:
    def __init__(
        self,
        spec: DirectorSpec,
        *,
        on_change: OnChange,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        wall: Callable[[], float] = time.time,
        bootstrap: float = BOOTSTRAP_DELAY,
        file_poll: float = 1.0,
        hostname: str | None = None,
        term_grace: float = 2.0,
        on_event: OnEvent | None = None,
    ) -> None:
        self.spec = spec
        self.on_change = on_change
        self.on_event = on_event
        # When each real server last went up or down (wall clock), by (pool, server).
        self.since: dict[tuple[str, object], float] = {}
        self.clock = clock
        self.rng = rng or random.Random()
        self.wall = wall
        self.bootstrap = bootstrap
        self.file_poll = file_poll
        self.hostname = hostname or socket.gethostname()
        notify = spec.notify
        self.scripts = ScriptRunner(notify.scripts, term_grace=term_grace)
        self.sender = AlertSender(notify.smtp, hostname=self.hostname, username=getpass.getuser())
        self.fifos = NotifyFifos((notify.fifo, notify.health_fifo), self.scripts)
        self.ctx = ProbeContext(rng=self.rng, ssl=spec.globals.check_tls, run_script=self.scripts)
        self.state = self._new_state(spec)
        self._index = reloading.index(self.state)  # the running checkers by identity
        self.tasks: dict[CheckerRef, CheckerTask] = {}
        self.watches: dict[CheckerRef, FileWatch] = {}
        self._lock = asyncio.Lock()
        self._applied: ServiceTable | None = None
        self._poller: asyncio.Task[None] | None = None
        self._running = False

    def _new_state(self, spec: DirectorSpec) -> LvsState:
        return LvsState(
            spec.pools,
            router_id=spec.globals.router_id or self.hostname,
            no_checker_emails=spec.notify.mail_on_change_only,
        )

    # -- public API --------------------------------------------------------------------

    def ha_suspend_addresses(self) -> set[str]:
        """Addresses of virtual servers configured `ha_suspend` (their checkers run only while
        the address is on this node, keepalived's check_api.c `update_checker_activity`)."""
        return {
            str(vh.conf.address)
            for vh in self.state.vs.values()
            if vh.conf.ha_suspend and vh.conf.address is not None
        }

    def set_address_present(self, address: str, present: bool) -> None:
        """The address came (or went): resume (suspend) the checkers of its ha_suspend VSes."""
        for ref, task in self.tasks.items():
            conf = self.state.vs[ref.vs].conf
            if conf.ha_suspend and conf.address is not None and str(conf.address) == address:
                if task.suspended == present:
                    log.info(
                        "%s checker of %s for VS %s: address %s",
                        kind_of(task.check),
                        fmt_rs(self.state.vs[ref.vs].rs_conf[ref.rs].server, conf),
                        conf,
                        "present, resuming" if present else "gone, suspending",
                    )
                task.suspend(not present)

    def desired(self) -> ServiceTable:
        """The table health asks for now (config table with health applied)."""
        return self.state.table()

    async def start(self) -> None:
        """Open the FIFOs, settle the start state, push the first table, start checking."""
        async with self._lock:
            for tf in self.spec.track_files:
                if tf.init_file:
                    why = trackfile.initialise(tf.path, tf.init_value, overwrite=tf.init_overwrite)
                    if why is not None:
                        log.error("%s", why)
            self.fifos.open()
            for ref, check in self._checks(self.state):
                self._adopt(ref, check)
            await self._perform(self.state.start(), force=True)
            for t in self.tasks.values():
                t.start()
            self._running = True
            self._poller = asyncio.get_running_loop().create_task(self._poll_files())

    async def stop(self, omega: bool = True) -> None:
        """Stop checking; with `omega`, virtual servers configured `omega` run their down
        scripts (1 s limit each) as keepalived does on shutdown."""
        self._running = False
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        for t in list(self.tasks.values()):
            await t.stop()
        async with self._lock:
            await self._perform(self.state.stop(omega), push=False)
        await self.scripts.drain()
        await self.sender.drain()
        self.fifos.close()

    async def reload(self, spec: DirectorSpec) -> None:
        """Switch to `spec`, keeping the state of unchanged (pool, RS, checker) triples.

        The new state is built, matched against the running one, settled and turned into
        its table in a worker thread (`_prepare`): with thousands of checkers that is the
        bulk of the work, and the event loop forwards and sends adverts meanwhile.  The lock
        keeps checker results from changing the running state until the new one takes
        over."""
        async with self._lock:
            planned, fresh_watches, effects = await asyncio.to_thread(self._prepare, spec)
            moved_tasks: dict[CheckerRef, CheckerTask] = {}
            moved_watches: dict[CheckerRef, FileWatch] = dict(fresh_watches)
            for ref, old_ref in planned.pairs.items():
                task = self.tasks.pop(old_ref, None)
                if task is not None:
                    task.ref = ref
                    moved_tasks[ref] = task
                watch = self.watches.pop(old_ref, None)
                if watch is not None:
                    moved_watches[ref] = watch
            for task in self.tasks.values():
                await task.stop()
            self.tasks, self.watches = moved_tasks, moved_watches
            self._reconfigure(spec)
            self.state, self._index = planned.state, planned.index
            started: list[CheckerTask] = []
            for ref, check in planned.fresh:
                if ref in fresh_watches:
                    continue
                new_task = self._adopt(ref, check)
                if new_task is not None:
                    started.append(new_task)
            await self._perform(effects)
            for t in started:
                t.start()

    def _prepare(
        self, spec: DirectorSpec
    ) -> tuple[reloading.ReloadPlan, dict[CheckerRef, FileWatch], list[Effect]]:
        """The new state for `spec` (run in a worker thread, under the lock): matched
        against the running one, the new FILE_CHECKs read, settled (`start`), its table
        built; the running state is only read."""
        with collector.paused():  # (see system/collector.py)
            planned = reloading.plan(self.state, self._index, self._new_state(spec))
            watches: dict[CheckerRef, FileWatch] = {}
            for ref, check in planned.fresh:
                if isinstance(check.probe, FileProbe):
                    watches[ref] = self._watch(check.probe)
                    planned.state.preset_file(ref, watches[ref].status)
            effects = planned.state.start()
            planned.state.table()  # built here; the loop then finds it ready
            return planned, watches, effects

    def views(self) -> tuple[tuple[PoolHealth, ...], tuple[ServerHealth, ...]]:
        """What `pylvs status` shows of health: each pool's quorum, each real server and its
        checkers' last results."""
        present = {(e.service.key, d.key) for e in self.state.table().values() for d in e.dests}
        pools: list[PoolHealth] = []
        servers: list[ServerHealth] = []
        for ident, vh in self.state.vs.items():
            pools.append(PoolHealth(ident, vh.quorum_up, vh.sorry_alive))
            keys = vh.conf.keys
            for rkey, rs in vh.rs.items():
                rsc = vh.rs_conf[rkey]
                checks = tuple(
                    self._checker_view(CheckerRef(ident, rkey, i), check, rs.up[i])
                    for i, check in enumerate(rsc.checks)
                )
                in_table = any((k, rkey) in present for k in keys)
                name = fmt_rs(rsc.server, vh.conf)
                servers.append(
                    ServerHealth(
                        ident,
                        name,
                        rkey,
                        keys,
                        rs.alive,
                        rs.weight,
                        in_table,
                        checks,
                        self.since.get((ident, rkey)),
                    )
                )
        return tuple(pools), tuple(servers)

    # -- internals ------------------------------------------------------------------------

    def _checks(self, state: LvsState) -> list[tuple[CheckerRef, CheckSpec]]:
        return [(ref, rsc.checks[ref.index]) for ref, rsc in state.refs()]

    def _reconfigure(self, spec: DirectorSpec) -> None:
        notify = spec.notify
        self.scripts.configure(notify.scripts)
        self.sender.configure(notify.smtp, hostname=self.hostname, username=getpass.getuser())
        self.ctx.ssl = spec.globals.check_tls
        old = self.spec.notify
        if (old.fifo, old.health_fifo) != (notify.fifo, notify.health_fifo):
            self.fifos.close()
            self.fifos = NotifyFifos((notify.fifo, notify.health_fifo), self.scripts)
            self.fifos.open()
        self.spec = spec

    def _adopt(self, ref: CheckerRef, check: CheckSpec) -> CheckerTask | None:
        """Set up a new checker: a probing task, a file watch, or nothing (BFD)."""
        if isinstance(check.probe, FileProbe):
            watch = self.watches[ref] = self._watch(check.probe)
            self.state.preset_file(ref, watch.status)
            return None
        if isinstance(check.probe, BfdProbe):
            log.warning(
                "BFD_CHECK %s is not run by pylvs (no BFD); it counts as up", check.probe.name
            )
            return None
        task = CheckerTask(
            ref,
            check,
            create(check, self.ctx),
            report=self._report,
            clock=self.clock,
            wall=self.wall,
            first_delay=first_delay(check, self.rng, self.bootstrap),
        )
        self.tasks[ref] = task
        return task

    def _watch(self, probe: FileProbe) -> FileWatch:
        watch = FileWatch(probe)
        _judged, watch.status = watch.compute()
        watch.wall = self.wall()
        return watch

    async def _report(self, task: CheckerTask, step: Step, result: ProbeResult) -> None:
        async with self._lock:
            if self.tasks.get(task.ref) is not task:
                return  # reloaded away meanwhile
            ref, check = task.ref, task.check
            vh = self.state.vs[ref.vs]
            rsc = vh.rs_conf[ref.rs]
            kind = kind_of(check)
            rs_s = fmt_rs(rsc.server, vh.conf)
            log_all = self.spec.globals.log_all_check_failures or check.timing.log_all_failures
            if not result.ok and step.change is Change.NONE and log_all:
                log.info("%s on service %s failed: %s", kind, rs_s, result.reason)
            delta = None
            if isinstance(check.probe, MiscProbe) and check.probe.dynamic and result.ok:
                delta = misc_delta(result.status or 0, rsc.server.weight)
            body = None
            if step.change in (Change.UP, Change.DOWN):
                up = step.change is Change.UP
                log.info(
                    "%s",
                    transition_line(check, kind, rs_s, vh.conf.name, up=up, reason=result.reason),
                )
                body = alert_body(kind, up, result.reason)
            was = vh.rs[ref.rs].alive
            effects = self.state.checker_result(ref, step.change, delta=delta, alert_body=body)
            self._noticed(ref, was, kind, result.reason)
            await self._perform(effects)

    async def _poll_files(self) -> None:
        while True:
            await asyncio.sleep(self.file_poll)
            async with self._lock:
                effects: list[Effect] = []
                for ref, watch in self.watches.items():
                    judged, got = watch.compute()
                    if not judged or got == watch.status:
                        continue
                    prev, watch.status, watch.wall = watch.status, got, self.wall()
                    was = self.state.vs[ref.vs].rs[ref.rs].alive
                    why = "fault" if got is None else f"weight {got:+d}"
                    if got is None:
                        effects += self.state.checker_result(ref, Change.DOWN)
                    elif prev is None:
                        effects += self.state.checker_result(ref, Change.UP, delta=got)
                    else:
                        effects += self.state.checker_result(ref, Change.NONE, delta=got)
                    self._noticed(ref, was, "FILE_CHECK", why)
                await self._perform(effects)

    def _noticed(self, ref: CheckerRef, was: bool, kind: str, reason: str) -> None:
        """After a checker's result: a real server that went up or down is dated (metrics'
        time since the last transition) and told to the event history."""
        vh = self.state.vs[ref.vs]
        alive = vh.rs[ref.rs].alive
        if alive == was:
            return
        at = self.wall()
        self.since[(ref.vs, ref.rs)] = at
        if self.on_event is not None:
            name = fmt_rs(vh.rs_conf[ref.rs].server, vh.conf)
            self.on_event(ServerHealthChanged(at, name, vh.conf.name, alive, kind, reason))

    async def _perform(
        self, effects: list[Effect], *, force: bool = False, push: bool = True
    ) -> None:
        for e in effects:
            match e:
                case LogLine(text=text):
                    log.info("%s", text)
                case RunScript(script=script, stopping=stopping):
                    self.scripts.spawn(script, stopping=stopping)
                case FifoLine(text=text):
                    self.fifos.write(text)
                case Alert():
                    self.sender.send(e)
        if not push:
            return
        table = self.state.table()
        if force or table != self._applied:
            self._applied = table
            await self.on_change(table)

    def _checker_view(self, ref: CheckerRef, check: CheckSpec, up: bool) -> CheckView:
        kind = kind_of(check)
        task = self.tasks.get(ref)
        if task is not None:
            last = task.last
            note = " (suspended: ha_suspend, address not here)" if task.suspended else ""
            if last is None:
                return CheckView(kind, task.driver.describe(), up, None, note, None)
            return CheckView(
                kind,
                task.driver.describe(),
                up,
                last.ok,
                last.reason + note,
                last.wall,
                last.duration,
                task.probes_ok,
                task.probes_failed,
            )
        watch = self.watches.get(ref)
        if watch is not None:
            path = watch.check.path or watch.check.name
            reason = "fault" if watch.status is None else f"weight {watch.status:+d}"
            return CheckView(kind, path, up, watch.status is not None, reason, watch.wall)
        return CheckView(kind, "", up, None, "not run by pylvs", None)
