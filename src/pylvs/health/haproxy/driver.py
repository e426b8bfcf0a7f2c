"""HAProxy's health checks on real sockets: proto/check's machine driven by an asyncio loop.

`CheckDriver(checks, effects)` runs a `proto.check.schedule.Checks` (built from a haproxy.cfg
by config/haproxy/convert_checks.plan_checks, over the backends' balancer Pools): one timer
at `checks.next_wakeup()` (the loop's clock is the machine's time), each due run's
`Open`/`Write`/`Close` commands carried out on a non-blocking TCP socket (links.py), the
socket's events (connected, data, FIN, error) handed back to the run, and what a finished
run or a slowstart step changed delivered to `effects`: HAProxy's log lines (`LogLine`) and
the sessions to cut (`ShutdownSessions`).  The servers' load-balancing state is the Pools'
own: `ServerHealth` moves it (srv_set_running / _stopped / _stopping), so a runtime sharing
those Pools sees every change at once; its `Sessions` (queues) were given to plan_checks.

After an operator's command changed a server (proto/check/admin: maintenance, drain, `set
server health`...), call `changed()`: it delivers what the command logged and re-arms the
timer (a server leaving maintenance checks again).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable

from pylvs.health.haproxy.links import Link
from pylvs.model.tls import TlsServerSpec
from pylvs.proto.check.schedule import Checks, Planned
from pylvs.proto.check.server import Effect
from pylvs.proto.check.tcpcheck import CheckRun, Close, Command, Open, Write

EffectSink = Callable[[Effect], None]


class CheckDriver:
    """Runs every check of `checks` on the running loop (see the module doc)."""

    def __init__(
        self,
        checks: Checks,
        effects: EffectSink,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.checks = checks
        self.effects = effects
        self.wall = wall  # the date a check's samples see (`date`, log-format %T)
        self._loop: asyncio.AbstractEventLoop | None = None
        # uvloop's call_at gives a plain Handle (no `when()`) for a time already past:
        # the time asked is kept here
        self._timer: asyncio.Handle | None = None
        self._when: float | None = None
        self._links: dict[int, Link] = {}  # id(Planned) -> its run's connection
        # The TLS context of a check's server settings (`check-ssl`); set by the engine
        self.tls_context: Callable[[TlsServerSpec], ssl.SSLContext] | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "CheckDriver.start() was not called"
        return self._loop

    def start(self) -> None:
        """Plan the first runs (spread as start_checks does) from the loop's time."""
        self._loop = asyncio.get_running_loop()
        self.checks.start(self._loop.time())
        self._rearm()

    def stop(self) -> None:
        """Stop every check: the timer, and each run's connection (reset)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for link in self._links.values():
            link.close(reset=True)
        self._links.clear()

    def changed(self) -> None:
        """An operator's command changed some server: deliver its lines, re-plan."""
        for sh in self.checks.servers.values():
            self._deliver(sh.take_effects())
        self._rearm()

    def purge(self, planned: list[Planned]) -> None:
        """Checks that left the plan (`del server`): their connections reset."""
        for p in planned:
            link = self._links.pop(id(p), None)
            if link is not None:
                link.close(reset=True)
        self._rearm()

    # -- the timer ---------------------------------------------------------------------------

    def _rearm(self) -> None:
        if self._loop is None:
            return
        when = self.checks.next_wakeup()
        if self._timer is not None:
            if when is not None and self._when == when:
                return
            self._timer.cancel()
            self._timer = None
        if when is not None:
            self._timer = self._loop.call_at(when, self._fire)
            self._when = when

    def _fire(self) -> None:
        self._timer = None
        now = self.loop.time()
        self._deliver(self.checks.tick(now))
        for p, cmds in self.checks.wake(now, self.wall()):
            self._apply(p, cmds, now)
        self._rearm()

    # -- a run's commands and events ---------------------------------------------------------

    def _apply(self, p: Planned, cmds: list[Command], now: float) -> None:
        run = p.run
        for c in cmds:
            if isinstance(c, Open):
                assert run is not None
                self._open(p, run, c)
            elif isinstance(c, Write):
                link = self._links.get(id(p))
                if link is not None:
                    link.write(c.data)
            elif isinstance(c, Close):
                link = self._links.pop(id(p), None)
                if link is not None:
                    link.close(c.reset)
        if run is not None and run.done:
            stale = self._links.pop(id(p), None)
            if stale is not None:  # a run ends with its connection closed
                stale.close(reset=True)
            self._deliver(self.checks.complete(p, now))

    def _open(self, p: Planned, run: CheckRun, c: Open) -> None:
        old = self._links.pop(id(p), None)
        if old is not None:  # `tcp-check connect` again: the previous one is done
            old.close(reset=True)

        def event(call: Callable[[float], list[Command]]) -> None:
            if p.run is not run:  # that run is over: what its socket says is stale
                return
            now = self.loop.time()
            self._apply(p, call(now), now)
            self._rearm()

        ctx = None
        if c.tls is not None and self.tls_context is not None:
            try:
                ctx = self.tls_context(c.tls)
            except (OSError, ssl.SSLError) as exc:
                self._apply(p, run.failed(str(exc), self.loop.time()), self.loop.time())
                return
        self._links[id(p)] = Link.open(self.loop, c, event, run, ctx)

    def _deliver(self, effects: list[Effect]) -> None:
        for e in effects:
            self.effects(e)
