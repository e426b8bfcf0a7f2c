"""haproxy.cfg's `daemon` and `pidfile` under `pylvs run` (issue 20 #2): pylvs run detaches as
keepalived does (`-n` keeps it in the foreground, as `-db` keeps haproxy), and in daemon mode
it writes the pid file the configuration names, removed when it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import accepting, free_port

pytestmark = pytest.mark.slow


def argv(tmp: Path, cfg: Path, *more: str) -> list[str]:
    pids = ["-p", str(tmp / "p.pid"), "-r", str(tmp / "v.pid"), "-c", str(tmp / "c.pid")]
    control = ["--control", str(tmp / "pylvs.sock")]
    return [sys.executable, "-m", "pylvs", "run", "-f", str(cfg), *control, "--no-syslog",
            *pids, "--dataplane", "proxy", *more]  # fmt: skip


def config(tmp: Path, port: int) -> Path:
    cfg = tmp / "haproxy.cfg"
    cfg.write_text(
        f"global\n    daemon\n    pidfile {tmp}/haproxy.pid\n"
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
        f"    timeout server 5s\nlisten app\n    bind 127.0.0.1:{port}\n"
        f"    server s1 127.0.0.1:{free_port()}\n"
    )
    return cfg


def test_the_daemon_writes_the_configuration_s_pid_file(tmp_path: Path) -> None:
    port = free_port()
    cfg = config(tmp_path, port)
    done = subprocess.run(argv(tmp_path, cfg), timeout=60, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    pid = int((tmp_path / "haproxy.pid").read_text())
    try:
        assert accepting("127.0.0.1", port)
        assert pid == int((tmp_path / "p.pid").read_text())  # the daemon itself
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while (tmp_path / "haproxy.pid").exists():
        assert time.monotonic() < deadline, "the pid file stayed"
        time.sleep(0.05)


def test_in_the_foreground_there_is_no_pid_file(tmp_path: Path) -> None:
    port = free_port()
    cfg = config(tmp_path, port)
    proc = subprocess.Popen(argv(tmp_path, cfg, "-n"), stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not accepting("127.0.0.1", port):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert not (tmp_path / "haproxy.pid").exists()
    finally:
        proc.terminate()
        proc.wait(20)
