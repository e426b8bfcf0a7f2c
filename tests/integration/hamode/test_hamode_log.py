"""Traffic logs (issue 20/21 logging): pylvs and the real `haproxy -db` on the same haproxy.cfg
send the same syslog datagrams to a UDP server on 127.0.0.1, the process id, dates, client
ports and durations masked: `option tcplog` for a normal stream, a server that refuses
(SC), a backend without a usable server (<NOSRV>), a server that resets (SD), `option
dontlognull` (nothing for a client that sent nothing), a custom `log-format` with samples
and a missing value, `tcp-request connection reject` (no line), a frontend without a format
("Connect from ..."), `option logasap`, and HAProxy's header for `log-tag`."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    Servers,
    accepting,
    closed_port,
    free_port,
)

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

MASKS = [
    (re.compile(r"(haproxy|edge)\[\d+\]"), r"\1[PID]"),
    (re.compile(r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d "), r"<\1>DATE "),
    (re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]"), "[ACCEPT]"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    # %Tw/%Tc/%Tt: which timers were reached (-1: never), not how long they took
    (
        re.compile(r"(?<= )(\+?-?\d+)/(\+?-?\d+)/(\+?-?\d+)(?= )"),
        lambda m: "/".join(re.sub(r"\d+", "N", g) if g != "-1" else g for g in m.groups()),
    ),
]


def masked(line: bytes) -> str:
    text = line.decode().rstrip("\n")
    for rx, to in MASKS:
        text = rx.sub(to, text)  # type: ignore[call-overload]
    return text


class Syslog:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def lines(self, quiet: float = 0.7) -> list[str]:
        """What arrives until nothing has for `quiet` seconds."""
        out: list[str] = []
        self.sock.settimeout(quiet)
        while True:
            try:
                out.append(masked(self.sock.recv(4096)))
            except TimeoutError:
                return out


@pytest.fixture
def syslog() -> Iterator[Syslog]:
    s = Syslog()
    yield s
    s.sock.close()


def talk(port: int, data: bytes = b"hello", *, reset: bool = False) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        if data:
            s.sendall(data)
        if reset:
            time.sleep(0.2)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            return
        with contextlib.suppress(OSError):
            s.recv(100)


def run(
    proxy: Callable[..., Proxy],
    syslog: Syslog,
    kind: str,
    text: str,
    steps: list[tuple[int, dict[str, object]]],
) -> list[list[str]]:
    p = proxy(kind, text, None)
    try:
        syslog.lines(0.3)  # whatever the start logged
        seen = []
        for port, kw in steps:
            with contextlib.suppress(OSError):
                talk(port, **kw)  # type: ignore[arg-type]
            seen.append(syslog.lines())
        return seen
    finally:
        p.stop()


def compare(
    proxy: Callable[..., Proxy],
    syslog: Syslog,
    build: Callable[[Servers], tuple[str, list[tuple[int, dict[str, object]]]]],
) -> list[list[str]]:
    seen: dict[str, list[list[str]]] = {}
    for kind in KINDS:
        for attempt in range(3):
            servers = Servers()
            try:
                text, steps = build(servers)
                seen[kind] = run(proxy, syslog, kind, text, steps)
                break
            except RuntimeError as e:
                # a port free_port() chose was taken meanwhile (a shared machine): new ports
                if "already in use" not in str(e) or attempt == 2:
                    raise
            finally:
                servers.close()
    assert seen["pylvs"] == seen["haproxy"], seen
    return seen["pylvs"]


HEAD = """\
global
    log 127.0.0.1:{log} local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""


def test_tcplog_lines_as_haproxy_writes_them(proxy: Callable[..., Proxy], syslog: Syslog) -> None:
    def build(servers: Servers) -> tuple[str, list[tuple[int, dict[str, object]]]]:
        ok, rst = servers.add("ok"), servers.add("rst", "reset")
        ports = [free_port() for _ in range(5)]
        text = HEAD.format(log=syslog.port) + (
            f"listen l_ok\n    bind 127.0.0.1:{ports[0]}\n    server ok 127.0.0.1:{ok.port}\n"
            f"listen l_refused\n    bind 127.0.0.1:{ports[1]}\n    retries 0\n"
            f"    server dead 127.0.0.1:{closed_port()}\n"
            f"listen l_nosrv\n    bind 127.0.0.1:{ports[2]}\n"
            f"    server off 127.0.0.1:{ok.port} disabled\n"
            f"listen l_rst\n    bind 127.0.0.1:{ports[3]}\n    server rst 127.0.0.1:{rst.port}\n"
            f"listen l_rej\n    bind 127.0.0.1:{ports[4]}\n    tcp-request connection reject\n"
            f"    server ok 127.0.0.1:{ok.port}\n"
        )
        return text, [(p, {}) for p in ports]

    ok, refused, nosrv, rst, rejected = compare(proxy, syslog, build)
    assert ok == [
        "<134>DATE haproxy[PID]: 127.0.0.1:PORT [ACCEPT] l_ok l_ok/ok N/N/N 2 -- 1/1/0/0/0 0/0"
    ]
    assert refused[0].endswith(" l_refused l_refused/dead N/-1/N 0 SC 1/1/0/0/0 0/0")
    assert nosrv[0].endswith(" l_nosrv l_nosrv/<NOSRV> -1/-1/N 0 SC 1/1/0/0/0 0/0")
    assert rst[0].endswith(" l_rst l_rst/rst N/N/N 0 SD 1/1/0/0/0 0/0")
    assert rejected == []


def test_dontlognull_log_format_and_connect_lines(
    proxy: Callable[..., Proxy], syslog: Syslog
) -> None:
    def build(servers: Servers) -> tuple[str, list[tuple[int, dict[str, object]]]]:
        ok = servers.add("ok")
        ports = [free_port() for _ in range(4)]
        text = (
            HEAD.format(log=syslog.port)
            + f"listen l_null\n    bind 127.0.0.1:{ports[0]}\n    option dontlognull\n"
            f"    server ok 127.0.0.1:{ok.port}\n"
            f"listen l_fmt\n    bind 127.0.0.1:{ports[1]}\n    log-tag edge\n"
            '    log-format "%ci %b %s %ts %[src] %{+Q}[dst] %B %U %[var(txn.x)] X%ft'
            ' %{-M}[var(txn.x)]."\n'
            f"    server ok 127.0.0.1:{ok.port}\n"
            f"listen l_asap\n    bind 127.0.0.1:{ports[3]}\n    option logasap\n"
            f"    server ok 127.0.0.1:{ok.port}\n"
            "defaults\n    mode tcp\n    log global\n    timeout connect 1s\n"
            "    timeout client 5s\n    timeout server 5s\n"
            f"listen l_plain\n    bind 127.0.0.1:{ports[2]}\n"
            f"    server ok 127.0.0.1:{ok.port}\n"
        )
        steps: list[tuple[int, dict[str, object]]] = [
            (ports[0], {"data": b""}),
            (ports[0], {}),
            (ports[1], {}),
            (ports[2], {}),
            (ports[3], {}),
        ]
        return text, steps

    empty, sent, fmt, plain, asap = compare(proxy, syslog, build)
    assert empty == []
    assert len(sent) == 1 and " l_null l_null/ok " in sent[0]
    assert fmt == [
        '<134>DATE edge[PID]: 127.0.0.1 l_fmt ok -- 127.0.0.1 "127.0.0.1" 2 5 - Xl_fmt .'
    ]
    assert plain == [
        "<134>DATE haproxy[PID]: Connect from 127.0.0.1:PORT to 127.0.0.1:PORT (l_plain/TCP)"
    ]
    assert len(asap) == 1 and "/+N +0 -- " in asap[0]


STOP = (
    HEAD.replace("    option tcplog\n", "")
    + """\
backend be
    server s1 127.0.0.1:{dead}
frontend fe
    bind 127.0.0.1:{p1}
    default_backend be
listen li
    bind 127.0.0.1:{p2}
    server s1 127.0.0.1:{dead}
"""
)


@contextlib.contextmanager
def started(tmp_path: Path, syslog: Syslog, kind: str, extra: str = "") -> Iterator[Popen[bytes]]:
    """`pylvs haproxy -db` or `haproxy -db` on STOP (with `extra` global lines), once it
    listens; what it logged so far is read away; killed if it did not exit."""
    p1, p2 = free_port(), free_port()
    cfg = tmp_path / f"{kind}.cfg"
    text = STOP.format(log=syslog.port, dead=closed_port(), p1=p1, p2=p2)
    cfg.write_text(text.replace("global\n", f"global\n{extra}", 1))
    argv = [HAPROXY] if kind == "haproxy" else [sys.executable, "-m", "pylvs", "haproxy"]
    proc = subprocess.Popen(
        [*argv, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while not accepting("127.0.0.1", p2):
            assert proc.poll() is None and time.monotonic() < deadline, kind
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            talk(p1)  # the server refuses: one connection each side counts
        syslog.lines(0.5)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_soft_stop_logs_each_proxy_stopped(tmp_path: Path, syslog: Syslog) -> None:
    """SIGUSR1 to `pylvs haproxy -db` and to `haproxy -db`: the same "Proxy X stopped"
    lines, frontends first, with their cumulated connections (the readiness probe is one
    connection of `li`)."""
    seen: dict[str, list[str]] = {}
    for kind in KINDS:
        with started(tmp_path, syslog, kind) as proc:
            proc.send_signal(signal.SIGUSR1)
            proc.wait(10)
            seen[kind] = syslog.lines()
    assert seen["pylvs"] == seen["haproxy"], seen
    assert seen["pylvs"] == [
        "<132>DATE haproxy[PID]: Proxy fe stopped (cumulated conns: FE: 1, BE: 0).",
        "<132>DATE haproxy[PID]: Proxy li stopped (cumulated conns: FE: 1, BE: 1).",
        "<132>DATE haproxy[PID]: Proxy be stopped (cumulated conns: FE: 0, BE: 1).",
        "<132>DATE haproxy[PID]: Proxy <HTTPCLIENT> stopped (cumulated conns: FE: 0, BE: 0).",
    ]


def test_pause_resume_and_grace_are_logged_as_haproxy_logs_them(
    tmp_path: Path, syslog: Syslog
) -> None:
    """SIGTTOU, SIGTTIN, then SIGUSR1 with `grace`: the same syslog lines from `pylvs haproxy
    -db` and `haproxy -db` (Paused/Resumed per proxy, the soft stop's schedule and its
    end, then each proxy stopped)."""
    seen: dict[str, list[str]] = {}
    for kind in KINDS:
        with started(tmp_path, syslog, kind, "    grace 300\n") as proc:
            got: list[str] = []
            for sig in (signal.SIGTTOU, signal.SIGTTIN):
                proc.send_signal(sig)
                got += syslog.lines(0.5)
            proc.send_signal(signal.SIGUSR1)
            proc.wait(10)
            seen[kind] = got + syslog.lines()
    assert seen["pylvs"] == seen["haproxy"], seen
    assert [line.split(": ", 1)[1] for line in seen["pylvs"][:6]] == [
        "Paused frontend fe.",
        "Paused proxy li.",
        "Resumed frontend fe.",
        "Resumed proxy li.",
        "Scheduling a soft-stop in 300 ms.",
        "Grace period expired, proceeding with soft-stop now.",
    ]
