"""A checked server's state as HAProxy 2.6 moves it: up, down, stopping, from checks.

HAProxy keeps a server's operational state apart from its checks (src/server.c): a check
run ends with check_notify_failure / _success / _stopping (src/check.c), which call
srv_set_stopped / srv_set_running / srv_set_stopping unless the server is in maintenance,
tracks a down server or its other check disagrees; srv_update_status then applies the
change to load balancing and logs it ("Server be/s1 is DOWN, reason: ... 0 active and 0
backup servers left. ..."), with `on-marked-down shutdown-sessions`,
`on-marked-up shutdown-backup-sessions`, the queue redistribution and "backend be has no
server available!".  Servers tracking this one (`track`) follow it.

`ServerHealth` does this over the balancer's `sched.haproxy.Pool` (which owns the server's
load-balancing state) and puts what the runtime must do in `effects`: log lines, sessions to
shut.  The runtime's queue answers `Sessions` (how many queued connections moved).
Maintenance and drain, the agent's words and `observe`: proto/check/admin.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from pylvs.proto.check.health import LOG_ALERT, LOG_NOTICE, HealthCheck, LogLine
from pylvs.proto.check.messages import (
    NO_CHANGE,
    Change,
    Counts,
    append_status,
    backend_down,
    server_name,
)
from pylvs.proto.check.status import Result, Status
from pylvs.sched.haproxy.pool import Pool
from pylvs.sched.haproxy.server import DRAIN, MAINT, Server, State

if TYPE_CHECKING:
    from pylvs.proto.check.admin import Observer


class Sessions(Protocol):
    """The runtime's streams and queues, for what a state change does to them."""

    def redistribute(self, server: Server) -> int:
        """pendconn_redistribute: move the server's queued connections; how many."""
        ...

    def grab(self, server: Server) -> int:
        """pendconn_grab_from_px: take connections queued on the backend; how many."""
        ...

    def dequeue(self, server: Server) -> None:
        """process_srv_queue: the server may take more of its queue (maxconn changed)."""
        ...


class NoQueues:
    """Sessions for a runtime without queues: nothing ever moves."""

    def redistribute(self, server: Server) -> int:
        return 0

    def grab(self, server: Server) -> int:
        return 0

    def dequeue(self, server: Server) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ShutdownSessions:
    """Close every session of a server (`on-marked-down shutdown-sessions`: termination
    flag D; `on-marked-up shutdown-backup-sessions` on the backup servers: flag U)."""

    backend: str
    server: str
    why: str  # "down" | "up"


@dataclass(frozen=True, slots=True)
class BackendChanged:
    """The backend lost its last usable server (set_backend_down: its last change and a
    down transition) or got one back (srv_update_status: its last change, the time it
    spent down)."""

    backend: str
    up: bool


Effect = LogLine | ShutdownSessions | BackendChanged


class ServerHealth:
    """One server's checks and operational state (see the module doc)."""

    def __init__(
        self,
        pool: Pool,
        server: Server,
        backend: str,
        *,
        check: HealthCheck | None = None,
        agent: HealthCheck | None = None,
        log_health_checks: bool = False,
        on_marked_down: bool = False,
        on_marked_up: bool = False,
        sessions: Sessions | None = None,
        kind: str = "backend",
        addr: str = "",
        port: int = 0,
        fqdn: str | None = None,
    ) -> None:
        self.pool, self.srv, self.backend, self.kind = pool, server, backend, kind
        self.addr, self.port = addr, port  # the server's address and service port
        self.fqdn = fqdn  # the host name it was written with (messages of init-addr none)
        self.check, self.agent = check, agent
        self.log_health_checks = log_health_checks
        self.on_marked_down, self.on_marked_up = on_marked_down, on_marked_up
        self.sessions: Sessions = sessions if sessions is not None else NoQueues()
        self.track: ServerHealth | None = None
        self.trackers: list[ServerHealth] = []
        self.effects: list[Effect] = []
        self.failed_checks = 0  # chkfail
        self.down_trans = 0  # chkdown
        self.failed_hana = 0  # hanafail
        self.down_time = 0.0  # seconds down before the current period
        self.adm_cause = ""
        self.warmup: float | None = None  # next slowstart step (server_warmup)
        self.observer: Observer | None = None  # `observe` (admin.Observer)

    @property
    def name(self) -> str:
        return self.srv.name

    @property
    def backup(self) -> bool:
        return self.srv.backup

    def address_text(self) -> tuple[str, str]:
        """The address and port `x-haproxy-server-state` shows."""
        return self.addr, str(self.port)

    def _title(self) -> str:
        return server_name(self.backup, self.backend, self.name)

    def _via(self) -> str | None:
        return f"{self.track.backend}/{self.track.name}" if self.track is not None else None

    def _count(self) -> int:
        lb = self.pool.lb
        return lb.srv_act + lb.srv_bck

    def _counts(self, xferred: int) -> Counts:
        lb = self.pool.lb
        return Counts(lb.srv_act, lb.srv_bck, self.srv.served, self.srv.queued, xferred)

    def _log(self, level: int, text: str) -> None:
        self.effects.append(LogLine(level, text + ".", proxy=self.backend))

    def _backend_down(self, prev: int) -> None:
        """set_backend_down, when the change left the backend without any server; the
        backend back up, when it had none."""
        now = self._count()
        if prev and not now:
            self.effects.append(BackendChanged(self.backend, up=False))
            self.effects.append(backend_down(self.kind, self.backend))
        elif now and not prev:
            self.effects.append(BackendChanged(self.backend, up=True))

    def _change(self, reason: str | None, check: HealthCheck | None) -> Change:
        if reason:
            return Change(reason=reason)
        if check is not None:
            return Change(check.status, check.code, check.duration, check.desc)
        return NO_CHANGE

    def take_effects(self) -> list[Effect]:
        out, self.effects = self.effects, []
        return out

    def follow(self, tracker: ServerHealth, change: Callable[[], None]) -> None:
        """Apply a change to a server tracking this one; what it logs is logged here,
        right after this server's own lines (as HAProxy logs them)."""
        change()
        self.effects += tracker.take_effects()

    # -- operational state (srv_set_stopped / _running / _stopping) -------------------------

    def set_stopped(
        self, now: float, reason: str | None = None, check: HealthCheck | None = None
    ) -> None:
        s = self.srv
        if s.cur_admin & MAINT or s.next_state is State.STOPPED:
            return
        change = self._change(reason, check)
        was_stopping = s.cur_state is State.STOPPING or bool(s.cur_admin & DRAIN)
        prev, was = self._count(), s.cur_state
        self.pool.mark_down(s, now)
        if was is not State.STOPPED:
            if self.on_marked_down:
                self.effects.append(ShutdownSessions(self.backend, self.name, "down"))
            xferred = self.sessions.redistribute(s)
            tail = append_status(change, self._counts(xferred), stopped=True, track=self._via())
            self._log(LOG_NOTICE if was_stopping else LOG_ALERT, f"{self._title()} is DOWN{tail}")
            self._backend_down(prev)
            self.down_trans += 1
        for t in self.trackers:
            self.follow(t, partial(t.set_stopped, now))

    def set_running(
        self, now: float, reason: str | None = None, check: HealthCheck | None = None
    ) -> None:
        s = self.srv
        if s.cur_admin & MAINT or s.next_state in (State.STARTING, State.RUNNING):
            return
        change = self._change(reason, check)
        prev, was, since = self._count(), s.cur_state, s.last_change
        self.pool.mark_up(s, now)
        if s.cur_state is not was:
            if was is State.STOPPED and since < now:
                self.down_time += int(now) - int(since)
            if s.cur_state is State.STARTING:
                self.warmup = now + 1.0  # MAX(1000, slowstart / 20) ms, slowstart in seconds
            self._came_up(change, prev)
        for t in self.trackers:
            self.follow(t, partial(t.set_running, now))

    def _came_up(self, change: Change, prev: int) -> None:
        """srv_update_status's branch for a server now RUNNING or STARTING (also taken
        when a slowstart ends: STARTING -> RUNNING logs "is UP" again)."""
        s = self.srv
        if self.on_marked_up and not self.backup and s.cur_eweight:
            self._shutdown_backups()
        xferred = self.sessions.grab(s)
        tail = append_status(change, self._counts(xferred), stopped=False, track=self._via())
        self._log(LOG_NOTICE, f"{self._title()} is UP{tail}")
        self._backend_down(prev)

    def set_stopping(
        self, now: float, reason: str | None = None, check: HealthCheck | None = None
    ) -> None:
        s = self.srv
        if s.cur_admin & MAINT or s.next_state is State.STOPPING:
            return
        change = self._change(reason, check)
        prev, was = self._count(), s.cur_state
        self.pool.mark_stopping(s, now)
        if was is not State.STOPPING:
            xferred = self.sessions.redistribute(s)
            tail = append_status(change, self._counts(xferred), stopped=False, track=self._via())
            self._log(LOG_NOTICE, f"{self._title()} is stopping{tail}")
            self._backend_down(prev)
        for t in self.trackers:
            self.follow(t, partial(t.set_stopping, now))

    def _shutdown_backups(self) -> None:
        for other in self.pool.servers:
            if other.backup:
                self.effects.append(ShutdownSessions(self.backend, other.name, "up"))

    # -- what a check's end means (check_notify_failure / _success / _stopping) ------------

    def check_finished(self, check: HealthCheck, now: float) -> None:
        if check.result is Result.FAILED:
            self._notify_failure(check, now)
        elif check.result is Result.CONDPASS:
            self._notify_stopping(check, now)
        elif check.result is Result.PASSED:
            self._notify_success(check, now)

    def _own(self, check: HealthCheck) -> HealthCheck | None:
        """The check srv_set_* reports in the state line: none when the backend logs its
        checks itself or the server tracks another."""
        return check if self.track is None and not self.log_health_checks else None

    def _notify_failure(self, check: HealthCheck, now: float) -> None:
        if check.agent and check.status is not Status.L7STS:
            return  # an agent that cannot be reached does not take the server down
        if check.health > 0:
            return
        self.set_stopped(now, check=self._own(check))

    def _checks_allow(self) -> bool:
        if self.srv.next_admin & MAINT:
            return False
        if self.track is not None and self.track.srv.next_state is State.STOPPED:
            return False
        for c in (self.check, self.agent):
            if c is not None and c.enabled and c.health < c.rise:
                return False
        return True

    def _notify_success(self, check: HealthCheck, now: float) -> None:
        if not self._checks_allow():
            return
        if check.agent and self.srv.next_state is State.STOPPING:
            return
        self.set_running(now, check=self._own(check))

    def _notify_stopping(self, check: HealthCheck, now: float) -> None:
        if check.agent or not self._checks_allow():
            return
        self.set_stopping(now, check=self._own(check))

    # -- slowstart (server_warmup) ---------------------------------------------------------

    def tick(self, now: float) -> None:
        """Run the slowstart step when it is due: the weight grows once a second."""
        if self.warmup is None or now < self.warmup:
            return
        s = self.srv
        self.warmup = None
        if s.next_admin & MAINT or s.next_state is not State.STARTING:
            return
        prev = self._count()
        self.pool.recalc_eweight(s, now)
        if s.cur_state is State.RUNNING:  # the ramp is over (recorded: "is UP." again)
            s.last_change = now
            self._came_up(NO_CHANGE, prev)
            return
        self.sessions.grab(s)
        self._backend_down(prev)
        self.warmup = now + 1.0
