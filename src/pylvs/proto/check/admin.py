"""Maintenance, drain, the agent's words, `observe` and the CLI's health commands, applied
to a `ServerHealth` as HAProxy 2.6 does (src/server.c srv_set_admin_flag,
srv_clr_admin_flag, srv_update_status's admin half, server_parse_weight_change_request,
server_parse_maxconn_change_request, `set server B/S health|agent`; src/check.c
__health_adjust; src/tcpcheck.c tcpcheck_agent_expect_reply's effects).

Entering maintenance pauses the health check and takes its health to 0 ("Server be/s is
going DOWN for maintenance."); leaving it restarts the check at `rise` and brings the server
up at once unless its agent says down or the server it tracks is down ("Server be/s is
UP/READY (leaving forced maintenance).").  Servers tracking this one inherit the flag.
"""

from __future__ import annotations

from functools import partial

from pylvs.proto.check.custom import AgentReply
from pylvs.proto.check.health import LOG_ALERT, LOG_NOTICE, HealthCheck
from pylvs.proto.check.messages import NO_CHANGE, append_status
from pylvs.proto.check.server import ServerHealth, ShutdownSessions
from pylvs.proto.check.status import Analyze, Observe, OnError, Status
from pylvs.sched.haproxy.cnum import strtol
from pylvs.sched.haproxy.server import DRAIN, MAINT, Admin, State


def set_maint(sh: ServerHealth, now: float) -> None:
    """srv_adm_set_maint: `disable server`, `set server B/S state maint`, agent `maint`."""
    set_admin_flag(sh, Admin.FMAINT, now)
    clr_admin_flag(sh, Admin.FDRAIN, now)


def set_drain(sh: ServerHealth, now: float) -> None:
    set_admin_flag(sh, Admin.FDRAIN, now)
    clr_admin_flag(sh, Admin.FMAINT, now)


def set_ready(sh: ServerHealth, now: float) -> None:
    clr_admin_flag(sh, Admin.FDRAIN, now)
    clr_admin_flag(sh, Admin.FMAINT, now)


def set_admin_flag(sh: ServerHealth, mode: Admin, now: float, cause: str | None = None) -> None:
    s = sh.srv
    if not mode or s.next_admin & mode:
        return
    sh.adm_cause = cause or ""
    was_admin, was_state = s.cur_admin, s.cur_state
    was_stopping = was_state is State.STOPPING or bool(was_admin & DRAIN)
    prev = sh._count()
    sh.pool.set_admin(s, mode, now)
    cause_text = f" ({sh.adm_cause})" if sh.adm_cause else ""
    if s.next_admin & MAINT and not was_admin & MAINT:
        _enter_maint(sh, now, was_state, was_stopping=was_stopping, prev=prev, cause=cause_text)
    elif s.next_admin & DRAIN and not was_admin & DRAIN and not s.next_admin & MAINT:
        xferred = sh.sessions.redistribute(s)
        forced = bool(s.next_admin & Admin.FDRAIN)
        tail = append_status(
            NO_CHANGE, sh._counts(xferred), stopped=False, track=sh._via(), forced=forced
        )
        sh._log(LOG_NOTICE, f"{sh._title()} enters drain state{cause_text}{tail}")
        sh._backend_down(prev)
    sh.adm_cause = ""
    # the inherited flag goes to the trackers, unless the equivalent was already there
    if (mode & MAINT and was_admin & ~mode & MAINT) or (mode & DRAIN and was_admin & ~mode & DRAIN):
        return
    inherited = Admin.IMAINT if mode & MAINT else Admin.IDRAIN
    for t in sh.trackers:
        sh.follow(t, partial(set_admin_flag, t, inherited, now, cause))


def _enter_maint(
    sh: ServerHealth, now: float, was: State, *, was_stopping: bool, prev: int, cause: str
) -> None:
    s = sh.srv
    check = sh.check
    if check is not None and check.enabled:
        check.paused = True
        check.health = 0
    forced = bool(s.next_admin & Admin.FMAINT)
    if was is State.STOPPED:
        tail = append_status(NO_CHANGE, None, stopped=True, track=sh._via(), forced=forced)
        sh._log(LOG_NOTICE, f"{sh._title()} was DOWN and now enters maintenance{cause}{tail}")
        return
    if check is not None:
        check.health = 0
    if sh.on_marked_down:
        sh.effects.append(ShutdownSessions(sh.backend, sh.name, "down"))
    xferred = sh.sessions.redistribute(s)
    tail = append_status(
        NO_CHANGE, sh._counts(xferred), stopped=True, track=sh._via(), forced=forced
    )
    level = LOG_NOTICE if was_stopping else LOG_ALERT
    sh._log(level, f"{sh._title()} is going DOWN for maintenance{cause}{tail}")
    sh._backend_down(prev)
    sh.down_trans += 1


def clr_admin_flag(sh: ServerHealth, mode: Admin, now: float) -> None:
    s = sh.srv
    if not mode or not s.next_admin & mode:
        return
    was_admin = s.cur_admin
    prev = sh._count()
    check = sh.check
    leaving_maint = bool(was_admin & MAINT) and not s.next_admin & ~mode & MAINT
    if leaving_maint and check is not None and check.enabled:
        check.paused = False
        check.health = check.rise  # start OK but check immediately
    sh.pool.clear_admin(s, mode, now)
    if leaving_maint:
        _leave_maint(sh, now, was_admin, prev)
    elif s.next_admin & MAINT:
        if not s.next_admin & Admin.FMAINT and was_admin & Admin.FMAINT:
            via = f" via {sh._via()}" if sh.track is not None else ""
            text = f"{sh._title()} is leaving forced maintenance but remains in maintenance"
            sh._log(LOG_NOTICE, text + via)
    elif was_admin & DRAIN and not s.next_admin & DRAIN:
        state = "DOWN" if s.next_state is State.STOPPED else "UP"
        if not s.next_admin & Admin.FDRAIN:
            sh._log(LOG_NOTICE, f"{sh._title()} is {state} (leaving forced drain)")
        else:
            via = f" via {sh._via()}" if sh.track is not None else ""
            sh._log(LOG_NOTICE, f"{sh._title()} is {state} (leaving drain){via}")
    elif s.next_admin & DRAIN:
        if not s.next_admin & Admin.FDRAIN:
            via = f" via {sh._via()}" if sh.track is not None else ""
            text = f"{sh._title()} is leaving forced drain but remains in drain mode{via}"
        else:
            text = f"{sh._title()} remains in forced drain mode"
        sh._log(LOG_NOTICE, text)
    if (mode & MAINT and s.next_admin & MAINT) or (mode & DRAIN and s.next_admin & DRAIN):
        return
    inherited = Admin.IMAINT if mode & MAINT else Admin.IDRAIN
    for t in sh.trackers:
        sh.follow(t, partial(clr_admin_flag, t, inherited, now))


def _leave_maint(sh: ServerHealth, now: float, was_admin: Admin, prev: int) -> None:
    """srv_update_status leaving maintenance: up at once (the pool did it) unless the agent
    says down or the tracked server is down or stopping."""
    s, agent, track = sh.srv, sh.agent, sh.track
    if (track is not None and track.srv.next_state is State.STOPPED) or (
        agent is not None and agent.enabled and agent.health < agent.rise
    ):
        sh.pool.mark_down(s, now)
    elif track is not None and track.srv.next_state is State.STOPPING:
        sh.pool.mark_stopping(s, now)
    elif s.cur_state is State.STARTING:
        sh.warmup = now + 1.0
    state = "DOWN" if s.next_state is State.STOPPED else "UP"
    ready = "DRAIN" if s.next_admin & DRAIN else "READY"
    text = ""
    if not s.next_admin & Admin.FMAINT and was_admin & Admin.FMAINT:
        text = f"{sh._title()} is {state}/{ready} (leaving forced maintenance)"
    if not s.next_admin & Admin.RMAINT and was_admin & Admin.RMAINT:
        text = f"{sh._title()} ('{sh.fqdn}') is {state}/{ready} (resolves again)"
    if not s.next_admin & Admin.IMAINT and was_admin & Admin.IMAINT:
        text = f"{sh._title()} is {state}/{ready} (leaving maintenance)"
    sh._log(LOG_NOTICE, text)
    sh._backend_down(prev)
    if sh.on_marked_up and not sh.backup and s.next_eweight:
        sh._shutdown_backups()
    sh.sessions.grab(s)


# -- weights, maxconn, the agent -----------------------------------------------------------


def set_weight(sh: ServerHealth, text: str, now: float) -> str | None:
    """server_parse_weight_change_request, then srv_update_status's weight branch."""
    prev = sh._count()
    msg = sh.pool.change_weight(sh.srv, text, now)
    if msg is None:
        sh._backend_down(prev)
    return msg


def set_maxconn(sh: ServerHealth, text: str) -> str | None:
    """server_parse_maxconn_change_request."""
    if not text:
        return "Require <maxconn>.\n"
    value, end = strtol(text)
    if end == 0:
        return "maxconn string empty or preceded by garbage"
    if end != len(text):
        return "Trailing garbage in maxconn string"
    s = sh.srv
    if s.maxconn == s.minconn:
        s.maxconn = s.minconn = value
    else:
        s.maxconn = value
    sh.sessions.dequeue(s)
    return None


def apply_agent(sh: ServerHealth, reply: AgentReply, now: float) -> str | None:
    """The agent's admin word, weight and maxconn, in HAProxy's order; the first warning."""
    if reply.admin is not None:
        word = reply.admin.lower()
        {"drain": set_drain, "maint": set_maint}.get(word, set_ready)(sh, now)
    warning = None
    if reply.weight is not None:
        warning = set_weight(sh, reply.weight, now)
    if reply.maxconn is not None:
        msg = set_maxconn(sh, reply.maxconn)
        warning = warning or msg
    return warning


# -- the CLI -------------------------------------------------------------------------------


def cli_set_health(sh: ServerHealth, word: str, now: float) -> str | None:
    """`set server B/S health up|stopping|down`: None, or HAProxy's error text."""
    if sh.track is not None:
        return "cannot change health on a tracking server.\n"
    check = sh.check
    if word not in ("up", "stopping", "down"):
        return "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n"
    if check is not None:
        check.health = 0 if word == "down" else check.top
    reason = "changed from CLI"
    {"up": sh.set_running, "stopping": sh.set_stopping, "down": sh.set_stopped}[word](now, reason)
    return None


def cli_set_agent(sh: ServerHealth, word: str, now: float) -> str | None:
    """`set server B/S agent up|down`."""
    agent = sh.agent
    if agent is None or not agent.enabled:
        return "agent checks are not enabled on this server.\n"
    if word == "up":
        agent.health = agent.top
        sh.set_running(now, "changed from CLI")
    elif word == "down":
        agent.health = 0
        sh.set_stopped(now, "changed from CLI")
    else:
        return "'set server <srv> agent' expects 'up' or 'down'.\n"
    return None


# -- observe (__health_adjust) -------------------------------------------------------------


class Observer:
    """`observe layer4|layer7` with `error-limit` and `on-error` for one server."""

    __slots__ = ("consecutive", "limit", "mode", "on_error")

    def __init__(self, mode: Observe, limit: int = 10, on_error: OnError = OnError.FAIL_CHECK):
        self.mode, self.limit, self.on_error = mode, limit, on_error
        self.consecutive = 0

    def adjust(self, sh: ServerHealth, status: Analyze, now: float) -> None:
        verdict = status.verdict(self.mode)
        if verdict is None:
            return
        if not verdict:
            self.consecutive = 0
            return
        self.consecutive += 1
        if self.consecutive < self.limit:
            return
        msg = f"Detected {self.consecutive} consecutive errors, last one was: {status.description}"
        check = sh.check
        if check is not None:
            check.fast_forced = True  # the next interval is fastinter, if there is one
            self._act(sh, check, msg, now)
            if check.fastinter and not check.in_progress:
                # the check task is woken and takes the shorter interval from now if that
                # comes first (2.6.12: a56798ea4, 9e080bf37)
                soon = now + check.interval(sh.srv.next_state is State.STOPPED) / 1000
                if check.expire is None or soon < check.expire:
                    check.fast_forced = False
                    check.expire = soon
        self.consecutive = 0
        sh.failed_hana += 1

    def _act(self, sh: ServerHealth, check: HealthCheck, msg: str, now: float) -> None:
        if self.on_error is OnError.FASTINTER:
            return
        if self.on_error is OnError.SUDDEN_DEATH and check.health > check.rise:
            check.health = check.rise + 1
        if self.on_error is OnError.MARK_DOWN:
            check.health = check.rise
        failed, line = check.set_status(Status.HANA, msg, now, sh.srv.uweight)
        sh.failed_checks += failed
        if line is not None:
            sh.effects.append(line)
        sh.check_finished(check, now)
