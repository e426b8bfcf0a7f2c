"""Run the real `haproxy` against scripted servers and record what its health checks do.

Not a test: capture.py uses it to write recorded.json.  A scenario (check_scenarios.py) is a
haproxy.cfg template and, per server, a timeline of behaviours: the server's port is closed,
or it accepts and answers (after reading a request, or at once), or it says nothing.  The
harness binds each server on 127.0.0.1, starts `haproxy -db` (one thread, as pylvs runs its
checks on one loop: with several, when a check's timeout fires depends on which thread runs
what; with a syslog listener on UDP as every backend's log target and a dummy frontend so
that it starts), opens the client connections it asks for, runs the stats socket
commands the scenario schedules, and records, with times relative to haproxy's start:

* every syslog line (priority and message) and every line on haproxy's stderr;
* every TCP segment to a server that opens or ends a connection (a raw socket, root): a pure
  TCP check never completes the handshake on the server's side;
* every connection each server received: when, the bytes it read, how the peer ended it
  (FIN or RST) and what the server sent.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.data.haproxy.checks.check_behaviours import (
    Behaviour,
    Closed,
    Scenario,
    Serve,
    behaviour_at,
    satisfied,
)
from tests.data.haproxy.oracle import command, free_port

_TAKEN: set[int] = set()


def _port() -> int:
    """A free port no other server or listener of the run got (free_port closes its socket,
    so two calls may give the same one)."""
    while (port := free_port()) in _TAKEN:
        pass
    _TAKEN.add(port)
    return port


class ScriptedServer:
    def __init__(self, name: str, timeline: list[tuple[float, Behaviour]], t0: list[float]):
        self.name, self.timeline, self.t0 = name, timeline, t0
        self.port = _port()
        self.conns: list[dict[str, Any]] = []
        self.lsock: socket.socket | None = None
        self.lock = threading.Lock()
        self.stop = False

    def behaviour(self, t: float) -> Behaviour:
        return behaviour_at(self.timeline, t)

    def run(self) -> None:
        while not self.stop:
            t = time.monotonic() - self.t0[0]
            b = self.behaviour(t)
            if isinstance(b, Closed):
                if self.lsock is not None:
                    self.lsock.close()
                    self.lsock = None
                time.sleep(0.002)
                continue
            if self.lsock is None:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", self.port))
                s.listen(64)
                self.lsock = s
            r, _, _ = select.select([self.lsock], [], [], 0.002)
            if r:
                conn, _ = self.lsock.accept()
                at = time.monotonic() - self.t0[0]
                threading.Thread(target=self.handle, args=(conn, b, at), daemon=True).start()
        if self.lsock is not None:
            self.lsock.close()

    def handle(self, conn: socket.socket, b: Serve, at: float) -> None:
        rec: dict[str, Any] = {
            "t": round(at, 4),
            "received": "",
            "sent": (b.greeting + b.reply).hex(),
        }
        data = b""
        end = "open"
        deadline = time.monotonic() + b.read_timeout
        conn.setblocking(False)
        try:
            if b.greeting:
                conn.sendall(b.greeting)
            while not satisfied(data, b.wait_for):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if not select.select([conn], [], [], left)[0]:
                    break
                chunk = conn.recv(65536)
                if not chunk:
                    end = "fin"
                    break
                data += chunk
            if b.delay:
                time.sleep(b.delay)
            if b.reply and end == "open":
                conn.sendall(b.reply)
            if b.close == "hold" and end == "open":
                end = _drain(conn, data_sink := bytearray())
                data += bytes(data_sink)
            elif b.close == "rst":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            elif end == "open":
                # read what the peer sends until it closes (short wait), to see RST vs FIN
                end = _drain(conn, data_sink := bytearray(), limit=0.5)
                data += bytes(data_sink)
        except ConnectionResetError:
            end = "rst"
        except OSError as e:
            end = f"error {e.errno}"
        finally:
            conn.close()
        rec["received"] = data.decode("latin-1")
        rec["peer_end"] = end
        rec["end_t"] = round(time.monotonic() - self.t0[0], 4)
        with self.lock:
            self.conns.append(rec)


def _drain(conn: socket.socket, sink: bytearray, limit: float = 30.0) -> str:
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            if not select.select([conn], [], [], 0.05)[0]:
                continue
            chunk = conn.recv(65536)
            if not chunk:
                return "fin"
            sink += chunk
    except ConnectionResetError:
        return "rst"
    return "open"


class Client:
    """A client that connects to a frontend at `at` and holds its connection: when and how
    haproxy ended it (the server it reached is cut by shutdown-sessions and the like)."""

    def __init__(self, at: float, port: int, t0: list[float]) -> None:
        self.at, self.port, self.t0 = at, port, t0
        self.rec: dict[str, Any] = {"t": at}

    def run(self) -> None:
        _sleep_until(self.t0[0] + self.at)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                s.setblocking(False)
                self.rec["end"] = _drain(s, bytearray(), limit=30.0)
        except OSError as e:
            self.rec["end"] = f"error {e.errno}"
        self.rec["end_t"] = round(time.monotonic() - self.t0[0], 4)


class Sniffer:
    """Every TCP segment sent to the servers' ports on loopback, seen on a raw socket (root):
    a pure TCP check never completes the handshake on the server's side (HAProxy delays its
    ACK and resets the connection), so only the SYNs show when such checks ran."""

    def __init__(self, ports: dict[int, str], t0: list[float]) -> None:
        self.ports, self.t0 = ports, t0
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.05)
        self.segments: dict[str, list[dict[str, Any]]] = {n: [] for n in ports.values()}
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            try:
                frame = self.sock.recv(65536)
            except TimeoutError:
                continue
            t = time.monotonic() - self.t0[0]
            ip = frame[14:]
            if len(ip) < 20 or ip[9] != 6:
                continue
            tcp = ip[(ip[0] & 15) * 4 :]
            dport = int.from_bytes(tcp[2:4], "big")
            name = self.ports.get(dport)
            if name is None:
                continue
            flags = tcp[13]
            words = [w for bit, w in ((2, "SYN"), (4, "RST"), (1, "FIN")) if flags & bit]
            if not words:
                continue
            sport = int.from_bytes(tcp[0:2], "big")
            self.segments[name].append({"t": round(t, 4), "flags": words, "sport": sport})


class Syslog:
    def __init__(self, t0: list[float]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.t0 = t0
        self.lines: list[dict[str, Any]] = []
        self.stop = False

    def run(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            t = time.monotonic() - self.t0[0]
            text = data.decode("latin-1").rstrip("\n")
            pri = int(text[1 : text.index(">")])
            msg = text.split("]: ", 1)[1] if "]: " in text else text
            self.lines.append({"t": round(t, 4), "severity": pri & 7, "message": msg})


def run(scenario: Scenario) -> dict[str, Any]:
    """Run one scenario against the real haproxy; the record."""
    t0 = [time.monotonic()]
    servers = {n: ScriptedServer(n, tl, t0) for n, tl in scenario.servers.items()}
    syslog = Syslog(t0)
    sniffer = Sniffer({s.port: n for n, s in servers.items()}, t0)
    front = _port()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "stats.sock")
        addresses = {n: f"127.0.0.1:{s.port}" for n, s in servers.items()}
        addresses |= {f"{n}_port": str(s.port) for n, s in servers.items()}
        fronts = {name: _port() for _at, name in scenario.clients}
        addresses |= {n: f"127.0.0.1:{p}" for n, p in fronts.items()}
        clients = [Client(at, fronts[name], t0) for at, name in scenario.clients]
        body = scenario.config.format(syslog=f"127.0.0.1:{syslog.port}", **addresses)
        cfg = (
            f"global\n  nbthread 1\n  stats socket {sock} level admin\n"
            f"{body}\nfrontend dummy_fe\n  mode tcp\n  bind 127.0.0.1:{front}\n"
            "  timeout client 5s\n"
        )
        path = os.path.join(tmp, "haproxy.cfg")
        Path(path).write_text(cfg)
        threads = [threading.Thread(target=s.run, daemon=True) for s in servers.values()]
        threads.append(threading.Thread(target=syslog.run, daemon=True))
        threads.append(threading.Thread(target=sniffer.run, daemon=True))
        for th in threads:
            th.start()
        time.sleep(0.05)  # servers listening before haproxy starts
        t0[0] = time.monotonic()
        proc = subprocess.Popen(
            ["haproxy", "-db", "-f", path], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        stderr: list[dict[str, Any]] = []
        reader = threading.Thread(target=_read_stderr, args=(proc, t0, stderr), daemon=True)
        reader.start()
        for c in clients:
            threads.append(threading.Thread(target=c.run, daemon=True))
            threads[-1].start()
        cli: list[dict[str, Any]] = []
        try:
            for at, cmd in scenario.cli:
                _sleep_until(t0[0] + at)
                with contextlib.suppress(OSError):
                    out = command(sock, cmd)
                    cli.append({"t": at, "command": cmd, "answer": out})
            _sleep_until(t0[0] + scenario.duration)
            if proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: {stderr}")
        finally:
            proc.terminate()
            proc.wait(5)
            for s in servers.values():
                s.stop = True
            syslog.stop = sniffer.stop = True
            for th in threads:
                th.join(2)
            reader.join(2)
    return {
        "syslog": syslog.lines,
        "stderr": stderr,
        "servers": {n: sorted(s.conns, key=lambda c: c["t"]) for n, s in servers.items()},
        "cli": cli,
        "clients": [c.rec for c in clients],
        "segments": sniffer.segments,
        "ports": {n: s.port for n, s in servers.items()},
        "node": socket.gethostname(),
    }


def _sleep_until(when: float) -> None:
    while (left := when - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


def _read_stderr(proc: subprocess.Popen[bytes], t0: list[float], out: list[Any]) -> None:
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode("latin-1").rstrip("\n")
        t = time.monotonic() - t0[0]
        if "[WARNING]" in line or "[ALERT]" in line or "[NOTICE]" in line:
            kind = line[1 : line.index("]")]
            text = line.split(") : ", 1)[1] if ") : " in line else line
            out.append({"t": round(t, 4), "kind": kind, "text": text})
