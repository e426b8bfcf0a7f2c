"""SRV records (`server-template web 1-3 _http._tcp.app.test resolvers dns init-addr none`)
under pylvs and under the real haproxy, the same tiny DNS server changing its records while
they run: the slots take the targets, ports and weights of the records (each target resolved
by its own A query, or from the additional section when the DNS server sends it), a record
that goes frees its slot ("entry removed from SRV record") for the next new one, a target
that moves moves its server; `show servers state` (srv_fqdn, srv_port, srvrecord, weights,
the admin bits), clients and the log lines must be the same."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.dns_helpers import DnsServer, settle_rows, state_rows
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
NAME = "_http._tcp.app.test"


def _said(line: str) -> str:
    """A log line from its message on (the prefixes of the two programs differ)."""
    at = line.find("Server be/")
    return line[at if at >= 0 else line.find("be/") :]


def scenario(kind: str, tmp: Path, proxy: Callable[..., Proxy], additional: bool) -> list[str]:
    dns = DnsServer()
    dns.additional = additional
    servers = Servers()
    try:
        ports = [servers.add(f"app{n}", host=f"127.0.0.{n + 1}").port for n in (1, 2, 3)]
        dns.set("a1.test", ["127.0.0.2"])
        dns.set("a2.test", ["127.0.0.3"])
        dns.set("a3.test", ["127.0.0.4"])
        dns.set_srv(NAME, [(0, 10, ports[0], "a1.test"), (0, 512, ports[1], "a2.test")])
        listen, stats = free_port(), tmp / f"{kind}.sock"
        p = proxy(kind, (
            f"global\n    stats socket {stats} level admin\n"
            f"resolvers dns\n    nameserver ns1 127.0.0.1:{dns.port}\n"
            "    timeout resolve 200ms\n    timeout retry 200ms\n    hold valid 100ms\n"
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            f"listen be\n    bind 127.0.0.1:{listen}\n    balance roundrobin\n"
            f"    server-template web 1-3 {NAME} resolvers dns init-addr none\n"
        ), None)  # fmt: skip
        seen: list[object] = [
            settle_rows(stats, {"web1": "127.0.0.2", "web2": "127.0.0.3", "web3": "-"})
        ]
        seen.append(sorted(ask(listen) for _ in range(3)))  # weights 1 and 2
        dns.set_srv(NAME, [(0, 10, ports[0], "a1.test"), (0, 0, ports[2], "a3.test")])
        seen.append(settle_rows(stats, {"web1": "127.0.0.2", "web2": "-", "web3": "127.0.0.4"}))
        dns.set_srv(NAME, [(0, 10, ports[0], "a1.test"), (0, 300, ports[2], "a3.test")])
        dns.set("a1.test", ["127.0.0.3"])  # app2's address, app1's port: no server there
        seen.append(settle_rows(stats, {"web1": "127.0.0.3", "web2": "-", "web3": "127.0.0.4"}))
        time.sleep(0.5)  # the new weight too
        seen.append(state_rows(stats))
        seen.append(ask(listen))
        time.sleep(0.3)  # the last lines reach the log
        out = p.output()
        lines = [_said(line) for line in out.splitlines() if " be/" in line]
        seen.append(lines)
        return [repr(x).replace(str(ports[0]), "P1").replace(str(ports[1]), "P2")
                .replace(str(ports[2]), "P3") for x in seen]  # fmt: skip
    finally:
        servers.close()
        dns.close()


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
@pytest.mark.parametrize("additional", [False, True], ids=["a-queries", "additional"])
def test_srv_records_as_haproxy(
    tmp_path: Path, proxy: Callable[..., Proxy], additional: bool
) -> None:
    got = {kind: scenario(kind, tmp_path, proxy, additional) for kind in KINDS}
    assert got["pylvs"] == got["haproxy"]
    seen = got["haproxy"]
    assert "'a1.test', 'P1', '_http._tcp.app.test'" in seen[0], seen[0]
    assert "'web2', '-', '0', '96', '2'" in seen[2], seen[2]  # HMAINT | RMAINT, uweight kept
    assert "'web3', '127.0.0.4', '2', '64', '2'" in seen[4], seen[4]  # (300 + 255) / 256
    assert seen[1] == repr(["app1", "app2", "app2"])


def _checked(stats: Path) -> list[tuple[str, ...]]:
    """`show stat`'s servers: name, status, check status and address, once both records'
    servers are UP by their checks (or as they are after 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        lines = stats_command(stats, "show stat").splitlines()
        head = lines[0].lstrip("# ").split(",")
        cols = [head.index(c) for c in ("svname", "status", "check_status", "addr")]
        rows = [
            tuple(f[i] for i in cols)
            for f in (line.split(",") for line in lines[1:])
            if len(f) > 1 and f[1].startswith("web")
        ]
        if sum(r[1] == "UP" for r in rows) == 2 or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def checked(kind: str, tmp: Path, proxy: Callable[..., Proxy]) -> list[str]:
    """The same template with `check`: no port on the line (HAProxy asks for none when the
    server has no address yet), the checks go to each record's target and port."""
    dns = DnsServer()
    servers = Servers()
    try:
        ports = [servers.add(f"app{n}", host=f"127.0.0.{n + 1}").port for n in (1, 2)]
        dns.set("a1.test", ["127.0.0.2"])
        dns.set("a2.test", ["127.0.0.3"])
        dns.set_srv(NAME, [(0, 1, ports[0], "a1.test"), (0, 1, ports[1], "a2.test")])
        stats = tmp / f"{kind}-checked.sock"
        proxy(kind, (
            f"global\n    stats socket {stats} level admin\n"
            f"resolvers dns\n    nameserver ns1 127.0.0.1:{dns.port}\n"
            "    timeout resolve 200ms\n    timeout retry 200ms\n    hold valid 100ms\n"
            "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
            "    timeout server 5s\n"
            f"listen be\n    bind 127.0.0.1:{free_port()}\n"
            f"    server-template web 1-3 {NAME} check inter 300ms resolvers dns init-addr none\n"
        ), None)  # fmt: skip
        settle_rows(stats, {"web1": "127.0.0.2", "web2": "127.0.0.3", "web3": "-"})
        rows = _checked(stats)
        return [repr(rows).replace(str(ports[0]), "P1").replace(str(ports[1]), "P2")]
    finally:
        servers.close()
        dns.close()


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_srv_records_checked_as_haproxy(tmp_path: Path, proxy: Callable[..., Proxy]) -> None:
    got = {kind: checked(kind, tmp_path, proxy) for kind in KINDS}
    assert got["pylvs"] == got["haproxy"]
    assert "('web1', 'UP', 'L4OK', '127.0.0.2:P1')" in got["haproxy"][0]
