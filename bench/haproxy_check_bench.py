"""Start-up of `pylvs haproxy -c` and `-cc`: what HAProxy's test driver pays per start.

HAProxy's reg-tests start the program under test many times for nothing but a check:
startup/check_condition.vtc runs `-cc COND` 20 times, startup/default_rules.vtc runs `-c` on 17
small configurations (15 refused while reading), all within varnishtest's 20 s.  pylvs is
Python: each start imports what it needs, so the cost is mostly imports.  This runs the same
cases with two pylvs trees (`--a` and `--b`: source directories holding `pylvs/`, e.g. main's
and a branch's) and the real `haproxy`, in interleaved rounds (the order rotated every round,
so the noise of a shared machine hits all), each start a child process measured by wait4():
CPU time (user + system) and wall time.  Bytecode is cached by a warm-up run first.  Medians
per case are printed as a Markdown table.

    python bench/haproxy_check_bench.py --a /work/main/src --b src --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_T = "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
CONFIGS = {
    # refused while reading, as most of default_rules.vtc's
    "bad": f"{_T}listen l\n bind 127.0.0.1:18001\n foo bar\n",
    # valid: read, then its rules compiled as `run` compiles them
    "valid": f"{_T}frontend f\n bind 127.0.0.1:18001\n"
    " tcp-request content set-var(txn.x) be_conn(b)\n default_backend b\n"
    "backend b\n server s 127.0.0.1:18002 check\n",
}
CASES = {
    "-cc 'version_atleast(2.4)'": ["-cc", "version_atleast(2.4)"],
    "-c (refused while reading)": ["-c", "-f", "bad.cfg"],
    "-c (valid, rules compiled)": ["-c", "-f", "valid.cfg"],
}


def run(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float]:
    """One start: (CPU seconds, wall seconds)."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(cwd)
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="/work/main/src", help="first pylvs source tree")
    ap.add_argument("--b", default=str(Path(__file__).resolve().parents[1] / "src"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--haproxy", default="haproxy")
    args = ap.parse_args()
    programs = {
        "pylvs A": ([sys.executable, "-m", "pylvs", "haproxy"], os.path.abspath(args.a)),
        "pylvs B": ([sys.executable, "-m", "pylvs", "haproxy"], os.path.abspath(args.b)),
        "haproxy": ([args.haproxy], None),
    }
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in CONFIGS.items():
            Path(tmp, f"{name}.cfg").write_text(text)
        runs = [(p, c) for p in programs for c in CASES]
        for rnd in range(args.rounds + 1):  # round 0 warms the bytecode caches up
            shift = rnd % len(runs)
            for prog, case in runs[shift:] + runs[:shift]:
                cmd, path = programs[prog]
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
                if path is not None:
                    env["PYTHONPATH"] = path
                got = run([*cmd, *CASES[case]], tmp, env)
                if rnd:
                    results.setdefault((prog, case), []).append(got)
    print("| case | " + " | ".join(f"{p} CPU ms (wall)" for p in programs) + " |")
    print("|---|" + "---|" * len(programs))
    for case in CASES:
        cells = []
        for prog in programs:
            cpu = statistics.median(c for c, _ in results[prog, case]) * 1000
            wall = statistics.median(w for _, w in results[prog, case]) * 1000
            cells.append(f"{cpu:.0f} ({wall:.0f})")
        print(f"| {case} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
