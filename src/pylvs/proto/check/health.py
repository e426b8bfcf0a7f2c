"""One health or agent check of a server: its health counter, last result and timers.

The rules are HAProxy 2.6's (src/check.c set_server_check_status, start_check_task,
process_chk_conn; src/server.c srv_getinter):

* `health` runs from 0 to rise+fall-1; the check says "up" from `rise`.  A failure takes one
  off and drops to 0 below `rise`; a success adds one and jumps to rise+fall-1 from `rise`.
  Servers start at `rise` (up, but the first failure takes them down), a `disabled` one at 0.
* The interval depends on the state: `inter` when fully up, `downinter` (else `inter`) when
  down with health 0, `fastinter` (else `inter`) in between.
* The first check of the process is spread: check number `srvpos` of `nbcheck` fires after
  `mininter * srvpos / nbcheck` ms, `mininter` being the smallest interval >= 1 s of all
  checks, raised to this check's own interval and capped by `max-spread-checks`.  Later
  checks fire `interval ± spread-checks %` after the previous one ended.
* With `option log-health-checks`, every result that changes the status or the health is
  logged ("Health check for server be/s succeeded, reason: ..., status: 3/3 UP.").

Times are seconds (floats) in the interface; HAProxy counts intervals in milliseconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pylvs.proto.check.status import Result, Status, result_of

DESC_LEN = 128  # HCHK_DESC_LEN: descriptions keep 127 characters
INTER_THRESHOLD = 1000  # SRV_CHK_INTER_THRES (ms)
DEFAULT_INTER = 2000  # DEF_CHKINTR
LOG_EMERG, LOG_ALERT, LOG_WARNING, LOG_NOTICE, LOG_INFO = 0, 1, 4, 5, 6


@dataclass(frozen=True, slots=True)
class LogLine:
    """A message HAProxy logs: `send_log(proxy, level, "<text>\\n")` to the backend's log
    targets, and the same (or `stderr`) on its standard error as a WARNING or ALERT."""

    level: int  # syslog severity (LOG_ALERT, LOG_NOTICE, ...)
    text: str  # as sent, without the newline
    stderr: str | None = None  # the stderr form when it differs from `text`
    stderr_kind: str = "WARNING"  # "WARNING" | "ALERT" | "": not on stderr (send_log only)
    proxy: str = ""  # the proxy whose log targets get it (the server's backend)

    @property
    def console(self) -> str:
        return self.stderr if self.stderr is not None else self.text


def asciiencode(text: str, quote: str = '"') -> str:
    """chunk_asciiencode: non-printable characters, '<', '>' and the quote as <XX>."""
    out = []
    for c in text:
        o = ord(c)
        if o > 126 or o < 32 or c in "<>" or c == quote:
            out.append(f"<{o & 0xFF:02X}>")
        else:
            out.append(c)
    return "".join(out)


def describe(status: Status, code: int, desc: str, duration: int) -> str:
    """srv_append_status's check part: ", reason: ..., code: N, info: "...", check
    duration: Nms" (code only for statuses with data, info only when there is one)."""
    out = f", reason: {status.description}"
    if status >= Status.L57DATA:
        out += f", code: {code}"
    if desc:
        out += f', info: "{asciiencode(desc)}"'
    if duration >= 0:
        out += f", check duration: {duration}ms"
    return out


class HealthCheck:
    """struct check, for one server's health check or agent check (`agent`)."""

    __slots__ = (
        "agent",
        "backend",
        "backup",
        "code",
        "configured",
        "desc",
        "downinter",
        "duration",
        "enabled",
        "expire",
        "fall",
        "fast_forced",
        "fastinter",
        "health",
        "in_progress",
        "inter",
        "log_health_checks",
        "paused",
        "result",
        "rise",
        "server",
        "started",
        "status",
    )

    def __init__(
        self,
        backend: str,
        server: str,
        *,
        agent: bool = False,
        rise: int = 2,
        fall: int = 3,
        inter: int = DEFAULT_INTER,
        fastinter: int = 0,
        downinter: int = 0,
        backup: bool = False,
        log_health_checks: bool = False,
        configured: bool = True,
    ) -> None:
        self.backend, self.server, self.agent, self.backup = backend, server, agent, backup
        self.rise, self.fall = rise, fall
        self.inter, self.fastinter, self.downinter = inter, fastinter, downinter
        self.log_health_checks = log_health_checks
        self.health = rise  # "up, but will fall down at first failure" (server.c)
        self.status = Status.INI
        self.result = Result.UNKNOWN
        self.code = 0
        self.desc = ""
        self.duration = -1
        self.started: float | None = None
        self.configured = configured
        self.enabled = configured
        self.paused = False
        self.in_progress = False
        self.expire: float | None = None  # when the task wakes next (seconds)
        self.fast_forced = False  # CHK_ST_FASTINTER: `observe` errors ask for fastinter

    # -- state -----------------------------------------------------------------------------

    @property
    def top(self) -> int:
        return self.rise + self.fall - 1

    @property
    def up(self) -> bool:
        return self.health >= self.rise

    @property
    def active(self) -> bool:
        """(state & (ENABLED|PAUSED)) == ENABLED: checks are sent."""
        return self.enabled and not self.paused

    def state_text(self, uweight: int) -> str:
        """ "3/3 UP", "1/2 DOWN", "2/3 DRAIN": health counted from the nearest threshold."""
        if self.up:
            word = "UP" if uweight else "DRAIN"
            return f"{self.health - self.rise + 1}/{self.fall} {word}"
        return f"{self.health}/{self.rise} DOWN"

    # -- results ---------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """set_server_check_status(HCHK_STATUS_START): a run begins."""
        self.result = Result.UNKNOWN
        self.desc = ""
        self.started = now

    def set_status(
        self, status: Status, desc: str | None, now: float, uweight: int
    ) -> tuple[bool, LogLine | None]:
        """set_server_check_status: record a result and move the health counter.

        Returns whether a failure was counted (the server's `chkfail`) and the line
        `option log-health-checks` logs, if any.
        """
        prev = self.status
        if not self.status:
            return False, None
        self.desc = (desc or "")[: DESC_LEN - 1]
        self.status = status
        if status.result:
            self.result = result_of(status)
        if status is Status.HANA:
            self.duration = -1
        elif self.started is not None:
            self.duration = max(0, int((now - self.started) * 1000 + 1e-6))
            self.started = None
        if self.result is Result.NEUTRAL:
            return False, None
        report = failed = False
        if self.result is Result.FAILED:
            # an agent that cannot be reached is no reason to take the server down
            if (not self.agent or self.status >= Status.L57DATA) and self.health > 0:
                failed = report = True
                self.health -= 1
                if self.health < self.rise:
                    self.health = 0
        elif self.result in (Result.PASSED, Result.CONDPASS) and self.health < self.top:
            report = True
            self.health += 1
            if self.health >= self.rise:
                self.health = self.top
        line = None
        if self.log_health_checks and (status != prev or report):
            # check.c set_server_check_status: ha_warning and send_log alike (haproxy 2.6.12
            # prints it on stderr under -d and -db, captured)
            line = LogLine(LOG_NOTICE, self._log_text(uweight), proxy=self.backend)
        return failed, line

    def _log_text(self, uweight: int) -> str:
        what = "Agent" if self.agent else "Health"
        backup = "backup " if self.backup else ""
        cond = "conditionally " if self.result is Result.CONDPASS else ""
        verdict = "succeeded" if self.result >= Result.PASSED else "failed"
        return (
            f"{what} check for {backup}server {self.backend}/{self.server} {cond}{verdict}"
            f"{describe(self.status, self.code, self.desc, self.duration)}"
            f", status: {self.state_text(uweight)}."
        )

    # -- timers ----------------------------------------------------------------------------

    def interval(self, server_stopped: bool) -> int:
        """srv_getinter (ms)."""
        if self.configured and not self.fast_forced and self.health == self.top:
            return self.inter
        if server_stopped and self.health == 0:
            return self.downinter or self.inter
        return self.fastinter or self.inter

    def schedule_first(
        self,
        now: float,
        *,
        mininter: int,
        nbcheck: int,
        srvpos: int,
        server_stopped: bool,
        max_spread: int = 0,
    ) -> None:
        """start_check_task: the first run, spread over the smallest interval."""
        mininter = max(mininter, self.interval(server_stopped))
        if max_spread and mininter > max_spread:
            mininter = max_spread
        self.expire = now + (mininter * srvpos // nbcheck) / 1000
        self.started = now

    def schedule_next(
        self, now: float, *, server_stopped: bool, spread: int, rng: random.Random
    ) -> None:
        """process_chk_conn's end: the next run `interval ± spread %` after this one."""
        inter = self.interval(server_stopped)
        rv = 0
        if spread > 0:
            rv = inter * spread // 100
            rv -= int(2 * rv * rng.random())
        self.expire = now + (inter + rv) / 1000
        self.fast_forced = False  # used once (7d541a91e, in 2.6.12)
        self.catch_up(now)

    def catch_up(self, now: float) -> None:
        """`while (tick_is_expired(t->expire)) t->expire += inter`: a task that wakes late
        or skips a run (paused) moves on by whole intervals."""
        if self.expire is None:
            return
        step = self.inter / 1000
        while self.expire <= now:
            self.expire += step


def min_interval(checks: list[tuple[HealthCheck, bool]]) -> int:
    """start_checks: the smallest interval >= 1 s among all checks (0: none)."""
    found = 0
    for check, stopped in checks:
        inter = check.interval(stopped)
        if inter >= INTER_THRESHOLD and (not found or inter < found):
            found = inter
    return found
