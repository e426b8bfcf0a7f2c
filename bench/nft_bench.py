"""The kernel data plane against HAProxy, the proxy and no load balancer, in network namespaces.

One bridge (its own namespace) joins a client, a director and two real servers, each running
its own nginx (one worker, `return 200` on / and a 10 MB file at /bulk).  The client is on
10.81.0.0/24, the director on both subnets (10.81.0.1, 10.80.0.1, VIP 10.80.0.100), the real
servers on 10.80.0.0/24.  In turn, on VIP port 80, round-robin over both servers:

* pylvs nftables NAT: `pylvs run --dataplane nftables`, lb_kind NAT; the real servers route via
  the director, which un-NATs the replies (LVS-NAT);
* pylvs nftables DR: lb_kind DR; the real servers hold the VIP on lo (arp_ignore /
  arp_announce as realserver.sh sets them) and answer the client directly;
* pylvs proxy: `pylvs run` (user-space proxy data plane);
* HAProxy `mode tcp`, one thread;
* direct: no load balancer, the client talks to the real servers' own addresses through the
  director as a plain IP router (the NAT path minus the load balancing);
* direct+ct: the same with connection tracking on in the director (one `ct state` rule), the
  floor of any conntrack-based NAT on this kernel;
* kernel DNAT: no pylvs, one hand-written nftables rule DNATing the VIP round-robin to the two
  real servers (`numgen inc mod 2`), the real servers routing back through the director: the
  least any load balancer that un-NATs its replies through conntrack can render, so pylvs
  NAT / kernel DNAT is what pylvs's own rules and process cost;
* direct ECMP: plain routing again (no conntrack, no load balancer), but the client talks to
  the VIP and the director spreads the connections over both real servers with a multipath
  route hashed on the 5-tuple (fib_multipath_hash_policy=1); the real servers hold the VIP on
  lo and reply through the director.  This is the traffic pattern of the load-balanced cases
  (one destination address, each wrk's connections spread over both nginx) without any
  per-flow state, where "direct" pins each wrk to one server.

Each case gets freshly built namespaces and servers (`run_all` says why); the client's TCP
receive buffer is fixed at 6 MB (`Bench.build` says why).

Every case is driven the same way: two `wrk -t1` in the client namespace at once, each with half
the connections (for "direct" one per real server, otherwise both at the VIP); rates are summed,
p99 is the worse of the two.  Printed: a markdown table of keep-alive requests/s, new
connections/s (`Connection: close`), bulk throughput (10 MB responses) and keep-alive p99, with
ratios to HAProxy and to the direct path, then the issue's targets (nftables NAT and DR >= 1.2x
HAProxy on new connections/s, >= 1.5x on bulk, >= 0.9x the direct path on all three).

Namespaces come from tests/netns/nftables/nsnet.py (`pl<pid>...`, deleted in `finally`); every
address lives inside them, the bridge has no address.

`--rounds N` measures every case N times, taking turns, and prints medians and the targets'
ratios round by round (identical runs differ by ~10 % on a 2-core VM).

Run as root (not part of the tests):
    python bench/nft_bench.py [--duration 5] [--rounds 3] [--pin] [--cases ...]
Needs: ip, nft, nginx, haproxy, wrk.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The repository root, so that `tests.…` helpers import by their full names when this
# runs as a script (under pytest and mypy they are found the same way).
sys.path.insert(0, str(Path(__file__).resolve().parents[0]))

from tests.netns.nftables.nsnet import Lab, missing_reason  # noqa: E402

BULK_BYTES = 10 * 1024 * 1024
VIP = "10.80.0.100"
RS = ("10.80.0.11", "10.80.0.12")
CONNS = 50  # keep-alive and new-connection runs, split over the two wrk processes
BULK_CONNS = 4
ORDER = [
    "pylvs nft NAT", "pylvs nft DR", "pylvs proxy", "HAProxy", "direct", "direct+ct",
    "kernel DNAT", "direct ECMP",
]  # fmt: skip
# The direct path with connection tracking switched on in the director (one stateful rule, as
# on any router with a firewall): what the kernel's conntrack + NAT hooks cost by themselves,
# which LVS-NAT through nftables cannot avoid (replies are un-NATed by conntrack).
CONNTRACK_ON = (
    "nft add table ip bench_ct && nft add chain ip bench_ct forward_ct "
    "'{ type filter hook forward priority 0; policy accept; }' && "
    "nft add rule ip bench_ct forward_ct ct state established,related accept"
)
# The smallest conntrack NAT balancer: one DNAT rule, round-robin by a packet counter, in the
# director's prerouting (NAT chains see only a flow's first packet; conntrack un-NATs the rest).
KERNEL_DNAT = (
    "nft add table ip bench_dnat && nft add chain ip bench_dnat pre "
    "'{ type nat hook prerouting priority dstnat; policy accept; }' && "
    f"nft add rule ip bench_dnat pre ip daddr {VIP} tcp dport 80 "
    f"dnat to numgen inc mod 2 map {{ 0 : {RS[0]}, 1 : {RS[1]} }}"
)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
# --pin: command prefixes that keep the load generators on one CPU and the real servers on
# another (empty: the kernel places everything).
PIN: dict[str, list[str]] = {"client": [], "servers": []}


@dataclass
class Wrk:
    requests_per_s: float
    bytes_per_s: float
    p99_ms: float


def parse_wrk(out: str) -> Wrk:
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw failed requests:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    m = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    bps = float(m.group(1)) * _UNITS.get(m.group(2), 1) if m else 0.0
    m99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99 = 0.0
    if m99:
        p99 = float(m99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m99.group(2)]
    return Wrk(float(rps.group(1)), bps, p99)


class Bench:
    """The namespaces, the servers, and the processes started in them (stopped in `close`)."""

    def __init__(self, tmp: Path) -> None:
        tmp.mkdir()
        self.tmp = tmp
        self.lab = Lab("b")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.c = self.d = ""
        self.rs: list[str] = []

    def build(self) -> None:
        lab = self.lab
        sw, self.c, self.d = lab.ns("s"), lab.ns("c"), lab.ns("d")
        self.rs = [lab.ns("r1"), lab.ns("r2")]
        lab.sh(sw, "ip link add br0 type bridge && ip link set br0 up")
        # The bridge stands for a switch, and a switch runs no netfilter: where br_netfilter is
        # loaded (Docker hosts), it would pass every bridged frame through the IP hooks of this
        # namespace (br_nf_pre_routing & co. were ~5 % of all CPU samples during DR keep-alive),
        # a cost each case paid in proportion to its bridge crossings (direct and NAT 4 per
        # request, DR 3).  The sysctls are per namespace; absent without br_netfilter.
        lab.sh(sw, "for f in /proc/sys/net/bridge/bridge-nf-call-*; do "
                   '[ -e "$f" ] && echo 0 > "$f"; done; true')  # fmt: skip
        for i, ns in enumerate([self.c, self.d, *self.rs]):
            lab.veth(ns, "eth0", sw, f"s{i}")
            lab.sh(sw, f"ip link set s{i} master br0")
        lab.sh(self.c, "ip addr add 10.81.0.2/24 dev eth0")
        # A fixed 6 MB client receive buffer: with autotuning, each bulk connection's buffer
        # settled at random at ~0.1-0.4 MB or 2-10 MB (the receive-RTT estimate on veth stays
        # at ~15 µs, so some never grow), and bulk followed that lottery, not the path
        # (docs/nftables.md, "DR's bulk").  Every case gets the same buffer.
        lab.sh(self.c, 'sysctl -qw net.ipv4.tcp_rmem="4096 6291456 6291456"')
        lab.sh(self.c, "ip route add 10.80.0.0/24 via 10.81.0.1")
        lab.sh(self.d, "ip addr add 10.81.0.1/24 dev eth0 && ip addr add 10.80.0.1/24 dev eth0")
        # The director routes between two subnets on one link: no ICMP redirects, or the
        # real servers would learn to bypass it and LVS-NAT replies would not be un-NATed.
        lab.sh(self.d, "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 "
                       "net.ipv4.conf.eth0.send_redirects=0")  # fmt: skip
        for ns, addr in zip(self.rs, RS, strict=True):
            lab.sh(ns, f"ip addr add {addr}/24 dev eth0 && ip route add default via 10.80.0.1")
            lab.sh(ns, "sysctl -qw net.ipv4.conf.all.accept_redirects=0 "
                       "net.ipv4.conf.eth0.accept_redirects=0")  # fmt: skip
            self.start(ns, [*PIN["servers"], "nginx", "-c", str(self.nginx_conf(ns))])
        for addr in RS:
            self.wait(addr)

    def nginx_conf(self, ns: str) -> Path:
        d = self.tmp / ns
        (d / "www").mkdir(parents=True)
        (d / "www" / "bulk").write_bytes(os.urandom(BULK_BYTES))
        # nginx's worker runs as nobody: the temp directories must be readable to it.
        for path in (self.tmp.parent, self.tmp, d, d / "www"):
            path.chmod(0o755)
        (d / "www" / "bulk").chmod(0o644)
        conf = d / "nginx.conf"
        conf.write_text(
            f"""daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/nginx.err;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 1000000; sendfile on;
  client_body_temp_path {d}/cb; proxy_temp_path {d}/pt; fastcgi_temp_path {d}/ft;
  uwsgi_temp_path {d}/ut; scgi_temp_path {d}/st;
  server {{ listen 80 backlog=4096; root {d}/www;
    location = / {{ return 200 "{ns[-2:]}\\n"; }} }} }}
"""
        )
        return conf

    def start(self, ns: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        log = open(self.tmp / f"{ns}-{Path(cmd[0]).name}.log", "ab")  # noqa: SIM115
        p = subprocess.Popen(
            ["ip", "netns", "exec", ns, *cmd], stdout=log, stderr=log, env=env
        )  # fmt: skip
        log.close()
        self.procs.append(p)
        return p

    def stop(self, p: subprocess.Popen[bytes]) -> None:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.remove(p)

    def wait(self, addr: str, timeout: float = 15.0) -> None:
        """Until an HTTP request from the client to addr:80 is answered."""
        code = (
            "import socket,sys,time\n"
            f"end = time.time() + {timeout}\n"
            "while time.time() < end:\n"
            "    try:\n"
            f"        s = socket.create_connection(('{addr}', 80), 0.5)\n"
            "        s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
            "        if s.recv(100).startswith(b'HTTP/1.1 200'): sys.exit(0)\n"
            "    except OSError: pass\n"
            "    time.sleep(0.1)\n"
            "sys.exit(1)\n"
        )
        cmd = ["ip", "netns", "exec", self.c, sys.executable, "-c", code]
        done = subprocess.run(cmd, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{addr}:80 does not answer from the client")

    def wrk(self, targets: list[str], path: str, conns: int, duration: int, close: bool) -> Wrk:
        """Two wrk -t1 at once (targets[i % len]), conns split between them; rates summed."""
        procs = []
        for i in range(2):
            cmd = ["ip", "netns", "exec", self.c, *PIN["client"], "wrk", "-t1"]
            cmd += [f"-c{max(1, conns // 2)}"]
            cmd += [f"-d{duration}s", "--latency"]
            if close:
                cmd += ["-H", "Connection: close"]
            cmd.append(f"http://{targets[i % len(targets)]}{path}")
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
        outs = [parse_wrk(p.communicate(timeout=duration + 60)[0]) for p in procs]
        return Wrk(
            sum(o.requests_per_s for o in outs),
            sum(o.bytes_per_s for o in outs),
            max(o.p99_ms for o in outs),
        )

    def measure(self, targets: list[str], duration: int) -> dict[str, float]:
        ka = self.wrk(targets, "/", CONNS, duration, close=False)
        nc = self.wrk(targets, "/", CONNS, duration, close=True)
        bulk = self.wrk(targets, "/bulk", BULK_CONNS, duration, close=False)
        return {
            "keep-alive req/s": ka.requests_per_s,
            "new conn/s": nc.requests_per_s,
            "bulk MB/s": bulk.bytes_per_s / 1e6,
            "p99 ms (keep-alive)": ka.p99_ms,
        }

    def close(self) -> None:
        for p in list(self.procs):
            self.stop(p)
        self.lab.close()


def keepalived_conf(path: Path, kind: str) -> Path:
    servers = "".join(f"    real_server {a} 80 {{\n        weight 1\n    }}\n" for a in RS)
    path.write_text(
        f"virtual_server {VIP} 80 {{\n    lb_algo rr\n    lb_kind {kind}\n"
        f"    protocol TCP\n{servers}}}\n"
    )
    return path


def haproxy_conf(path: Path) -> Path:
    servers = "".join(f"    server rs{i} {a}:80\n" for i, a in enumerate(RS, 1))
    path.write_text(
        "global\n    nbthread 1\n    maxconn 9000\n"
        "defaults\n    mode tcp\n    timeout connect 4s\n    timeout client 1h\n"
        "    timeout server 1h\n"
        f"listen bench\n    bind {VIP}:80\n    balance roundrobin\n{servers}"
    )
    return path


def pylvs_cmd(b: Bench, name: str, kind: str, dataplane: str) -> list[str]:
    conf = keepalived_conf(b.tmp / f"{name}.conf", kind)
    cmd = [sys.executable, "-m", "pylvs", "run", "-f", str(conf)]
    cmd += ["--control", str(b.tmp / f"{name}.sock"), "--no-syslog", "--dataplane", dataplane]
    cmd += ["-n", "-p", str(b.tmp / f"{name}.pid"), "-r", str(b.tmp / f"{name}-v.pid")]
    cmd += ["-c", str(b.tmp / f"{name}-c.pid")]
    return cmd


def dr_real_servers(b: Bench) -> None:
    """realserver.sh: the VIP on lo, no ARP for it, and replies straight to the client."""
    vip_on_lo(b)
    for ns in b.rs:
        b.lab.sh(ns, "ip route add 10.81.0.0/24 dev eth0")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its reaped children (e.g. `nft`): proc(5) /proc/<pid>/stat
    utime, stime, cutime, cstime (fields 14-17)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def vip_on_lo(b: Bench) -> None:
    """The VIP on the real servers' lo, not answered in ARP (realserver.sh)."""
    for ns in b.rs:
        b.lab.sh(ns, f"ip addr add {VIP}/32 dev lo")
        b.lab.sh(ns, "sysctl -qw net.ipv4.conf.all.arp_ignore=1 "
                     "net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_ignore=1 "
                     "net.ipv4.conf.eth0.arp_announce=2")  # fmt: skip


def run_case(b: Bench, name: str, duration: int) -> dict[str, float]:
    """One case on freshly built namespaces (see `run_all`)."""
    if name == "direct ECMP":
        # One route to the VIP with a next hop per real server, the hash over the 5-tuple
        # (net/ipv4/fib_semantics.c fib_select_multipath, route.c fib_multipath_hash): every
        # connection sticks to one server, and the director keeps no state about it.
        vip_on_lo(b)
        b.lab.sh(b.d, "sysctl -qw net.ipv4.fib_multipath_hash_policy=1 && "
                      f"ip route add {VIP}/32 nexthop via {RS[0]} nexthop via {RS[1]}")  # fmt: skip
        b.wait(VIP)
        return {**b.measure([VIP], duration), "LB process CPU s": 0.0}
    if name.startswith("direct"):
        if name == "direct+ct":
            b.lab.sh(b.d, CONNTRACK_ON)
        return {**b.measure(list(RS), duration), "LB process CPU s": 0.0}
    b.lab.sh(b.d, f"ip addr add {VIP}/32 dev eth0")
    if name == "kernel DNAT":
        b.lab.sh(b.d, KERNEL_DNAT)
        b.wait(VIP)
        return {**b.measure([VIP], duration), "LB process CPU s": 0.0}
    if name == "HAProxy":
        cmd = ["haproxy", "-f", str(haproxy_conf(b.tmp / "haproxy.cfg"))]
    elif name == "pylvs proxy":
        cmd = pylvs_cmd(b, "proxy", "NAT", "proxy")
    else:
        kind = name.rsplit(maxsplit=1)[-1]
        if kind == "DR":
            dr_real_servers(b)
        cmd = pylvs_cmd(b, kind.lower(), kind, "nftables")
    p = b.start(b.d, cmd)
    try:
        b.wait(VIP)
        # `ip netns exec` execs the command, so p.pid is the load balancer itself.
        before = cpu_seconds(p.pid)
        result = b.measure([VIP], duration)
        return {**result, "LB process CPU s": cpu_seconds(p.pid) - before}
    finally:
        b.stop(p)


def run_all(
    tmp: Path, duration: int, cases: list[str], rounds: int = 1
) -> list[dict[str, dict[str, float]]]:
    """Every case on its own namespaces and servers, `rounds` times (the order of the cases
    reversed every other round, so drift of the machine hits each alike); one result per
    round.

    Sharing them lets one case's TIME_WAIT sockets stall the next one's new connections (a
    SYN meeting a TIME_WAIT of the same tuple whose timestamps came from another address
    pair's offset, tcp_ts_off, is answered with an ACK and retried 1 s later): measured
    new connections/s fell from ~14,000 to ~300 for whichever case came second.
    """
    each: list[dict[str, dict[str, float]]] = []
    for r in range(rounds):
        results = {}
        for name in cases[:: 1 if r % 2 == 0 else -1]:
            bench = Bench(tmp / f"{r}-{name.replace(' ', '-')}")
            try:
                bench.build()
                results[name] = run_case(bench, name, duration)
            finally:
                bench.close()
            print(f"round {r + 1}: measured {name}", file=sys.stderr)
        each.append(results)
    return each


def medians(each: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Per case and metric, the median over the rounds."""
    return {
        name: {m: statistics.median(r[name][m] for r in each) for m in each[0][name]}
        for name in each[0]
    }


def round_ratios(each: list[dict[str, dict[str, float]]]) -> list[str]:
    """The targets' ratios round by round (how far the medians can be trusted)."""
    lines = []
    for name in ("pylvs nft NAT", "pylvs nft DR"):
        for base, metrics in (
            ("HAProxy", ("new conn/s", "bulk MB/s")),
            ("direct", ("keep-alive req/s", "new conn/s", "bulk MB/s")),
        ):
            if not {name, base} <= set(each[0]):
                continue
            for m in metrics:
                cells = " ".join(f"{r[name][m] / r[base][m]:.2f}x" for r in each)
                lines.append(f"- {name}: {m} / {base}, round by round: {cells}")
    # Where the floor of conntrack NAT sat in each round, and pylvs NAT against it.
    for name, base in (("kernel DNAT", "direct"), ("pylvs nft NAT", "kernel DNAT")):
        if {name, base} <= set(each[0]):
            cells = " ".join(f"{r[name]['new conn/s'] / r[base]['new conn/s']:.2f}x" for r in each)
            lines.append(f"- {name}: new conn/s / {base}, round by round: {cells}")
    return lines


def table(results: dict[str, dict[str, float]]) -> str:
    order = [n for n in ORDER if n in results]
    metrics = list(results[order[0]])
    out = ["| metric | " + " | ".join(order) + " |", "|---|" + "---:|" * len(order)]
    for m in metrics:
        out.append(f"| {m} | " + " | ".join(f"{results[n][m]:,.1f}" for n in order) + " |")
    bases = ("HAProxy", "direct", "direct+ct", "kernel DNAT", "direct ECMP")
    for base in [b for b in bases if b in results]:
        for m in metrics[:3]:
            cells = [f"{results[n][m] / results[base][m]:.2f}x" for n in order]
            out.append(f"| {m} / {base} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def targets(results: dict[str, dict[str, float]]) -> list[str]:
    lines = []
    for name in ("pylvs nft NAT", "pylvs nft DR"):
        if not {name, "HAProxy", "direct"} <= set(results):
            continue
        r, h, d = results[name], results["HAProxy"], results["direct"]
        checks = [
            ("new conn/s >= 1.2x HAProxy", r["new conn/s"] / h["new conn/s"], 1.2),
            ("bulk >= 1.5x HAProxy", r["bulk MB/s"] / h["bulk MB/s"], 1.5),
        ]
        for m in ("keep-alive req/s", "new conn/s", "bulk MB/s"):
            checks.append((f"{m} >= 0.9x direct", r[m] / d[m], 0.9))
        for label, ratio, want in checks:
            verdict = "met" if ratio >= want else "NOT met"
            lines.append(f"- {name}: {label}: {ratio:.2f}x, {verdict}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    ap.add_argument(
        "--cases", default=",".join(ORDER),
        help="comma-separated subset of: " + ", ".join(ORDER) + " (default: all)",
    )  # fmt: skip
    ap.add_argument(
        "--rounds", type=int, default=1,
        help="measure every case this many times, taking turns; the table shows medians",
    )  # fmt: skip
    ap.add_argument(
        "--pin", action="store_true",
        help="run the wrk processes on CPU 0 and the nginx servers on CPU 1 (taskset), as if "
             "client and servers were separate machines; the director's forwarding runs in the "
             "softirq of whichever CPU sends",
    )  # fmt: skip
    args = ap.parse_args()
    if args.pin:
        if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
            ap.error("--pin needs two CPUs and taskset (util-linux)")
        PIN["client"] = ["taskset", "-c", "0"]
        PIN["servers"] = ["taskset", "-c", "1"]
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in ORDER]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}")
    reason = missing_reason()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    for tool in ("nginx", "haproxy", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="pylvs-nft-bench-") as d:
        each = run_all(Path(d), args.duration, cases, max(1, args.rounds))
    results = medians(each)
    if len(each) > 1:
        print(f"median of {len(each)} rounds")
    print(table(results))
    print()
    print("\n".join(targets(results)))
    if len(each) > 1:
        print("\n".join(round_ratios(each)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
