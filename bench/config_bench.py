"""Big configs: `pylvs check` against the real `keepalived -t` on the same generated files.

Issue 18 #10: a 10 MB keepalived.conf of 58,849 virtual servers took pylvs 30.6 s / 575 MB to
check and keepalived 0.8 s / 65 MB; the target is within 3x keepalived's time and memory.  This
generates keepalived.conf files of N virtual servers (each with a TCP_CHECK'ed real server, as
a big LVS site writes them) and runs `keepalived -t -l -f FILE` and `python -m pylvs check -f
FILE` in interleaved rounds (the order swapped every round, so the noise of a shared machine
hits both), each as a child process measured by wait4(): wall time, CPU time (user + system)
and peak RSS.  Medians per size, and the ratios, are printed as a Markdown table.

    python bench/config_bench.py --sizes 5885,58849 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def virtual_server(i: int) -> str:
    a, b, c = 10 + i // 65536 % 200, i // 256 % 256, i % 256
    return (
        f"virtual_server 10.{a}.{b}.{c} 80 {{\n"
        "    delay_loop 6\n"
        "    lb_algo wrr\n"
        "    lb_kind NAT\n"
        "    protocol TCP\n"
        f"    real_server 192.168.{b}.{c} 8080 {{\n"
        "        weight 1\n"
        "        TCP_CHECK {\n"
        "            connect_timeout 3\n"
        "        }\n"
        "    }\n"
        "}\n"
    )


def generate(path: Path, count: int) -> int:
    with path.open("w") as f:
        f.write("global_defs {\n    router_id BENCH\n}\n")
        for i in range(count):
            f.write(virtual_server(i))
    return path.stat().st_size


def measure(argv: list[str]) -> tuple[float, float, float]:
    """(wall s, cpu s, peak RSS MiB) of one run of `argv`; its output is discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = 0  # reaped by wait4
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run(sizes: list[int], rounds: int) -> None:
    keepalived = ["keepalived", "-t", "-l", "-f"]
    pylvs = [sys.executable, "-m", "pylvs", "check", "-f"]
    print("| virtual servers | file MB | tool | wall s | CPU s | peak RSS MiB |")
    print("|---:|---:|---|---:|---:|---:|")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            path = Path(tmp) / f"k{count}.conf"
            size = generate(path, count)
            results: dict[str, list[tuple[float, float, float]]] = {"keepalived": [], "pylvs": []}
            for r in range(rounds):
                order = [("keepalived", keepalived), ("pylvs", pylvs)]
                for name, argv in order if r % 2 == 0 else reversed(order):
                    results[name].append(measure([*argv, str(path)]))
            med = {
                name: tuple(statistics.median(x[i] for x in runs) for i in range(3))
                for name, runs in results.items()
            }
            for name in ("keepalived", "pylvs"):
                wall, cpu, rss = med[name]
                row = f"| {count:,} | {size / 1e6:.1f} | {name} | {wall:.2f} | {cpu:.2f} |"
                print(f"{row} {rss:.0f} |")
            ratios.append((count, [med["pylvs"][i] / med["keepalived"][i] for i in range(3)]))
    print()
    for count, (wall, cpu, rss) in ratios:
        print(
            f"{count:,} virtual servers: pylvs/keepalived wall {wall:.2f}x,"
            f" CPU {cpu:.2f}x, RSS {rss:.2f}x"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--sizes", default="5885,58849", help="virtual servers per file")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    run([int(x) for x in args.sizes.split(",")], args.rounds)


if __name__ == "__main__":
    main()
