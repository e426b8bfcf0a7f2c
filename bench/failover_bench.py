"""VRRP failover time: SIGKILL of the master -> the VIP answering on the backup.

Run as root: `python bench/failover_bench.py [--runs 3]`.  For pylvs pairs and keepalived 2.2.7
pairs, with VRRPv2 advert_int 1 and VRRPv3 advert_int 0.1, each run builds a fresh lab
(tests/netns/vrrp/conftest.py: a bridge namespace, nodes a, b and a client c), starts a
(priority 150) and b (100) and waits until the client reaches the VIP on a.  A probe in the
client hears one of a's adverts, waits a phase drawn from the same seeded sequence for both
daemons (so the runs are paired), SIGKILLs a's daemon and takes a's link down (the host died,
so its stale VIP no longer answers), then sends TCP SYNs to the VIP with a 5 ms timeout (a RST
counts as an answer).  The time is from the SIGKILL to the first answer, which needs b to become
MASTER, add the VIP and send its gratuitous ARP (the client's ARP locktime is 0).
Expected: ~3 x advert_int + Skew_Time ((256-100)/256 s for v2; x advert_int for v3) + GARP.
"""

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VIP = "10.77.0.100"
PROBE = """
import ipaddress, os, socket, struct, subprocess, sys, time
vip, master, delay, ns = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
pids = [int(p) for p in sys.argv[5:]]
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
t0 = time.monotonic()
for pid in pids:
    try:
        os.kill(pid, 9)
    except OSError:
        pass
subprocess.run(["ip", "-n", ns, "link", "set", "eth0", "down"], check=True)
t1 = time.monotonic()
end = t1 + 15
while time.monotonic() < end:
    s = socket.socket()
    s.settimeout(0.005)
    try:
        s.connect((vip, 9))
        ok = True
    except ConnectionRefusedError:
        ok = True
    except OSError:
        ok = False
    s.close()
    if ok:
        print(f"{time.monotonic() - t0:.6f}", flush=True)
        break
"""


def load_lab():
    path = HERE.parent / "tests" / "netns" / "vrrp" / "conftest.py"
    spec = importlib.util.spec_from_file_location("vrrp_lab", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def one_run(lab_mod, impl: str, version: int, adv: float, tmp: Path, phase: float) -> float | None:
    lab = lab_mod.Lab(tmp)
    try:
        a, b, c = lab.node("a"), lab.node("b"), lab.node("c")
        c.sysctl("net.ipv4.neigh.eth0.locktime", "0")
        conf = lab_mod.Confs
        text = {
            p: conf.config(conf.instance(priority=p, version=version, advert_int=adv))
            for p in (150, 100)
        }
        start = a.pylvs if impl == "pylvs" else a.keepalived
        pa = start(text[150])
        (b.pylvs if impl == "pylvs" else b.keepalived)(text[100])
        if not lab_mod.wait_until(lambda: lab.holders(VIP) == ["a"], 15):
            return None
        if not lab_mod.wait_until(lambda: c.answers(VIP, 0.2), 5):
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
    lab_mod = load_lab()
    rows = []
    for version, adv in ((2, 1.0), (3, 0.1)):
        for impl in impls:
            got = []
            phases = random.Random(version).random
            for _ in range(args.runs):
                phase = phases() * adv  # the same phases for both daemons
                with tempfile.TemporaryDirectory(prefix="failover-") as tmp:
                    t = one_run(lab_mod, impl, version, adv, Path(tmp), phase)
                got.append(t)
            ok = [t for t in got if t is not None]
            rows.append((impl, version, adv, ok, len(got) - len(ok)))
            print(
                f"{impl} v{version} advert_int {adv}: {[round(t * 1000) for t in ok]} ms",
                file=sys.stderr,
            )
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
