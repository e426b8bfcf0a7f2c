"""Starting and stopping the lab's processes inside their namespaces, with pid files.

Each process is `ip netns exec NS python -m ...` (ip execs the command, so the pid is the
program's), in its own session, its output in `<proc>.log`, its pid in `<proc>.pid`.  A pid is
only signalled while /proc/<pid>/cmdline still names the program it was started as, so a
recycled pid is never hit.  The processes of a director are `pylvs run --dataplane nftables`
(or `ipvs`, the kernel's IPVS, where the kernel has it: LVS and health checks) and, while
`pylvs run` has no VRRP of its own, the VRRP-only driver `python -m pylvs.vrrp.run` next to
it (`director_programs`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .state import LabPaths
from .topology import Mode, Topology

# `pylvs run` runs VRRP itself (the lab starts one daemon per director); set this to False to
# run VRRP in a separate `python -m pylvs.vrrp.run` process instead.
VRRP_IN_RUN = True

# The processes this process started, kept so they are reaped with poll() (not left as
# zombies, not warned about as "still running" when a Popen object is collected).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def vrrp_available() -> bool:
    """Is there a VRRP driver to move the VIP (`pylvs.vrrp.run`)?"""
    if VRRP_IN_RUN:
        return True
    try:
        return importlib.util.find_spec("pylvs.vrrp.run") is not None
    except ImportError:
        return False


@dataclass(frozen=True, slots=True)
class Program:
    proc: str  # name of its pid / log files, e.g. "dir1-pylvs"
    ns: str
    argv: tuple[str, ...]
    marker: str  # a word of its command line, checked before signalling a pid


def director_programs(topo: Topology, paths: LabPaths, node: str) -> list[Program]:
    conf = str(paths.conf(node))
    # --haproxy: the haproxy.cfg's frontends run on the proxy plane beside VRRP (seed 004).
    dataplane = "proxy" if topo.options.haproxy else topo.options.dataplane
    run = [
        sys.executable, "-m", "pylvs", "run", "-n", "-f", conf,
        "--control", str(paths.control(node)), "--pid", str(paths.dir / f"{node}-run.pid"),
        "--vrrp_pid", str(paths.dir / f"{node}-run-vrrp.pid"),
        "--checkers_pid", str(paths.dir / f"{node}-run-checkers.pid"),
        "--dataplane", dataplane, "--no-syslog",
    ]  # fmt: skip
    if topo.options.haproxy:
        run += ["-f", str(paths.haproxy_cfg(node))]
    if topo.mode is Mode.DR and dataplane == "nftables":
        run += ["--dr-interface", "eth0"]
    programs = [Program(f"{node}-pylvs", topo.ns(node), tuple(run), "pylvs")]
    if not VRRP_IN_RUN and vrrp_available():
        vrrp = (sys.executable, "-m", "pylvs.vrrp.run", "-f", conf)
        programs.append(Program(f"{node}-vrrp", topo.ns(node), vrrp, "pylvs.vrrp.run"))
    return programs


def httpd_program(topo: Topology, paths: LabPaths, node: str) -> Program:
    argv = (
        sys.executable, "-m", "pylvs.lab.httpd", "--name", node,
        "--port", str(topo.rs_port), "--ready", str(paths.ready(f"{node}-httpd")),
    )  # fmt: skip
    return Program(f"{node}-httpd", topo.ns(node), argv, "pylvs.lab.httpd")


def start(program: Program, paths: LabPaths) -> int:
    paths.dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        paths.ready(program.proc).unlink()
    with open(paths.log(program.proc), "ab") as log:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", program.ns, *program.argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=_env(),
        )
    _CHILDREN[proc.pid] = proc
    paths.pid(program.proc).write_text(f"{proc.pid}\n{program.marker}\n")
    return proc.pid


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # The children import pylvs from wherever this process did (a source checkout too).
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _reap(pid: int) -> bool:
    """True when `pid` is our child and has exited (reaps the zombie)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return False
        del _CHILDREN[pid]
        return True
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid


def alive(pid: int, marker: str) -> bool:
    if pid <= 0 or _reap(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return marker in cmdline


def read_pid(paths: LabPaths, proc: str) -> tuple[int, str]:
    try:
        lines = paths.pid(proc).read_text().split("\n")
    except FileNotFoundError:
        return 0, ""
    try:
        return int(lines[0]), lines[1] if len(lines) > 1 else ""
    except ValueError:
        return 0, ""


def running(paths: LabPaths, proc: str) -> int:
    """The pid of `proc` when it runs, else 0."""
    pid, marker = read_pid(paths, proc)
    return pid if pid and alive(pid, marker) else 0


def signal_proc(paths: LabPaths, proc: str, sig: signal.Signals) -> int:
    pid = running(paths, proc)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return pid


def stop(
    paths: LabPaths, proc: str, sig: signal.Signals = signal.SIGTERM, wait: float = 5.0
) -> bool:
    """Signal `proc` and wait for it to exit (SIGKILL after `wait` s); True if it ran."""
    pid, marker = read_pid(paths, proc)
    if not pid or not alive(pid, marker):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + wait
    while alive(pid, marker):
        if time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 2.0
        time.sleep(0.02)
    return True


def patience(seconds: float) -> float:
    """How long to wait for something that takes `seconds` on an ordinary machine: times
    $PYLVS_LAB_PATIENCE (default 1), for slow ones (the IPVS VM runs Python ~20x slower)."""
    try:
        scale = float(os.environ.get("PYLVS_LAB_PATIENCE", "1"))
    except ValueError:
        scale = 1.0
    return seconds * max(scale, 1.0)


def wait_for(check: object, timeout: float, step: float = 0.05) -> bool:
    """Poll the callable `check` until it returns true or `timeout` passes."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)
