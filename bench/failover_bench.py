"""VRRP failover time: SIGKILL of the master -> the VIP answering on the backup.

Run as root: `python bench/failover_bench.py [--runs 3]`.  For pylvs pairs and keepalived 2.2.7
pairs, with VRRPv2 advert_int 1 and VRRPv3 advert_int 0.1, each run builds a fresh lab
(tests/netns/vrrp/conftest.py: a bridge namespace, nodes a, b and a client c), starts a
(priority 150) and b (100) and waits until the client reaches the VIP on a.  A probe in the
client hears one of a's adverts, waits a phase drawn from the same seeded sequence for both
daemons (so the runs are paired), SIGKILLs a's daemon and takes a's link down (the host died,
so its stale VIP no longer answers), then sends a TCP SYN to the VIP every 5 ms, and one more at
once when it hears a gratuitous ARP for the VIP (a RST counts as an answer); it polls for both
on its own core rather than sleeping in select, so its reaction time is microseconds.  The
time is from the SIGKILL to the first answer, which needs b to become MASTER, add the VIP and
send its gratuitous ARP (the client's ARP locktime is 0); timing the answer to the GARP rather
than to a 5 ms retry slot makes the pairs comparable to a fraction of a millisecond.
Expected: ~3 x advert_int + Skew_Time ((256-100)/256 s for v2; x advert_int for v3) + GARP.
"""

import argparse
import os
import random
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

VIP = "10.77.0.100"
PROBE = """
import errno, ipaddress, os, select, socket, struct, subprocess, sys, time
vip, master, delay, ns = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
pids = [int(p) for p in sys.argv[5:]]
vip_packed = socket.inet_aton(vip)
# The client hears ARP too: a gratuitous ARP for the VIP (the new master's) starts a fresh
# connection attempt at once, so the answer is timed to the round trip, not to a 5 ms slot.
arp = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
arp.bind(("eth0", 0))
# Wait for one of the master's adverts, then kill it `delay` later: the phase of the crash
# relative to the advert schedule is the same for both daemons (paired runs).
rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
              struct.pack("4s4si", ipaddress.ip_address("224.0.0.18").packed, bytes(4),
                          socket.if_nametoindex("eth0")))
rx.settimeout(10)
while rx.recvfrom(2048)[1][0] != master:
    pass
heard = time.monotonic()
time.sleep(max(0.0, heard + delay - time.monotonic()))
arp.setblocking(False)
while True:  # forget the ARP heard before the crash
    try:
        arp.recv(64)
    except BlockingIOError:
        break
t0 = time.monotonic()
for pid in pids:
    try:
        os.kill(pid, 9)
    except OSError:
        pass
subprocess.run(["ip", "-n", ns, "link", "set", "eth0", "down"], check=True)


def attempt():
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((vip, 9))
    return s, time.monotonic()


# A SYN every 5 ms (one attempt pending, as with a 5 ms connect timeout) and one more at once
# when a gratuitous ARP for the VIP arrives; a RST or an accept counts as the VIP answering.
pending = [attempt()]
end = t0 + 15
answered = None
while answered is None and time.monotonic() < end:
    # Polled, not waited for: the probe spins on its core, so how fast it notices the GARP
    # and the answer (a wake-up from select costs it 0.05-0.3 ms, at random) does not add
    # noise to the comparison of the two daemons.
    r, w, _ = select.select([arp], [s for s, _ in pending], [], 0)
    if r:
        garp = False
        while True:
            try:
                frame = arp.recv(64)
            except BlockingIOError:
                break
            garp = garp or frame[28:32] == vip_packed
        if garp:
            pending.append(attempt())
    for s in w:
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) in (0, errno.ECONNREFUSED):
            answered = time.monotonic()
    now = time.monotonic()
    for s, started in pending:
        if s in w or now - started >= 0.005:
            s.close()
    pending = [(s, t) for s, t in pending if s not in w and now - t < 0.005] or [attempt()]
for s, _ in pending:
    s.close()
if answered is not None:
    print(f"{answered - t0:.6f}", flush=True)
"""


def one_run(impl: str, version: int, adv: float, tmp: Path, phase: float) -> float | None:
    lab = vrrp_lab.Lab(tmp)
    try:
        a, b, c = lab.node("a"), lab.node("b"), lab.node("c")
        c.sysctl("net.ipv4.neigh.eth0.locktime", "0")
        conf = vrrp_lab.Confs
        text = {
            p: conf.config(conf.instance(priority=p, version=version, advert_int=adv))
            for p in (150, 100)
        }
        start = a.pylvs if impl == "pylvs" else a.keepalived
        pa = start(text[150])
        (b.pylvs if impl == "pylvs" else b.keepalived)(text[100])
        if not vrrp_lab.wait_until(lambda: lab.holders(VIP) == ["a"], 15):
            return None
        if not vrrp_lab.wait_until(lambda: c.answers(VIP, 0.2), 5):
            return None
        time.sleep(max(2 * adv, 0.5))  # let b settle as a backup
        # keepalived: the VRRP child, then the parent (the pid `ip netns exec` became).
        pids = [pf.read_text().split()[0] for pf in pa.pidfiles] + [str(pa.popen.pid)]
        argv = [sys.executable, "-c", PROBE, VIP, a.ip, str(phase), a.ns, *pids]
        probe = c.spawn(argv, "probe")
        probe.popen.wait(30)
        out = probe.text().split()
        return float(out[-1]) if out and out[-1].replace(".", "").isdigit() else None
    finally:
        lab.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    impls = ["pylvs"] + (["keepalived"] if shutil.which("keepalived") else [])
    rows = []
    pairs = []
    for version, adv in ((2, 1.0), (3, 0.1)):
        got: dict[str, list[float | None]] = {impl: [] for impl in impls}
        phases = random.Random(version).random
        for i in range(args.runs):
            phase = phases() * adv  # the same phase for both daemons of a pair
            # The two runs of a pair back to back, the order alternating, so a change in the
            # machine's load over the benchmark favours neither daemon.
            for impl in impls if i % 2 == 0 else impls[::-1]:
                with tempfile.TemporaryDirectory(prefix="failover-") as tmp:
                    got[impl].append(one_run(impl, version, adv, Path(tmp), phase))
        for impl in impls:
            ok = [t for t in got[impl] if t is not None]
            rows.append((impl, version, adv, ok, len(got[impl]) - len(ok)))
            print(
                f"{impl} v{version} advert_int {adv}: {[f'{t * 1000:.2f}' for t in ok]} ms",
                file=sys.stderr,
            )
        if len(impls) == 2:
            diffs = [
                None if p is None or k is None else (p - k) * 1000
                for p, k in zip(got["pylvs"], got["keepalived"], strict=True)
            ]
            pairs.append((version, adv, diffs))
    print("| daemon | VRRP | advert_int | runs | min ms | median ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for impl, version, adv, ok, failed in rows:
        if not ok:
            print(f"| {impl} | v{version} | {adv} s | 0 (failed {failed}) | - | - | - |")
            continue
        ms = [t * 1000 for t in ok]
        print(
            f"| {impl} | v{version} | {adv} s | {len(ok)} | {min(ms):.0f} | "
            f"{statistics.median(ms):.0f} | {max(ms):.0f} |"
        )
    for version, adv, diffs in pairs:
        shown = ", ".join("-" if d is None else f"{d:+.2f}" for d in diffs)
        print(f"pylvs - keepalived, v{version} {adv} s, pair by pair (ms): {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
