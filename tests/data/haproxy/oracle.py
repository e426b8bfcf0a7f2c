"""What the capture scripts under tests/data/haproxy/ share: running the real `haproxy`.

Not a test: the scripts beside it (lb/, stick/) import it to start `haproxy -db` on a config
and wait for its stats socket, to talk to that socket, to check a config with `haproxy -c`,
and to run backend servers on 127.0.0.1 that answer their name.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.port_helpers import free_port as free_port  # the tests import it from here


def version() -> str:
    """`haproxy -v`'s first line (recorded beside every capture)."""
    out = subprocess.run(["haproxy", "-v"], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[0]


def command(path: str, cmd: str) -> str:
    """One command on a stats socket; its whole answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(cmd.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


def backend_sessions(path: str, proxy: str | None = None) -> int:
    """Current sessions on the servers (`show stat` scur) of one proxy, or of all."""
    total = 0
    for line in command(path, "show stat").splitlines():
        cols = line.split(",")
        server = len(cols) > 4 and cols[1] not in ("FRONTEND", "BACKEND", "svname")
        if server and (proxy is None or cols[0] == proxy):
            total += int(cols[4] or 0)
    return total


def wait_sessions(path: str, want: int, proxy: str | None = None) -> None:
    deadline = time.monotonic() + 5
    while backend_sessions(path, proxy) != want:
        if time.monotonic() > deadline:
            raise RuntimeError(f"servers hold {backend_sessions(path, proxy)} sessions, not {want}")
        time.sleep(0.005)


@contextlib.contextmanager
def running(config: str, ready: str | None = None, port: int | None = None) -> Iterator[str]:
    """Run `haproxy -db` on `config` (in a temporary directory, yielded; `{dir}` in the config
    is that directory) until the block ends.  Ready once the stats socket `ready` answers, or
    once `port` accepts connections."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "haproxy.cfg")
        Path(cfg).write_text(config.replace("{dir}", tmp))
        proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stderr=subprocess.PIPE)
        try:
            _wait(proc, os.path.join(tmp, ready) if ready else None, port)
            yield tmp
        finally:
            proc.terminate()
            proc.wait(5)


def _wait(proc: subprocess.Popen[bytes], sock: str | None, port: int | None) -> None:
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            assert proc.stderr is not None
            raise RuntimeError(proc.stderr.read().decode())
        with contextlib.suppress(OSError):
            if sock is not None:
                command(sock, "show info")
            else:
                socket.create_connection(("127.0.0.1", port or 0), timeout=1).close()
            return
        if time.monotonic() > deadline:
            raise RuntimeError("haproxy did not start")
        time.sleep(0.02)


def check_line(line: str, section: str = "backend b", mode: str = "tcp") -> dict[str, str]:
    """`haproxy -c` on `line` alone in a section: the level and text (after `parsing [F:L] :`)
    of HAProxy's first alert or warning about it, or {} when it takes the line silently."""
    cfg = (
        f"defaults\n  mode {mode}\n  timeout connect 1s\n  timeout client 1s\n"
        f"  timeout server 1s\n{section}\n  {line}\n  server s1 127.0.0.1:1\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "e.cfg")
        Path(path).write_text(cfg)
        out = subprocess.run(["haproxy", "-c", "-f", path], capture_output=True, text=True)
    m = re.search(r"\[(ALERT|WARNING)\][^\n]*parsing \[[^]]*:7\] ?: (.*)", out.stderr)
    return {"level": m.group(1).lower(), "message": m.group(2)} if m else {}


class Backend:
    """A server on 127.0.0.1 that answers its name on every connection (or, with `http`, an
    HTTP response carrying it), then holds the connection until the peer closes it."""

    def __init__(self, name: str, http: bool = False) -> None:
        self.name = name
        self.http = http
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            if self.http:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                body = self.name.encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                    % (len(body), body)
                )
            else:
                conn.sendall(self.name.encode() + b"\n")
            while conn.recv(4096):
                pass

    def close(self) -> None:
        self.sock.close()
