"""pylvs against HAProxy in `mode http` (one thread each), on the same haproxy.cfg text, on
loopback: issue 21 point 6.

Both proxies run `listen bench` in `mode http`, balancing round-robin over the same two nginx
backends (proxy_bench.py's, which also accept 10 MB uploads here); pylvs is `pylvs run -f
haproxy.cfg`.  wrk drives each in turn with the same settings: keep-alive requests/s (50
connections), new connections/s (`Connection: close`), 10 MB responses and 10 MB uploads
(MB/s, 4 connections), p99 latency of the keep-alive run, and beside each rate the proxy's
CPU per request or per MB (user + system, from /proc), the steadier measure on a shared
machine.  The uploads are curl's (`--parallel`, 4 at a time, runs of 40 until `--duration`
passed, kept-alive connections, no `Expect: 100-continue`): wrk posting a 10 MB Lua body
measures itself (1-2 requests/s straight to nginx).

Both run side by side and take turns `--rounds` times (the order swapped every round); the
table shows each metric's median and the per-round ratios follow it.  `--python-path` adds
pylvs with its C fast path off (PYLVS_PROXY_PUMP=0: heads and bodies in Python);
`--against LABEL=PYTHON` (repeatable) adds the pylvs another interpreter imports (e.g. a
checkout of main's virtualenv) to the same rounds: an interleaved A/B of two versions;
`--only-requests` measures the keep-alive and new-connection cases only (no 10 MB bodies);
`--splice` adds HAProxy and pylvs with `option splice-auto` in the listen section (bodies
moved with splice(2) once they stream fast: proxy/_pipe.h) to the same rounds, `--only-bodies`
measures the 10 MB cases only; `--httplog` gives every contender the configuration most
tutorials write: `option httplog`, a `log` target (a local UDP sink this script drains and
counts) and `option forwardfor` (every request a log line and an added field).

Run by hand (not part of the tests):
    python bench/http_bench.py [--duration 5] [--rounds 3] [--python-path] [--only-requests]
                               [--splice] [--only-bodies] [--httplog]
                               [--against main=/path/to/main/.venv/bin/python]
Needs: nginx, haproxy, wrk and curl (Debian packages of those names).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# (the repository root is on the path now)
from bench.proxy_bench import (
    BULK_BYTES,
    WrkResult,
    add_against,
    against_builds,
    free_port,
    haproxy_conf,
    nginx_conf,
    print_table,
    process,
    process_cpu,
    run_wrk,
    wait_port,
)

# wrk's cases: its connections, the path, Connection: close
CASES = {
    "keep-alive": (50, "/", False),
    "new conn": (50, "/", True),
    "10 MB download": (4, "/bulk", False),
}

# nginx: uploads of any size to /up, read whole (and answered) by `return`
NGINX_EXTRA = "client_max_body_size 0;"


def upload_location(conf: Path) -> None:
    """Give every nginx server of proxy_bench's configuration an /up location."""
    text = conf.read_text().replace(
        "location = / {", 'location = /up { return 200 "up\\n"; }\n            location = / {'
    )
    conf.write_text(text)


# uploads per curl run; the runs go on until `--duration` seconds passed (a fixed count was
# 0.3 s of work at loopback's rates: its CPU was 9 clock ticks, its rate noise)
UPLOAD_BATCH = 40


def uploads(port: int, count: int, body: Path) -> float:
    """Seconds curl takes to post `body` `count` times, 4 at a time (kept-alive)."""
    url = f"http://127.0.0.1:{port}/up"
    cmd = [
        "curl",
        "-sf",
        "--no-progress-meter",
        "--parallel",
        "--parallel-max",
        "4",
        "-H",
        "Expect:",
    ]
    cmd += ["-H", "Content-Type: application/octet-stream", "--data-binary", f"@{body}"]
    start = time.monotonic()
    subprocess.run(
        [*cmd, *([url] * count)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.monotonic() - start


SPLICE = "    option splice-auto\n"


def spliced(conf: Path) -> Path:
    """The same configuration with `option splice-auto` in its listen section."""
    text = conf.read_text()
    conf.write_text(text.replace("    balance roundrobin\n", "    balance roundrobin\n" + SPLICE))
    return conf


def measure(
    port: int, pid: int, duration: int, body: Path | None, *, bodies_only: bool = False
) -> dict[str, float]:
    """Each case's rate and CPU; `body` None: the request cases only."""
    out: dict[str, float] = {}
    for case, (conns, path, close) in CASES.items():
        if (body is None and path == "/bulk") or (bodies_only and path != "/bulk"):
            continue
        cpu0 = process_cpu(pid)
        got: WrkResult = run_wrk(f"http://127.0.0.1:{port}{path}", duration, conns, close=close)
        cpu = process_cpu(pid) - cpu0
        requests = got.requests_per_s * duration
        if path == "/bulk":
            mb = got.bytes_per_s * duration / 1e6
            out[f"{case} MB/s"] = got.bytes_per_s / 1e6
            out[f"CPU us / MB ({case})"] = cpu / mb * 1e6 if mb else 0.0
            continue
        out[f"{case} req/s"] = got.requests_per_s
        if case == "keep-alive":
            out["p99 latency ms (keep-alive)"] = got.p99_ms
        out[f"CPU us / req ({case})"] = cpu / requests * 1e6 if requests else 0.0
    if body is None:
        return out
    cpu0 = process_cpu(pid)
    count, took = 0, 0.0
    while took < duration:  # batches of 40 (each a curl) until `duration` seconds passed
        took += uploads(port, UPLOAD_BATCH, body)
        count += UPLOAD_BATCH
    mb = count * BULK_BYTES / 1e6
    out["10 MB upload MB/s"] = mb / took
    out["CPU us / MB (10 MB upload)"] = (process_cpu(pid) - cpu0) / mb * 1e6
    return out


class Sink:
    """A syslog target on loopback that reads and counts the datagrams (a full socket
    buffer would drop them, and the proxies would not pay for a reader's work)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.port = int(self.sock.getsockname()[1])
        self.lines = 0
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            while self.sock.recv(4096):
                self.lines += 1


def logging_conf(conf: Path, sink: Sink | None) -> Path:
    """`--httplog`: `option httplog`, a log target and `option forwardfor` in the listener."""
    if sink is not None:
        conf.write_text(
            conf.read_text()
            + f"    option httplog\n    log 127.0.0.1:{sink.port} local0\n    option forwardfor\n"
        )
    return conf


def commands(
    tmp: Path, backends: list[int], builds: list[tuple[str, str]], args: argparse.Namespace
) -> tuple[dict[str, Callable[[int], list[str]]], dict[str, dict[str, str]]]:
    """Each contender's command line (by its port) and environment."""
    start: dict[str, Callable[[int], list[str]]] = {}
    env: dict[str, dict[str, str]] = {}

    def pylvs(i: int, python: str, splice: bool = False) -> Callable[[int], list[str]]:
        def cmd(port: int) -> list[str]:
            cfg = haproxy_conf(tmp, port, backends, 2000, f"pylvs-{i}", "http")
            logging_conf(cfg, args.sink)
            if splice:
                spliced(cfg)
            return [python, "-m", "pylvs", "run", "-f", str(cfg), "--control",
                    str(tmp / f"{i}.sock"), "--no-syslog", "-n", "--dataplane", "proxy",
                    "-p", str(tmp / f"{i}.pid"), "-r", str(tmp / f"{i}-v.pid"),
                    "-c", str(tmp / f"{i}-c.pid")]  # fmt: skip

        return cmd

    start["HAProxy"] = lambda port: [
        "haproxy", "-f",
        str(logging_conf(haproxy_conf(tmp, port, backends, 2000, "haproxy", "http"), args.sink)),
    ]  # fmt: skip
    if args.splice:
        start["HAProxy splice-auto"] = lambda port: [
            "haproxy", "-f",
            str(logging_conf(spliced(haproxy_conf(tmp, port, backends, 2000, "haproxy-s", "http")),
                             args.sink)),
        ]  # fmt: skip
    for i, (label, python) in enumerate(builds):
        start[label] = pylvs(2 * i, python)
        env[label] = {"PYLVS_PROXY_PUMP": "1"}
        if args.splice:
            start[f"{label} splice-auto"] = pylvs(100 + i, python, splice=True)
            env[f"{label} splice-auto"] = {"PYLVS_PROXY_PUMP": "1"}
        if args.python_path:
            start[f"{label} (pure Python)"] = pylvs(2 * i + 1, python)
            env[f"{label} (pure Python)"] = {"PYLVS_PROXY_PUMP": "0"}
    return start, env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="measurements of each, taking turns")
    ap.add_argument("--python-path", action="store_true", help="add pylvs with its pump off")
    ap.add_argument("--only-requests", action="store_true", help="no 10 MB bodies")
    ap.add_argument("--only-bodies", action="store_true", help="the 10 MB bodies only")
    ap.add_argument("--splice", action="store_true", help="add both with option splice-auto")
    ap.add_argument("--httplog", action="store_true", help="httplog + log + forwardfor")
    add_against(ap)
    args = ap.parse_args()
    builds = against_builds("pylvs", args.against)
    if builds is None:
        return 2
    for tool in ("nginx", "haproxy", "wrk", "curl"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="pylvs-http-bench-") as d, contextlib.ExitStack() as st:
        tmp = Path(d)
        body = tmp / "upload"
        body.write_bytes(os.urandom(BULK_BYTES))
        backends = [free_port(), free_port()]
        conf = nginx_conf(tmp, backends, NGINX_EXTRA)
        upload_location(conf)
        st.enter_context(process(["nginx", "-c", str(conf)]))
        for backend in backends:
            wait_port(backend)
        args.sink = Sink() if args.httplog else None
        if args.sink is not None:
            st.callback(args.sink.sock.close)
        start, env = commands(tmp, backends, builds, args)
        who: dict[str, tuple[int, int]] = {}
        for name, cmd in start.items():
            port = free_port()
            p = st.enter_context(process(cmd(port), env={**os.environ, **env.get(name, {})}))
            who[name] = (port, p.pid)
        for port, _ in who.values():
            wait_port(port)
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in who}
        for r in range(args.rounds):
            for name in list(who)[:: 1 if r % 2 == 0 else -1]:
                rounds[name].append(
                    measure(
                        *who[name],
                        args.duration,
                        None if args.only_requests else body,
                        bodies_only=args.only_bodies,
                    )
                )
        results = {
            name: {m: statistics.median(x[m] for x in rs) for m in rs[0]}
            for name, rs in rounds.items()
        }
    print(f"median of {args.rounds} round(s) of {args.duration} s; both run the same haproxy.cfg")
    if args.sink is not None:
        print(f"with option httplog, a log target and option forwardfor: {args.sink.lines} lines")
    print_table(results, rounds, tuple(m for m in results["HAProxy"] if m.endswith("/s")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
