"""Ports for the tests' daemons, which must be told a port before they bind it.

Binding port 0 and closing the socket (what the tests did) hands out a port from the kernel's
ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 here), and the kernel goes on
handing the same range out: as the source port of any outgoing connection on the box, and to
the next bind(0) of another test process.  Between the close and the daemon's bind, on a box
where several test runs connect thousands of times a second, the port can be taken, and the
daemon fails to start (EADDRINUSE) or a client reaches someone else's listener.

Here the ports come from below the ephemeral range, where the kernel never picks a port on
its own, and each test process owns a block of them: it holds an flock(2) on a file named
after its block in the system's temporary directory for as long as it lives (the kernel
drops the lock when the process dies, however it dies), so two processes never hand out the
same port.  Within its block a process hands out ports in turn, each checked by a bind (no
SO_REUSEADDR: a port with connections in TIME_WAIT is skipped too), so a port comes back only
after the whole block went round.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
import threading
from pathlib import Path

LOW = 10000  # below: well-known services' ports (and root-only ones, < 1024)
BLOCK = 256  # ports per test process


def _ephemeral_low() -> int:
    with contextlib.suppress(OSError, ValueError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


class _Block:
    """The ports this process owns, claimed on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.start = 0
        self.next = 0
        self.fd = -1

    def claim(self) -> None:
        count = max(1, (_ephemeral_low() - LOW) // BLOCK)
        directory = Path(tempfile.gettempdir()) / "pylvs-test-ports"
        directory.mkdir(exist_ok=True)
        first = os.getpid() % count  # spread the processes, then take the first free block
        for i in range(count):
            n = (first + i) % count
            fd = os.open(directory / f"{n}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fd, self.start = fd, LOW + n * BLOCK
            return
        raise RuntimeError(f"all {count} port blocks under {directory} are taken")

    def take(self) -> int:
        with self.lock:
            if self.fd < 0:
                self.claim()
            port = self.start + self.next
            self.next = (self.next + 1) % BLOCK
            return port


_BLOCK = _Block()


def _bindable(host: str, port: int, kind: socket.SocketKind) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port of this process's block that nothing is bound to on `host`, in TCP nor in UDP
    (a test may use it for both)."""
    other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
    for _ in range(BLOCK):
        port = _BLOCK.take()
        if _bindable(host, port, kind) and _bindable(host, port, other):
            return port
    raise RuntimeError(f"no free port in {_BLOCK.start}-{_BLOCK.start + BLOCK - 1}")


def free_udp_port(host: str = "127.0.0.1") -> int:
    return free_port(host, socket.SOCK_DGRAM)


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (connections to it are refused)."""
    return free_port(host)
