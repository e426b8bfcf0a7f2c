"""pylvs's user-space proxy against HAProxy (`mode tcp`, one thread), in one run, on loopback.

Both balance round-robin over the same two nginx backends; wrk drives each in turn with the
same settings.  Printed: keep-alive requests/s, new connections/s (`Connection: close`), bulk
throughput (10 MB responses), p99 latency, and resident memory per idle proxied connection
(10,000 idle client connections held open through each proxy), with pylvs/HAProxy ratios.

Both proxies run side by side and take turns, `--rounds` times (the order swapped every round);
the table shows each metric's median, and the per-round ratios follow it.

`--python-path` adds pylvs with its C fast path switched off (PYLVS_PROXY_PUMP=0) as a
third contender, to show what the C part buys.

`--config haproxy` runs pylvs on the same haproxy.cfg text as HAProxy (`pylvs run -f
haproxy.cfg`, the HAProxy mode: its frontends, backends and balance algorithms) instead of the
equivalent keepalived.conf (the default, the LVS mode's virtual server).

`--against LABEL=PYTHON` (repeatable) adds another build of pylvs, run by that interpreter
(e.g. the virtualenv of a checkout of main), as one more contender in the same rounds (and,
with `--python-path`, its pure-Python path too): an interleaved A/B of two versions of the
code on the same machine, with HAProxy in the same run.  Each contender's proxy CPU per
request and per connection is printed per round as well, the steadier measure on a shared box.

Run by hand (not part of the tests):
    python bench/proxy_bench.py [--duration 5] [--idle 10000] [--rounds 3] [--python-path]
                                [--config keepalived|haproxy]
                                [--against main=/path/to/main/.venv/bin/python]
Needs: nginx, haproxy and wrk (Debian packages of those names).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BULK_BYTES = 10 * 1024 * 1024


def free_port() -> int:
    """A free port below the ephemeral range, so wrk's own client ports never collide."""
    while True:
        port = random.randrange(20000, 30000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class WrkResult:
    requests_per_s: float
    bytes_per_s: float
    p99_ms: float


_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def run_wrk(
    url: str, duration: int, conns: int, close: bool, script: str | None = None
) -> WrkResult:
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", url]
    if close:
        cmd[1:1] = ["-H", "Connection: close"]
    if script is not None:  # a Lua script (a request with a body)
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rate is not None, out
    rps = float(rate.group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    bps = float(m.group(1)) * _UNITS.get(m.group(2), 1) if m else 0.0
    m99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = 0.0
    if m99:
        p99 = float(m99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m99.group(2)]
    return WrkResult(rps, bps, p99)


@contextlib.contextmanager
def process(cmd: list[str], **kw: object) -> Iterator[subprocess.Popen[bytes]]:
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
    try:
        yield p
    finally:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def nginx_conf(tmp: Path, ports: list[int], extra: str = "") -> Path:
    """nginx serving `/` (a few bytes) and `/bulk` (BULK_BYTES) on each port; `extra`: more
    directives for its http block."""
    # nginx workers started by root run as an unprivileged user: let them read the files
    tmp.chmod(0o755)
    (tmp / "www").mkdir(mode=0o755)
    (tmp / "www" / "bulk").write_bytes(os.urandom(BULK_BYTES))
    (tmp / "www" / "bulk").chmod(0o644)
    servers = "\n".join(
        f"""server {{ listen 127.0.0.1:{p} backlog=4096; root {tmp}/www;
            location = / {{ return 200 "rs{i}\\n"; }} }}"""
        for i, p in enumerate(ports, 1)
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 1000000; sendfile on; {extra}
  client_body_temp_path {tmp}/cb; proxy_temp_path {tmp}/pt; fastcgi_temp_path {tmp}/ft;
  uwsgi_temp_path {tmp}/ut; scgi_temp_path {tmp}/st;
{servers} }}
"""
    )
    return conf


def haproxy_conf(
    tmp: Path,
    port: int,
    backends: list[int],
    maxconn: int,
    name: str = "haproxy",
    mode: str = "tcp",
) -> Path:
    conf = tmp / f"{name}.cfg"
    servers = "\n".join(f"    server rs{i} 127.0.0.1:{p}" for i, p in enumerate(backends, 1))
    conf.write_text(
        f"""global
    nbthread 1
    maxconn {maxconn}
defaults
    mode {mode}
    timeout connect 4s
    timeout client 1h
    timeout server 1h
listen bench
    bind 127.0.0.1:{port}
    balance roundrobin
{servers}
"""
    )
    return conf


def pylvs_conf(tmp: Path, port: int, backends: list[int], name: str = "keepalived") -> Path:
    conf = tmp / f"{name}.conf"
    servers = "\n".join(
        f"    real_server 127.0.0.1 {p} {{\n        weight 1\n    }}" for p in backends
    )
    conf.write_text(
        f"""virtual_server 127.0.0.1 {port} {{
    lb_algo rr
    lb_kind NAT
    protocol TCP
{servers}
}}
"""
    )
    return conf


def idle_memory(pid: int, port: int, count: int) -> float:
    """KiB of RSS per idle proxied connection: hold `count` connections open through it."""
    before = rss_kib(pid)
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.connect(("127.0.0.1", port))
            socks.append(s)
        time.sleep(2.0)  # let the proxy connect every backend side
        after = rss_kib(pid)
    finally:
        for s in socks:
            s.close()
    return (after - before) / count


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) the process used: proc(5) /proc/<pid>/stat 14-15."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine since boot (proc(5) /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def measure(port: int, pid: int, duration: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/"
    ka_cpu0, (ka_busy0, _) = process_cpu(pid), machine_busy()
    ka = run_wrk(url, duration, 50, close=False)
    ka_cpu, (ka_busy1, _) = process_cpu(pid) - ka_cpu0, machine_busy()
    ka_requests = ka.requests_per_s * duration
    cpu0, (busy0, total0) = process_cpu(pid), machine_busy()
    nc = run_wrk(url, duration, 50, close=True)
    cpu1, (busy1, total1) = process_cpu(pid), machine_busy()
    bulk = run_wrk(f"http://127.0.0.1:{port}/bulk", duration, 4, close=False)
    connections = nc.requests_per_s * duration
    return {
        "keep-alive req/s": ka.requests_per_s,
        "new conn/s": nc.requests_per_s,
        "bulk MB/s": bulk.bytes_per_s / 1e6,
        "p99 latency ms (keep-alive)": ka.p99_ms,
        # Where the new-connection rate is bound: the balancer's own CPU per connection, and
        # how busy the whole machine (wrk and nginx included) was meanwhile.
        "LB CPU us / keep-alive req": ka_cpu / ka_requests * 1e6 if ka_requests else 0.0,
        # Everything the machine spent per request (wrk, nginx, the balancer, softirqs): the
        # keep-alive rate of a saturated box is ~ its CPUs over this.
        "machine CPU us / keep-alive req": (ka_busy1 - ka_busy0)
        / os.sysconf("SC_CLK_TCK")
        / ka_requests
        * 1e6
        if ka_requests
        else 0.0,
        "LB CPU us / new conn": (cpu1 - cpu0) / connections * 1e6 if connections else 0.0,
        "machine CPU busy % (new conn)": 100 * (busy1 - busy0) / max(1, total1 - total0),
    }


def add_against(ap: argparse.ArgumentParser) -> None:
    """`--against LABEL=PYTHON` (repeatable): another build of pylvs, by its interpreter."""
    ap.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="LABEL=PYTHON",
        help="also run the pylvs that interpreter imports (another checkout's venv), as LABEL",
    )


def against_builds(first: str, against: list[str]) -> list[tuple[str, str]] | None:
    """(label, interpreter) of this build and each `--against`; None (said why): a bad one."""
    builds = [(first, sys.executable)]
    for spec in against:
        label, sep, python = spec.partition("=")
        if not sep or not label or shutil.which(python) is None:
            print(f"--against {spec}: want LABEL=PYTHON (an interpreter)", file=sys.stderr)
            return None
        builds.append((label, python))
    return builds


def print_table(
    results: dict[str, dict[str, float]],
    rounds: dict[str, list[dict[str, float]]],
    rates: tuple[str, ...],
) -> None:
    """The medians beside HAProxy's as a Markdown table, then each of `rates` as a ratio to
    HAProxy round by round."""
    names = list(results)
    head = " | ".join(names) + " | " + " | ".join(f"{n} / HAProxy" for n in names[1:])
    print(f"| metric | {head} |\n|---|" + "---:|" * (2 * len(names) - 1))
    for m in results["HAProxy"]:
        h = results["HAProxy"][m]
        values = " | ".join(f"{results[n][m]:,.1f}" for n in names)
        ratios = " | ".join(f"{results[n][m] / h:.2f}x" if h else "nan" for n in names[1:])
        print(f"| {m} | {values} | {ratios} |")
    if len(rounds["HAProxy"]) < 2:
        return
    for n in names[1:]:
        for m in rates:
            each = [
                p[m] / h[m] if h[m] else float("nan")
                for h, p in zip(rounds["HAProxy"], rounds[n], strict=True)
            ]
            print(
                f"{m}, {n} / HAProxy round by round: "
                + " ".join(f"{x:.2f}x" for x in each)
                # Each round's two measurements are seconds apart, so their ratio is
                # free of the machine's slower drift (the HAProxy side alone moves by
                # 10-20 % between rounds on a 2-core VM).
                + f"; median of these {statistics.median(each):.2f}x"
            )


def main() -> int:  # noqa: C901 - a benchmark script: its options and report in one place
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3, help="measurements of each, taking turns")
    ap.add_argument(
        "--python-path",
        action="store_true",
        help="also run pylvs with its C fast path off (PYLVS_PROXY_PUMP=0): a third column",
    )
    add_against(ap)
    ap.add_argument(
        "--config",
        choices=("keepalived", "haproxy"),
        default="keepalived",
        help="what pylvs runs: the equivalent keepalived.conf, or HAProxy's own haproxy.cfg",
    )
    args = ap.parse_args()
    builds = against_builds(
        "pylvs proxy" if args.config == "keepalived" else "pylvs hacfg", args.against
    )
    if builds is None:
        return 2
    for tool in ("nginx", "haproxy", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    # An idle proxied connection takes two descriptors in the proxy.  Raise the soft limit to
    # the hard one (children inherit it); when the hard limit cannot hold `--idle`
    # connections, measure fewer and say so (memory is reported per connection anyway).
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    idle = min(args.idle, (hard - 2000) // 2)
    if idle < args.idle:
        print(f"(descriptor limit {hard}: measuring {idle} idle connections)", file=sys.stderr)
    args.idle = idle
    from pylvs.dataplane.proxy import poller

    path = "C fast path" if poller._pump is not None else "pure Python (C fast path not built)"
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="pylvs-bench-") as d, contextlib.ExitStack() as stack:
        tmp = Path(d)
        backends = [free_port(), free_port()]
        stack.enter_context(process(["nginx", "-c", str(nginx_conf(tmp, backends))]))
        for backend in backends:
            wait_port(backend)
        hport = free_port()
        hcmd = ["haproxy", "-f", str(haproxy_conf(tmp, hport, backends, args.idle + 200))]
        who = {"HAProxy": (hport, stack.enter_context(process(hcmd)).pid)}
        variants = [(label, python, "1") for label, python in builds]
        if args.python_path:
            variants += [(f"{label} (pure Python)", python, "0") for label, python in builds]
        for i, (name, python, pump) in enumerate(variants):
            port = free_port()
            sock = tmp / f"pylvs-{i}.sock"
            pcmd = [python, "-m", "pylvs", "run", "-f"]
            if args.config == "haproxy":  # the same text as HAProxy's, on a port of its own
                conf = haproxy_conf(tmp, port, backends, args.idle + 200, f"pylvs-{i}")
            else:
                conf = pylvs_conf(tmp, port, backends, f"keepalived-{i}")
            pcmd += [str(conf), "--control", str(sock), "--no-syslog", "-n", "--dataplane", "proxy"]
            pcmd += ["-p", str(tmp / f"{i}.pid"), "-r", str(tmp / f"{i}-v.pid")]
            pcmd += ["-c", str(tmp / f"{i}-c.pid")]
            env = {**os.environ, "PYLVS_PROXY_PUMP": pump}
            who[name] = (port, stack.enter_context(process(pcmd, env=env)).pid)
        for port, _ in who.values():
            wait_port(port)
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in who}
        # All run side by side (the ones not measured are idle) and take turns, the order
        # reversed every round, so drift of the machine (a VM: its neighbours, the kernel's
        # TIME_WAIT sockets left by the previous case) hits each alike.
        for r in range(args.rounds):
            for name in list(who)[:: 1 if r % 2 == 0 else -1]:
                rounds[name].append(measure(*who[name], args.duration))
        for name, (port, pid) in who.items():
            results[name] = {
                m: statistics.median(x[m] for x in rounds[name]) for m in rounds[name][0]
            }
            results[name]["KiB RSS / idle conn"] = idle_memory(pid, port, args.idle)
    names = list(results)
    what = "HAProxy's haproxy.cfg" if args.config == "haproxy" else "the equivalent keepalived.conf"
    print(f"median of {args.rounds} round(s); pylvs runs {what} and relays with its {path}")
    print_table(results, rounds, ("keep-alive req/s", "new conn/s", "bulk MB/s"))
    if args.rounds > 1:
        for n in names[1:]:
            for m in ("LB CPU us / keep-alive req", "LB CPU us / new conn"):
                each = [p[m] for p in rounds[n]]
                print(f"{m}, {n} round by round: " + " ".join(f"{x:.1f}" for x in each))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
