"""HAProxy's health checks on real sockets (health/haproxy) against the real haproxy 2.6.12.

Each scenario runs pylvs's check driver on an asyncio loop against the same scripted
servers on 127.0.0.1 (tests/data/haproxy/checks/check_harness.py: ports that refuse, accept,
answer, fall silent, on the same timelines) that the recording ran the real haproxy
against.  What pylvs logs must be what haproxy logged, in the same order and at about the
same moments (a loaded machine delays a loop's timers a little; HAProxy's recording has its
own noise), the servers must receive the same bytes, and the balancer Pool the checks drive
must hold each server's state from the moment its line is logged.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from pylvs.config.haproxy.convert_checks import plan_checks, pool_for
from pylvs.config.haproxy.reader import load_text
from pylvs.health.haproxy import CheckDriver
from pylvs.proto.check.health import LogLine
from pylvs.proto.check.schedule import Checks, Host
from pylvs.proto.check.server import Effect
from pylvs.sched.haproxy.server import State
from tests.data.haproxy.checks.check_behaviours import Serve, behaviour_at
from tests.data.haproxy.checks.check_harness import ScriptedServer
from tests.data.haproxy.checks.check_scenarios import SCENARIOS
from tests.unit.proto.check.check_replay import (
    cli,
    first_check,
    recorded,
    same_lines,
    syslog_messages,
)

pytestmark = pytest.mark.slow

SLACK = 0.35  # seconds: a state line's moment, pylvs's against haproxy's (a loaded machine)
_DURATION = re.compile(r"check duration: \d+ms")
DURATION_SLACK = 200  # ms: a check's duration on a loopback shared with a busy suite (105 ms seen)
RACE = 0.35  # seconds: one check interval more, where the recording raced the server


def _racy(run: Run, server: str) -> bool:
    """The recording checked `server` within 30 ms of a change of its behaviour: a live run
    may see the change one check earlier or later (tcp_states's `only`, checked 3 ms before
    its port opened)."""
    changes = [t for t, _b in run.scenario.servers[server][1:]]
    syns = [x["t"] for x in run.rec["segments"][server] if "SYN" in x["flags"]]
    return any(abs(c - t) < 0.03 for c in changes for t in syns)


class Run:
    """One scenario on real sockets: the lines pylvs logged (time from haproxy's start as
    the recording counts it) and the servers' states when each was logged."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.scenario = SCENARIOS[name]
        self.rec = recorded(name)
        self.t0 = [time.monotonic()]
        self.servers = {
            n: ScriptedServer(n, tl, self.t0) for n, tl in self.scenario.servers.items()
        }
        self.lines: list[tuple[float, LogLine, dict[str, State]]] = []
        self.checks = self._plan()

    def _plan(self) -> Checks:
        addresses = {n: f"127.0.0.1:{s.port}" for n, s in self.servers.items()}
        addresses |= {f"{n}_port": str(s.port) for n, s in self.servers.items()}
        text = self.scenario.config.format(syslog="127.0.0.1:514", **addresses)
        result = load_text(text, "scenario.cfg")
        assert not result.problems.errors, result.problems
        cfg = result.config
        pools = {p.name: pool_for(p) for p in cfg.proxies if p.has_backend}
        node = self.rec["node"]
        return plan_checks(cfg, pools, host=Host(hostname=node, node=node))

    def _effect(self, e: Effect) -> None:
        if isinstance(e, LogLine):
            states = {f"{b}/{n}": sh.srv.cur_state for (b, n), sh in self.checks.servers.items()}
            self.lines.append((time.monotonic() - self.t0[0], e, states))

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        driver = CheckDriver(self.checks, self._effect)
        # the recording's clock: haproxy started its first check at first_check(rec); the
        # servers that serve from the start listen before that
        self.t0[0] = loop.time()
        while any(s.lsock is None for s in self._serving_at_start()):
            await asyncio.sleep(0.002)
        first = first_check(self.rec)
        await asyncio.sleep(max(0.0, self.t0[0] + first - loop.time()))
        self.t0[0] = min(self.t0[0], loop.time() - first)
        driver.start()
        for at, command in self.scenario.cli:  # operators' commands, then changed()
            if not command.startswith("show"):
                apply = cli(command, self.checks.servers)

                def operate(apply: Callable[[float], None] = apply) -> None:
                    apply(loop.time())
                    driver.changed()

                loop.call_at(self.t0[0] + at, operate)
        await asyncio.sleep(self.scenario.duration - first_check(self.rec))
        driver.stop()

    def _serving_at_start(self) -> list[ScriptedServer]:
        return [
            s
            for name, s in self.servers.items()
            if isinstance(behaviour_at(self.scenario.servers[name], 0), Serve)
        ]

    def run(self) -> Run:
        threads = [threading.Thread(target=s.run, daemon=True) for s in self.servers.values()]
        self.t0[0] = time.monotonic() + 3600  # the servers wait for the driver's start
        for th in threads:
            th.start()
        try:
            asyncio.run(self._main())
        finally:
            for s in self.servers.values():
                s.stop = True
            for th in threads:
                th.join(3)
        return self


def _messages(run: Run) -> list[tuple[int, str]]:
    """pylvs's lines, each server's port written as its name (the ports are fresh)."""
    ports = {n: s.port for n, s in run.servers.items()}
    return [(line.level, _named(line.text, ports)) for _t, line, _s in run.lines]


def _recorded_messages(run: Run) -> list[tuple[int, str]]:
    ports = run.rec["ports"]
    return [(lvl, _named(text, ports)) for lvl, text in syslog_messages(run.rec)]


def _per_backend(lines: list[tuple[int, str]]) -> dict[str, list[tuple[int, str]]]:
    """The lines of each backend in their order (checks of different servers that end
    within a millisecond of each other may log in either order, in haproxy as here)."""
    out: dict[str, list[tuple[int, str]]] = {}
    for level, text in lines:
        m = re.search(r"[Ss]erver (\S+)/|^backend (\S+) has", text)
        key = (m.group(1) or m.group(2)) if m else ""
        out.setdefault(key, []).append((level, text))
    return out


def _named(text: str, ports: dict[str, int]) -> str:
    for name, port in ports.items():
        text = text.replace(f"port {port})", f"port <{name}>)")
    return text


def _state_lines(rec: dict[str, Any]) -> list[tuple[float, str]]:
    return [(x["t"], x["message"]) for x in rec["syslog"] if x["message"].startswith("Server ")]


@pytest.mark.parametrize("name", ["tcp_updown", "tcp_states"])
def test_a_server_that_dies_and_comes_back(name: str) -> None:
    """Up, down and up again on the recording's timeline: the same lines at the same
    moments, and the Pool's state changed when the line said so."""
    run = Run(name).run()
    same_lines(_messages(run), _recorded_messages(run), slack=DURATION_SLACK)
    mine = [(t, line.text) for t, line, _s in run.lines if line.text.startswith("Server ")]
    theirs = _state_lines(run.rec)
    # (the durations were compared, with their slack, by same_lines)
    assert [_DURATION.sub("", m) for _t, m in mine] == [_DURATION.sub("", m) for _t, m in theirs]
    for (t_mine, text), (t_theirs, _m) in zip(mine, theirs, strict=True):
        slack = SLACK + (RACE if _racy(run, text.split()[1].split("/")[1]) else 0.0)
        assert abs(t_mine - t_theirs) < slack, (text, t_mine, t_theirs)
    for server, conns in run.rec["servers"].items():  # none: TCP_QUICKACK held the ACK
        assert len(run.servers[server].conns) == len(conns), server
    for _t, line, states in run.lines:
        if line.text.startswith("Server "):
            who = line.text.split()[1]
            want = State.STOPPED if " is DOWN" in line.text else State.RUNNING
            assert states[who] is want, line.text


@pytest.mark.parametrize(
    "name", ["http_responses", "protocols", "tcp_check_rules", "agent", "timeout_scan", "maint"]
)
def test_checks_speak_as_haproxy_does(name: str) -> None:
    """The verdicts on real sockets (HTTP, the protocol checks, tcp-check sequences, agent
    words, `timeout check` on a silent server, the operator's maintenance, drain, health
    and weight commands between checks) and the bytes each server received, as
    from haproxy."""
    run = Run(name).run()
    mine, theirs = _per_backend(_messages(run)), _per_backend(_recorded_messages(run))
    assert sorted(mine) == sorted(theirs)
    for backend, lines in theirs.items():
        same_lines(mine[backend], lines, slack=DURATION_SLACK)
    for server, conns in run.rec["servers"].items():
        want = [c["received"].encode("latin-1") for c in conns]
        got = [c["received"].encode("latin-1") for c in run.servers[server].conns]
        n = min(len(want), len(got))
        if server.startswith("ssl"):  # the hello carries the date
            want, got = [w[:11] + w[15:] for w in want], [g[:11] + g[15:] for g in got]
        assert got[:n] == want[:n], server
