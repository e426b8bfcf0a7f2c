"""The asyncio scheduler of the checkers: one task per checker, probing on its machine's timers.

Each checker first waits BOOTSTRAP_DELAY plus a random share of its `warmup`
(check/check_api.c `register_checkers_thread`: `warmup * random() / RAND_MAX`), then loops:
probe (the driver bounds it with connect_timeout / misc_timeout), feed the result to its pure
machine (health/machine.py), report the step, sleep until the step's `next_at`.  MISC_CHECK
counts its next run from the start of the previous one (check_misc.c `last_ran`), the others
from the end of the probe.  The clock (for deadlines) and the random generator are injected,
so tests can fix the warmup jitter; the report callback is awaited, so transitions are applied
in order.  A reload moves a running task to a new reference without touching its machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pylvs.health.checkers.base import Driver, ProbeResult
from pylvs.health.effects import CheckerRef
from pylvs.health.machine import HttpMachine, Machine, RetryMachine, Step
from pylvs.model.checks import CheckSpec, HttpProbe, MiscProbe

log = logging.getLogger("pylvs.health")

BOOTSTRAP_DELAY = 1.0  # check_api.h


class UnsupportedTimingError(ValueError):
    """A timing these machines cannot run (HAProxy's rise > 1, downinter)."""


def machine_for(check: CheckSpec) -> Machine:
    """keepalived's machines: they take a server down after `retries` + 1 failures and up
    after one success, checking a down server every `interval`."""
    timing = check.timing
    if timing.rise != 1 or timing.down_interval is not None:
        raise UnsupportedTimingError(
            f"{check.kind}: rise {timing.rise} / down interval {timing.down_interval} "
            "need a rise/fall machine (keepalived's machines rise after one success)"
        )
    alpha = not timing.initially_up
    if isinstance(check.probe, HttpProbe):
        return HttpMachine(
            n_urls=len(check.probe.urls),
            retry=timing.retries,
            delay_loop=timing.interval,
            delay_before_retry=timing.retry_interval,
            alpha=alpha,
            fast_recovery=check.probe.fast_recovery,
        )
    return RetryMachine(
        retry=timing.retries,
        delay_loop=timing.interval,
        delay_before_retry=timing.retry_interval,
        alpha=alpha,
    )


@dataclass(slots=True)
class LastResult:
    ok: bool
    reason: str
    at: float  # clock time
    wall: float  # wall-clock time, for display
    duration: float = 0.0  # seconds the probe took


Report = Callable[["CheckerTask", Step, ProbeResult], Awaitable[None]]


class CheckerTask:
    def __init__(
        self,
        ref: CheckerRef,
        check: CheckSpec,
        driver: Driver,
        *,
        report: Report,
        clock: Callable[[], float],
        wall: Callable[[], float],
        first_delay: float,
    ) -> None:
        self.ref = ref
        self.check = check
        self.driver = driver
        self.machine = machine_for(check)
        self.report = report
        self.clock = clock
        self.wall = wall
        self.first_delay = first_delay
        self.last: LastResult | None = None
        self.probes_ok = 0  # results so far, for metrics (a reload keeps the task)
        self.probes_failed = 0
        self.next_at: float | None = None
        self.task: asyncio.Task[None] | None = None
        # ha_suspend: cleared while the virtual server's address is not on this node; the
        # checker then waits, keeping its state, and probes again once the address is back.
        self.enabled = asyncio.Event()
        self.enabled.set()

    @property
    def suspended(self) -> bool:
        return not self.enabled.is_set()

    def suspend(self, suspended: bool) -> None:
        if suspended:
            self.enabled.clear()
        else:
            self.enabled.set()

    @property
    def is_up(self) -> bool:
        return self.machine.is_up

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"check {self.ref}")

    async def _sleep_until(self, when: float) -> None:
        self.next_at = when
        delay = when - self.clock()
        await asyncio.sleep(max(0.0, delay))

    async def _run(self) -> None:
        await self._sleep_until(self.clock() + self.first_delay)
        while True:
            await self.enabled.wait()
            url = self.machine.url if isinstance(self.machine, HttpMachine) else 0
            started = self.clock()
            try:
                result = await self.driver.probe(url)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a driver bug must not stop health checking
                log.exception("checker %s crashed", self.ref)
                result = ProbeResult(False, f"internal error: {exc!r}")
            now = self.clock()
            self.last = LastResult(result.ok, result.reason, now, self.wall(), now - started)
            if result.ok:
                self.probes_ok += 1
            else:
                self.probes_failed += 1
            base = started if isinstance(self.check.probe, MiscProbe) else now
            step = self.machine.result(result.ok, base)
            await self.report(self, step, result)
            await self._sleep_until(step.next_at)

    async def stop(self) -> None:
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None


def first_delay(check: CheckSpec, rng: random.Random, bootstrap: float) -> float:
    warmup = check.timing.warmup
    return bootstrap + (warmup * rng.random() if warmup else 0.0)
