"""HAProxy 2.6's own regression tests against `pylvs haproxy` (issue 20 #7, issue 21 #7).

The tests are HAProxy's files (GPL-2.0) and stay outside the project, in the shared
conformance directory (`../shared/conformance/haproxy-2.6/`: reg-tests, `run`, and the list
of tests the real HAProxy 2.6.12 passes on these machines).  Each one runs exactly as that
directory's `run` script runs it — `timeout 60 varnishtest -q -t 20 TEST` from `reg-tests/`,
with `HAPROXY_PROGRAM` a shim that execs `pylvs haproxy` — a few at a time, within a budget.

`EXPECTED` (haproxy_vtc.txt, next to this file) names, for every test of the shared list (the
ones the real HAProxy passes here: issue 20's layer-4 directories and issue 21's mode http),
whether pylvs passes it, and for each one it does not pass what it waits for.  The
bookkeeping is strict both ways: a test listed as passing that fails is a regression; a test
listed as failing that passes must move to the passing list (so the count in README.md stays
true).  A test expected to pass that fails is run a second time before it counts, as the
machine is shared.

    python3 tests/conformance/haproxy_vtc.py [--budget SECONDS] [--jobs N] [TEST ...]
runs them and prints a line per test (what .ci/run calls, through pytest); with TESTs, only
those.  `--readme` rewrites README.md's count and failure table from haproxy_vtc.txt.
`--program CMD` runs another program (`--program haproxy`: the real one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

SHARED = Path(os.environ.get("PYLVS_HAPROXY_CONFORMANCE", "/work/shared/conformance/haproxy-2.6"))
REG_TESTS = SHARED / "reg-tests"
EXPECTED = Path(__file__).with_name("haproxy_vtc.txt")
DEFAULT_BUDGET = 900  # seconds for the whole run (CI: 90 minutes for everything)
DEFAULT_JOBS = 3  # tests at once: each is a varnishtest, servers and a pylvs on 2 shared cores
VTC_TIMEOUT = 20  # varnishtest -t, as `run`
HARD_TIMEOUT = 60  # timeout(1) around it, as `run`


@dataclass(frozen=True)
class Expectation:
    test: str
    passes: bool
    waits_for: str  # why it fails ("" when it passes)


@dataclass(frozen=True)
class Result:
    test: str
    passed: bool
    seconds: float
    log: str  # the tail of varnishtest's output when it failed


def unavailable() -> str | None:
    """Why the conformance tests cannot run here (None when they can)."""
    if not REG_TESTS.is_dir():
        return f"HAProxy's regression tests are not here: {REG_TESTS}"
    if shutil.which("varnishtest") is None:
        return "varnishtest missing (Debian package varnish)"
    return None


def read_expected(path: Path = EXPECTED) -> list[Expectation]:
    """`TEST<TAB>pass` or `TEST<TAB>fail<TAB>what it waits for`, `#` comments."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if fields[1:2] == ["pass"] and len(fields) == 2:
            found.append(Expectation(fields[0], True, ""))
        elif fields[1:2] == ["fail"] and len(fields) == 3 and fields[2].strip():
            found.append(Expectation(fields[0], False, fields[2].strip()))
        else:
            raise ValueError(f"{path}:{number}: expected TEST<TAB>pass or TEST<TAB>fail<TAB>WHY")
    return found


README_START = "<!-- haproxy-vtc: generated from tests/conformance/haproxy_vtc.txt -->"
README_END = "<!-- /haproxy-vtc -->"


def readme_section(expected: Sequence[Expectation]) -> str:
    """README.md's account of the run: the count, then each failing test and what it waits
    for (tests/conformance/test_haproxy_vtc.py checks README.md holds exactly this)."""
    passing = [e.test for e in expected if e.passes]
    rows = "".join(f"| `{e.test}` | {e.waits_for} |\n" for e in expected if not e.passes)
    return (
        f"{README_START}\n"
        f"**{len(passing)} of {len(expected)} pass** ({', '.join(f'`{t}`' for t in passing)}).\n\n"
        "| failing test | what it waits for |\n|---|---|\n"
        f"{rows}{README_END}\n"
    )


def write_readme(path: Path) -> None:
    """Put readme_section() in place of README.md's section (after haproxy_vtc.txt changed)."""
    text = path.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END) + 1
    path.write_text(text[:start] + readme_section(read_expected()) + text[end:])


def covered_tests() -> list[str]:
    """Every test of the shared list (the ones the real HAProxy passes here), in its order:
    issue 20's directories (layer 4) and issue 21's (mode http) alike."""
    return (SHARED / "expected-pass.txt").read_text().split()


def program() -> str:
    """`pylvs haproxy` as this interpreter runs it (the tests follow the checkout's code)."""
    return f"{sys.executable} -m pylvs haproxy"


def run_one(test: str, shim: Path, retries: int = 1) -> Result:
    start = time.monotonic()
    for attempt in range(retries + 1):
        # Marked in its environment, which every program it starts inherits: a test cut by its
        # timeout leaves them behind (their parent gone, in process groups of their own),
        # holding ports and CPU; they are found by the mark and killed after it.
        mark = f"{test}:{os.getpid()}:{time.monotonic_ns()}"
        proc = subprocess.run(
            ["timeout", str(HARD_TIMEOUT), "varnishtest", "-q", "-t", str(VTC_TIMEOUT), test],
            cwd=REG_TESTS,
            env={**os.environ, "HAPROXY_PROGRAM": str(shim), "PYLVS_VTC_RUN": mark},
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
        kill_marked(mark)
        if proc.returncode == 0 or attempt == retries:
            break
    log = "" if proc.returncode == 0 else (proc.stdout + proc.stderr)[-4000:]
    return Result(test, proc.returncode == 0, time.monotonic() - start, log)


def kill_marked(mark: str) -> None:
    """SIGKILL every process whose environment holds PYLVS_VTC_RUN=`mark` (Linux's /proc)."""
    needle = f"PYLVS_VTC_RUN={mark}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue


def write_shim(folder: Path, command: str) -> Path:
    shim = folder / "haproxy"
    shim.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return shim


def run_all(
    tests: Sequence[str], *, command: str, budget: float, jobs: int, retry: Sequence[str] = ()
) -> dict[str, Result | None]:
    """Each test's result (None: not run, the budget was spent); the tests in `retry` (those
    expected to pass) are run a second time when they fail."""
    deadline = time.monotonic() + budget
    results: dict[str, Result | None] = dict.fromkeys(tests)
    with tempfile.TemporaryDirectory(prefix="pylvs-vtc-") as tmp:
        shim = write_shim(Path(tmp), command)

        def one(test: str) -> Result | None:
            if time.monotonic() >= deadline:
                return None
            return run_one(test, shim, 1 if test in retry else 0)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for test, result in zip(tests, pool.map(one, tests), strict=True):
                results[test] = result
    return results


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET)
    ap.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    ap.add_argument("--program", default=None, help="default: pylvs haproxy (this interpreter)")
    ap.add_argument(
        "--readme", action="store_true", help="rewrite README.md's section from the list"
    )
    ap.add_argument("tests", nargs="*")
    args = ap.parse_args(argv)
    if args.readme:
        write_readme(Path(__file__).parents[2] / "README.md")
        return 0
    why = unavailable()
    if why is not None:
        print(f"skipped: {why}")
        return 0
    tests = args.tests or covered_tests()
    start = time.monotonic()
    passing = [e.test for e in read_expected() if e.passes]
    results = run_all(tests, command=args.program or program(), budget=args.budget,
                      jobs=args.jobs, retry=passing)  # fmt: skip
    passed = 0
    for test, result in results.items():
        if result is None:
            print(f"NOT RUN {test} (past the budget)")
            continue
        passed += result.passed
        print(f"{'pass' if result.passed else 'FAIL'} {test} ({result.seconds:.1f} s)")
    print(f"{passed} passed, {len(tests) - passed} failed in {time.monotonic() - start:.0f} s")
    return 0 if passed == len(tests) else 1


if __name__ == "__main__":
    sys.exit(main())
