"""Seed 004's haproxy.cfg, addresses moved to 127.0.0.0/8, under `pylvs run` and under the real
`haproxy -db`: the same picks on every bound port, the same counters on the stats socket and
the stats page, and the socket's admin commands acting on the picks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    Servers,
    after_streams,
    ask,
)

pytestmark = [
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the seed binds ports below 1024"),
]

SEED = Path(__file__).parents[2] / "data" / "haproxy" / "seed004.haproxy.cfg"
PORTS = (80, 25, 110, 135, 139, 443, 60000, 60001, 6001, 6002, 6003, 6004, 993, 994, 995)
# A /24 of its own per test process: other tests' loopback listeners are elsewhere.
NET = f"127.{os.getpid() % 200 + 20}.8"
STATS = f"{NET}.7"


def seed_config(tmp: Path) -> str:
    text = SEED.read_text()
    text = text.replace("192.168.8.", f"{NET}.").replace("127.0.0.1:7000", f"{STATS}:7000")
    text = text.replace("/var/run/haproxy.stat", str(tmp / "stat.sock"))
    return text.replace("/var/run/haproxy.pid", str(tmp / "haproxy.pid"))


def cli(tmp: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(tmp / "stat.sock"))
        s.sendall(command.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


def columns(csv: str, names: tuple[str, ...]) -> list[list[str]]:
    """The named columns of the Exchange2010 rows of `show stat` CSV."""
    lines = csv.splitlines()
    header = lines[0].lstrip("# ").split(",")
    at = [header.index(n) for n in names]
    rows = [line.split(",") for line in lines[1:] if line.startswith("Exchange2010,")]
    return [[r[i] for i in at] for r in rows]


def page_csv(port: int = 7000) -> str:
    with socket.create_connection((STATS, port), timeout=5) as s:
        s.sendall(b"GET /;csv HTTP/1.0\r\n\r\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    head, body = out.split(b"\r\n\r\n", 1)
    if b"chunked" not in head.lower():
        return body.decode()
    text = b""
    while body:
        size, _, body = body.partition(b"\r\n")
        n = int(size, 16)
        text, body = text + body[:n], body[n + 2 :]
        if n == 0:
            break
    return text.decode()


def run(proxy: Callable[..., Proxy], servers: Servers, kind: str, tmp: Path) -> dict[str, object]:
    for i in (1, 2, 3):
        for port in PORTS:
            servers.add(f"CAS{i - 1}:{port}", host=f"{NET}.15{i}", port=port)
    (tmp / kind).mkdir()
    text = seed_config(tmp / kind)
    if kind == "haproxy":
        # 2.6 refuses 1.x's `listen NAME ADDR:PORT`; pylvs runs it as written (with a
        # warning saying this): `listen NAME` + `bind ADDR:PORT`.
        text = re.sub(r"(?m)^listen (\S+) (\S+)", r"listen \1\nbind \2", text)
        # haproxy refuses to start where it cannot raise the descriptor limit (strict-limits,
        # the test machine's hard limit); pylvs warns and runs within it.
        text = text.replace("ulimit-n 81000", "ulimit-n 19000").replace(
            "maxconn 40000", "maxconn 9000"
        )
    p = proxy(kind, text, None)
    vip = f"{NET}.248"
    # Distinct client addresses: `stick on src` keeps each on its first server.
    picks = [ask(port, vip, source=f"{NET}.{10 + i}") for i, port in enumerate(PORTS)]
    again = [ask(port, vip, source=f"{NET}.{10 + i}") for i, port in enumerate(PORTS)]
    stat = after_streams(tmp / kind / "stat.sock")  # haproxy counts a stream's bytes at its end
    # (`status` is left out: it shows the health checks, which pylvs's check engine runs.)
    counters = columns(stat, ("svname", "stot", "bin", "bout", "weight", "act", "bck"))
    page = columns(page_csv(), ("svname", "stot", "bin", "bout"))
    table = cli(tmp / kind, "show table Exchange2010")
    disabled = cli(tmp / kind, "disable server Exchange2010/CAS1")
    after = [ask(25, vip, source=f"{NET}.{100 + i}") for i in range(6)]
    weight = cli(tmp / kind, "set weight Exchange2010/CAS0 0")
    last = [ask(110, vip, source=f"{NET}.{200 + i}") for i in range(3)]
    p.stop()
    return {
        "picks": picks,
        "again": again,
        "counters": counters,
        "page": page,
        "entries": len(re.findall(r"(?m)^0x[0-9a-f]+: key=", table)),
        "disable": disabled,
        "after": after,
        "weight": weight,
        "last": last,
    }


def test_seed_004_under_pylvs_and_haproxy(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    seen = {}
    for kind in KINDS:
        servers = Servers()
        try:
            seen[kind] = run(proxy, servers, kind, tmp_path)
        finally:
            servers.close()
    pylvs, haproxy = seen["pylvs"], seen["haproxy"]
    for key in pylvs:
        assert pylvs[key] == haproxy[key], (key, pylvs[key], haproxy[key])
    # Each client answered by a server of its own port, then by the same one again.
    assert all(p.startswith("CAS") for p in pylvs["picks"])  # type: ignore[attr-defined]
    assert pylvs["picks"] == pylvs["again"] and pylvs["entries"] == len(PORTS)
    assert not any("CAS1" in p for p in pylvs["after"])  # type: ignore[attr-defined]
    assert not any("CAS0" in p for p in pylvs["last"])  # type: ignore[attr-defined]


def test_the_seed_checks_clean_with_pylvs(tmp_path: Path) -> None:
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(seed_config(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "pylvs", "check", "-f", str(cfg)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
