"""keepalived's command line on `pylvs run` (issue 19 item 1), each flag doing what keepalived's
does; readiness for systemd (Type=notify) through a fake notify socket; detaching."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.daemon.daemon_helpers import (
    Backends,
    Director,
    answers,
    free_port,
    http_get,
    one_service,
    pidfile_args,
    wait_for,
)


def pylvs(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylvs", *args], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.skipif(shutil.which("keepalived") is None, reason="needs the keepalived binary")
@pytest.mark.parametrize("name", ["STOP", "RELOAD", "DATA", "STATS", "STATS_CLEAR", "JSON"])
def test_signum_is_keepalived_s(name: str) -> None:
    theirs = subprocess.run(["keepalived", f"--signum={name}"], capture_output=True, text=True)
    ours = pylvs("run", f"--signum={name}")
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
    assert pylvs("run", "--signum=NOPE").returncode == 1


@pytest.mark.parametrize(
    "daemon_args",
    ["-D", "-D -S 0", "--vrrp -D", "-D -d -S 0", "--log-detail --dump-conf", "-DlnC",
     "-C --dont-release-vrrp --dont-release-ipvs -R -B --all -X", "-x -a -A /x -b /y"],
)  # fmt: skip
def test_debian_default_daemon_args_carry_over(
    backends: Backends, tmp_path: Path, daemon_args: str
) -> None:
    port = backends.start("rs1")
    vport = free_port()
    sock = str(tmp_path / "s.sock")
    conf = tmp_path / "k.conf"
    conf.write_text(one_service(vport, port))
    argv = [sys.executable, "-m", "pylvs", "run", "-n", "-f", str(conf), "--control", sock]
    argv += [*pidfile_args(tmp_path), *daemon_args.split()]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert wait_for(lambda: answers(sock) or proc.poll() is not None)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if "--vrrp" in daemon_args:  # VRRP only: no virtual server is served
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", vport)) != 0
        else:
            assert http_get(vport) == "rs1"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    if "-x" in daemon_args:
        assert "pylvs has no SNMP subsystem; the option is ignored" in err
    if "-d" in daemon_args.split() or "--dump-conf" in daemon_args:
        assert '"virtual_servers"' in err or "virtual_server" in err


def start(
    tmp_path: Path, backends: Backends, *flags: str, env: dict[str, str] | None = None
) -> tuple[Director, int]:
    port = backends.start("rs1")
    vport = free_port()
    d = Director(tmp_path, one_service(vport, port), env=env, flags=flags)
    return d, vport


def test_pid_files_follow_what_runs(backends: Backends, tmp_path: Path) -> None:
    d, _ = start(tmp_path, backends, "-C")
    try:
        assert int((tmp_path / "pylvs.pid").read_text()) == d.proc.pid
        assert int((tmp_path / "c.pid").read_text()) == d.proc.pid  # checkers run
        assert not (tmp_path / "vrrp.pid").exists()  # -C: no VRRP
    finally:
        assert d.stop() == 0
    assert not any((tmp_path / n).exists() for n in ("pylvs.pid", "c.pid", "vrrp.pid"))


def test_umask_and_core_dump_limit(backends: Backends, tmp_path: Path) -> None:
    d, _ = start(tmp_path, backends, "-u", "0027", "-m")
    try:
        status = Path(f"/proc/{d.proc.pid}/status").read_text()
        assert "Umask:\t0027" in status
        limits = Path(f"/proc/{d.proc.pid}/limits").read_text()
        assert any(
            line.startswith("Max core file size") and "unlimited" in line
            for line in limits.splitlines()
        )
    finally:
        d.stop()


def test_log_detail_and_keepalived_names_on_the_console(backends: Backends, tmp_path: Path) -> None:
    d, _ = start(tmp_path, backends, "-D", "-l", "--log-names", "keepalived")
    try:
        d.proc.send_signal(signal.SIGUSR2)
        assert wait_for(lambda: "Received SIGUSR2: stats" in d.output())  # a DEBUG line
        assert " Keepalived: pylvs started" in d.output()
    finally:
        d.stop()


def test_version_and_genhash_mode() -> None:
    from pylvs import __version__

    r = pylvs("run", "-v")
    assert r.returncode == 0 and __version__ in r.stdout
    r = pylvs("run", "-T", "--help")  # keepalived -T: the rest is genhash's command line
    assert r.returncode == 0 and "--url" in r.stdout and "--use-file" not in r.stdout


def test_readiness_is_sent_when_the_table_is_applied(backends: Backends, tmp_path: Path) -> None:
    """Type=notify: READY=1 only once the virtual service forwards; RELOADING=1 / READY=1
    around a SIGHUP reload; STOPPING=1 on SIGTERM.  No fork under a service manager."""
    port = backends.start("rs1")
    vport = free_port()
    conf = tmp_path / "k.conf"
    conf.write_text(one_service(vport, port))
    notify = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sink:
        sink.bind(str(notify))
        sink.settimeout(20)
        env = {**os.environ, "NOTIFY_SOCKET": str(notify), "TMPDIR": str(tmp_path)}
        argv = [sys.executable, "-m", "pylvs", "run", "-f", str(conf)]  # no -n
        argv += ["--control", str(tmp_path / "s.sock"), *pidfile_args(tmp_path)]
        proc = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
        try:
            assert sink.recv(4096) == b"READY=1"
            assert http_get(vport) == "rs1"  # forwarding when readiness was announced
            assert proc.poll() is None  # not forked away: systemd's main pid stays
            assert int((tmp_path / "pylvs.pid").read_text()) == proc.pid
            proc.send_signal(signal.SIGHUP)
            assert [sink.recv(4096), sink.recv(4096)] == [b"RELOADING=1", b"READY=1"]
            proc.send_signal(signal.SIGTERM)
            assert sink.recv(4096) == b"STOPPING=1"
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_without_dont_fork_the_daemon_detaches_once_ready(
    backends: Backends, tmp_path: Path
) -> None:
    port = backends.start("rs1")
    vport = free_port()
    conf = tmp_path / "k.conf"
    conf.write_text(one_service(vport, port))
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "INVOCATION_ID")}
    env["TMPDIR"] = str(tmp_path)
    sock = str(tmp_path / "s.sock")
    r = pylvs("run", "-f", str(conf), "--control", sock, "-G", *pidfile_args(tmp_path), env=env)
    assert r.returncode == 0, r.stderr
    pid = int((tmp_path / "pylvs.pid").read_text())
    try:
        assert http_get(vport) == "rs1"  # ready when `pylvs run` returned
        assert answers(sock)
        assert os.getsid(pid) == pid or os.getsid(pid) != os.getsid(0)  # its own session
        assert Path(f"/proc/{pid}/cwd").resolve() == Path("/")
    finally:
        os.kill(pid, signal.SIGTERM)
        assert wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid))
    assert not (tmp_path / "pylvs.pid").exists()
    # A second start while the first runs is refused in the foreground, before detaching.
    r = pylvs("run", "-f", str(tmp_path), "--control", sock, env=env)
    assert r.returncode == 1 and "is a directory" in r.stderr


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except OSError:
        return True


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a network namespace")
def test_namespace_flag_runs_inside_it(backends: Backends, tmp_path: Path) -> None:
    ns = f"pylvs-ops{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        vport = free_port()
        d = Director(
            tmp_path, one_service(vport, 9), flags=("-s", ns)
        )  # a backend is not needed: only where it listens is checked
        try:
            listening = subprocess.run(
                ["ip", "netns", "exec", ns, "ss", "-Htln", f"sport = :{vport}"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            assert f"127.0.0.1:{vport}" in listening
            with socket.socket() as s:  # not in the host's namespace
                assert s.connect_ex(("127.0.0.1", vport)) != 0
        finally:
            d.stop()
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


JOURNAL_SINK = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/run/systemd/journal/socket")
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b"\\x1e")
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare (a private mount namespace with its own /run)",
)
def test_as_a_service_it_logs_to_the_journal_and_not_stderr(
    backends: Backends, tmp_path: Path
) -> None:
    """systemd's journal gets the records (with pylvs's or keepalived's names); stderr, which
    the journal would also capture, gets none: never both.  /run is a tmpfs of a private mount
    namespace, so the fake journal socket is nobody else's."""
    port = backends.start("rs1")
    vport = free_port()
    conf = tmp_path / "k.conf"
    conf.write_text(one_service(vport, port))
    err, records = tmp_path / "stderr", tmp_path / "journal"
    err.write_text("")
    st = os.stat(err)
    sock = tmp_path / "s.sock"
    run = [sys.executable, "-m", "pylvs", "run", "-f", str(conf), "--control", str(sock),
           *pidfile_args(tmp_path), "--log-names", "keepalived"]  # fmt: skip
    script = (
        "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
        f"{{ {sys.executable} -c '{JOURNAL_SINK}' {records} & }} && "
        f"while [ ! -e {records}.ready ]; do sleep 0.05; done && "
        f"exec {' '.join(run)} 2>>{err}"
    )
    env = {**os.environ, "INVOCATION_ID": "0123", "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
    env.pop("NOTIFY_SOCKET", None)
    proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                            env=env, start_new_session=True)  # fmt: skip
    try:
        assert wait_for(lambda: answers(str(sock)) or proc.poll() is not None, 30)
        assert proc.poll() is None, err.read_text()
        assert wait_for(lambda: records.exists() and b"pylvs started" in records.read_bytes())
        fields = [
            dict(line.split("=", 1) for line in rec.decode().splitlines() if "=" in line)
            for rec in records.read_bytes().split(b"\x1e")
            if rec
        ]
        started = next(f for f in fields if "pylvs started" in f.get("MESSAGE", ""))
        assert started["SYSLOG_IDENTIFIER"] == "Keepalived"
        assert started["PRIORITY"] == "6" and started["SYSLOG_FACILITY"] == "3"
        os.kill(int((tmp_path / "pylvs.pid").read_text()), signal.SIGTERM)  # the daemon
        assert proc.wait(15) == 0
        assert wait_for(lambda: b"MESSAGE=Stopping" in records.read_bytes())
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the fake journal
        proc.wait(15)
    assert err.read_text() == ""  # nothing on stderr: the journal would have it twice
