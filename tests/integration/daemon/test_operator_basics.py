"""One daemon per socket and pid file, signals that never kill it abruptly, clear refusals.

Issue 18 items 1 (a second daemon steals the control socket), 2 (SIGUSR1/SIGUSR2 kill the
daemon), 8 (errors that do not name their path) and 9 (`run -f DIRECTORY`), with real
`pylvs run` processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.daemon.daemon_helpers import (
    Backends,
    Director,
    StartDirector,
    http_get,
    one_service,
    pidfile_args,
    wait_for,
)


def pylvs(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylvs", *args], capture_output=True, text=True, timeout=30,
        env=env,
    )  # fmt: skip


def one(backends: Backends, director: StartDirector, tmp_path: Path) -> tuple[Director, int]:
    from tests.integration.daemon.daemon_helpers import free_port

    port = backends.start("rs1")
    vport = free_port()
    return director(one_service(vport, port)), vport


def test_a_second_daemon_on_the_same_socket_is_refused(
    backends: Backends, director: StartDirector, tmp_path: Path
) -> None:
    d, vport = one(backends, director, tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    r = pylvs("run", "-n", "-f", str(d.conf), "--control", d.control, *pidfile_args(other))
    assert r.returncode == 1
    assert f"another pylvs daemon is running on the control socket {d.control}" in r.stderr
    # the first one is untouched: its socket is there, it answers and forwards
    assert os.path.exists(d.control)
    assert "127.0.0.1" in d.ipvsadm("-Ln").stdout
    assert http_get(vport) == "rs1"
    demo = pylvs("demo", "--port", "0", "--control", d.control, "--http", "off")
    assert demo.returncode == 1 and "another pylvs daemon" in demo.stderr
    assert d.ipvsadm("-Ln").returncode == 0


def test_a_second_daemon_with_the_same_pid_file_is_refused(
    backends: Backends, director: StartDirector, tmp_path: Path
) -> None:
    d, _ = one(backends, director, tmp_path)
    sock = str(tmp_path / "second.sock")
    r = pylvs("run", "-n", "-f", str(d.conf), "--control", sock, *pidfile_args(tmp_path))
    assert r.returncode == 1
    assert str(tmp_path / "pylvs.pid") in r.stderr and "already running" in r.stderr
    assert not os.path.exists(sock)
    assert int((tmp_path / "pylvs.pid").read_text()) == d.proc.pid


def test_a_dead_daemon_s_socket_is_taken_over(
    backends: Backends, director: StartDirector, tmp_path: Path
) -> None:
    d, vport = one(backends, director, tmp_path)
    d.proc.kill()
    d.proc.wait()
    assert os.path.exists(d.control)  # left behind by kill -9
    again = Director(tmp_path, d.conf.read_text())
    try:
        assert again.ipvsadm("-Ln").returncode == 0
        assert http_get(vport) == "rs1"
    finally:
        again.stop()


@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGUSR2, signal.SIGRTMAX - 1])
def test_dump_signals_write_files_and_keep_the_daemon(
    backends: Backends, director: StartDirector, tmp_path: Path, sig: int
) -> None:
    d, vport = one(backends, director, tmp_path)
    d.proc.send_signal(sig)
    time.sleep(0.5)
    assert d.proc.poll() is None, d.output()
    assert http_get(vport) == "rs1"


def test_sigusr1_writes_keepalived_s_data_files(backends: Backends, tmp_path: Path) -> None:
    from tests.integration.daemon.daemon_helpers import free_port

    port = backends.start("rs1")
    vport = free_port()
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    d = Director(tmp_path, one_service(vport, port), env={"TMPDIR": str(dumps)})
    try:
        d.proc.send_signal(signal.SIGUSR1)
        d.proc.send_signal(signal.SIGUSR2)
        assert wait_for((dumps / "keepalived_check.data").exists)
        check = (dumps / "keepalived_check.data").read_text()
        assert check.startswith("------< Global definitions >------\n")
        assert f" VS VIP = 127.0.0.1, VPORT = {vport}" in check
        assert f"   RIP = 127.0.0.1, RPORT = {port}, WEIGHT = 1" in check
        assert (dumps / "keepalived_check.data").stat().st_mode & 0o777 == 0o600
        assert "pid = " in (dumps / "keepalived_parent.data").read_text()
        assert wait_for((dumps / "keepalived.stats").exists)
        assert (dumps / "keepalived.stats").read_text() == ""  # no VRRP instance here
        assert d.proc.poll() is None
    finally:
        assert d.stop() == 0


@pytest.mark.parametrize(
    "sig", [signal.SIGALRM, signal.SIGPWR, signal.SIGVTALRM, signal.SIGRTMIN + 5, signal.SIGXFSZ]
)
def test_signals_without_meaning_are_logged_and_ignored(
    backends: Backends, director: StartDirector, tmp_path: Path, sig: int
) -> None:
    d, vport = one(backends, director, tmp_path)
    d.proc.send_signal(sig)
    assert wait_for(lambda: "ignored" in d.output())
    assert d.proc.poll() is None
    assert http_get(vport) == "rs1"


@pytest.mark.parametrize("sig", [signal.SIGQUIT, signal.SIGABRT, signal.SIGINT, signal.SIGTERM])
def test_stop_signals_go_through_the_shutdown_path(
    backends: Backends, director: StartDirector, tmp_path: Path, sig: int
) -> None:
    d, _ = one(backends, director, tmp_path)
    d.proc.send_signal(sig)
    assert d.proc.wait(15) == 0, d.output()
    assert "Stopping" in d.output()
    assert not os.path.exists(d.control)
    assert not (tmp_path / "pylvs.pid").exists()


def test_run_refuses_a_directory_or_a_missing_file(tmp_path: Path) -> None:
    for path, says in ((tmp_path, "is a directory"), (tmp_path / "nope", "no such")):
        r = pylvs("run", "-n", "-f", str(path), "--control", str(tmp_path / "s"))
        assert r.returncode == 1 and says in r.stderr and str(path) in r.stderr
        assert "Traceback" not in r.stderr
        assert not (tmp_path / "s").exists()


def test_errors_name_the_socket_and_pid_file_paths(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text("")
    (tmp_path / "file").write_text("")
    bad = str(tmp_path / "file" / "pylvs.sock")
    r = pylvs("run", "-n", "-f", str(conf), "--control", bad, *pidfile_args(tmp_path))
    assert r.returncode == 1 and bad in r.stderr and "--control" in r.stderr
    badpid = str(tmp_path / "file" / "k.pid")
    r = pylvs("run", "-n", "-f", str(conf), "--control", str(tmp_path / "s"), "-p", badpid,
              "-r", str(tmp_path / "r.pid"), "-c", str(tmp_path / "c.pid"))  # fmt: skip
    assert r.returncode == 1 and badpid in r.stderr and "-p/--pid" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the daemon as nobody")
def test_permission_errors_say_what_to_do(tmp_path: Path) -> None:
    shared = Path(tempfile.mkdtemp(prefix="pylvs-test-"))  # pytest's tmp is root's only
    shared.chmod(0o755)
    conf = shared / "k.conf"
    conf.write_text("")
    conf.chmod(0o644)
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    r = subprocess.run(
        [*as_nobody, sys.executable, "-m", "pylvs", "run", "-n", "-f", str(conf),
         "-p", "/run/pylvs-test-denied.pid", "--control", "/run/pylvs-test-denied.sock"],
        capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": pythonpath()},
    )  # fmt: skip
    shutil.rmtree(shared)
    assert r.returncode == 1
    assert "/run/pylvs-test-denied.pid" in r.stderr and "Permission denied" in r.stderr
    assert "run as root, or give a writable path with -p/--pid" in r.stderr


def pythonpath() -> str:
    import pylvs

    return str(Path(pylvs.__file__).parents[1])


def test_status_and_ipvsadm_say_when_they_may_not_reach_the_socket(tmp_path: Path) -> None:
    sock = tmp_path / "denied.sock"
    import socket

    if os.geteuid() != 0:
        pytest.skip("needs root to try as another user")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sock))
        s.listen()
        sock.chmod(0o600)
        tmp_path.chmod(0o755)
        r = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable,
             "-m", "pylvs", "ipvsadm", "--control", str(sock), "-Ln"],
            capture_output=True, text=True, timeout=30,
            env={**os.environ, "PYTHONPATH": pythonpath()},
        )  # fmt: skip
    assert r.returncode == 2
    assert str(sock) in r.stderr and "mode 0600" in r.stderr


def test_config_test_flag_is_check(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text("virtual_server 10.0.0.1 80 {\n  lvs_sched nosuch\n}\n")
    check = pylvs("check", "-f", str(conf))
    t = pylvs("run", "-t", "-f", str(conf))
    assert (t.returncode, t.stderr) == (check.returncode, check.stderr)
    log = tmp_path / "t.log"
    t = pylvs("run", f"--config-test={log}", "-f", str(conf))
    assert t.returncode == check.returncode and log.read_text() == check.stderr
    assert json.dumps(t.stderr) == '""'


def test_check_without_file_reads_run_s_default(tmp_path: Path) -> None:
    r = pylvs("check")
    assert "/etc/keepalived/keepalived.conf" in (r.stderr + r.stdout)
    assert "Traceback" not in r.stderr and "-f" not in r.stderr.split(":", 1)[0]
