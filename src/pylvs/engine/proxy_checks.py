"""HAProxy's health checks running on the HAProxy runtime (issue 20 point 3).

The reader compiled the configuration's checks into the spec (`ProxiesSpec.checks`, a
proto/check/plan `Planner`); `ProxyChecks.build(runtime, log)` builds them over the
runtime's own balancer pools and queues, so a server the checks take down is one the
balancer stops picking at once (srv_set_stopped), its queued streams redistributed, and one
that comes back takes the backend's queue (srv_set_running), slowstart ramping its weight.
`start()` runs them on the loop (health/haproxy's CheckDriver, real sockets).  What the
checks do besides:

* their log lines ("Server be/s is DOWN, reason: ...", "backend be has no server
  available!", `option log-health-checks`' lines) go to a `CheckLog`, which hands each to
  the backend's `log` targets (`ProxyRuntime.send_log`, HAProxy's send_log) and the state
  lines' stderr form to `console` (the daemon's log; `pylvs haproxy`'s stderr as HAProxy's
  ha_warning / ha_alert print it);
* `on-marked-down shutdown-sessions` / `on-marked-up shutdown-backup-sessions` reset the
  server's streams (`ProxyRuntime.shutdown_server_sessions`).

The stats socket's commands that touch a checked server (maintenance, drain, ready, `set
server health|agent|weight|maxconn`, `enable|disable health|agent`) go through
proto/check/admin (the same state machine, HAProxy's log lines) and `driver.changed()`;
`server_view` fills the stats' check columns from the live checks.  The checks start from
the states the runtime restored (a `server-state-file`, or the runtime a reload replaced:
`ProxyRuntime.restored`), see `restore`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from pylvs.dataplane.haproxy.check_queues import BackendQueues
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.health.haproxy import CheckDriver
from pylvs.model.proxies import NO_AGENT, NO_CHECK, CheckStatus, CheckView, ServerView
from pylvs.proto.check import admin
from pylvs.proto.check.health import HealthCheck, LogLine
from pylvs.proto.check.plan import Planner
from pylvs.proto.check.schedule import Checks, Host, Planned
from pylvs.proto.check.server import BackendChanged, Effect, ServerHealth, ShutdownSessions
from pylvs.proto.check.status import Result, Status
from pylvs.proto.server_state import Restored
from pylvs.sched.haproxy.server import Admin

log = logging.getLogger("pylvs.haproxy.checks")

# A proxy's log targets (ProxyRuntime.send_log): (proxy name, syslog level, text).
Sink = Callable[[str, int, str], None]
Console = Callable[[str, str], None]  # ("WARNING" | "ALERT", text)


class CheckLog:
    """Where check lines go: the proxy's log targets through `sink`, and the state lines'
    stderr copy to `console(kind, text)` (ha_warning / ha_alert; the daemon's log when
    none is given)."""

    def __init__(
        self,
        sink: Sink | None = None,
        console: Console | None = None,
    ) -> None:
        self.sink = sink
        self.console = console or _daemon_log

    def __call__(self, line: LogLine) -> None:
        if self.sink is not None:
            self.sink(line.proxy, line.level, line.text)
        if line.stderr_kind:  # the state lines; `log-health-checks`' go to the targets only
            self.console(line.stderr_kind, line.console)


def _daemon_log(kind: str, text: str) -> None:
    if kind == "ALERT":
        log.error("%s", text)
    else:
        log.warning("%s", text)


@dataclass(slots=True)
class BackendHistory:
    """A backend's state changes as the stats count them: the last one (runtime clock;
    None: none since the start), the down transitions and the seconds spent down."""

    last_change: float | None = None
    down_trans: int = 0
    down_time: int = 0


class ProxyChecks:
    """The running checks of one ProxyRuntime (see the module doc)."""

    def __init__(
        self, runtime: ProxyRuntime, checks: Checks, log_line: Callable[[LogLine], None]
    ) -> None:
        self.rt = runtime
        self.checks = checks
        self.log_line = log_line
        self.driver = CheckDriver(checks, self._effect, wall=runtime.wall)
        self.driver.tls_context = runtime.tls.check_context  # `check-ssl`
        self.backends: dict[str, BackendHistory] = {}

    @classmethod
    def build(cls, runtime: ProxyRuntime, console: Console | None = None) -> ProxyChecks | None:
        """The checks the runtime's spec asks for (None: no backend has a server); their
        lines to the runtime's log targets, the state lines also to `console`."""
        plan = runtime.spec.checks
        if plan is None:
            return None
        if not isinstance(plan, Planner):
            raise TypeError(f"the spec's checks are not a check planner: {plan!r}")
        pools = {name: be.pool for name, be in runtime.backends.items()}
        queues = {name: BackendQueues(be) for name, be in runtime.backends.items()}
        host = Host(hostname=socket.gethostname(), environ=dict(os.environ))
        checks = plan.build(pools, queues.__getitem__, host=host)
        restore(checks, runtime.restored)
        return cls(runtime, checks, CheckLog(runtime.send_log, console))

    def start(self) -> None:
        self.driver.start()

    def stop(self) -> None:
        self.driver.stop()

    def _effect(self, effect: Effect) -> None:
        if isinstance(effect, ShutdownSessions):
            self.rt.shutdown_server_sessions(effect.backend, effect.server)
        elif isinstance(effect, BackendChanged):
            self._backend_changed(effect)
        else:
            self.log_line(effect)

    def _backend_changed(self, e: BackendChanged) -> None:
        """set_backend_down / srv_update_status's backend half (whole seconds)."""
        now = self._now()
        h = self.backends.setdefault(e.backend, BackendHistory())
        if not e.up:
            h.down_trans += 1
        elif h.last_change is not None and int(h.last_change) < int(now):
            h.down_time += int(now) - int(h.last_change)
        h.last_change = now

    # -- the servers -------------------------------------------------------------------

    def health(self, backend: str, server: str) -> ServerHealth | None:
        return self.checks.servers.get((backend, server))

    def _now(self) -> float:
        return self.rt.ctx.clock()

    def set_state(self, sh: ServerHealth, state: str) -> None:
        """srv_adm_set_ready / _drain / _maint."""
        {"ready": admin.set_ready, "drain": admin.set_drain, "maint": admin.set_maint}[state](
            sh, self._now()
        )
        self.driver.changed()

    def move(self, sh: ServerHealth, host: str, port: int | None) -> None:
        """A server's new address, for its checks too (Checks.move)."""
        self.checks.move(sh, host, port)

    def resolved(self, sh: ServerHealth) -> None:
        """Out of maintenance "resolution" (`set server B/S addr`)."""
        admin.clr_admin_flag(sh, Admin.RMAINT, self._now())
        self.driver.changed()

    def set_health(self, sh: ServerHealth, word: str) -> None:
        admin.cli_set_health(sh, word, self._now())
        self.driver.changed()

    def set_agent(self, sh: ServerHealth, word: str) -> None:
        admin.cli_set_agent(sh, word, self._now())
        self.driver.changed()

    def set_weight(self, sh: ServerHealth, text: str) -> str | None:
        msg = admin.set_weight(sh, text, self._now())
        self.driver.changed()
        return msg

    def set_maxconn(self, sh: ServerHealth, maxconn: int) -> None:
        admin.set_maxconn(sh, str(maxconn))
        self.driver.changed()

    def set_enabled(self, sh: ServerHealth, agent: bool, on: bool) -> None:
        """`enable|disable health|agent`: CHK_ST_ENABLED on or off."""
        check = sh.agent if agent else sh.check
        if check is not None:
            check.enabled = on
        self.driver.changed()

    # -- the stats' view -------------------------------------------------------------------

    def view(self, check: HealthCheck | None, planned: Planned | None) -> CheckView | None:
        if check is None:
            return None
        addr = port = None
        if planned is not None:
            a = planned.address
            addr, port = a.check_addr, a.check_port
        return CheckView(
            configured=check.configured,
            enabled=check.enabled,
            paused=check.paused,
            running=planned is not None and planned.run is not None,
            status=CheckStatus(int(check.status)),
            code=check.code,
            duration_ms=check.duration,
            desc=check.desc,
            rise=check.rise,
            fall=check.fall,
            health=check.health,
            port=port or 0,
            addr=addr,
            agent=check.agent,
        )

    def views(self, sh: ServerHealth) -> tuple[CheckView, CheckView]:
        """The server's health check and agent check, as the stats show them."""
        by_check = {id(p.check): p for p in self.checks.planned if p.server is sh}
        check = self.view(sh.check, by_check.get(id(sh.check)))
        agent = self.view(sh.agent, by_check.get(id(sh.agent)))
        return check or NO_CHECK, agent or NO_AGENT

    def server_view(self, base: ServerView, sh: ServerHealth) -> ServerView:
        """`base` (the runtime's view of the server) with what the checks know: both
        checks, chkfail / chkdown / hanafail, the time spent down, the tracked server,
        the slowstart throttle (server_throttle_rate)."""
        check, agent = self.views(sh)
        if sh.check is None:
            check = base.check  # not checked: the runtime's view keeps the thresholds
        counters = replace(
            base.counters,
            failed_checks=sh.failed_checks,
            down_trans=sh.down_trans,
            failed_hana=sh.failed_hana,
        )
        track_check = None
        if sh.track is not None:
            end = sh.track
            while end.track is not None:
                end = end.track
            track_check = self.views(end)[0]
        s, lb = sh.srv, sh.pool.lb
        throttle = 100
        if s.uweight:
            throttle = (100 * lb.wmult * s.cur_eweight + lb.wdiv - 1) // (lb.wdiv * s.uweight)
        return replace(
            base,
            check=check,
            agent=agent,
            counters=counters,
            down_time=int(sh.down_time),
            tracked=f"{sh.track.backend}/{sh.track.name}" if sh.track is not None else None,
            track_check=track_check,
            observe=sh.observer is not None,
            throttle=throttle,
        )


def restore(checks: Checks, restored: Mapping[tuple[str, str], Restored]) -> None:
    """Start the checks where a restored state left them (src/server_state.c
    srv_state_srv_update): the health check's health counter, last status and result, and
    `disable health` / `disable agent` still in force.  The servers' operational and admin
    states were restored in the pools already (dataplane/haproxy/server_state.py)."""
    for key, r in restored.items():
        sh = checks.servers.get(key)
        if sh is None:
            continue
        check = sh.check
        if check is not None:
            check.health = min(max(r.check_health, 0), check.top)
            if r.check_status:
                check.status = Status(r.check_status)
            check.result = Result(r.check_result)
            if r.check_disabled:
                check.enabled = False
        if sh.agent is not None and r.agent_disabled:
            sh.agent.enabled = False
