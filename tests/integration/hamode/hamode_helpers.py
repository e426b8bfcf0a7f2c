"""Servers, clients and the two proxies (`pylvs run`, the real `haproxy -db`) for the tests.

`Servers` runs named TCP servers on 127.0.0.0/8: each answers its name and closes ("name"),
or answers and holds the connection until `release` ("hold"), or resets it once it has read
the request ("reset"), or says nothing ("stall"); every server records the first bytes it
received (the PROXY header tests read them).  `Proxy(kind, config)` starts pylvs or haproxy on
the same configuration text and waits for its frontend; `ask` is one client connection and
what it saw: the server's name, or "" when the connection was closed without an answer.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.server_helpers import ThreadedServer
from tests.port_helpers import closed_port as closed_port  # the tests import them from here
from tests.port_helpers import free_port as free_port

HAPROXY = shutil.which("haproxy")
KINDS = ("pylvs", "haproxy")


class Server(ThreadedServer):
    def __init__(self, name: str, behaviour: str, host: str, port: int) -> None:
        self.name = name
        self.behaviour = behaviour
        self.held: list[socket.socket] = []
        self.received: list[bytes] = []
        super().__init__(host, port)

    def serve(self, conn: socket.socket) -> None:
        # The first bytes as they come: a PROXY header and the client's data may arrive in one
        # segment or two, so read until a short pause after the first.
        conn.settimeout(0.5)
        data = b""
        with contextlib.suppress(OSError):
            data = conn.recv(4096)
            conn.settimeout(0.1)
            while chunk := conn.recv(4096):
                data += chunk
        with self.lock:
            self.received.append(data)
        if self.behaviour == "reset":
            # After the request: the proxy has certainly seen the connection established,
            # so this is the server aborting, not a failed connect (which would be retried).
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            conn.close()
            return
        if self.behaviour != "stall":
            with contextlib.suppress(OSError):
                conn.sendall(self.name.encode())
        if self.behaviour in ("hold", "stall"):
            with self.lock:
                if not self.closed:  # else the server is gone: close it here
                    self.held.append(conn)
                    return
        conn.close()

    def release(self, n: int | None = None) -> None:
        with self.lock:
            take = self.held if n is None else self.held[:n]
            self.held = [] if n is None else self.held[n:]
        for c in take:
            c.close()


class Servers:
    def __init__(self) -> None:
        self.all: dict[str, Server] = {}

    def add(
        self, name: str, behaviour: str = "name", host: str = "127.0.0.1", port: int = 0
    ) -> Server:
        s = self.all[name] = Server(name, behaviour, host, port)
        return s

    def __getitem__(self, name: str) -> Server:
        return self.all[name]

    def release(self) -> None:
        for s in self.all.values():
            s.release()

    def close(self) -> None:
        for s in self.all.values():
            s.close()


def ask(
    port: int,
    host: str = "127.0.0.1",
    *,
    source: str | None = None,
    send: bytes = b"hi",
    timeout: float = 5.0,
) -> str:
    """One client connection: the server's name, or "" if it was closed or reset."""
    with socket.socket() as c:
        c.settimeout(timeout)
        if source is not None:
            c.bind((source, 0))
        try:
            c.connect((host, port))
            if send:
                c.sendall(send)
            return c.recv(100).decode()
        except OSError:
            return ""


def hold(port: int, host: str = "127.0.0.1") -> tuple[socket.socket, str]:
    """A client connection kept open, and the name it got."""
    c = socket.create_connection((host, port), timeout=5)
    c.sendall(b"hi")
    return c, c.recv(100).decode()


def accepting(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


class Proxy:
    """`pylvs run -f CFG` or `haproxy -db -f CFG` on the same text."""

    def __init__(self, tmp: Path, kind: str, config: str, wait: tuple[str, int] | None) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp
        self.kind = kind
        self.cfg = tmp / "haproxy.cfg"
        # Readiness is told by a frontend of its own that refuses every connection, so the
        # wait makes no stream on the tested backends.
        probe = free_port()
        self.cfg.write_text(
            config + f"listen test_probe\n    mode tcp\n    bind 127.0.0.1:{probe}\n"
            "    tcp-request connection reject\n"
        )
        wait = ("127.0.0.1", probe)
        self.log = open(tmp / "out.log", "w")
        self.stopped = False  # by stop(): else an exit is the proxy's own
        if kind == "pylvs":
            argv = [sys.executable, "-m", "pylvs", "run", "-n", "-f", str(self.cfg), "--control",
                    str(tmp / "pylvs.sock"), "--no-syslog", "--grace", "1", "-p",
                    str(tmp / "p.pid"), "-r", str(tmp / "v.pid"), "-c", str(tmp / "c.pid"),
                    "--dataplane", "proxy"]  # fmt: skip
        else:
            assert HAPROXY is not None
            argv = [HAPROXY, "-db", "-f", str(self.cfg)]
        self.proc = subprocess.Popen(
            argv, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "TMPDIR": str(tmp)}
        )
        deadline = time.monotonic() + 20
        # ready: the probe accepts and the control sockets exist (a loaded machine may bind
        # pylvs's control socket and the stats sockets after the listeners: seen once as a
        # FileNotFoundError on pylvs.sock right after the probe accepted)
        sockets = [Path(m) for m in re.findall(r"^\s*stats socket (/\S+)", config, re.M)]
        if kind == "pylvs":
            sockets.append(tmp / "pylvs.sock")
        while not accepting(*wait) or not all(p.exists() for p in sockets):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{kind} did not start:\n{self.output()}")
            time.sleep(0.05)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (self.tmp / "out.log").read_text()

    def stop(self) -> None:
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


Scenario = Callable[[Callable[..., Proxy], Servers, str], object]


def both(proxy: Callable[..., Proxy], scenario: Scenario) -> dict[str, object]:
    """Run `scenario` under pylvs and under haproxy, each with its own servers; what they
    saw must be the same."""
    seen: dict[str, object] = {}
    for kind in KINDS:
        servers = Servers()
        try:
            seen[kind] = scenario(proxy, servers, kind)
        finally:
            servers.close()
    assert seen["pylvs"] == seen["haproxy"], seen
    return seen


def stats_command(path: Path, command: str) -> str:
    """One command on a stats socket, and its whole answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(path))
        s.sendall(command.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


def after_streams(path: Path, command: str = "show stat", proxy: str | None = None) -> str:
    """`command`'s answer once `show sess` lists no stream (of `proxy`, or any but the CLI's
    own, fe=GLOBAL), or after 10 s.  HAProxy counts a FRONTEND's and a BACKEND's hrsp_*, the
    backend's req_tot and the intercepted requests when the stream ends (stream.c
    process_stream, just before stream_free), after the response went out and the client
    saw the close: read at once, haproxy's rows may lack the exchange the client has."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        fes = [w for w in stats_command(path, "show sess").split() if w.startswith("fe=")]
        if all(fe == "fe=GLOBAL" if proxy is None else fe != f"fe={proxy}" for fe in fes):
            break
        time.sleep(0.02)
    return stats_command(path, command)
