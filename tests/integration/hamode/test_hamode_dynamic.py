"""The runtime API's dynamic servers against haproxy 2.6.12 (issue 20 #4): `add server` (in
maintenance until enabled, then picked by the balancer), `set server B/S addr ... port ...`,
`del server`, with the same answers, the same `show servers state` rows and the same picks
under pylvs run and haproxy -db on one configuration."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    Servers,
    ask,
    closed_port,
    free_port,
)
from tests.integration.hamode.hamode_helpers import stats_command as cli

pytestmark = pytest.mark.slow


def rows(text: str) -> list[list[str]]:
    """`show servers state` rows without the time since the last change, nor whether a check
    is running at that moment (srv_check_state's CHK_ST_INPROGRESS bit)."""
    out = [f[:9] + f[10:] for f in (line.split() for line in text.splitlines()[2:]) if f]
    for r in out:
        r[12] = str(int(r[12]) & ~1)
    return out


def scenario(kind: str, tmp: Path, servers: Servers, proxy: Callable[..., Proxy]) -> list[object]:
    port = free_port()
    a, b, c = (f"127.0.0.1:{servers[n].port}" for n in ("a", "b", "c"))
    stats = tmp / f"{kind}.sock"
    proxy(kind, (
        f"global\n    stats socket {stats} level admin\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        f"    timeout server 5s\nlisten app\n    bind 127.0.0.1:{port}\n    balance roundrobin\n"
        f"    server s1 {a}\nbackend fixed\n    balance static-rr\n    server x {a}\n"
    ), None)  # fmt: skip
    seen: list[object] = []
    for command in (
        f"add server app/s2 {b} weight 2 maxconn 10",
        f"add server app/s2 {b}",
        "add server app/s3",
        f"add server app/s3 {b} bogus",
        f"add server fixed/y {b}",
        f"add server nowhere/y {b}",
    ):
        seen.append(cli(stats, command))
    seen.append(rows(cli(stats, "show servers state app")))
    seen.append([ask(port) for _ in range(3)])  # s2 is in maintenance: only s1
    seen.append(cli(stats, "enable server app/s2"))
    seen.append(sorted(ask(port) for _ in range(6)))  # 1:2
    host, _, cport = c.partition(":")
    for command in (
        f"set server app/s1 addr {host} port {cport}",
        f"set server app/s1 addr {host}",
        "set server app/s1 addr nowhere",
        "set server app/s1 addr",
        "del server app/s2",
        "disable server app/s2",
        "del server app/s2",
        "del server app/zz",
    ):
        seen.append(cli(stats, command))
    seen.append(rows(cli(stats, "show servers state app")))
    seen.append([ask(port) for _ in range(3)])  # s1, now at c's address
    return seen


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_dynamic_servers_as_haproxy(
    tmp_path: Path, servers: Servers, proxy: Callable[..., Proxy]
) -> None:
    for name in ("a", "b", "c"):
        servers.add(name)
    got = {kind: scenario(kind, tmp_path, servers, proxy) for kind in KINDS}
    assert got["pylvs"] == got["haproxy"]
    assert got["haproxy"][-1] == ["c", "c", "c"]


def checked_scenario(
    kind: str, tmp: Path, servers: Servers, proxy: Callable[..., Proxy], closed: int
) -> list[object]:
    """Dynamic servers with checks and `track`, and what `del server` refuses."""
    port = free_port()
    a, b, c = (f"127.0.0.1:{servers[n].port}" for n in ("a", "b", "c"))
    stats = tmp / f"{kind}-checked.sock"
    proxy(kind, (
        f"global\n    stats socket {stats} level admin\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        f"    timeout server 5s\nlisten app\n    bind 127.0.0.1:{port}\n    balance roundrobin\n"
        "    use-server s2 if { always_false }\n"
        "    tcp-request content accept if { srv_is_up(app/s4) }\n"
        f"    server s1 {a} check inter 100ms\n    server s2 {a}\n"
        f"    server s3 {a} track s1\n    server s4 {a}\n"
    ), None)  # fmt: skip
    deadline = time.monotonic() + 10
    while not stats.exists() and time.monotonic() < deadline:  # a busy box: not bound yet
        time.sleep(0.05)
    seen: list[object] = []
    for command in (
        f"add server app/t1 {b} track app/s2",  # no check nor agent
        f"add server app/t1 {b} track app/s3",  # s3 tracks: it may be tracked
        f"add server app/t2 {b} track app/t1",  # a dynamic server
        f"add server app/t2 {b} track other/s1",
        f"add server app/t2 {b} track app/zz",
        f"add server app/t2 {b} proto h2",  # an HTTP multiplexer in a tcp backend
        f"add server app/c1 {c} check inter 100ms rise 1 fall 1",
        f"add server app/c2 127.0.0.1:{closed} check inter 100ms rise 1 fall 1",
        "enable server app/c1",
        "enable health app/c1",
        "enable server app/c2",
        "enable health app/c2",
        "enable server app/t1",
    ):
        seen.append(cli(stats, command))
    seen.append(_checked(stats, ("c1", "c2")))
    for command in (
        "del server app/s1",  # tracked by s3
        "del server app/s2",  # named by use-server
        "del server app/s4",  # named by srv_is_up()
        "del server app/s3",  # tracked by t1
        "del server app/c1",  # not in maintenance
        "disable server app/t1",
        "del server app/t1",
        "del server app/s3",  # was tracked: still pinned
        "disable server app/c1",
        "del server app/c1",
    ):
        seen.append(cli(stats, command))
    seen.append(_checked(stats, ()))
    return seen


def _checked(stats: Path, names: tuple[str, ...]) -> list[list[str]]:
    """`show servers state` once the servers `names` have a check result (srv_check_result
    set: a check of theirs ended), s1's health is at its top (rise + fall - 1) and no check
    is running: a run sets the result back to 0 until it ends (set_server_check_status's
    HCHK_STATUS_START), so a row taken during one differs from the same row between two.
    A fixed sleep compared rows taken before a first check, or during a run, under load."""
    deadline = time.monotonic() + 10
    while True:
        text = cli(stats, "show servers state app")
        got = rows(text)
        running = any(int(f[13]) & 1 for f in (x.split() for x in text.splitlines()[2:]) if f)
        done = {r[3] for r in got if r[10] != "0"}
        s1 = next(r for r in got if r[3] == "s1")
        settled = set(names) <= done and s1[11] == "4" and not running
        if settled or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_checked_and_tracking_dynamic_servers_as_haproxy(
    tmp_path: Path, servers: Servers, proxy: Callable[..., Proxy]
) -> None:
    for name in ("a", "b", "c"):
        servers.add(name)
    closed = closed_port()
    got = {kind: checked_scenario(kind, tmp_path, servers, proxy, closed) for kind in KINDS}
    for i, (mine, theirs) in enumerate(zip(got["pylvs"], got["haproxy"], strict=True)):
        assert mine == theirs, (i, mine, theirs)  # which step, and both whole
    answers = got["haproxy"]
    assert "does not have any check nor agent" in str(answers[0])
    assert answers[1] == "New server registered.\n\n"
    assert "cannot be removed at runtime" in str(answers[14])
