"""The HTTP surface under load: VRRP advert jitter and forwarding rate, with and without 200
scrapes of /metrics per second (issue 23 point 6).

Run as root: `python bench/web_load_bench.py [--rounds 6] [--duration 8] [--scrapes 200]`.
A lab of two network namespaces on a bridge (tests/netns/vrrp/conftest.py): the director `a`
runs `pylvs run --dataplane proxy --http 10.77.0.1:9180` with a VRRPv3 instance (advert_int
0.1 s, MASTER alone, so it advertises ten times a second) and a NAT virtual service on
10.77.0.1:8080 to nginx on a's loopback; the client `c` runs, for each measurement, wrk
(1 thread, 20 keep-alive connections) against the virtual service, a listener that timestamps
a's adverts (kernel receive timestamps, SO_TIMESTAMPNS), and in the "scraped" case a
scraper that GETs /metrics at a steady 200 per second over 8 keep-alive connections.  The two
cases take turns, the order reversed every round, so the machine's other load hits both.

Printed per case (medians over the rounds): wrk's requests/s, the daemon's CPU per forwarded
request (its /proc/PID/stat utime+stime over the run, scrapes included), the scrapes actually
answered per second and their median latency, and the adverts' interval error (|interval -
100 ms|: median, p99, max) with the number of adverts missed (an interval above 150 ms).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The repository root: the lab (tests/netns/vrrp/conftest.py) imports by its full name.
sys.path.insert(0, str(HERE.parent))
from tests.netns.vrrp import conftest as vrrp_lab  # noqa: E402

DIRECTOR = "10.77.0.1"
ADVERT_INT = 0.1
HTTP_PORT = 9180
VS_PORT = 8080

LISTENER = """
import socket, struct, sys, time
duration = float(sys.argv[1])
rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
              struct.pack("4s4si", socket.inet_aton("224.0.0.18"), bytes(4),
                          socket.if_nametoindex("eth0")))
SO_TIMESTAMPNS = 35  # asm-generic/socket.h (SO_TIMESTAMPNS_OLD); not in the socket module
rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
rx.settimeout(0.5)
end = time.monotonic() + duration
while time.monotonic() < end:
    try:
        data, anc, _, addr = rx.recvmsg(2048, 64)
    except TimeoutError:
        continue
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, ns = struct.unpack("qq", raw[:16])
            print(f"{sec + ns / 1e9:.9f}", flush=True)
"""

SCRAPER = """
import http.client, sys, threading, time
host, port, workers = sys.argv[1], int(sys.argv[2]), 8
rate, duration = float(sys.argv[3]), float(sys.argv[4])
start = time.monotonic() + 0.2
latencies, failures = [], [0]
lock = threading.Lock()
def work(k):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    i = k
    while True:
        due = start + i / rate
        if due > start + duration:
            return
        time.sleep(max(0.0, due - time.monotonic()))
        t0 = time.monotonic()
        try:
            conn.request("GET", "/metrics")
            r = conn.getresponse(); r.read()
            ok = r.status == 200
        except Exception:
            ok = False
            conn.close(); conn = http.client.HTTPConnection(host, port, timeout=5)
        with lock:
            if ok: latencies.append(time.monotonic() - t0)
            else: failures[0] += 1
        i += workers
threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
for t in threads: t.start()
for t in threads: t.join()
latencies.sort()
med = latencies[len(latencies) // 2] if latencies else 0.0
print(f"{len(latencies)} {failures[0]} {med:.6f}")
"""


def config(backend: int) -> str:
    vrrp = vrrp_lab.Confs.instance(priority=150, state="MASTER", version=3, advert_int=ADVERT_INT)
    return (
        vrrp_lab.Confs.config(vrrp)
        + f"""
virtual_server {DIRECTOR} {VS_PORT} {{
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {backend} {{
        weight 1
    }}
}}
"""
    )


def nginx_conf(tmp: Path, port: int) -> Path:
    tmp.chmod(0o755)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  client_body_temp_path {tmp}/cb; proxy_temp_path {tmp}/pt; fastcgi_temp_path {tmp}/ft;
  uwsgi_temp_path {tmp}/ut; scgi_temp_path {tmp}/st;
  server {{ listen 127.0.0.1:{port} backlog=4096; location = / {{ return 200 "rs1\\n"; }} }} }}
"""
    )
    return conf


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def daemon_pid(ns: str) -> int:
    """The pylvs process inside namespace `ns` (`ip netns exec` execs it, same pid)."""
    out = os.popen(f"ip netns pids {ns}").read().split()
    for pid in out:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"pylvs" in cmd and b"run" in cmd:
            return int(pid)
    raise RuntimeError("pylvs run not found")


def measure(c, pid: int, duration: float, scrapes: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    listener = c.spawn([sys.executable, "-c", LISTENER, str(duration + 1)], "adverts")
    scraper = None
    if scrapes:
        argv = [sys.executable, "-c", SCRAPER, DIRECTOR, str(HTTP_PORT), str(scrapes)]
        scraper = c.spawn([*argv, str(duration)], "scraper")
    time.sleep(0.5)
    cpu0 = cpu_seconds(pid)
    wrk = c.spawn(
        ["wrk", "-t1", "-c20", f"-d{round(duration)}s", f"http://{DIRECTOR}:{VS_PORT}/"], "wrk"
    )
    wrk.popen.wait(duration + 30)
    cpu = cpu_seconds(pid) - cpu0
    listener.popen.wait(duration + 10)
    out: dict[str, float] = {}
    requests = re.search(r"(\d+) requests in", wrk.text())
    rate = re.search(r"Requests/sec:\s+([\d.]+)", wrk.text())
    if rate is None:
        raise RuntimeError(f"wrk failed:\n{wrk.text()}")
    out["rps"] = float(rate.group(1))
    out["cpu_us"] = cpu / int(requests.group(1)) * 1e6 if requests else 0.0
    text = listener.text()
    if "Traceback" in text:
        raise RuntimeError(f"the advert listener failed:\n{text}")
    stamps = [float(x) for x in text.split()]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    errors = sorted(abs(g - ADVERT_INT) * 1000 for g in gaps)
    out["adverts"] = len(stamps)
    out["err_med"] = statistics.median(errors) if errors else float("nan")
    out["err_p99"] = errors[int(0.99 * (len(errors) - 1))] if errors else float("nan")
    out["err_max"] = errors[-1] if errors else float("nan")
    out["missed"] = sum(1 for g in gaps if g > 1.5 * ADVERT_INT)
    if scraper is not None:
        scraper.popen.wait(duration + 30)
        done, failed, med = scraper.text().split()[-3:]
        out["scrapes_s"] = int(done) / duration
        out["scrape_fail"] = int(failed)
        out["scrape_ms"] = float(med) * 1000
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--scrapes", type=float, default=200.0)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces, VRRP)", file=sys.stderr)
        return 2
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            print(f"needs {tool}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="webload-") as tmp_name:
        tmp = Path(tmp_name)
        lab = vrrp_lab.Lab(tmp)
        try:
            a, c = lab.node("a"), lab.node("c")
            assert a.ip == DIRECTOR, a.ip
            backend = 18080
            a.spawn(["nginx", "-c", str(nginx_conf(tmp, backend))], "nginx")
            conf = a.write("keepalived.conf", config(backend))
            pids = ["-p", str(tmp / "p.pid"), "-r", str(tmp / "r.pid"), "-c", str(tmp / "c.pid")]
            argv = [sys.executable, "-m", "pylvs", "run", "-n", "-f", str(conf),
                    "--dataplane", "proxy", "--http", f"{DIRECTOR}:{HTTP_PORT}",
                    "--control", str(tmp / "pylvs.sock"), "--no-syslog", *pids]  # fmt: skip
            daemon = a.spawn(argv, "pylvs")
            # Ready once its control socket is there (the last thing it opens); then MASTER.
            if not vrrp_lab.wait_until((tmp / "pylvs.sock").exists, 30):
                print(f"the director did not come up:\n{daemon.text()}", file=sys.stderr)
                return 1
            time.sleep(1)
            pid = daemon_pid(a.ns)
            results: dict[str, list[dict[str, float]]] = {"idle": [], "scraped": []}
            for r in range(args.rounds):
                order = ["idle", "scraped"] if r % 2 == 0 else ["scraped", "idle"]
                for case in order:
                    scrapes = args.scrapes if case == "scraped" else 0
                    try:
                        got = measure(c, pid, args.duration, scrapes)
                    except RuntimeError:
                        print(daemon.text(), file=sys.stderr)
                        raise
                    results[case].append(got)
                    print(f"round {r + 1} {case}: {got}", file=sys.stderr, flush=True)
        finally:
            lab.close()
    report(results, args)
    return 0


def report(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    def med(case: str, key: str) -> float:
        values = [x[key] for x in results[case] if key in x]
        return statistics.median(values) if values else float("nan")

    print(f"medians of {args.rounds} rounds of {args.duration:.0f} s")
    print(
        "| case | requests/s | daemon CPU µs/request | scrapes/s answered | scrape ms "
        "| advert error median ms | p99 ms | max ms | adverts missed |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for case in ("idle", "scraped"):
        name = f"{args.scrapes:.0f} scrapes/s" if case == "scraped" else "no scrapes"
        scrapes = "- | -"
        if case == "scraped":
            scrapes = f"{med(case, 'scrapes_s'):.0f} | {med(case, 'scrape_ms'):.2f}"
        worst = max(x["err_max"] for x in results[case])
        missed = sum(x["missed"] for x in results[case])
        print(
            f"| {name} | {med(case, 'rps'):.0f} | {med(case, 'cpu_us'):.1f} | {scrapes} "
            f"| {med(case, 'err_med'):.2f} | {med(case, 'err_p99'):.2f} | {worst:.2f} "
            f"| {missed:.0f} |"
        )
    ratios = [
        s["rps"] / i["rps"]
        for i, s in zip(results["idle"], results["scraped"], strict=True)
        if i["rps"]
    ]
    print("scraped / idle requests/s, round by round:", ", ".join(f"{r:.3f}" for r in ratios))


if __name__ == "__main__":
    sys.exit(main())
