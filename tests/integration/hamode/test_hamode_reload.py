"""Reloads and server-state files (issue 20 #2): `pylvs run -f haproxy.cfg` reloaded by SIGHUP
keeps what haproxy 2.6.12 keeps across `-sf` with a `server-state-file` written just before,
and reads that file at start as haproxy does; live connections run on, no connection is
refused while the listeners change hands, stick tables keep their entries."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Servers, accepting, free_port, hold
from tests.integration.hamode.hamode_helpers import stats_command as cli

pytestmark = pytest.mark.slow


def config(tmp: Path, port: int, servers: Servers, *, extra: str = "", weight4: int = 40) -> str:
    s = {n: f"127.0.0.1:{servers[n].port}" for n in ("s1", "s2", "s3", "s4", "s5")}
    return (
        f"global\n    stats socket {tmp}/stats level admin\n"
        f"    server-state-file {tmp}/state\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 30s\n"
        "    timeout server 30s\n    load-server-state-from-file global\n"
        f"listen web\n    bind 127.0.0.1:{port}\n    balance roundrobin\n"
        f"    server s1 {s['s1']} weight 10\n    server s2 {s['s2']} weight 20\n"
        f"    server s3 {s['s3']} weight 30\n    server s4 {s['s4']} weight {weight4}\n"
        f"    server s5 {s['s5']} weight 50\n"
        "    stick-table type ip size 100 expire 10m\n    stick on src\n" + extra
    )


def start(kind: str, cfg: Path, port: int, tmp: Path, *more: str) -> subprocess.Popen[bytes]:
    if kind == "pylvs":
        argv = [sys.executable, "-m", "pylvs", "run", "-n", "-f", str(cfg), "--control",
                str(tmp / "pylvs.sock"), "--no-syslog", "--grace", "30", "-p",
                str(tmp / "p.pid"), "-r", str(tmp / "v.pid"), "-c", str(tmp / "c.pid"),
                "--dataplane", "proxy"]  # fmt: skip
    else:
        assert HAPROXY is not None
        argv = [HAPROXY, "-db", "-f", str(cfg), *more]
    with open(tmp / f"{kind}.log", "ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while not accepting("127.0.0.1", port) or not (tmp / "stats").exists():
        alive = proc.poll() is None and time.monotonic() < deadline
        assert alive, (tmp / f"{kind}.log").read_text()
        time.sleep(0.05)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def operate(stats: Path) -> None:
    """What an operator did before the reload."""
    for command in (
        "disable server web/s1",
        "set server web/s2 state drain",
        "set weight web/s3 7",
        "set weight web/s4 9",  # its configured weight changes: the configuration wins
        "set server web/s5 health down",
    ):
        assert cli(stats, command) == "\n", command


def states(text: str) -> dict[str, tuple[str, ...]]:
    """server -> (srv_op_state, srv_admin_state, srv_uweight, srv_iweight) of `show servers
    state`."""
    out: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines()[2:]:
        f = line.split()
        if f:
            out[f[3]] = (f[5], f[6], f[7], f[8])
    return out


def weight(stats: Path, server: str) -> str:
    """The server's user weight, "" while the socket is being opened again."""
    try:
        return states(cli(stats, "show servers state"))[server][2]
    except (OSError, KeyError):
        return ""


@pytest.fixture
def five() -> Iterator[Servers]:
    s = Servers()
    for name in ("s1", "s2", "s3", "s4", "s5"):
        s.add(name, "hold")
    try:
        yield s
    finally:
        s.close()


def wait_for(what: object, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while not what():  # type: ignore[operator]
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.skipif(HAPROXY is None, reason="needs the real haproxy")
def test_reload_and_state_file_as_haproxy(tmp_path: Path, five: Servers) -> None:
    """The same operator changes, then the configuration with s4's weight changed: haproxy
    -sf reading the state file, pylvs reloading in place, and pylvs started afresh on
    haproxy's file all give the servers the same states."""
    got = {}
    for kind in ("haproxy", "pylvs"):
        tmp = tmp_path / kind
        tmp.mkdir()
        port = free_port()
        cfg = tmp / "haproxy.cfg"
        cfg.write_text(config(tmp, port, five))
        proc = start(kind, cfg, port, tmp)
        new = None
        try:
            operate(tmp / "stats")
            (tmp / "state").write_text(cli(tmp / "stats", "show servers state"))
            cfg.write_text(config(tmp, port, five, weight4=41))
            if kind == "haproxy":
                (tmp / "stats").unlink()
                new = start(kind, cfg, port, tmp, "-sf", str(proc.pid))
            else:
                proc.send_signal(signal.SIGHUP)
                stats = tmp / "stats"
                wait_for(lambda: weight(stats, "s4") == "41")  # noqa: B023 - waited for here
            got[kind] = states(cli(tmp / "stats", "show servers state"))
        finally:
            stop(proc)
            if new is not None:
                stop(new)
        if kind == "haproxy":
            hap_state = (tmp / "state").read_text()
    assert got["pylvs"] == got["haproxy"]
    assert got["haproxy"]["s1"][1] == "1" and got["haproxy"]["s3"][2] == "7"  # kept
    assert got["haproxy"]["s4"][2] == "41"  # the configuration's new weight won

    # pylvs started on the file haproxy wrote: the same states again.
    tmp = tmp_path / "fresh"
    tmp.mkdir()
    port = free_port()
    (tmp / "state").write_text(hap_state)
    cfg = tmp / "haproxy.cfg"
    cfg.write_text(config(tmp, port, five, weight4=41))
    proc = start("pylvs", cfg, port, tmp)
    try:
        assert states(cli(tmp / "stats", "show servers state")) == got["haproxy"]
    finally:
        stop(proc)


def test_reload_keeps_listeners_connections_and_tables(tmp_path: Path, five: Servers) -> None:
    """A reload that changes the proxies: clients connecting all along are never refused,
    a connection held across it still works, the stick table keeps its entry (the client
    goes on to the server it stuck to though the new configuration would balance it
    elsewhere), and the operator's state of a server stays."""
    port = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(config(tmp_path, port, five))
    proc = start("pylvs", cfg, port, tmp_path)
    failures: list[str] = []
    stopping = threading.Event()

    def clients() -> None:
        while not stopping.is_set():
            try:  # from 127.0.0.2: its own stick entry, not 127.0.0.1's
                with socket.create_connection(
                    ("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0)
                ) as c:
                    c.sendall(b"hi")
                    if not c.recv(10):
                        failures.append("closed")
            except OSError as e:
                failures.append(str(e))

    try:
        held, first = hold(port)
        assert first in ("s1", "s2", "s3", "s4", "s5")
        down = "s2" if first != "s2" else "s3"
        assert cli(tmp_path / "stats", f"disable server web/{down}") == "\n"
        loop = threading.Thread(target=clients)
        loop.start()
        try:
            time.sleep(0.3)
            other = free_port()
            cfg.write_text(
                config(tmp_path, port, five, extra=f"listen extra\n    bind 127.0.0.1:{other}\n"
                       f"    server x 127.0.0.1:{five['s1'].port}\n")
            )  # fmt: skip
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: accepting("127.0.0.1", other))
            time.sleep(0.3)
        finally:
            stopping.set()
            loop.join()
        assert failures == []
        # The held connection runs on: the server's bytes still reach the client.
        for conn in five[first].held:  # ours is one of them (the others' clients left)
            with contextlib.suppress(OSError):
                conn.sendall(b"still")
        held.settimeout(5)
        assert held.recv(10) == b"still"
        held.close()
        # The table still has 127.0.0.1's entry, made before the reload, and it sticks.
        table = cli(tmp_path / "stats", "show table web")
        assert "key=127.0.0.1 " in table, table
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(b"hi")
            assert c.recv(10).decode() == first
        assert states(cli(tmp_path / "stats", "show servers state"))[down][1] == "1"
    finally:
        stop(proc)
        with contextlib.suppress(OSError):
            os.unlink(tmp_path / "stats")
