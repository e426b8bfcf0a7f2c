"""`pylvs haproxy` running a configuration as haproxy 2.6.12 runs it (issue 20 #7): the same test
runs both, real processes on loopback.  Foreground and `-D` with `-p`, HAProxy's signals (USR1
soft stop, TERM hard stop), `-sf` handing the ports over, `-W` with the `-S` master CLI (`show
proc`, `@1 show info`), a reload by SIGUSR2, `program` sections, and `bind "fd@${NAME}"`
listeners the parent bound."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.port_helpers import free_port as free_port  # the tests import it from here

pytestmark = pytest.mark.slow

PROGRAMS = {
    "haproxy": ["haproxy"],
    "pylvs": [sys.executable, "-m", "pylvs", "haproxy"],
}
DEFAULTS = (
    "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
)


def _no_runtime() -> str | None:
    """Why pylvs cannot run a haproxy.cfg in this build (None: it can)."""
    from pylvs.config.registry import names

    if "haproxy" not in names():
        return "no haproxy runtime is registered in this build (config/registry.py)"
    return None


def _no_inherited_listeners() -> str | None:
    """Why the runtime cannot listen on a parent's `fd@N` socket (None: it can)."""
    why = _no_runtime()
    if why is not None:
        return why
    spec = importlib.import_module("pylvs.model.proxy_spec")
    if "fd" not in {f.name for f in dataclasses.fields(spec.ListenAddress)}:
        return "the runtime's listeners take no fd@ socket yet (model/proxy_spec.ListenAddress)"
    return None


@pytest.fixture(params=sorted(PROGRAMS))
def program(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "haproxy" and shutil.which("haproxy") is None:
        pytest.skip("needs the real haproxy")
    why = _no_runtime() if request.param == "pylvs" else None
    if why is not None:
        pytest.skip(why)
    return PROGRAMS[request.param]


@contextlib.contextmanager
def echo_server() -> Iterator[int]:
    """A server answering every line with `echo:` and the line."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            with contextlib.suppress(OSError):
                while data := conn.recv(4096):
                    conn.sendall(b"echo:" + data)

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                conn, _ = srv.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield int(srv.getsockname()[1])
    finally:
        stop.set()
        t.join(5)
        srv.close()


def config(tmp: Path, backend: int, bind: str, extra: str = "") -> Path:
    path = tmp / "haproxy.cfg"
    path.write_text(
        f"global\n    stats socket {tmp}/stats.sock level admin\n{DEFAULTS}"
        f"listen app\n    bind {bind}\n    server s1 127.0.0.1:{backend}\n{extra}"
    )
    return path


def ask(port: int, line: bytes = b"hello\n", timeout: float = 10.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as c:
                c.sendall(line)
                return c.recv(4096)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_for(predicate: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def cli(path: str, command: str, timeout: float = 10) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode()


def start(program: list[str], *args: str, **kw: object) -> subprocess.Popen[bytes]:
    """The program in the background; what it says goes to a log file next to its config."""
    folder = Path(args[args.index("-f") + 1]).parent
    with open(folder / f"log.{time.monotonic_ns()}", "wb") as log:
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            [*program, *args], stdout=log, stderr=subprocess.STDOUT, **kw
        )


def stopped(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


@contextlib.contextmanager
def serving(program: list[str], tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The program in the foreground (-db) relaying a port to an echo server, answering."""
    port = free_port()
    with echo_server() as backend:
        proc = start(program, "-db", "-f", str(config(tmp, backend, f"127.0.0.1:{port}")))
        try:
            assert ask(port) == b"echo:hello\n"
            yield proc, port
        finally:
            stopped(proc)


def test_foreground_serves_then_soft_stops_on_usr1(program: list[str], tmp_path: Path) -> None:
    with serving(program, tmp_path) as (proc, port):
        proc.send_signal(signal.SIGUSR1)
        assert proc.wait(15) == 0  # soft stop: nothing left to finish, exit 0
        assert refused(port)


def test_sigterm_is_a_hard_stop(program: list[str], tmp_path: Path) -> None:
    with serving(program, tmp_path) as (proc, _):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == -signal.SIGTERM  # no handler: the signal ends it


def test_daemon_writes_its_pid_and_the_parent_returns(program: list[str], tmp_path: Path) -> None:
    port = free_port()
    pidfile = tmp_path / "pid"
    with echo_server() as backend:
        cfg = config(tmp_path, backend, f"127.0.0.1:{port}")
        done = subprocess.run([*program, "-D", "-p", str(pidfile), "-f", str(cfg)], timeout=60,
                              capture_output=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        pid = int(pidfile.read_text().split()[0])
        try:
            assert ask(port) == b"echo:hello\n"
            os.kill(pid, 0)
        finally:
            os.kill(pid, signal.SIGTERM)
        wait_for(lambda: refused(port))


def test_sf_takes_the_ports_over(program: list[str], tmp_path: Path) -> None:
    port = free_port()
    with echo_server() as backend:
        cfg = str(config(tmp_path, backend, f"127.0.0.1:{port}"))
        old = start(program, "-db", "-f", cfg)
        new = None
        try:
            assert ask(port) == b"echo:hello\n"
            new = start(program, "-db", "-f", cfg, "-sf", str(old.pid))
            assert old.wait(20) == 0  # told to finish (SIGUSR1), it did
            assert ask(port) == b"echo:hello\n"  # the new one serves
            assert new.poll() is None
        finally:
            stopped(old)
            if new is not None:
                stopped(new)


def test_fd_listeners_from_the_parent(program: list[str], tmp_path: Path) -> None:
    why = _no_inherited_listeners() if program == PROGRAMS["pylvs"] else None
    if why is not None:
        pytest.skip(why)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    fd = listener.fileno()
    with echo_server() as backend:
        cfg = config(tmp_path, backend, '"fd@${FE}"')
        proc = start(
            program, "-db", "-f", str(cfg), pass_fds=(fd,), env={**os.environ, "FE": str(fd)}
        )
        listener.close()  # the child has it now
        try:
            assert ask(port) == b"echo:hello\n"
        finally:
            stopped(proc, signal.SIGTERM)


def test_master_worker_cli_and_reload(program: list[str], tmp_path: Path) -> None:
    port = free_port()
    master_sock, pidfile = str(tmp_path / "master.sock"), tmp_path / "pid"
    extra = "program sleeper\n    command sleep 60\n"
    with echo_server() as backend:
        cfg = config(tmp_path, backend, f"127.0.0.1:{port}", extra)
        proc = start(program, "-W", "-S", master_sock, "-p", str(pidfile), "-f", str(cfg))
        try:
            wait_for(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
            assert int(pidfile.read_text()) == proc.pid  # the master's pid
            assert ask(port) == b"echo:hello\n"
            table = ""

            def answered() -> bool:
                # haproxy's master re-executes itself once started (its "wait mode"): a CLI
                # connection accepted just before that is left unanswered
                nonlocal table
                try:
                    table = cli(master_sock, "show proc", 2)
                except OSError:
                    return False
                return "# workers" in table

            wait_for(answered)
            assert table.startswith("#<PID>          <type>          <reloads>")
            rows = [line.split() for line in table.splitlines() if line and line[0].isdigit()]
            kinds = [row[1] for row in rows]
            assert kinds == ["master", "worker", "sleeper"], table
            first_worker = int(rows[1][0])
            assert "Process_num: 1\n" in cli(master_sock, "@1 show info")
            proc.send_signal(signal.SIGUSR2)  # reload

            def new_worker() -> bool:
                try:  # the master re-executes itself: its CLI may drop a connection meanwhile
                    t = cli(master_sock, "show proc", 2)
                except OSError:
                    return False
                return "# workers" in t and str(first_worker) not in t.split("# old workers")[0]

            wait_for(new_worker, 30)
            assert ask(port) == b"echo:hello\n"
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 130  # 128 + SIGINT: what the workers ended with
        finally:
            stopped(proc)


def test_ws_tells_systemd(program: list[str], tmp_path: Path) -> None:
    port = free_port()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify"))
    listener.settimeout(30)
    with echo_server() as backend, listener:
        cfg = config(tmp_path, backend, f"127.0.0.1:{port}")
        env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")}
        proc = start(program, "-Ws", "-f", str(cfg), env=env)
        try:
            said = listener.recv(4096).decode()
            while said == "RELOADING=1":  # haproxy re-executes its master once started
                said = listener.recv(4096).decode()
            assert said.split("\n")[:2] == ["READY=1", f"MAINPID={proc.pid}"]
            assert ask(port) == b"echo:hello\n"  # ready means listening
        finally:
            stopped(proc)
