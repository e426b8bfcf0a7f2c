"""Run tests against the kernel's IPVS: boot the IPVS VM and run one pytest inside it.

This host's kernel has no IPVS; `run-in-vm.sh` (the shared IPVS VM harness, see its README)
boots a stock Debian 6.1 kernel under qemu with this machine's / shared read-only and runs one
command as root in it.  The VM is ~20x slower per CPU than the host, so everything that needs
the kernel's IPVS runs as ONE pytest process in ONE boot: `python3 tests/vm/ivm.py` (what
.ci/run calls) boots it and runs `python -m pytest tests/vm` with this interpreter (by its
absolute path: a pyenv shim costs 4 s a start in the VM).

Reusable pieces for other VM suites (the connection-sync one of issue 24, ...):
* `unavailable()`: why the VM cannot be had here (None when it can);
* `run_in_vm(argv, ...)`: one command in a fresh VM, its output streamed, its status back;
* `pytest_in_vm(paths, ...)`: a pytest run in the VM within a time budget.
Inside the VM `IN_IPVS_VM=1` is set; tests/vm/conftest.py skips everything elsewhere.

    python3 tests/vm/ivm.py [--budget SECONDS] [PYTEST ARGS ...]   # default: tests/vm
Exit status: pytest's; 0 with a "skipped" line when the VM cannot be had (no root, no
qemu, no runner); 124 when the budget ran out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNERS = (
    os.environ.get("IVM_RUNNER", ""),
    "/work/shared/ipvs-vm/run-in-vm.sh",
    str(ROOT / "tools" / "run-in-vm.sh"),
)
DEFAULT_BUDGET = 1200  # seconds: CI gives the whole suite 90 minutes, the rest takes ~10


def runner() -> Path | None:
    for candidate in RUNNERS:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def unavailable() -> str | None:
    """Why the IPVS VM cannot be booted here; None when it can."""
    if runner() is None:
        return "run-in-vm.sh not found (set IVM_RUNNER to the IPVS VM harness)"
    if os.geteuid() != 0:
        return "the IPVS VM harness needs root"
    if shutil.which("qemu-system-x86_64") is None and shutil.which("apt-get") is None:
        return "no qemu-system-x86_64 and no apt-get to install it"
    return None


def run_in_vm(
    argv: Sequence[str],
    *,
    cwd: Path = ROOT,
    writable: Sequence[Path] = (),
    env: dict[str, str] | None = None,
    timeout: int = DEFAULT_BUDGET,
    memory_mib: int = 1024,
) -> int:
    """Run `argv` as root in a fresh IPVS VM; its stdout and stderr go to ours."""
    path = runner()
    if path is None:
        raise RuntimeError(unavailable() or "no runner")
    cmd = [str(path), "-C", str(cwd), "-t", str(timeout), "-m", str(memory_mib)]
    for folder in writable:
        cmd += ["-w", str(folder)]
    for name, value in (env or {}).items():
        cmd += ["-e", f"{name}={value}"]
    cmd += ["--", *argv]
    # Ours plus a margin: the runner enforces the budget and kills qemu itself.
    return subprocess.run(cmd, check=False, timeout=timeout + 120).returncode


def pytest_in_vm(
    pytest_args: Sequence[str] = ("tests/vm",),
    *,
    budget: int = DEFAULT_BUDGET,
    python: str = sys.executable,
) -> int:
    """One pytest process, in one VM, over `pytest_args`."""
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args]
    return run_in_vm(argv, timeout=budget, env={"PYTHONDONTWRITEBYTECODE": "1"})


def main(args: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="seconds")
    parser.add_argument("pytest_args", nargs="*", help="(default: tests/vm)")
    opts, more = parser.parse_known_args(args)
    pytest_args = [*opts.pytest_args, *more] or ["tests/vm"]
    reason = unavailable()
    if reason is not None:
        print(f"tests/vm skipped: {reason}")
        return 0
    started = time.monotonic()
    rc = pytest_in_vm(pytest_args, budget=opts.budget)
    took = time.monotonic() - started
    verdict = "ran out of time" if rc == 124 else f"exit status {rc}"
    print(f"tests/vm in the IPVS VM: {verdict}, {took:.0f} s (budget {opts.budget} s)")
    return rc


if __name__ == "__main__":
    sys.exit(main())
