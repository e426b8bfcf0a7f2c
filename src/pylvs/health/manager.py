"""HealthManager: keepalived's checker process for the pylvs engine.

It owns the pure state (health/effects.py `LvsState`), one asyncio task per checker
(health/runner.py), a poller for FILE_CHECK's tracked files, and the outlets for what a
transition asks for: scripts (health/notify.py), the notify FIFOs (health/fifo.py), SMTP
alerts (health/smtp.py) and log lines.  Every change of the desired table is handed to
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

from pylvs.config.keepalived.lvs.checks import BfdCheck, Checker, FileCheck, MiscCheck
from pylvs.config.keepalived.model import KeepalivedConfig
from pylvs.config.keepalived.table import service_keys
from pylvs.config.keepalived.vrrp.model import TrackFile
from pylvs.health import status as views
from pylvs.health.checkers.base import ProbeContext, ProbeResult, create, kind_of
from pylvs.health.effects import CheckerRef, LvsState
from pylvs.health.events import Alert, Effect, FifoLine, LogLine, RunScript, fmt_rs
from pylvs.health.fifo import NotifyFifos
from pylvs.health.fingerprint import sans_loc
from pylvs.health.machine import Change, Step
from pylvs.health.notify import ScriptRunner
from pylvs.health.rs_state import IPVS_WEIGHT_FAULT, file_status, misc_delta
from pylvs.health.runner import BOOTSTRAP_DELAY, CheckerTask, first_delay
from pylvs.health.smtp import AlertSender
from pylvs.health.wording import alert_body, transition_line
from pylvs.model.table import ServiceTable
from pylvs.system import trackfile

log = logging.getLogger("pylvs.health")

OnChange = Callable[[ServiceTable], Awaitable[None]]


@dataclass(slots=True)
class FileWatch:
    check: FileCheck
    track: TrackFile | None
    status: int | None = 0  # None: fault (checker down)
    wall: float | None = None

    def compute(self) -> tuple[bool, int | None]:
        """(judged, status): not judged when the file holds an out-of-range number."""
        if self.track is None:
            return True, 0
        value = trackfile.read(self.track.path)
        if value is None:
            return False, self.status
        weight = self.check.weight if self.check.weight is not None else self.track.weight
        reverse = self.check.reverse if self.check.weight is not None else self.track.weight_reverse
        s = file_status(value, weight, reverse)
        return True, (None if s == IPVS_WEIGHT_FAULT else s)


def _has_flag(config: KeepalivedConfig, name: str) -> bool:
    return any(k == name for k, _ in config.global_defs.other)


class HealthManager:
    def __init__(
        self,
        config: KeepalivedConfig,
        *,
        on_change: OnChange,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        wall: Callable[[], float] = time.time,
        bootstrap: float = BOOTSTRAP_DELAY,
        file_poll: float = 1.0,
        hostname: str | None = None,
        term_grace: float = 2.0,
    ) -> None:
        self.config = config
        self.on_change = on_change
        self.clock = clock
        self.rng = rng or random.Random()
        self.wall = wall
        self.bootstrap = bootstrap
        self.file_poll = file_poll
        self.hostname = hostname or socket.gethostname()
        gd = config.global_defs
        self.scripts = ScriptRunner(
            script_user=gd.script_user,
            script_group=gd.script_group,
            enable_script_security=gd.enable_script_security,
            term_grace=term_grace,
        )
        self.sender = AlertSender(gd, hostname=self.hostname, username=getpass.getuser())
        self.fifos = NotifyFifos((gd.notify_fifo, gd.lvs_notify_fifo), self.scripts)
        self.ctx = ProbeContext(rng=self.rng, ssl=config.ssl, run_script=self.scripts)
        self.state = self._new_state(config)
        self.tasks: dict[CheckerRef, CheckerTask] = {}
        self.watches: dict[CheckerRef, FileWatch] = {}
        self._lock = asyncio.Lock()
        self._applied: ServiceTable | None = None
        self._poller: asyncio.Task[None] | None = None
        self._running = False

    def _new_state(self, config: KeepalivedConfig) -> LvsState:
        router_id = config.global_defs.router_id or self.hostname
        return LvsState(
            config, router_id=router_id, no_checker_emails=_has_flag(config, "no_checker_emails")
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
            for tf in self.config.vrrp.track_files:
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

    async def reload(self, config: KeepalivedConfig) -> None:
        """Switch to `config`, keeping the state of unchanged (VS, RS, checker) triples."""
        async with self._lock:
            old_state = self.state
            new_state = self._new_state(config)
            old_keys = self._keys(old_state)
            pairs: dict[CheckerRef, CheckerRef] = {}
            moved_tasks: dict[CheckerRef, CheckerTask] = {}
            moved_watches: dict[CheckerRef, FileWatch] = {}
            fresh: list[tuple[CheckerRef, Checker]] = []
            for key, (ref, check) in self._keys(new_state).items():
                old = old_keys.pop(key, None)
                if old is None:
                    fresh.append((ref, check))
                    continue
                old_ref = old[0]
                pairs[ref] = old_ref
                if old_ref in self.tasks:
                    task = self.tasks.pop(old_ref)
                    task.ref = ref
                    moved_tasks[ref] = task
                if old_ref in self.watches:
                    moved_watches[ref] = self.watches.pop(old_ref)
            for task in self.tasks.values():
                await task.stop()
            self.tasks, self.watches = moved_tasks, moved_watches
            self._reconfigure(config)
            new_state.carry(old_state, pairs)
            self.state = new_state
            started: list[CheckerTask] = []
            for ref, check in fresh:
                new_task = self._adopt(ref, check)
                if new_task is not None:
                    started.append(new_task)
            await self._perform(new_state.start())
            for t in started:
                t.start()

    def status(self) -> list[views.RsView]:
        present = {(e.service.key, d.key) for e in self.state.table().values() for d in e.dests}
        out: list[views.RsView] = []
        for ident, vh in self.state.vs.items():
            keys = list(service_keys(vh.conf, self.config))
            for rkey, rs in vh.rs.items():
                rsc = vh.rs_conf[rkey]
                checks = [
                    self._checker_view(CheckerRef(ident, rkey, i), check, rs.up[i])
                    for i, check in enumerate(rsc.checkers)
                ]
                in_table = any((k, rkey) in present for k in keys)
                out.append(
                    views.RsView(
                        ident,
                        fmt_rs(rsc.server, vh.conf),
                        rs.alive,
                        rs.weight,
                        in_table,
                        tuple(checks),
                    )
                )
        return out

    def vs_status(self) -> list[views.VsView]:
        return [
            views.VsView(ident, vh.quorum_up, vh.sorry_alive) for ident, vh in self.state.vs.items()
        ]

    def status_text(self) -> str:
        return views.render(self.vs_status(), self.status())

    # -- internals ------------------------------------------------------------------------

    def _checks(self, state: LvsState) -> list[tuple[CheckerRef, Checker]]:
        return [(ref, rsc.checkers[ref.index]) for ref, rsc in state.refs()]

    def _keys(self, state: LvsState) -> dict[tuple[object, ...], tuple[CheckerRef, Checker]]:
        out: dict[tuple[object, ...], tuple[CheckerRef, Checker]] = {}
        for ref, check in self._checks(state):
            base = (ref.vs, ref.rs, sans_loc(check))
            n = 0
            while (*base, n) in out:
                n += 1
            out[(*base, n)] = (ref, check)
        return out

    def _reconfigure(self, config: KeepalivedConfig) -> None:
        gd = config.global_defs
        self.scripts.script_user = gd.script_user
        self.scripts.script_group = gd.script_group
        self.scripts.security = gd.enable_script_security
        self.sender.configure(gd, hostname=self.hostname, username=getpass.getuser())
        self.ctx.ssl = config.ssl
        old = self.config.global_defs
        if (old.notify_fifo, old.lvs_notify_fifo) != (gd.notify_fifo, gd.lvs_notify_fifo):
            self.fifos.close()
            self.fifos = NotifyFifos((gd.notify_fifo, gd.lvs_notify_fifo), self.scripts)
            self.fifos.open()
        self.config = config

    def _adopt(self, ref: CheckerRef, check: Checker) -> CheckerTask | None:
        """Set up a new checker: a probing task, a file watch, or nothing (BFD)."""
        if isinstance(check, FileCheck):
            track = next(
                (t for t in self.config.vrrp.track_files if t.name == check.track_file), None
            )
            watch = FileWatch(check, track)
            _judged, watch.status = watch.compute()
            watch.wall = self.wall()
            self.watches[ref] = watch
            self.state.preset_file(ref, watch.status)
            return None
        if isinstance(check, BfdCheck):
            log.warning("BFD_CHECK %s is not run by pylvs (no BFD); it counts as up", check.name)
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

    async def _report(self, task: CheckerTask, step: Step, result: ProbeResult) -> None:
        async with self._lock:
            if self.tasks.get(task.ref) is not task:
                return  # reloaded away meanwhile
            ref, check = task.ref, task.check
            vh = self.state.vs[ref.vs]
            rsc = vh.rs_conf[ref.rs]
            kind = kind_of(check)
            rs_s = fmt_rs(rsc.server, vh.conf)
            timing = getattr(check, "timing", None)
            log_all = self.config.global_defs.checker_log_all_failures or (
                timing is not None and timing.log_all_failures
            )
            if not result.ok and step.change is Change.NONE and log_all:
                log.info("%s on service %s failed: %s", kind, rs_s, result.reason)
            delta = None
            if isinstance(check, MiscCheck) and check.dynamic and result.ok:
                delta = misc_delta(result.status or 0, rsc.server.weight)
            body = None
            if step.change in (Change.UP, Change.DOWN):
                up = step.change is Change.UP
                log.info(
                    "%s",
                    transition_line(check, kind, rs_s, str(vh.conf), up=up, reason=result.reason),
                )
                body = alert_body(kind, up, result.reason)
            effects = self.state.checker_result(ref, step.change, delta=delta, alert_body=body)
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
                    if got is None:
                        effects += self.state.checker_result(ref, Change.DOWN)
                    elif prev is None:
                        effects += self.state.checker_result(ref, Change.UP, delta=got)
                    else:
                        effects += self.state.checker_result(ref, Change.NONE, delta=got)
                await self._perform(effects)

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

    def _checker_view(self, ref: CheckerRef, check: Checker, up: bool) -> views.CheckerView:
        kind = kind_of(check)
        task = self.tasks.get(ref)
        if task is not None:
            last = task.last
            note = " (suspended: ha_suspend, address not here)" if task.suspended else ""
            if last is None:
                return views.CheckerView(kind, task.driver.describe(), up, None, note, None)
            return views.CheckerView(
                kind, task.driver.describe(), up, last.ok, last.reason + note, last.wall
            )
        watch = self.watches.get(ref)
        if watch is not None:
            path = watch.track.path if watch.track else watch.check.track_file
            reason = "fault" if watch.status is None else f"weight {watch.status:+d}"
            return views.CheckerView(kind, path, up, watch.status is not None, reason, watch.wall)
        return views.CheckerView(kind, "", up, None, "not run by pylvs", None)
