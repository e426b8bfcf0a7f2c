"""Servers named by host names (`init-addr`, config/haproxy/init_addr.py) under pylvs and
under the real haproxy: the same `show servers state` and `show stat` lines (an address
resolved by libc, an address to fall back on, the server-state file's address for `last`,
`none` in maintenance "resolution"), the same answers of `set server B/S addr` bringing a
server out of it, and the same servers picked by round-robin."""

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
    free_port,
    stats_command,
)

STATE_FIELDS = (
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
    "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
    "srv_agent_port"
)


def _state_lines(text: str) -> list[list[str]]:
    """`show servers state` without its times (srv_time_since_last_change)."""
    rows = []
    for line in text.splitlines():
        if line and not line.startswith("#") and " " in line:
            words = line.split(" ")
            del words[9]
            rows.append(words)
    return rows


def _stat(text: str) -> list[tuple[str, ...]]:
    """Name, status, weight, address and check health of every server of `show stat`."""
    lines = text.splitlines()
    head = lines[0].lstrip("# ").split(",")
    cols = [head.index(c) for c in ("svname", "status", "weight", "addr", "check_health")]
    rows = []
    for line in lines[1:]:
        f = line.split(",")
        if len(f) > 1 and f[0] == "be" and f[1] not in ("FRONTEND", "BACKEND"):
            rows.append(tuple(f[i] for i in cols))
    return rows


def scenario(kind: str, tmp: Path, servers: Servers, proxy: Callable[..., Proxy]) -> list[object]:
    port = free_port()
    stats = tmp / f"{kind}.sock"
    state = tmp / f"{kind}.state"
    a, b, c, d = (servers[n].port for n in ("a", "b", "c", "d"))
    state.write_text(
        f"1\n{STATE_FIELDS}\n"
        f"2 be 5 last 127.0.0.1 2 0 1 1 10 1 0 2 0 0 0 0 nosuchhost.invalid {d} - 0 0 - - 0\n"
    )
    proxy(kind, (
        f"global\n    stats socket {stats} level admin\n    server-state-file {state}\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        "    timeout server 5s\n    load-server-state-from-file global\n"
        f"listen be\n    bind 127.0.0.1:{port}\n    balance roundrobin\n"
        f"    server literal 127.0.0.1:{a}\n"
        f"    server none nosuchhost.invalid:{a} init-addr none\n"
        f"    server fallback nosuchhost.invalid:{b} init-addr libc,127.0.0.1\n"
        f"    server resolved localhost:{c} init-addr libc,none\n"
        f"    server last nosuchhost.invalid:{d} init-addr last,none\n"
        f"    server left nosuchhost.invalid:{d} init-addr libc,none\n"
    ), None)  # fmt: skip
    deadline = time.monotonic() + 10
    while not stats.exists() and time.monotonic() < deadline:  # a busy box: not bound yet
        time.sleep(0.05)
    seen: list[object] = [
        _state_lines(stats_command(stats, "show servers state")),
        _stat(stats_command(stats, "show stat")),
        sorted(ask(port) for _ in range(4)),
    ]
    for command in (
        "set server be/none addr 127.0.0.1 port 9",
        "set server be/left addr nonsense",
        "set server be/fallback addr 127.0.0.1",
    ):
        seen.append(stats_command(stats, command))
    seen.append(_state_lines(stats_command(stats, "show servers state")))
    seen.append(_stat(stats_command(stats, "show stat")))
    return seen


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_init_addr_as_haproxy(
    tmp_path: Path, servers: Servers, proxy: Callable[..., Proxy]
) -> None:
    for name in ("a", "b", "c", "d"):
        servers.add(name)
    got = {kind: scenario(kind, tmp_path, servers, proxy) for kind in KINDS}
    assert got["pylvs"] == got["haproxy"]
    seen = got["haproxy"]
    states = {row[3]: row for row in seen[0]}  # type: ignore[attr-defined]
    assert states["none"][4:6] == ["-", "0"] and states["none"][6] == "32"  # RMAINT
    assert states["last"][4] == "127.0.0.1"  # the state file's address
    assert states["resolved"][16] == "localhost"  # srv_fqdn
    assert ("none", "MAINT (resolution)", "1", "", "") in seen[1]  # type: ignore[operator]
    assert seen[2] == ["a", "b", "c", "d"]  # the four servers with an address, in turn
    assert "only supported through configuration file" in str(seen[3])
    after = {row[3]: row for row in seen[6]}  # type: ignore[attr-defined]
    assert after["none"][6] == "0" and after["left"][6] == "0"  # out of maintenance
