"""Record HAProxy's server pick order, to check pylvs's balance algorithms against.

Run by hand (needs the real `haproxy`, 2.6 here; no root):

    python tests/data/haproxy/lb/capture.py [--only NAME] [-o tests/data/haproxy/lb/sequences.json]

For each scenario below it starts backend servers on 127.0.0.1 that answer their name, writes
a haproxy.cfg (one thread, `mode tcp` or `mode http`), runs `haproxy -db` and replays the
scenario's steps one at a time:

* `conn`: a new client connection (from `client`, bound before connecting, so `balance source`
  sees it; with `http`, one request on it; with `payload`, those bytes sent first).  The server
  that answers is recorded, or "-" when none does within a second (queued).  Unless `hold`,
  the client closes and the script waits until HAProxy's `show stat` shows the connection gone
  before the next step, so connection counts are exact.
* `cli`: a command on the stats socket (`set server lb/s3 weight 0`, `get weight lb/s3`); its
  answer is recorded.
* `close`: every held connection is closed, oldest first, each release waited for (all at
  once if one of them is queued).

The output is one JSON document: HAProxy's version and, per scenario, its definition and what
was observed.  tests/unit/sched/haproxy/test_haproxy_recorded.py replays the same steps on pylvs's
algorithms and compares.  Everything happens on loopback; the whole run takes some 20 seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.data.haproxy.oracle import Backend, command, free_port, running, version, wait_sessions

HERE = Path(__file__).resolve().parent


@dataclass
class Srv:
    name: str
    weight: int = 1
    id: int | None = None
    maxconn: int | None = None
    backup: bool = False
    disabled: bool = False


@dataclass
class Scenario:
    name: str
    balance: str
    servers: list[Srv]
    steps: list[dict[str, Any]]
    hash_type: str | None = None
    options: list[str] = field(default_factory=list)
    mode: str = "tcp"
    extra: list[str] = field(default_factory=list)  # more lines for the listen section


def srvs(*weights: int) -> list[Srv]:
    return [Srv(f"s{i + 1}", w) for i, w in enumerate(weights)]


def conns(n: int, hold: bool = False, client: str = "127.0.0.1") -> list[dict[str, Any]]:
    return [{"op": "conn", "hold": hold, "client": client} for _ in range(n)]


def clients(n: int) -> list[dict[str, Any]]:
    return [{"op": "conn", "hold": False, "client": f"127.0.0.{i}"} for i in range(1, n + 1)]


def cli(cmd: str) -> dict[str, Any]:
    return {"op": "cli", "cmd": cmd}


def http(uri: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"op": "conn", "hold": False, "client": "127.0.0.1", "http": [uri, headers or {}]}


URIS = [
    "/",
    "/a",
    "/a/b",
    "/a/b/c?x=1",
    "/a/b/d?x=2",
    "/img/logo.png",
    "/img/icon.png?v=3",
    "/api/v1/users?id=42&page=2",
    "/api/v1/users?id=43",
    "/api/v2/items?id=7&x=y",
    "/search?q=haproxy&id=1",
    "/search?id=2&q=lvs",
    "http://example.com/abs/path?id=9",
    "/x/y/z/w/v",
    "/longer/path/with/many/segments?id=1000",
    "/?id=",
]
HOSTS = [
    "www.example.com",
    "example.com",
    "a.b.example.org",
    "shop.example.net",
    "localhost",
    "api.service.internal",
    "w3.example.com",
    "static.cdn.example.com",
]


def rdp(user: str | None) -> dict[str, Any]:
    """An RDP connection request (TPKT + X.224 headers) with a `Cookie: mstshash=` line."""
    cookie = f"Cookie: mstshash={user}\r\n".encode() if user else b""
    body = b"\xe0\x00\x00\x00\x00\x00" + cookie + b"\x01\x00\x08\x00\x03\x00\x00\x00"
    tpkt = b"\x03\x00" + (len(body) + 5).to_bytes(2, "big") + bytes([len(body)])
    return {"op": "conn", "hold": False, "client": "127.0.0.1", "payload": (tpkt + body).hex()}


RDP_USERS = ["alice", "bob", "carol", "dave", "eve", "mallory", "alice", "trent", None, "bob"]
RDP_EXTRA = ["tcp-request inspect-delay 300ms", "tcp-request content accept if RDP_COOKIE"]


def uri_steps() -> list[dict[str, Any]]:
    return [http(u) for u in URIS]


def host_steps() -> list[dict[str, Any]]:
    return [http("/", {"Host": h}) for h in HOSTS]


def hash_fn_scenarios() -> list[Scenario]:
    """`balance hash src`: every hash function on the 4 bytes of the client's address."""
    out = []
    for kind in ("map-based", "consistent"):
        for fn in ("sdbm", "djb2", "wt6", "crc32"):
            for aval in ("", " avalanche"):
                out.append(
                    Scenario(
                        f"hash-src-{kind}-{fn}{aval.replace(' ', '-')}",
                        "hash src",
                        srvs(1, 2, 3),
                        clients(12),
                        hash_type=f"{kind} {fn}{aval}",
                    )
                )
    return out


def http_scenarios() -> list[Scenario]:
    out = []
    for kind in ("map-based", "consistent"):
        for balance in ("uri", "uri whole", "uri depth 2", "uri len 5", "uri path-only"):
            out.append(
                Scenario(
                    f"{balance.replace(' ', '-')}-{kind}",
                    balance,
                    srvs(1, 2, 3),
                    uri_steps(),
                    hash_type=kind,
                    mode="http",
                )
            )
        out.append(
            Scenario(
                f"url_param-{kind}", "url_param id", srvs(1, 2, 3), uri_steps(), kind, mode="http"
            )
        )
        for balance in ("hdr(host)", "hdr(host) use_domain_only"):
            out.append(
                Scenario(
                    f"{balance.replace(' ', '-')}-{kind}",
                    balance,
                    srvs(1, 2, 3),
                    host_steps(),
                    hash_type=kind,
                    mode="http",
                )
            )
    out.append(
        Scenario(
            "uri-map-based-djb2-avalanche",
            "uri",
            srvs(1, 2, 3),
            uri_steps(),
            "map-based djb2 avalanche",
            mode="http",
        )
    )
    return out


SCENARIOS: list[Scenario] = [
    Scenario("rr-1-2-3", "roundrobin", srvs(1, 2, 3), conns(18)),
    Scenario("rr-3-2-1", "roundrobin", srvs(3, 2, 1), conns(12)),
    Scenario("rr-1-1-1", "roundrobin", srvs(1, 1, 1), conns(9)),
    Scenario("rr-1-2-3-10", "roundrobin", srvs(1, 2, 3, 10), conns(48)),
    Scenario("rr-5-3-7-2-1", "roundrobin", srvs(5, 3, 7, 2, 1), conns(54)),
    Scenario("rr-1-2-3-held", "roundrobin", srvs(1, 2, 3), conns(12, hold=True)),
    Scenario(
        "rr-set-weight-0",
        "roundrobin",
        srvs(1, 2, 3),
        [*conns(4), cli("set server lb/s3 weight 0"), *conns(12)],
    ),
    Scenario(
        "rr-set-weight-up",
        "roundrobin",
        srvs(1, 2, 3),
        [*conns(5), cli("set server lb/s1 weight 4"), *conns(20), cli("get weight lb/s1")],
    ),
    Scenario(
        "rr-set-weight-50pct",
        "roundrobin",
        srvs(1, 2, 3),
        [*conns(3), cli("set weight lb/s3 50%"), cli("get weight lb/s3"), *conns(15)],
    ),
    Scenario(
        "rr-down-up",
        "roundrobin",
        srvs(1, 2, 3),
        [
            *conns(5),
            cli("disable server lb/s2"),
            *conns(6),
            cli("enable server lb/s2"),
            *conns(18),
        ],
    ),
    Scenario(
        "rr-drain",
        "roundrobin",
        srvs(2, 1, 1),
        [*conns(3), cli("set server lb/s1 state drain"), *conns(6)],
    ),
    Scenario("static-rr-1-2-3", "static-rr", srvs(1, 2, 3), conns(12)),
    Scenario("static-rr-3-2-1", "static-rr", srvs(3, 2, 1), conns(12)),
    Scenario("static-rr-2-4-6", "static-rr", srvs(2, 4, 6), conns(12)),
    Scenario(
        "static-rr-set-weight",
        "static-rr",
        srvs(1, 2, 3),
        [
            *conns(2),
            cli("set server lb/s3 weight 0"),
            *conns(9),
            cli("set server lb/s3 weight 2"),
            cli("set server lb/s3 weight 100%"),
            *conns(6),
        ],
    ),
    Scenario("leastconn-1-2-3", "leastconn", srvs(1, 2, 3), conns(9)),
    Scenario("leastconn-1-2-3-held", "leastconn", srvs(1, 2, 3), conns(18, hold=True)),
    Scenario(
        "leastconn-held-close",
        "leastconn",
        srvs(1, 2, 1),
        [*conns(6, hold=True), {"op": "close"}, *conns(6, hold=True)],
    ),
    Scenario(
        "first-maxconn-held",
        "first",
        [Srv("s1", maxconn=2), Srv("s2", maxconn=3), Srv("s3", maxconn=2)],
        conns(8, hold=True),
    ),
    Scenario("first-ids", "first", [Srv("s1", id=3), Srv("s2", id=1), Srv("s3", id=2)], conns(4)),
    Scenario(
        "first-ids-maxconn-held",
        "first",
        [Srv("s1", id=3, maxconn=1), Srv("s2", id=1, maxconn=2), Srv("s3", id=2, maxconn=1)],
        conns(5, hold=True),
    ),
    Scenario(
        "backup-first-only",
        "roundrobin",
        [
            Srv("s1", disabled=True),
            Srv("s2", disabled=True),
            Srv("s4", backup=True),
            Srv("s5", 2, backup=True),
        ],
        [*conns(4), cli("disable server lb/s4"), *conns(3), cli("enable server lb/s1"), *conns(3)],
    ),
    Scenario(
        "allbackups",
        "roundrobin",
        [Srv("s1", disabled=True), Srv("s4", 1, backup=True), Srv("s5", 2, backup=True)],
        conns(9),
        options=["allbackups"],
    ),
    Scenario(
        "static-rr-backup",
        "static-rr",
        [Srv("s1", disabled=True), Srv("s4", 1, backup=True), Srv("s5", 2, backup=True)],
        [*conns(3), cli("disable server lb/s4"), *conns(3)],
    ),
    Scenario(
        "static-rr-backup-weights",
        "static-rr",
        [Srv("s1", disabled=True), Srv("s4", 2, backup=True), Srv("s5", 3, backup=True)],
        conns(6),
    ),
    Scenario(
        "source-map-backup-weights",
        "source",
        [Srv("s1", disabled=True), Srv("s4", 2, backup=True), Srv("s5", 3, backup=True)],
        clients(8),
    ),
    Scenario(
        "leastconn-maxconn-held",
        "leastconn",
        [Srv("s1", 1, maxconn=1), Srv("s2", 1, maxconn=2), Srv("s3", 2, maxconn=1)],
        conns(6, hold=True),
    ),
    Scenario(
        "rr-maxconn-held",
        "roundrobin",
        [Srv("s1", 1, maxconn=1), Srv("s2", 2, maxconn=2), Srv("s3", 3, maxconn=1)],
        [*conns(5, hold=True), {"op": "close"}, *conns(6)],
    ),
    Scenario(
        "static-rr-maxconn-held",
        "static-rr",
        [Srv("s1", 1, maxconn=1), Srv("s2", 2, maxconn=2), Srv("s3", 3, maxconn=1)],
        [*conns(5, hold=True), {"op": "close"}, *conns(6)],
    ),
    Scenario(
        "source-consistent-bounded",
        "source",
        srvs(1, 1, 2),
        [*conns(10, hold=True), {"op": "close"}, *conns(6, hold=True, client="127.0.0.7")],
        "consistent",
        extra=["hash-balance-factor 150"],
    ),
    Scenario(
        "rdp-cookie-map", "rdp-cookie", srvs(1, 2, 3), [rdp(u) for u in RDP_USERS], extra=RDP_EXTRA
    ),
    Scenario(
        "rdp-cookie-consistent",
        "rdp-cookie",
        srvs(1, 2, 3),
        [rdp(u) for u in RDP_USERS],
        "consistent",
        extra=RDP_EXTRA,
    ),
    Scenario("source-map", "source", srvs(1, 2, 3), clients(12)),
    Scenario(
        "source-map-avalanche", "source", srvs(1, 2, 3), clients(12), "map-based sdbm avalanche"
    ),
    Scenario("source-consistent", "source", srvs(1, 2, 3), clients(12), "consistent"),
    Scenario(
        "source-consistent-down",
        "source",
        srvs(1, 2, 3),
        [*clients(12), cli("disable server lb/s3"), *clients(12)],
        "consistent",
    ),
    Scenario(
        "source-map-weight-0",
        "source",
        srvs(1, 2, 3),
        [*clients(6), cli("set server lb/s2 weight 0"), *clients(6)],
    ),
    *hash_fn_scenarios(),
    *http_scenarios(),
]


# -- haproxy -------------------------------------------------------------------------------------


def config(sc: Scenario, port: int, sock: str, backends: dict[str, Backend]) -> str:
    lines = [
        "global",
        f"    stats socket {sock} level admin",
        "    nbthread 1",
        "defaults",
        f"    mode {sc.mode}",
        "    timeout connect 5s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout queue 30s",
        "listen lb",
        f"    bind 127.0.0.1:{port}",
        f"    balance {sc.balance}",
    ]
    if sc.hash_type:
        lines.append(f"    hash-type {sc.hash_type}")
    if sc.mode == "http":
        lines.append("    option httpclose")
    lines += [f"    option {o}" for o in sc.options]
    lines += [f"    {x}" for x in sc.extra]
    for s in sc.servers:
        line = f"    server {s.name} 127.0.0.1:{backends[s.name].port} weight {s.weight}"
        if s.id is not None:
            line += f" id {s.id}"
        if s.maxconn is not None:
            line += f" maxconn {s.maxconn}"
        if s.backup:
            line += " backup"
        if s.disabled:
            line += " disabled"
        lines.append(line)
    return "\n".join(lines) + "\n"


def request(sock: socket.socket, uri: str, headers: dict[str, str]) -> None:
    head = f"GET {uri} HTTP/1.1\r\n"
    if "Host" not in headers:
        # An absolute URI's authority must match Host (2.6 answers 400 otherwise).
        authority = uri.split("/")[2] if uri.startswith("http://") else "lb"
        head += f"Host: {authority}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall((head + "\r\n").encode())


def answer(sock: socket.socket, http: bool) -> str:
    sock.settimeout(1.0)
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
            if not http and data.endswith(b"\n"):
                break
    except TimeoutError:
        pass
    if not data:
        return "-"
    if http:
        head, _, body = data.partition(b"\r\n\r\n")
        return body.decode() if head.startswith(b"HTTP/1.1 200") else "-"
    return data.decode().strip()


def run(sc: Scenario) -> list[str]:
    backends = {s.name: Backend(s.name, sc.mode == "http") for s in sc.servers}
    port = free_port()
    held: list[socket.socket] = []
    try:
        with running(config(sc, port, "{dir}/stats.sock", backends), ready="stats.sock") as tmp:
            return _replay(sc, port, os.path.join(tmp, "stats.sock"), held)
    finally:
        for s in held:
            s.close()
        for b in backends.values():
            b.close()


def _replay(sc: Scenario, port: int, path: str, held: list[socket.socket]) -> list[str]:
    observed: list[str] = []
    served: list[bool] = []  # per held socket: did a server answer (or is it queued)
    for step in sc.steps:
        if step["op"] == "cli":
            observed.append(command(path, step["cmd"]).strip())
        elif step["op"] == "close":
            _close_all(path, held, served)
        else:
            s = socket.socket()
            s.bind((step["client"], 0))
            s.connect(("127.0.0.1", port))
            if "http" in step:
                request(s, *step["http"])
            elif "payload" in step:
                s.sendall(bytes.fromhex(step["payload"]))
            got = answer(s, "http" in step)
            observed.append(got)
            if step["hold"]:
                held.append(s)
                served.append(got != "-")
            else:
                s.close()
                wait_sessions(path, sum(served), "lb")
    return observed


def _close_all(path: str, held: list[socket.socket], served: list[bool]) -> None:
    """Close the held connections.  Without queued ones: one at a time, oldest first, each
    release seen before the next, since the order in which servers go idle decides their
    order among equal keys (leastconn).  A queued connection would take the slot a close
    frees, so with queued ones they all go at once."""
    if all(served):
        for n, s in enumerate(held):
            s.close()
            wait_sessions(path, len(held) - n - 1, "lb")
    else:
        for s in held:
            s.close()
        wait_sessions(path, 0, "lb")
    held.clear()
    served.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(HERE / "sequences.json"))
    ap.add_argument("--only", help="run only the scenarios whose name contains this")
    args = ap.parse_args()
    haproxy = version()
    results = []
    for sc in SCENARIOS:
        if args.only and args.only not in sc.name:
            continue
        observed = run(sc)
        print(f"{sc.name:<40} {' '.join(observed)}", file=sys.stderr)
        results.append({**asdict(sc), "observed": observed})
    doc = {"haproxy": haproxy, "scenarios": results}
    Path(args.output).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
