"""vrrp_script and track_file trackers, feeding TrackerChanged events to the instances.

vrrp_script (reference §3.4, §4.13; keepalived vrrp_scheduler.c `vrrp_script_thread` and
`vrrp_script_child_thread`): the script runs every `interval`; one still running when the
next interval comes is not started again ("Track script %s is already running, expect idle -
skipping run"); past `timeout` (default: the interval) its process group gets SIGTERM, then
SIGKILL 2 s later, and that counts as a failure.  `ScriptResult` is the rise/fall counter:
0 .. rise+fall-1, starting at rise-1 (one success makes it OK) or 0 with `init_fail`, which
also reports the script failed from the start.  The user is the script's `user`, else
`script_user`, with `enable_script_security` (notify.scripts.ScriptRunner).

track_file values are read by `system.trackfile`, the one reader VRRP and the checkers share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from pylvs.model.vrrp_spec import VrrpScriptSpec
from pylvs.notify.scripts import ScriptOutcome, ScriptRunner

log = logging.getLogger("pylvs.vrrp")

ScriptReport = Callable[[str, bool], None]


class ScriptResult:
    """The rise/fall counter of one vrrp_script (pure: fed with each run's outcome)."""

    def __init__(self, rise: int, fall: int, init_fail: bool = False) -> None:
        self.rise, self.fall = max(1, rise), max(1, fall)
        self.result = 0 if init_fail else self.rise - 1
        self.initial = True
        self.status: bool | None = False if init_fail else None

    def record(self, ok: bool) -> bool | None:
        """Count one run; the new status when it changes (True OK, False failed), else None."""
        top = self.rise + self.fall - 1
        initial, self.initial = self.initial, False
        if ok:
            if self.result < self.rise - 1:
                self.result += 1
                return None
            if self.result == top and not initial:
                return None
            changed = self.result == self.rise - 1 or initial
            self.result = top
            return self._set(True) if changed else None
        if self.result > self.rise:
            self.result -= 1
            return None
        changed = self.result == self.rise or initial
        self.result = 0
        return self._set(False) if changed else None

    def _set(self, status: bool) -> bool | None:
        if status == self.status:
            return None
        self.status = status
        return status


class ScriptTracker:
    def __init__(self, conf: VrrpScriptSpec, runner: ScriptRunner, report: ScriptReport) -> None:
        self.conf = conf
        self.runner = runner
        self.report = report
        self.state = ScriptResult(conf.rise, conf.fall, conf.init_fail)
        self.script = conf.script
        self._loop: asyncio.Task[None] | None = None
        self._child: asyncio.Task[ScriptOutcome] | None = None

    @property
    def name(self) -> str:
        return self.conf.name

    def start(self) -> None:
        if self.state.status is False:
            self.report(self.name, False)  # init_fail: failed until it succeeds
        self._loop = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        interval = self.conf.interval or 1.0
        while True:
            if self._child is not None and not self._child.done():
                log.warning(
                    "Track script %s is already running, expect idle - skipping run", self.name
                )
            else:
                self._child = asyncio.get_running_loop().create_task(self._once())
            await asyncio.sleep(interval)

    async def _once(self) -> ScriptOutcome:
        timeout = self.conf.timeout or self.conf.interval or 1.0
        outcome = await self.runner.run(self.script, timeout=timeout)
        ok = outcome.status == 0
        new = self.state.record(ok)
        if new is not None:
            if new:
                log.info("VRRP_Script(%s) succeeded", self.name)
            elif outcome.reason == "timed out":
                log.info("VRRP_Script(%s) timed_out", self.name)
            else:
                log.info("VRRP_Script(%s) failed (%s)", self.name, outcome.reason)
            self.report(self.name, new)
        return outcome

    async def stop(self) -> None:
        """Stop the schedule and kill a running script (vrrp_terminate_phase1)."""
        for task in (self._loop, self._child):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
