"""Record HAProxy's stick tables at work, to check pylvs's proto/stick against.

Run by hand (needs the real `haproxy`, 2.6 here; no root):

    python tests/data/haproxy/stick/capture.py [-o tests/data/haproxy/stick/transcript.json]

One haproxy.cfg (one thread, `mode tcp`) with:

* `lb`: `stick on src` over an `ip` table (expire 30m) that also stores connection counters
  fed by `tcp-request connection track-sc0 src`, round robin over s1 and s2;
* `lbp`: the same stickiness with `option persist` (no counters);
* tables of every key type for the stats socket: `tint` (integer), `tstr` (string len 8,
  storing gpc0), `tv6` (ipv6), `tbin` (binary len 6), `tsmall` (integer, size 2: which entry
  goes when full), `tnopurge` (the same with `nopurge`), `tbig` (size 512: several go at once),
  `texp` (ip, expire 1s).

Which entry a full table drops depends on the millisecond each was queued and touched in
(stick_table.c): the connections leave `lb` room enough, and the eviction steps are `set table`
commands a few milliseconds apart, so what HAProxy did does not hang on its timing.

The steps below run in order: client connections from chosen 127.0.0.x addresses (the
answering server is recorded; held ones stay open until a `close` step), stats socket commands
at the admin, operator or user level (the reply is recorded), and pauses.  Each record carries
its time in milliseconds since the first step, so a replay can put its clock where HAProxy's
was (entry expiry, rates).  tests/unit/proto/stick/test_stick_recorded.py replays the transcript.
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
from tests.data.haproxy.oracle import Backend, command, free_port, running, version, wait_sessions

HERE = Path(__file__).resolve().parent


def conn(client: str, listen: str = "lb", hold: bool = False) -> dict[str, Any]:
    return {"op": "conn", "client": client, "listen": listen, "hold": hold}


def cli(cmd: str, level: str = "admin") -> dict[str, Any]:
    return {"op": "cli", "cmd": cmd, "level": level}


def pause() -> dict[str, Any]:
    """Sleep a few milliseconds: the steps around it fall in different milliseconds, which
    decides eviction (an entry touched in the millisecond it was queued keeps its place)."""
    return {"op": "sleep", "seconds": 0.006}


def sets(table: str, *keys: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k in keys:
        out += [cli(f"set table {table} key {k} data.gpc0 {k}"), pause()]
    return out


STEPS: list[dict[str, Any]] = [
    cli("show table"),
    conn("127.0.0.1"),
    conn("127.0.0.2", hold=True),
    conn("127.0.0.3"),
    cli("show table lb"),
    conn("127.0.0.1"),
    cli("show table lb"),
    cli("show table lb key 127.0.0.1"),
    cli("show table lb key 127.0.0.9"),
    cli("show table lb data.conn_cnt gt 1"),
    cli("show table lb data.conn_cur eq 1 data.server_id eq 2"),
    conn("127.0.0.4"),
    conn("127.0.0.5"),
    cli("show table lb"),
    cli("show table lb", "user"),
    cli("show table", "user"),
    cli("show table lb key 127.0.0.1", "user"),
    cli("clear table lb", "user"),
    cli("show table lb", "operator"),
    cli("clear table lb key 127.0.0.5", "operator"),
    cli("set table lb key 127.0.0.8 data.gpc0 3", "operator"),
    cli("show table lb"),
    cli("disable server lb/s1"),
    conn("127.0.0.1"),
    conn("127.0.0.3"),
    conn("127.0.0.6"),
    cli("show table lb"),
    cli("enable server lb/s1"),
    cli("set server lb/s2 state drain"),
    conn("127.0.0.2"),
    conn("127.0.0.7"),
    cli("show table lb"),
    cli("set server lb/s2 state ready"),
    conn("127.0.0.1", "lbp"),
    conn("127.0.0.2", "lbp"),
    cli("disable server lbp/s1"),
    conn("127.0.0.1", "lbp"),
    conn("127.0.0.3", "lbp"),
    cli("show table lbp"),
    {"op": "close"},
    cli("show table lb"),
    cli("clear table lb data.conn_cnt eq 1"),
    cli("show table lb"),
    cli("set table lb key 10.0.0.1 data.conn_rate 5 data.gpc0 7"),
    cli("set table lb key 10.0.0.1 data.gpc0 x"),
    cli("set table lb key 10.0.0.1 data.nosuch 1"),
    cli("set table lb key 10.0.0.1 gpc0 1"),
    cli("show table lb key 10.0.0.1"),
    cli("set table lb key 1.2.3"),
    cli("show table lb key 1.2.3.4.5"),
    cli("show table lb data.nosuch eq 1"),
    cli("show table lb data.gpc0 zz 1"),
    cli("show table lb data.gpc0 eq x"),
    cli("show table lb data.gpc0 eq 1 junk"),
    cli("show table lb data.gpc0 ge 0 data.gpc0 ge 0 data.gpc0 ge 0 data.gpc0 ge 0 x"),
    cli("show table lb foo"),
    cli("clear table lb foo"),
    cli("set table lb data.gpc0 eq 1"),
    cli("set table lb foo"),
    cli("show table lb key"),
    cli("show table nosuch"),
    cli("clear table"),
    cli("set table lb"),
    cli("show table lb"),
    cli("set table tint key 1 data.server_id 2"),
    cli("set table tint key 256"),
    cli("set table tint key 2"),
    cli("set table tint key 65536"),
    cli("set table tint key 4294967295"),
    cli("set table tint key 4294967296"),
    cli("set table tint key -1"),
    cli("set table tint key x1"),
    cli("show table tint"),
    cli("show table tint key 256"),
    cli("clear table tint key 256"),
    cli("show table tint"),
    cli("set table tstr key abc"),
    cli("set table tstr key a=b\\\\c data.gpc0 5"),
    cli("set table tstr key toolongstringhere"),
    cli('set table tstr key "sp ace"'),
    cli("show table tstr"),
    cli("show table tstr key toolongs"),
    cli("show table tstr key toolongstringhere"),
    cli("set table tv6 key ::1"),
    cli("set table tv6 key 2001:db8::1"),
    cli("set table tv6 key ::ffff:10.0.0.1"),
    cli("set table tv6 key bogus"),
    cli("show table tv6"),
    cli("set table tbin key 00"),
    cli("show table tbin key 00"),
    cli("clear table tbin key 00"),
    cli("show table tbin"),
    pause(),
    # LRU: the least recently touched entry goes when the table is full ...
    *sets("tsmall", 1, 2, 1, 3),
    cli("show table tsmall"),
    *sets("tsmall", 4),
    cli("show table tsmall"),
    # ... but only two entries are looked at: when both moved, there is no room.
    *sets("tsmall", 3, 4, 5),
    cli("show table tsmall"),
    # nopurge: a full table takes nothing new.
    *sets("tnopurge", 1, 2, 3),
    cli("show table tnopurge"),
    cli("set table texp key 10.1.1.1"),
    cli("show table texp"),
    {"op": "sleep", "seconds": 1.3},
    cli("show table texp"),
    cli("clear table tint"),
    cli("show table tint"),
    # a table of 512 drops size / 256 + 1 = 3 of its oldest at once
    *[cli(f"set table tbig key {k}") for k in range(1, 513)],
    pause(),
    cli("set table tbig key 1000"),
    cli("show table tbig key 1"),
    cli("show table tbig key 3"),
    cli("show table tbig key 4"),
    cli("show table"),
]


LB_STORE = "conn_cnt,conn_cur,conn_rate(10s),gpc0,http_req_rate(10s)"


def config(port: int, port_p: int, socks: dict[str, str], backends: dict[str, int]) -> str:
    s1, s2 = backends["s1"], backends["s2"]
    return f"""global
    stats socket {socks["admin"]} level admin
    stats socket {socks["operator"]} level operator
    stats socket {socks["user"]} level user
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
listen lb
    bind 127.0.0.1:{port}
    stick-table type ip size 10 expire 30m store {LB_STORE}
    tcp-request connection track-sc0 src
    stick on src
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
listen lbp
    bind 127.0.0.1:{port_p}
    option persist
    stick-table type ip size 10
    stick on src
    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
backend tint
    stick-table type integer size 100
backend tstr
    stick-table type string len 8 size 100 store gpc0
backend tv6
    stick-table type ipv6 size 100 expire 10s
backend tbin
    stick-table type binary len 6 size 100
backend tsmall
    stick-table type integer size 2 store gpc0
backend texp
    stick-table type ip size 10 expire 1s
backend tnopurge
    stick-table type integer size 2 nopurge store gpc0
backend tbig
    stick-table type integer size 512
"""


def replay(ports: dict[str, int], socks: dict[str, str]) -> list[dict[str, Any]]:
    held: list[socket.socket] = []
    out: list[dict[str, Any]] = []
    t0 = time.monotonic()
    for step in STEPS:
        at = round((time.monotonic() - t0) * 1000)
        reply = ""
        if step["op"] == "cli":
            reply = command(socks[step["level"]], step["cmd"])
        elif step["op"] == "sleep":
            time.sleep(step["seconds"])
        elif step["op"] == "close":
            for s in held:
                s.close()
            held.clear()
            wait_sessions(socks["admin"], 0)
        else:
            s = socket.socket()
            s.bind((step["client"], 0))
            s.connect(("127.0.0.1", ports[step["listen"]]))
            s.settimeout(2)
            reply = s.recv(64).decode().strip()
            if step["hold"]:
                held.append(s)
            else:
                s.close()
                wait_sessions(socks["admin"], len(held))
        out.append({**step, "at": at, "reply": reply})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(HERE / "transcript.json"))
    args = ap.parse_args()
    servers = {"s1": Backend("s1"), "s2": Backend("s2")}
    ports = {"lb": free_port(), "lbp": free_port()}
    socks = {lvl: f"{{dir}}/{lvl}.sock" for lvl in ("admin", "operator", "user")}
    backend_ports = {n: b.port for n, b in servers.items()}
    cfg = config(ports["lb"], ports["lbp"], socks, backend_ports)
    with running(cfg, ready="admin.sock") as tmp:
        paths = {lvl: os.path.join(tmp, f"{lvl}.sock") for lvl in socks}
        transcript = replay(ports, paths)
    doc = {"haproxy": version(), "steps": transcript}
    Path(args.output).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
