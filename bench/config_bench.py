"""Big configs: `pylvs check` against the real `keepalived -t` on the same generated files.

Issue 18 #10: a 10 MB keepalived.conf of 58,849 virtual servers took pylvs 30.6 s / 575 MB to
check and keepalived 0.8 s / 65 MB; 1 MB took 3 s; the target is within 3x keepalived's time
and memory on the same files.  This generates such files (58,849 virtual servers, each with a
TCP_CHECK'ed real server as a big LVS site writes them, tab-indented: 10.4 MB; 5,885 of them:
1 MB) and runs `keepalived -t -l -f FILE` and `python -m pylvs check -f FILE` in interleaved
rounds (the order rotated every round, so the noise of a shared machine hits all), each as a
child process measured by wait4(): wall time, CPU time (user + system) and peak RSS.  pylvs
runs as installed: with its C plain-line reader when built ("pylvs"), and with the pure-Python
reader (`PYLVS_CONFIG_C=0`, "pylvs-py"); its bytecode is cached first (a warm-up run, without
PYTHONDONTWRITEBYTECODE), as pip's install leaves it (the warm-up also writes the dataclasses'
code cache, cli/codecache.py, as a first `pylvs check` does).  Medians per size, and the ratios to
keepalived, are printed as a Markdown table.

    python bench/config_bench.py --sizes 5885,58849 --rounds 5

`--run-load` measures instead what `pylvs run` does with the same file (and a reload): the
keepalived source's load, the reader and then the DirectorSpec (config/keepalived/source.py),
in a child process per run (this pylvs and each `--also` tree, taking turns).
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
        "\tdelay_loop 6\n"
        "\tlb_algo wrr\n"
        "\tlb_kind NAT\n"
        "\tprotocol TCP\n"
        f"\treal_server 192.168.{b}.{c} 8080 {{\n"
        "\t\tweight 1\n"
        "\t\tTCP_CHECK {\n"
        "\t\t\tconnect_timeout 3\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    )


def generate(path: Path, count: int) -> int:
    with path.open("w") as f:
        f.write("global_defs {\n\trouter_id BENCH\n}\n")
        for i in range(count):
            f.write(virtual_server(i))
    return path.stat().st_size


def measure(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall s, cpu s, peak RSS MiB) of one run of `argv`; its output is discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = 0  # reaped by wait4
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


Tool = tuple[str, list[str], "dict[str, str] | None"]


def tools(others: list[str]) -> list[Tool]:
    """keepalived, an empty Python run (the floor), this pylvs with and without its C reader,
    and pylvs from each source tree of `others` (an older checkout's src/, for a before/after
    table)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    pylvs = [sys.executable, "-m", "pylvs", "check", "-f"]
    return [
        ("keepalived", ["keepalived", "-t", "-l", "-f"], None),
        # The floor of any Python tool: the interpreter starting and ending with nothing to
        # do (its site hooks included), on the same command line (the file is ignored).
        ("python -c pass", [sys.executable, "-c", "pass"], env),
        ("pylvs", pylvs, {**env, "PYLVS_CONFIG_C": "1"}),
        ("pylvs-py", pylvs, {**env, "PYLVS_CONFIG_C": "0"}),
        *((f"pylvs@{src}", pylvs, {**env, "PYTHONPATH": src}) for src in others),
    ]


# `pylvs run`'s load of the file: what its worker thread does at start and at each reload,
# with the collector paused as the daemon pauses it there (system/collector.py `paused`).
RUN_LOAD = """
import sys
from pylvs.config.keepalived.source import KeepalivedSource
from pylvs.config.registry import LoadOptions
from pylvs.system import collector
with collector.paused():
    KeepalivedSource(LoadOptions()).load(sys.argv[1])
"""


def run_load_tools(others: list[str]) -> list[Tool]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    argv = [sys.executable, "-c", RUN_LOAD]
    return [
        ("pylvs run's load", argv, env),
        *((f"pylvs@{src} run's load", argv, {**env, "PYTHONPATH": src}) for src in others),
    ]


def run(sizes: list[int], rounds: int, others: list[str], run_load: bool = False) -> None:
    print("| virtual servers | file MB | tool | wall s | CPU s | peak RSS MiB |")
    print("|---:|---:|---|---:|---:|---:|")
    ratios: list[tuple[int, str, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            path = Path(tmp) / f"k{count}.conf"
            size = generate(path, count)
            order = run_load_tools(others) if run_load else tools(others)
            for _, argv, env in order:  # bytecode compiled and cached before measuring
                measure([*argv, str(path)], env)
            results: dict[str, list[tuple[float, float, float]]] = {n: [] for n, _, _ in order}
            for r in range(rounds):
                k = r % len(order)
                for name, argv, env in order[k:] + order[:k]:
                    results[name].append(measure([*argv, str(path)], env))
            med = {
                name: [statistics.median(x[i] for x in runs) for i in range(3)]
                for name, runs in results.items()
            }
            for name, _, _ in order:
                wall, cpu, rss = med[name]
                row = f"| {count:,} | {size / 1e6:.1f} | {name} | {wall:.2f} | {cpu:.2f} |"
                print(f"{row} {rss:.0f} |")
            base = order[0][0]  # keepalived, or this pylvs's load
            for name, _, _ in order[1:]:
                ratios.append((count, name, [med[name][i] / med[base][i] for i in range(3)]))
    print()
    against = "this pylvs's load" if run_load else "keepalived"
    for count, name, (wall, cpu, rss) in ratios:
        print(
            f"{count:,} virtual servers: {name} / {against}: wall {wall:.2f}x,"
            f" CPU {cpu:.2f}x, RSS {rss:.2f}x"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--sizes", default="5885,58849", help="virtual servers per file")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument(
        "--also", action="append", default=[], metavar="SRC",
        help="also measure pylvs from this source tree (e.g. an older checkout's src/)",
    )  # fmt: skip
    p.add_argument(
        "--run-load", action="store_true",
        help="measure pylvs run's load of the files (reader and DirectorSpec) instead",
    )  # fmt: skip
    args = p.parse_args()
    run([int(x) for x in args.sizes.split(",")], args.rounds, args.also, args.run_load)


if __name__ == "__main__":
    main()
