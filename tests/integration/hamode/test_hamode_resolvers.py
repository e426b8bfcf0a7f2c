"""Run-time DNS (`resolvers`, `server-template ... check resolvers R init-addr none`) under
pylvs and under the real haproxy, the same tiny DNS server changing its answers while they run: the
same servers come (each slot its own address), move (a vanished address replaced, the others
kept), go (NXDOMAIN past `hold nx`: maintenance "resolution") and come back, as `show servers
state`, `show stat` and clients see them; the same `set server B/S fqdn` answers; the junk the
DNS server adds to every answer (too short, unknown id, too big) dropped and counted."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.dns_helpers import DnsServer
from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    Servers,
    ask,
    free_port,
    stats_command,
)

pytestmark = pytest.mark.slow
HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


def _state(text: str) -> list[list[str]]:
    """`show servers state` rows without srv_time_since_last_change and the last check's
    status, result and health, and the state's "in progress" bit (which of the 300 ms checks
    ran is timing; whether the check runs or is paused stays)."""
    rows = []
    for line in text.splitlines():
        if line and not line.startswith("#") and " " in line:
            words = line.split(" ")
            words[13] = str(int(words[13]) & ~1)  # CHK_ST_INPROGRESS
            del words[9:13]
            rows.append(words)
    return rows


def _stat(text: str) -> list[tuple[str, ...]]:
    lines = text.splitlines()
    head = lines[0].lstrip("# ").split(",")
    cols = [head.index(c) for c in ("svname", "status", "addr")]
    return [  # a status's " N/M" (checks on their way) is timing
        tuple(f[i].split(" ")[0] if i == cols[1] and "/" in f[i] else f[i] for i in cols)
        for f in (line.split(",") for line in lines[1:])
        if len(f) > 1 and f[0] == "be" and f[1] not in ("FRONTEND", "BACKEND")
    ]


def _unport(value: object, port: str) -> object:
    if isinstance(value, list):
        return [_unport(v, port) for v in value]
    if isinstance(value, tuple):
        return tuple(_unport(v, port) for v in value)
    return value.replace(port, "PORT") if isinstance(value, str) else value


def _settle(stats: Path, want: set[str]) -> list[list[str]]:
    """The servers' state once their addresses are `want` (the DNS answer took) and those
    with one are up (their checks follow the address), or the last seen after 20 s (a busy
    box: generous)."""
    deadline = time.monotonic() + 20
    while not stats.exists() and time.monotonic() < deadline:  # a busy box: not bound yet
        time.sleep(0.05)
    while True:
        rows = _state(stats_command(stats, "show servers state"))
        if {r[4] for r in rows} - {"-"} == want and all(
            (r[4] == "-") == (r[6] == "32") and (r[4] == "-") == (r[5] == "0") for r in rows
        ):
            return rows
        if time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def _confirmed(stats: Path) -> None:
    """Until the checks confirmed the servers with an address (plain "UP" in `show stat`)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = stats_command(stats, "show stat")
        if ",UP," in text and ",UP " not in text:
            return
        time.sleep(0.1)


def _port_on_all() -> int:
    """A port free on every backend address."""
    for _ in range(50):
        port = free_port(HOSTS[0])
        ok = True
        for host in HOSTS[1:]:
            with socket.socket() as s:
                try:
                    s.bind((host, port))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError("no port free on every backend address")


def scenario(kind: str, tmp: Path, proxy: Callable[..., Proxy]) -> list[object]:
    dns = DnsServer()
    servers = Servers()
    try:
        port = _port_on_all()
        for n, host in enumerate(HOSTS):
            servers.add(f"srv{n + 2}", host=host, port=port)
        dns.set("app.test", list(HOSTS[:2]))
        dns.junk = True
        listen, stats = free_port(), tmp / f"{kind}.sock"
        p = proxy(kind, (
            f"global\n    stats socket {stats} level admin\n"
            f"resolvers dns\n    nameserver ns1 127.0.0.1:{dns.port}\n"
            "    timeout resolve 200ms\n    timeout retry 200ms\n"
            "    hold valid 100ms\n    hold nx 300ms\n"
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            f"listen be\n    bind 127.0.0.1:{listen}\n    balance roundrobin\n"
            f"    server-template web 1-3 app.test:{port} check inter 300ms resolvers dns"
            " init-addr none\n"
        ), None)  # fmt: skip
        seen: list[object] = [_settle(stats, set(HOSTS[:2]))]
        seen.append(_stat(stats_command(stats, "show stat")))
        _confirmed(stats)
        seen.append(sorted(ask(listen) for _ in range(4)))
        dns.set("app.test", list(HOSTS[1:]))  # .2 goes, .4 comes
        seen.append(_settle(stats, set(HOSTS[1:])))
        dns.set_nx("app.test")
        seen.append(_settle(stats, set()))
        seen.append(ask(listen))  # no server left
        dns.set("app.test", [HOSTS[0]])
        seen.append(_settle(stats, {HOSTS[0]}))
        seen.append(stats_command(stats, "set server be/web1 fqdn other.test"))
        seen.append(stats_command(stats, "set server be/web1 fqdn other.test"))
        seen.append(stats_command(stats, "show resolvers nope"))
        seen.append(stats_command(stats, "del server be/web3"))  # resolved: not purgeable
        shown = stats_command(stats, "show resolvers dns")
        names = [line.split(":")[0].strip() for line in shown.splitlines()]
        seen.append(names)
        counts = dict(
            (k.strip(), int(v))
            for k, _, v in (line.partition(":") for line in shown.splitlines()[2:])
            if v.strip()
        )
        for counter in ("sent", "valid", "update", "nx", "invalid", "too_big", "outdated"):
            assert counts[counter] > 0, (kind, shown)
        said = (
            "be/web1 changed its IP from (none) to 127.0.0.2 by dns/ns1",
            "be/web2 changed its IP from (none) to 127.0.0.3 by DNS cache",
            "is going DOWN for maintenance (DNS NX status)",
        )
        deadline = time.monotonic() + 10  # until the lines reached the log
        while not all(x in p.output() for x in said) and time.monotonic() < deadline:
            time.sleep(0.05)
        out = p.output()
        for x in said:
            assert x in out, out
        assert "is DOWN, reason" not in out, out  # each check went to its server's address
        # each run has its own backend port: the rest must be the same
        return [_unport(x, str(port)) for x in seen]
    finally:
        servers.close()
        dns.close()


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_resolvers_as_haproxy(tmp_path: Path, proxy: Callable[..., Proxy]) -> None:
    got = {kind: scenario(kind, tmp_path, proxy) for kind in KINDS}
    assert got["pylvs"] == got["haproxy"]
    seen = got["haproxy"]
    first = {r[3]: r for r in seen[0]}  # type: ignore[attr-defined]
    assert (first["web1"][4], first["web2"][4], first["web3"][6]) == (
        "127.0.0.2",
        "127.0.0.3",
        "32",
    )
    assert seen[2] == ["srv2", "srv2", "srv3", "srv3"]
    moved = {r[3]: r[4] for r in seen[3]}  # type: ignore[attr-defined]
    assert moved == {"web1": "127.0.0.4", "web2": "127.0.0.3", "web3": "-"}
    assert seen[5] == ""
    assert "changed its FQDN from app.test to other.test" in str(seen[7])
    assert "cannot be removed at runtime" in str(seen[10])
