"""What the connection sync costs (issue 24 point 5), on the lab's pair (nftables DR, rr over
two real servers, `lvs_sync_daemon eth0 VI_1`).

Rounds alternate the master daemon on and off on dir1 (`pylvs ipvsadm --stop-daemon master` /
`--start-daemon master`), so outside load hits both sides alike.  Each round:

* forwarding: `wrk -t1 -c8 -H "Connection: close"` from the client for D seconds (a new
  connection per request): new connections/s through the director (the lab's real servers
  are Python web servers, so this is their rate more than the kernel's), and the CPU the
  master director's pylvs process used per 1,000 connections (/proc/<pid>/stat, user +
  system): the sync's own cost, since the kernel forwards;
* with the master on, what went on the wire: a listener joined to 224.0.0.81:8848 on dir2's
  eth0 (a 32 MB receive buffer) counts the sync datagrams, their records and bytes (IP and
  UDP headers not counted) from the start of the round until 8 s after its end (the 2 s
  flush, and the master's rounds over the flow map the round filled), per 1,000
  connections (wrk reuses client ports: a flow-map key can stand for several connections);
* the backup's lag: one long-lived connection opened, then dir2's `-Lnc` polled every 20 ms
  until it lists it: the time from the connection's start to the backup having it (the
  master's round, at most 1 s, then the kernel's 2 s flush of a partly filled message),
  three times on the idle pair before the rounds.

    flock /tmp/pylvs-bench.lock sudo .venv/bin/python bench/sync_bench.py --rounds 4 -d 5

Needs root (the lab).  Prints one table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from pylvs.lab import commands, nodes
from pylvs.lab.topology import LabOptions
from pylvs.proto.sync import Decoded, decode

SYNC_GROUP, SYNC_PORT = "224.0.0.81", 8848
SO_RCVBUFFORCE = 33
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOLD = Path(__file__).resolve().parents[1] / "tests" / "netns" / "lab" / "labhold.py"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Sniffer:
    """Counts sync datagrams on dir2's eth0 (a thread inside dir2's namespace)."""

    def __init__(self, ns: str) -> None:
        self.count = 0
        self.bytes = 0
        self.records = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ns,), daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _run(self, ns: str) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        libc.setns(fd, 0x40000000)
        os.close(fd)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)  # lose none
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
        sock.bind((SYNC_GROUP, SYNC_PORT))
        index = socket.if_nametoindex("eth0")
        mreqn = struct.pack("4s4si", socket.inet_aton(SYNC_GROUP), bytes(4), index)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        sock.settimeout(0.1)
        self._ready.set()
        while not self._stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            self.count += 1
            self.bytes += len(data)
            decoded = decode(data)
            if isinstance(decoded, Decoded):
                self.records += len(decoded.conns)
        sock.close()

    def take(self) -> tuple[int, int, int]:
        out = (self.count, self.bytes, self.records)
        self.count = self.bytes = self.records = 0
        return out

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def forward(lab: commands.Lab, seconds: float) -> tuple[float, int, int]:
    """wrk's rate, its request count and its errors (connect, read, timeout, non-2xx)."""
    argv = ["wrk", "-t1", "-c8", f"-d{seconds:g}s", "-H", "Connection: close",
            f"http://{lab.topo.vip}/"]  # fmt: skip
    out = subprocess.run(
        ["ip", "netns", "exec", lab.topo.ns("client"), *argv],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    rate_m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total_m = re.search(r"(\d+) requests in", out)
    assert rate_m is not None and total_m is not None, out
    rate, total = float(rate_m.group(1)), int(total_m.group(1))
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, total, errors + (int(bad.group(1)) if bad else 0)


def established(lab: commands.Lab, director: str) -> set[str]:
    """The client endpoints of the connections the director lists as ESTABLISHED."""
    rows = lab.ipvsadm(director, "-Lnc").splitlines()[2:]
    return {r.split()[3] for r in rows if " ESTABLISHED " in r}


def lag(lab: commands.Lab) -> float:
    """Seconds from opening one long-lived connection until the backup lists it."""
    argv = [sys.executable, str(HOLD), str(lab.topo.vip), "1", "8"]
    before = established(lab, "dir2")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", lab.topo.ns("client"), *argv],
        stdout=subprocess.PIPE, text=True, env=nodes._env(),
    )  # fmt: skip
    t0 = time.monotonic()
    seen = float("nan")
    while time.monotonic() - t0 < 8:
        if established(lab, "dir2") - before:
            seen = time.monotonic() - t0
            break
        time.sleep(0.02)
    proc.communicate(timeout=30)
    return seen


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("-d", "--duration", type=float, default=5.0)
    args = ap.parse_args()
    rounds, seconds = args.rounds, args.duration
    lab = commands.up(
        LabOptions(lab_id=f"sb{os.getpid() % 10000}", sync=True, scheduler="rr", weights=(1, 1)),
        out=lambda _l: None,
    )
    try:
        return measure(lab, rounds, seconds)
    finally:
        commands.down(lab.topo.lab_id, out=lambda _l: None)


def measure(lab: commands.Lab, rounds: int, seconds: float) -> int:
    sniffer = Sniffer(lab.topo.ns("dir2"))
    pid = int(lab.paths.pid("dir1-pylvs").read_text().split()[0])
    rows: dict[bool, list[tuple[float, float, int]]] = {True: [], False: []}
    conns: list[int] = []
    wire: list[tuple[int, int, int]] = []
    try:
        time.sleep(3)
        # the lag on the idle pair first: once the rounds ran, the backup's -Lnc lists
        # thousands of closing flows whose states the sync still brings over
        lags = [lag(lab) for _ in range(3)]
        for r in range(rounds * 2):
            on = (r % 2 == 0) == (r // 2 % 2 == 0)
            running = "master sync daemon" in lab.ipvsadm("dir1", "-L", "--daemon")
            if on and not running:
                lab.ipvsadm("dir1", "--start-daemon", "master", "--mcast-interface", "eth0",
                            "--syncid", "51")  # fmt: skip
            elif not on and running:
                lab.ipvsadm("dir1", "--stop-daemon", "master")
            sniffer.take()
            cpu0 = cpu_seconds(pid)
            rate, total, errors = forward(lab, seconds)
            cpu = cpu_seconds(pid) - cpu0
            rows[on].append((rate, cpu * 1000 / max(1, total), errors))
            if on:
                time.sleep(8)  # the master's rounds drain a large flow map late
                wire.append(sniffer.take())
                conns.append(total)
    finally:
        sniffer.stop()
    med = statistics.median
    print(f"{rounds} rounds each, wrk -c8 for {seconds:g} s per round, a new connection each")
    print("| master daemon | new conn/s | director pylvs CPU ms / 1k conns | errors |")
    print("|---|---:|---:|---:|")
    for on in (False, True):
        rs = rows[on]
        rate, cpu, errors = med(r[0] for r in rs), med(r[1] for r in rs), sum(r[2] for r in rs)
        print(f"| {'on' if on else 'off'} | {rate:,.0f} | {cpu * 1000:.0f} | {errors} |")
    msgs = med(w[0] * 1000 / c for w, c in zip(wire, conns, strict=True))
    size = med(w[1] * 1000 / c for w, c in zip(wire, conns, strict=True))
    recs = med(w[2] * 1000 / c for w, c in zip(wire, conns, strict=True))
    print(f"sync per 1,000 new connections: {msgs:.1f} messages, {recs:,.0f} records, "
          f"{size:,.0f} bytes (UDP payload)")  # fmt: skip
    print(f"backup lag, idle pair (connect -> listed by the backup): median {med(lags):.2f} s, "
          f"max {max(lags):.2f} s over {len(lags)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
