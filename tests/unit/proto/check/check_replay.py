"""Replay a recorded scenario (tests/data/haproxy/checks/recorded.json) on pylvs: the same
haproxy.cfg read by pylvs's reader, its checks planned over fresh pools, the same server
timelines on the simulated network, started when the real haproxy started its first check."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from pylvs.config.haproxy.convert_checks import plan_checks, pool_for
from pylvs.config.haproxy.reader import load_text
from pylvs.proto.check import admin
from pylvs.proto.check.schedule import Host
from pylvs.proto.check.server import ServerHealth
from tests.data.haproxy.checks.check_scenarios import SCENARIOS
from tests.unit.proto.check.check_simnet import SimNet, Trace

RECORDED = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "checks" / "recorded.json"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDED.read_text())["scenarios"][name]
    return data


def first_check(rec: dict[str, Any]) -> float:
    """When the real haproxy sent its first check (the first SYN to any server)."""
    syns = [s["t"] for segs in rec["segments"].values() for s in segs if "SYN" in s["flags"]]
    return float(min(syns))


def replay(name: str, start: float | None = None, until: float | None = None) -> Trace:
    scenario = SCENARIOS[name]
    rec = recorded(name)
    ports = rec["ports"]
    addresses = {n: f"127.0.0.1:{p}" for n, p in ports.items()}
    addresses |= {f"{n}_port": str(p) for n, p in ports.items()}
    addresses |= {front: "127.0.0.1:1" for _at, front in scenario.clients}
    text = scenario.config.format(syslog="127.0.0.1:514", **addresses)
    result = load_text(text, "scenario.cfg")
    assert not result.problems.errors, result.problems
    config = result.config
    pools = {p.name: pool_for(p) for p in config.proxies if p.has_backend}
    checks = plan_checks(config, pools, host=Host(hostname=rec["node"], node=rec["node"]))
    servers = {n: ("127.0.0.1", ports[n], tl) for n, tl in scenario.servers.items()}
    net = SimNet(checks, servers)
    healths = checks.servers
    for at, command in scenario.cli:
        if not command.startswith("show"):
            net.command(at, cli(command, healths))
    backends = {p.name: p.default_backend for p in config.proxies}
    for at, front in scenario.clients:  # {NAME}: the address of frontend NAME
        backend = backends[front]
        assert backend is not None
        net.client(at, backend)
    when = first_check(rec) if start is None else start
    trace = net.run(when, scenario.duration if until is None else until)
    trace.checks = checks
    return trace


_DURATION = re.compile(r"check duration: (\d+)ms")


# Checks whose `timeout check` (shorter than the connect deadline) HAProxy saw early, when
# the timer scan for another task reached them before their place in its timer tree: pylvs
# applies it when the task wakes (as the other recordings show); the line is compared
# without its duration.
EARLY_TIMEOUTS = ("be_timeout/timeout failed", "busy/b failed")


def same_lines(got: list[tuple[int, str]], want: list[tuple[int, str]], slack: int = 15) -> None:
    """The same lines in the same order; check durations may differ by `slack` ms (the
    recording's scheduling noise: a check there lasts 0 to 3 ms on loopback)."""
    g = [(lvl, _DURATION.sub("check duration: Nms", t)) for lvl, t in got]
    w = [(lvl, _DURATION.sub("check duration: Nms", t)) for lvl, t in want]
    assert g == w
    for (_l1, a), (_l2, b) in zip(got, want, strict=True):
        if any(x in b for x in EARLY_TIMEOUTS):
            continue
        da = [int(x) for x in _DURATION.findall(a)]
        db = [int(x) for x in _DURATION.findall(b)]
        assert all(abs(x - y) <= slack for x, y in zip(da, db, strict=True)), (a, b)


def syslog_messages(rec: dict[str, Any]) -> list[tuple[int, str]]:
    """The check and server state lines (not the frontends' "Connect from" traffic logs)."""
    lines = [(line["severity"], line["message"]) for line in rec["syslog"]]
    return [(lvl, text) for lvl, text in lines if not text.startswith("Connect from ")]


def trace_messages(trace: Trace) -> list[tuple[int, str]]:
    return [(line.level, line.text) for _t, line in trace.logs]


def syn_times(rec: dict[str, Any], server: str) -> list[float]:
    return [s["t"] for s in rec["segments"][server] if "SYN" in s["flags"]]


def cli(command: str, healths: dict[tuple[str, str], ServerHealth]) -> Callable[[float], None]:
    """The few stats socket commands the scenarios use, as the runtime would apply them
    (the command set itself is control/haproxy's)."""
    words = command.split()
    backend, server = words[2].split("/")
    sh = healths[backend, server]
    if words[:2] in (["disable", "server"], ["enable", "server"]):
        return partial(admin.set_maint if words[0] == "disable" else admin.set_ready, sh)
    if words[:2] == ["set", "weight"]:

        def set_weight(now: float) -> None:
            admin.set_weight(sh, words[3], now)

        return set_weight
    if words[3] == "state":
        fn = {"ready": admin.set_ready, "drain": admin.set_drain, "maint": admin.set_maint}
        return partial(fn[words[4]], sh)

    def set_health(now: float) -> None:
        admin.cli_set_health(sh, words[4], now)

    return set_health
