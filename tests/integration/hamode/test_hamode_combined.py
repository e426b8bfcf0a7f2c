"""One daemon for the seed's whole director: `pylvs run -f keepalived.conf -f haproxy.cfg`.

The keepalived.conf's virtual server and the haproxy.cfg's frontends and backends are served by
the same process, each as its own mode does it (ipvsadm sees the virtual server, the stats
socket sees the backends), where seed 004 runs keepalived beside haproxy."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.hamode.hamode_helpers import Servers, accepting, ask, free_port


def _daemon(tmp: Path, *configs: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "pylvs", "run", "-n", "--no-syslog", "--grace", "1"]
    for c in configs:
        argv += ["-f", str(c)]
    argv += ["--control", str(tmp / "pylvs.sock"), "-p", str(tmp / "p.pid")]
    argv += ["-r", str(tmp / "v.pid"), "-c", str(tmp / "c.pid"), "--dataplane", "proxy"]
    with open(tmp / "out.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _stats(path: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(command.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


def _served(path: Path) -> dict[str, int]:
    """Sessions each server of backend `app` took (show stat's stot), by server name."""
    rows = [line.split(",") for line in _stats(path, "show stat").splitlines()[1:] if line]
    return {r[1]: int(r[7]) for r in rows if len(r) > 7 and r[0] == "app"}


def test_a_keepalived_conf_and_a_haproxy_cfg_run_in_one_daemon(
    tmp_path: Path, servers: Servers
) -> None:
    ka = [servers.add(f"ka{i}") for i in (1, 2)]
    ha = [servers.add(f"ha{i}") for i in (1, 2)]
    vs_port, fe_port = free_port(), free_port()
    keepalived = tmp_path / "keepalived.conf"
    reals = "".join(
        f"    real_server 127.0.0.1 {s.port} {{\n        weight 1\n    }}\n" for s in ka
    )
    keepalived.write_text(
        f"virtual_server 127.0.0.1 {vs_port} {{\n    lb_algo rr\n    lb_kind NAT\n"
        f"    protocol TCP\n{reals}}}\n"
    )
    haproxy = tmp_path / "haproxy.cfg"
    stats = tmp_path / "haproxy.sock"
    backends = "".join(f"    server {s.name} 127.0.0.1:{s.port}\n" for s in ha)
    haproxy.write_text(
        f"global\n    stats socket {stats} mode 600 level admin\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 10s\n"
        f"    timeout server 10s\nlisten app\n    bind 127.0.0.1:{fe_port}\n"
        f"    balance roundrobin\n{backends}"
    )
    proc = _daemon(tmp_path, keepalived, haproxy)
    try:
        deadline = time.monotonic() + 20
        while not (accepting("127.0.0.1", vs_port) and accepting("127.0.0.1", fe_port)):
            assert proc.poll() is None, (tmp_path / "out.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "out.log").read_text()
            time.sleep(0.05)
        time.sleep(0.3)  # the readiness probes' own streams end
        before = _served(stats)
        assert sorted(ask(vs_port) for _ in range(4)) == ["ka1", "ka1", "ka2", "ka2"]
        assert sorted(ask(fe_port) for _ in range(4)) == ["ha1", "ha1", "ha2", "ha2"]
        listing = subprocess.run(
            [sys.executable, "-m", "pylvs", "ipvsadm", "--control", str(tmp_path / "pylvs.sock"),
             "-Ln"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
        assert f"TCP  127.0.0.1:{vs_port} rr" in listing
        assert all(f"127.0.0.1:{s.port}" in listing for s in ka)
        after = _served(stats)
        assert [after[s.name] - before[s.name] for s in ha] == [2, 2]
    finally:
        _stop(proc)


def test_two_keepalived_confs_are_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a.conf", tmp_path / "b.conf"
    for path in (first, second):
        path.write_text("global_defs {\n    router_id test\n}\n")
    proc = _daemon(tmp_path, first, second)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(30)
    _stop(proc)
    out = (tmp_path / "out.log").read_text()
    assert proc.returncode == 1, out
    assert f"{second}:1:1: error: a second keepalived configuration" in out
