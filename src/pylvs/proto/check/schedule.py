"""Every check of a process: when each runs, and what a finished run does (sans I/O).

`Checks` holds one `Planned` check per health check and agent check of every server, in
configuration order (HAProxy's proxies, then servers, health check before agent).  It
spreads the first runs as start_checks does, runs what is due (`wake`: new runs, timeouts), and
when a run is done (`complete`) hands its result to the server (check_notify_*) and plans
the next one (`interval ± spread-checks %` after it ended).  `next_wakeup` is the earliest
time anything is due: a check, a running check's deadline, a slowstart step.

The driver owns the sockets and the clock; everything here takes `now`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from pylvs.proto.check import admin
from pylvs.proto.check.custom import AgentReply
from pylvs.proto.check.health import HealthCheck, min_interval
from pylvs.proto.check.rules import Ruleset
from pylvs.proto.check.sample import Context, Smp, host_process
from pylvs.proto.check.server import Effect, ServerHealth
from pylvs.proto.check.tcpcheck import CheckAddress, CheckRun, Command, Timeouts
from pylvs.sched.haproxy.server import State


@dataclass(frozen=True, slots=True)
class Host:
    """What check expressions read of the host: `hostname`, `env()`, the `node` name
    (`x-haproxy-server-state`) and the process-wide variables."""

    hostname: str = ""
    node: str = ""
    environ: Mapping[str, str] = field(default_factory=dict)
    proc_vars: Mapping[str, Smp] = field(default_factory=dict)


@dataclass(slots=True)
class Planned:
    """One check of one server: its rules, where it connects, its timeouts."""

    server: ServerHealth
    check: HealthCheck
    ruleset: Ruleset
    address: CheckAddress
    timeouts: Timeouts = field(default_factory=Timeouts)
    backend_id: int = 0
    run: CheckRun | None = None


class _Owner:
    """A server as a run sees it (tcpcheck.Owner)."""

    def __init__(self, sh: ServerHealth, node: str, now: Callable[[], float]) -> None:
        self.sh, self.node, self.now = sh, node, now

    def uweight(self) -> int:
        return self.sh.srv.uweight

    def stopped(self) -> bool:
        return self.sh.srv.next_state is State.STOPPED

    def agent_reply(self, reply: AgentReply) -> str | None:
        return admin.apply_agent(self.sh, reply, self.now())

    def server_state(self) -> str:
        return status_header(self.sh, self.node, self.now())


def status_header(sh: ServerHealth, node: str, now: float) -> str:
    """httpchk_build_status_header: the `x-haproxy-server-state` value."""
    s, check, lb = sh.srv, sh.check, sh.pool.lb
    if check is None or not check.enabled:
        state = "no check"
    elif s.cur_state is not State.STOPPED:
        word = "NOLB" if s.cur_state is State.STOPPING else "UP"
        level = f" {check.health - check.rise + 1}/{check.fall}"
        state = word if check.health == check.top else word + level
    else:
        state = f"DOWN {check.health}/{check.rise}" if check.health else "DOWN"
    addr, port = sh.address_text()
    weight = -(-s.cur_eweight * lb.wmult // lb.wdiv)
    total = -(-lb.tot_weight * lb.wmult // lb.wdiv)
    out = (
        f"{state}; address={addr}; port={port}; name={sh.backend}/{s.name}; node={node};"
        f" weight={weight}/{total}; scur={s.served}/{lb.beconn - lb.queued}; qcur={s.queued}"
    )
    since = int(now) - int(s.last_change)
    if s.cur_state is State.STARTING and 0 <= since < s.slowstart:
        out += f"; throttle={max(1, 100 * since // s.slowstart)}%"
    return out


class Checks:
    """All the checks of a process (see the module doc)."""

    def __init__(
        self,
        planned: list[Planned],
        *,
        spread_checks: int = 0,
        max_spread_checks: int = 0,
        host: Host | None = None,
        rng: random.Random | None = None,
        servers: dict[tuple[str, str], ServerHealth] | None = None,
    ) -> None:
        self.planned = planned
        # every server by (backend, name), checked or not (tracking ones, for the CLI)
        self.servers = servers if servers is not None else {}
        for p in planned:
            self.servers.setdefault((p.server.backend, p.server.name), p.server)
        self.spread = spread_checks
        self.max_spread = max_spread_checks
        self.host = host if host is not None else Host()
        # what every check's expressions share: proc. variables, hostname, environment
        self.process = host_process(self.host.hostname, self.host.environ, self.host.proc_vars)
        self.rng = rng if rng is not None else random.Random()
        self._now = 0.0
        self._wall = 0.0

    def start(self, now: float) -> None:
        """start_checks: the first run of each check, spread over the smallest interval."""
        active = [(p.check, p.server.srv.next_state is State.STOPPED) for p in self.planned]
        nbcheck = len(active)
        mininter = min_interval(active)
        for pos, (check, stopped) in enumerate(active):
            check.schedule_first(
                now,
                mininter=mininter,
                nbcheck=nbcheck,
                srvpos=pos,
                server_stopped=stopped,
                max_spread=self.max_spread,
            )

    def add(self, sh: ServerHealth, planned: list[Planned], now: float) -> None:
        """A server `add server` created: its checks planned from `now` without spread
        (cli_parse_add_server: start_check_task(check, 0, 1, 1))."""
        self.servers[sh.backend, sh.name] = sh
        self.planned += planned
        stopped = sh.srv.next_state is State.STOPPED
        for p in planned:
            p.check.schedule_first(
                now, mininter=0, nbcheck=1, srvpos=0, server_stopped=stopped, max_spread=0
            )

    def remove(self, sh: ServerHealth) -> list[Planned]:
        """`del server`: the server's checks leave the plan (check_purge); returned, so
        that the driver can close what a running one holds."""
        del self.servers[sh.backend, sh.name]
        gone = [p for p in self.planned if p.server is sh]
        self.planned = [p for p in self.planned if p.server is not sh]
        for p in gone:
            p.run = None
        return gone

    def wake(self, now: float, wall: float) -> list[tuple[Planned, list[Command]]]:
        """Run the check tasks whose time has come (their place in the timers): idle
        checks start a run, running ones time out (or sleep again until their deadline,
        see tcpcheck.CheckRun.expired).  Each with its commands, in timer order."""
        self._now, self._wall = now, wall
        due = [(key, p) for p in self.planned if (key := self._key(p)) is not None and key <= now]
        due.sort(key=lambda kp: kp[0])
        return [(p, self._process(p, now, wall)) for _key, p in due]

    @staticmethod
    def _key(p: Planned) -> float | None:
        """Where the task sits in the timer tree."""
        return p.run.deadline if p.run is not None else p.check.expire

    def _process(self, p: Planned, now: float, wall: float) -> list[Command]:
        """process_chk_conn for a woken task."""
        if p.run is not None:
            return p.run.expired(now)
        check = p.check
        if not check.active:
            check.catch_up(now)  # paused or disabled: the task only moves on
            return []
        p.run = self._new_run(p, wall)
        return p.run.begin(now)

    def _new_run(self, p: Planned, wall: float) -> CheckRun:
        sh = p.server
        ctx = Context(
            process=self.process,
            backend=sh.backend,
            backend_id=p.backend_id,
            server=sh.name,
            server_id=sh.srv.puid,
            wall=wall,
        )
        owner = _Owner(sh, self.host.node, lambda: self._now)
        return CheckRun(
            p.ruleset, p.check, address=p.address, owner=owner, ctx=ctx, timeouts=p.timeouts
        )

    def move(self, sh: ServerHealth, host: str, port: int | None) -> None:
        """The server has a new address (`set server B/S addr`, a DNS answer): its checks'
        next runs connect there, as HAProxy's use the server's address (an `addr` or `port`
        of the check's own stays theirs)."""
        for p in self.planned:
            if p.server is sh:
                moved = replace(p.address, server_addr=host)
                p.address = moved if port is None else replace(moved, server_port=port)

    def complete(self, p: Planned, now: float) -> list[Effect]:
        """A run is done: its result to the server, the next run planned."""
        run = p.run
        assert run is not None and run.done
        p.run = None
        sh = p.server
        sh.effects.extend(run.logs)
        sh.failed_checks += run.failed_checks
        sh.check_finished(p.check, now)
        p.check.schedule_next(
            now,
            server_stopped=sh.srv.next_state is State.STOPPED,
            spread=self.spread,
            rng=self.rng,
        )
        return sh.take_effects()

    def tick(self, now: float) -> list[Effect]:
        """Slowstart steps that are due."""
        out: list[Effect] = []
        seen: set[int] = set()
        for p in self.planned:
            sh = p.server
            if id(sh) in seen:
                continue
            seen.add(id(sh))
            sh.tick(now)
            out += sh.take_effects()
        return out

    def next_wakeup(self) -> float | None:
        times = []
        for p in self.planned:
            if p.run is not None:
                if p.run.deadline is not None:
                    times.append(p.run.deadline)
            elif p.check.expire is not None:
                times.append(p.check.expire)
            if p.server.warmup is not None:
                times.append(p.server.warmup)
        return min(times) if times else None
