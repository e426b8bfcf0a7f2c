"""Real backend servers in a background event loop, and a real `pylvs run` process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from pylvs.tools.namesrv import NameServer
from tests.port_helpers import free_port as free_port  # the tests import it from here


class Backends:
    """Named HTTP servers on 127.0.0.1, run by an event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: dict[str, NameServer] = {}
        self.ports: dict[str, int] = {}

    def start(self, name: str, port: int = 0) -> int:
        srv = NameServer(name)
        fut = asyncio.run_coroutine_threadsafe(srv.start("127.0.0.1", port), self.loop)
        self.servers[name] = srv
        self.ports[name] = fut.result(5)[1]
        return self.ports[name]

    def stop(self, name: str) -> None:
        asyncio.run_coroutine_threadsafe(self.servers.pop(name).close(), self.loop).result(5)

    def close(self) -> None:
        for name in list(self.servers):
            self.stop(name)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def backends() -> Iterator[Backends]:
    """The test's backend servers (a fixture: the daemon and web tests' conftests import it)."""
    b = Backends()
    try:
        yield b
    finally:
        b.close()


def http_get(port: int, *, timeout: float = 5.0) -> str:
    """One request on a new connection; the body (the answering server's name)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode().strip()


ONE_SERVICE = """
virtual_server 127.0.0.1 {vport} {{
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 1
    }}
}}
"""


def one_service(vport: int, port: int) -> str:
    """A keepalived.conf with one virtual service on 127.0.0.1:vport to one real server."""
    return ONE_SERVICE.format(vport=vport, port=port)


def wait_for(cond: Callable[[], object], timeout: float = 15.0) -> bool:
    """Poll `cond` until it holds (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def answers(path: str) -> bool:
    """Does a daemon accept connections on the control socket `path` (not a dead one's)?"""
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(path)
        except OSError:
            return False
    return True


def pidfile_args(tmp: Path) -> list[str]:
    """Pid files of the test's own: the defaults (/run/keepalived*.pid) belong to the host."""
    return ["-p", str(tmp / "pylvs.pid"), "-r", str(tmp / "vrrp.pid"), "-c", str(tmp / "c.pid")]


class StartDirector(Protocol):
    """The `director` fixture: starts `pylvs run` on `config`, stopped after the test."""

    def __call__(self, config: str, nofile: int | None = None) -> Director: ...


class Director:
    """A `pylvs run` process with its own control socket."""

    def __init__(
        self,
        tmp: Path,
        config: str,
        nofile: int | None = None,
        env: dict[str, str] | None = None,
        flags: tuple[str, ...] = (),
        timeout: float = 10.0,
    ) -> None:
        self.tmp = tmp
        self.conf = tmp / "keepalived.conf"
        self.conf.write_text(config)
        self.control = str(tmp / "pylvs.sock")
        self.log = open(tmp / "pylvs.log", "w")
        limit = [] if nofile is None else ["prlimit", f"--nofile={nofile}", "--"]
        self.proc = subprocess.Popen(
            [*limit, sys.executable, "-m", "pylvs", "run", "-n", "-f", str(self.conf),
             "--control", self.control, "--no-syslog", "--grace", "1", *pidfile_args(tmp),
             "--dataplane", "proxy", *flags],
            stdout=self.log, stderr=subprocess.STDOUT,
            # keepalived's dumps go to $TMPDIR: the test's, not the host's /tmp
            env={**os.environ, "TMPDIR": str(tmp), **(env or {})},
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not answers(self.control):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pylvs run did not start:\n" + self.output())
            time.sleep(0.05)

    def ipvsadm(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pylvs", "ipvsadm", "--control", self.control, *args],
            input=stdin, capture_output=True, text=True, timeout=20,
        )  # fmt: skip

    def pylvs(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pylvs", *args, "--control", self.control],
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip

    def output(self) -> str:
        self.log.flush()
        return (self.tmp / "pylvs.log").read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode
