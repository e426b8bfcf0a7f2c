"""A `pylvs run --dataplane ipvs` daemon for VM tests, and `pylvs ipvsadm` without a process.

Python starts slowly in the VM (0.5-1 s, imports on top), so `pylvs ipvsadm` runs in the
test's own process: `PylvsIpvsadm` calls the CLI's `main` with argv, stdin, stdout and stderr
redirected, which is exactly what the `pylvs ipvsadm` program does (the daemon answers over
its control socket).  The daemon itself is a real process (`Daemon`), in a network namespace
of the caller's choosing (its IPVS table is that namespace's).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pylvs.cli.ipvsadm import main as ipvsadm_main


@dataclass(frozen=True)
class Output:
    rc: int
    stdout: str
    stderr: str

    def text(self) -> str:
        return f"rc={self.rc}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"


def real_ipvsadm(*args: str, stdin: str = "", netns: str | None = None) -> Output:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    done = subprocess.run(
        [*prefix, "ipvsadm", *args], input=stdin, capture_output=True, text=True, check=False
    )
    return Output(done.returncode, done.stdout, done.stderr)


class Daemon:
    """`pylvs run --dataplane ipvs -C` with `config`, in `netns` (None: the VM's own)."""

    def __init__(
        self, tmp: Path, config: str, *, netns: str | None = None, extra: tuple[str, ...] = ()
    ) -> None:
        self.tmp = tmp
        self.conf = tmp / "keepalived.conf"
        self.conf.write_text(config)
        self.control = str(tmp / "pylvs.sock")
        self.logfile = tmp / "pylvs.log"
        prefix = ["ip", "netns", "exec", netns] if netns else []
        with open(self.logfile, "w") as log:
            self.proc = subprocess.Popen(
                [*prefix, sys.executable, "-m", "pylvs", "run", "-n", "-f", str(self.conf),
                 "--control", self.control, "--no-syslog", "--dataplane", "ipvs", "-C",
                 "--log-level", "DEBUG", "-p", str(tmp / "pylvs.pid"),
                 "-r", str(tmp / "vrrp.pid"), "-c", str(tmp / "checkers.pid"), *extra],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 120  # a cold start in the VM takes seconds
        while not os.path.exists(self.control):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pylvs run did not start:\n" + self.log())
            time.sleep(0.1)
        self.ipvsadm = PylvsIpvsadm(self.control)

    def log(self) -> str:
        return self.logfile.read_text(errors="replace")

    def reload(self, config: str) -> None:
        self.conf.write_text(config)
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


class PylvsIpvsadm:
    """`pylvs ipvsadm --control PATH ARGS` run in this process."""

    def __init__(self, control: str) -> None:
        self.control = control

    def __call__(self, *args: str, stdin: str = "") -> Output:
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = ipvsadm_main(["--control", self.control, *args])
        finally:
            sys.stdin = saved
        return Output(rc, out.getvalue(), err.getvalue())
