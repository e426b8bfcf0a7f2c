"""Record HAProxy's stats socket and stats page, to check pylvs's control/haproxy against.

Run by hand (needs the real `haproxy`, 2.6 here; `socat` is not needed; no root):

    python tests/data/haproxy/stats/capture.py [-o tests/data/haproxy/stats/transcript.json]

One haproxy.cfg (one thread) built from SPEC below: an HTTP frontend, a TCP `listen` with
`option socket-stats` and health checks (one server whose check passes, one whose port is
closed, a backup without check), an HTTP backend with weights, a `disabled` server and
limits, a static-rr backend, a backend without servers, and two stats pages (one open with
`stats admin if TRUE`, one with `stats auth`, `show-legends`, `hide-version`, `scope`).
Stats sockets at the admin, operator and user levels, and one on TCP.

Then, in order: CLI steps (a command line, or raw bytes, on one of the sockets; the reply is
recorded whole) and page steps (a raw HTTP request; the response is recorded).  The SPEC goes
into the transcript so the test can build the same proxies in pylvs's FakeRuntime;
tests/unit/control/haproxy/test_stats_recorded.py replays every step and compares.

The stats JSON schema (`;json-schema`) is also written to src/pylvs/data, which serves it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.data.haproxy.oracle import Backend, command, free_port, running, version
from tests.data.haproxy.stats.steps import STEPS

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parents[3] / "src" / "pylvs" / "data" / "haproxy-stats-schema.json"

# Servers: "up" is a live backend (its TCP check passes), "down" a closed port.
SPEC: dict[str, Any] = {
    "proxies": [
        {"name": "fe", "kind": "frontend", "mode": "http", "backend": "be"},
        {
            "name": "tcpl",
            "kind": "listen",
            "mode": "tcp",
            "socket_stats": True,
            "table": "type ip size 100 expire 30s",
            "servers": [
                {"name": "t1", "addr": "down", "check": True},
                {"name": "t2", "addr": "up", "backup": True},
                {"name": "t3", "addr": "up", "check": True, "weight": 2},
            ],
        },
        {
            "name": "be",
            "kind": "backend",
            "mode": "http",
            "fullconn": 200,
            "servers": [
                {"name": "w1", "addr": "up", "weight": 3},
                {"name": "w2", "addr": "up", "disabled": True},
                {"name": "w3", "addr": "up", "maxconn": 10, "maxqueue": 5},
                {"name": "w4", "addr": "up", "backup": True, "id": 9},
            ],
        },
        {
            "name": "srr",
            "kind": "backend",
            "mode": "tcp",
            "balance": "static-rr",
            "servers": [
                {"name": "r1", "addr": "up", "weight": 2},
                {"name": "r2", "addr": "up", "weight": 4},
            ],
        },
        {"name": "empty", "kind": "backend", "mode": "tcp"},
        {"name": "stats", "kind": "listen", "mode": "http", "page": "open"},
        {"name": "stats2", "kind": "listen", "mode": "http", "page": "locked"},
    ]
}


def config(spec: dict[str, Any], ports: dict[str, int], tmp: str) -> str:
    out = [
        "global",
        "  nbthread 1",
        "  maxconn 1000",
        f"  stats socket {tmp}/admin.sock mode 600 level admin",
        f"  stats socket {tmp}/oper.sock mode 600 level operator",
        f"  stats socket {tmp}/user.sock mode 600 level user",
        f"  stats socket ipv4@127.0.0.1:{ports['cli']} level admin",
        "defaults",
        "  timeout connect 1s",
        "  timeout client 5s",
        "  timeout server 5s",
    ]
    for px in spec["proxies"]:
        out.append(f"{px['kind']} {px['name']}")
        out.append(f"  mode {px['mode']}")
        if px["kind"] != "backend":
            out.append(f"  bind 127.0.0.1:{ports[px['name']]}")
        if px.get("socket_stats"):
            out.append("  option socket-stats")
        if px.get("backend"):
            out.append(f"  default_backend {px['backend']}")
        if px.get("balance"):
            out.append(f"  balance {px['balance']}")
        if px.get("table"):
            out.append(f"  stick-table {px['table']}")
        if px.get("fullconn"):
            out.append(f"  fullconn {px['fullconn']}")
        out += _page_lines(px.get("page"))
        for sv in px.get("servers", []):
            out.append("  " + _server_line(sv, ports))
    return "\n".join(out) + "\n"


def _page_lines(page: str | None) -> list[str]:
    if page == "open":
        return ["  stats enable", "  stats uri /", "  stats refresh 5s", "  stats admin if TRUE"]
    if page == "locked":
        return [
            "  stats enable",
            "  stats uri /st",
            "  stats auth admin:secret",
            "  stats realm Private\\ area",
            "  stats show-legends",
            "  stats hide-version",
            "  stats scope be",
            "  stats scope .",
        ]
    return []


def _server_line(sv: dict[str, Any], ports: dict[str, int]) -> str:
    line = f"server {sv['name']} 127.0.0.1:{ports[sv['addr']]}"
    for key in ("weight", "maxconn", "maxqueue", "id"):
        if key in sv:
            line += f" {key} {sv[key]}"
    if sv.get("check"):
        line += " check inter 200ms"
    if sv.get("backup"):
        line += " backup"
    if sv.get("disabled"):
        line += " disabled"
    return line


def run_cli(tmp: str, ports: dict[str, int], step: dict[str, Any]) -> str:
    if step["sock"] == "tcp":
        s = socket.create_connection(("127.0.0.1", ports["cli"]), timeout=5)
    else:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(os.path.join(tmp, f"{step['sock']}.sock"))
    return _exchange(s, step["send"].encode("latin-1"))


def run_page(ports: dict[str, int], step: dict[str, Any]) -> str:
    s = socket.create_connection(("127.0.0.1", ports[step["listen"]]), timeout=5)
    return _exchange(s, step["send"].encode("latin-1"))


def _exchange(s: socket.socket, data: bytes) -> str:
    with s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except ConnectionResetError:
            out += b"<reset>"
    return out.decode("latin-1")


def _dechunk(body: str) -> str:
    out = ""
    while body:
        size, _, body = body.partition("\r\n")
        n = int(size, 16)
        if not n:
            break
        out, body = out + body[:n], body[n + 2 :]
    return out


def wait_checks(tmp: str) -> None:
    """Until t1 is DOWN and t3 UP with their checks settled (no check running)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = command(os.path.join(tmp, "admin.sock"), "show servers state tcpl")
        rows = {r.split()[3]: r.split() for r in state.splitlines()[2:] if r}
        if rows and rows["t1"][5] == "0" and rows["t3"][5] == "2" and rows["t3"][12] == "4":
            return
        time.sleep(0.05)
    raise RuntimeError("the checks did not settle")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-o", "--output", default=str(HERE / "transcript.json"))
    args = parser.parse_args()
    up = Backend("up")
    names = [p["name"] for p in SPEC["proxies"] if p["kind"] != "backend"]
    ports = {n: free_port() for n in [*names, "cli", "down"]}
    ports["up"] = up.port
    with running(config(SPEC, ports, "{dir}"), ready="admin.sock") as tmp:
        wait_checks(tmp)
        records = []
        for step in STEPS:
            if step["op"] == "sleep":
                time.sleep(step["seconds"])
                continue
            reply = run_cli(tmp, ports, step) if step["op"] == "cli" else run_page(ports, step)
            records.append({**step, "reply": reply.replace(tmp, "{dir}")})
        text = config(SPEC, ports, "{dir}")
        with socket.create_connection(("127.0.0.1", ports["stats"]), timeout=5) as s:
            s.sendall(b"GET /;json-schema HTTP/1.0\r\n\r\n")
            schema = _dechunk(_exchange(s, b"").split("\r\n\r\n", 1)[1])
    up.close()
    SCHEMA.write_text(schema)
    out = {"version": version(), "spec": SPEC, "ports": ports, "config": text, "steps": records}
    Path(args.output).write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(records)} steps recorded in {args.output}")


if __name__ == "__main__":
    main()
