"""Network namespaces, servers and clients for the VM tests, in the test's own process.

Python is slow to start in the VM, so real servers and clients are threads that move into a
namespace with setns(2) (which moves only the calling thread), and links are made with one
`ip -batch` per namespace.  Addresses exist only inside the VM's namespaces (it has no NIC).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(name: str | None) -> None:
    """Move the calling thread into netns `name` (None: the VM's root netns)."""
    path = f"/run/netns/{name}" if name else "/proc/1/ns/net"
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns", path)
    finally:
        os.close(fd)


def ip_batch(ns: str | None, lines: Sequence[str]) -> None:
    cmd = ["ip", *(["-n", ns] if ns else []), "-batch", "-"]
    subprocess.run(cmd, input="".join(f"{line}\n" for line in lines), text=True, check=True)


def sysctl(ns: str | None, *settings: str) -> None:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    subprocess.run([*prefix, "sysctl", "-qw", *settings], check=True)


@contextlib.contextmanager
def namespaces(*names: str) -> Iterator[None]:
    for name in names:
        subprocess.run(["ip", "netns", "add", name], check=True)
        ip_batch(name, ["link set lo up"])
    try:
        yield
    finally:
        for name in names:
            subprocess.run(["ip", "netns", "del", name], check=False)


class Servers:
    """'who am I' TCP servers (answer the name, then close) and UDP ones, each a thread in
    its namespace; `stop()` ends them.  `down(name)` makes one refuse (its socket closed)."""

    def __init__(self, where: dict[str, str], tcp_port: int = 80, udp_port: int = 53) -> None:
        self.where = where  # name -> netns
        self.tcp_port, self.udp_port = tcp_port, udp_port
        self.stopping = threading.Event()
        self.socks: dict[tuple[str, str], socket.socket] = {}
        self.threads: list[threading.Thread] = []
        ready = threading.Barrier(len(where) * 2 + 1)
        for name in where:
            for kind in ("tcp", "udp"):
                self._start(name, kind, ready)
        ready.wait(timeout=60)

    def _start(self, name: str, kind: str, ready: threading.Barrier) -> None:
        t = threading.Thread(target=self._serve, args=(name, kind, ready), daemon=True)
        t.start()
        self.threads.append(t)

    def down(self, name: str) -> None:
        """`name` stops listening on TCP: connections to it are refused."""
        self.socks.pop((name, "tcp")).close()

    def up(self, name: str) -> None:
        ready = threading.Barrier(2)
        self._start(name, "tcp", ready)
        ready.wait(timeout=60)

    def _serve(self, name: str, kind: str, ready: threading.Barrier) -> None:
        setns(self.where[name])
        if kind == "tcp":
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", self.tcp_port))
            s.listen(128)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", self.udp_port))
        s.settimeout(0.5)
        self.socks[(name, kind)] = s
        ready.wait()
        while not self.stopping.is_set():
            try:
                if kind == "tcp":
                    conn, _ = s.accept()
                    with conn:
                        conn.settimeout(5)
                        conn.recv(100)
                        conn.sendall(name.encode())
                else:
                    _data, peer = s.recvfrom(100)
                    s.sendto(name.encode(), peer)
            except TimeoutError:
                continue
            except OSError:
                if (name, kind) in self.socks:
                    continue
                return

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(5)
        for s in self.socks.values():
            s.close()


def ask(
    client_ns: str,
    vip: str,
    n: int,
    *,
    port: int = 80,
    proto: str = "tcp",
    src: str | None = None,
    timeout: float = 5,
) -> list[str]:
    """`n` sequential requests from a thread in `client_ns`; failures answer ''."""
    answers: list[str] = []

    def one() -> str:
        family = socket.AF_INET6 if ":" in vip else socket.AF_INET
        if proto == "tcp":
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                if src:
                    s.bind((src, 0))
                s.connect((vip, port))
                s.sendall(b"GET")
                return s.recv(100).decode()
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            if src:
                s.bind((src, 0))
            s.sendto(b"?", (vip, port))
            return s.recvfrom(100)[0].decode()

    def run() -> None:
        setns(client_ns)
        for _ in range(n):
            try:
                answers.append(one())
            except OSError:
                answers.append("")

    t = threading.Thread(target=run)
    t.start()
    t.join(n * (timeout + 1) + 30)
    return answers


def wait_for(predicate: Callable[[], bool], timeout: float = 60, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
