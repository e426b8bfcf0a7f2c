"""Health checks on the HAProxy runtime, under `pylvs run` and the real `haproxy -db` on the
same haproxy.cfg: a server killed then brought back goes DOWN and UP with the same log lines
and the same `show stat` fields, and the balancer picks the same servers after each change;
`option httpchk` + `http-check expect status 200`, a `tcp-check` send/expect sequence,
`on-marked-down shutdown-sessions` and the socket's `disable health` / `set server health`
act the same way."""

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

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, Servers, ask, free_port
from tests.integration.server_helpers import ThreadedServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
]

FIELDS = ("svname", "status", "check_status", "check_code", "chkfail", "chkdown", "check_desc")
# The state lines HAProxy writes on stderr (and pylvs in its log): the text after the prefix.
STATE_LINE = re.compile(
    r"((?:Backup )?Server \S+ is (?:DOWN|UP|going DOWN)\b.*|\S+ \S+ has no server available!)$"
)


def cli(sock: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(str(sock))
        s.sendall(command.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


def stat(sock: Path, backend: str = "be") -> dict[str, dict[str, str]]:
    """`show stat`'s rows of `backend`'s servers by name: the FIELDS columns."""
    lines = cli(sock, "show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == backend and row["svname"] not in ("FRONTEND", "BACKEND"):
            out[row["svname"]] = {f: row[f] for f in FIELDS}
            # "* " marks a check in progress: when a snapshot falls inside a run is timing
            out[row["svname"]]["check_status"] = row["check_status"].removeprefix("* ")
    return out


def wait_for(what: Callable[[], bool], timeout: float = 30.0) -> None:
    """Until `what()` holds (the stats socket may still be starting: refused meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError):
            if what():
                return
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def state_lines(p: Proxy) -> list[str]:
    """The checks' state lines in the process's output, check durations masked."""
    out = []
    for line in p.output().splitlines():
        m = STATE_LINE.search(line)
        if m:
            out.append(re.sub(r"check duration: \d+ms", "check duration: Nms", m.group(1)))
    return out


class Run:
    """One proxy (pylvs or haproxy) on a config whose stats socket is its own."""

    def __init__(self, start: Callable[..., Proxy], tmp: Path, kind: str, body: str) -> None:
        self.sock = tmp / f"{kind}-stat.sock"
        self.port = free_port()
        config = (
            f"global\n    stats socket {self.sock} level admin\n"
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n"
            # a check's read has 2 s, its connect 1 s, whatever its interval: a loaded
            # machine may run the loop late, and the tests are not about timeouts
            "    timeout server 5s\n    timeout check 2s\n"
            f"listen be\n    bind 127.0.0.1:{self.port}\n" + body
        )
        self.proxy = start(kind, config, None)

    def stat(self) -> dict[str, dict[str, str]]:
        return stat(self.sock)

    def wait(self, holds: Callable[[Run], bool]) -> None:
        wait_for(lambda: holds(self))

    def status(self, server: str) -> str:
        return self.stat()[server]["status"]

    def picks(self, n: int) -> list[str]:
        return [ask(self.port) for _ in range(n)]


@pytest.fixture
def runs(proxy: Callable[..., Proxy], tmp_path: Path) -> Callable[[str], dict[str, Run]]:
    def start(body: str) -> dict[str, Run]:
        return {kind: Run(proxy, tmp_path, kind, body) for kind in KINDS}

    return start


def _three(servers: Servers, extra: str = "") -> str:
    body = "    balance roundrobin\n"
    for name in ("s1", "s2", "s3"):
        s = servers.add(name)
        body += f"    server {name} 127.0.0.1:{s.port} check inter 200 rise 2 fall 2{extra}\n"
    return body


def test_a_server_killed_and_back(servers: Servers, runs: Callable[[str], dict[str, Run]]) -> None:
    both = runs(_three(servers))
    for r in both.values():
        r.wait(lambda r: all(v["status"] == "UP" for v in r.stat().values()))
    picks = {k: r.picks(6) for k, r in both.items()}
    assert picks["pylvs"] == picks["haproxy"]
    port = servers["s2"].port
    servers["s2"].close()
    for r in both.values():
        r.wait(lambda r: r.status("s2") == "DOWN")
    down = {k: r.stat() for k, r in both.items()}
    assert down["pylvs"] == down["haproxy"]
    assert down["pylvs"]["s2"]["check_status"] == "L4CON"
    picks = {k: r.picks(4) for k, r in both.items()}
    assert picks["pylvs"] == picks["haproxy"]
    assert "s2" not in picks["pylvs"]
    servers.add("s2", port=port)
    for r in both.values():
        r.wait(lambda r: r.status("s2") == "UP")
    up = {k: r.stat() for k, r in both.items()}
    assert up["pylvs"] == up["haproxy"]
    picks = {k: r.picks(6) for k, r in both.items()}
    assert picks["pylvs"] == picks["haproxy"]
    assert "s2" in picks["pylvs"]
    lines = {k: state_lines(r.proxy) for k, r in both.items()}
    assert lines["pylvs"] == lines["haproxy"]
    assert lines["pylvs"][0].startswith(
        'Server be/s2 is DOWN, reason: Layer4 connection problem, info: "Connection refused"'
    )
    assert lines["pylvs"][1].startswith("Server be/s2 is UP, reason: Layer4 check passed")


def test_every_server_down_says_backend_has_none(
    servers: Servers, runs: Callable[[str], dict[str, Run]]
) -> None:
    body = ""
    for name in ("s1", "s2"):
        body += f"    server {name} 127.0.0.1:{free_port()} check inter 200 fall 1\n"
    both = runs(body)
    for r in both.values():
        r.wait(lambda r: all(v["status"] == "DOWN" for v in r.stat().values()))
        r.wait(lambda r: len(state_lines(r.proxy)) >= 3)
    lines = {k: state_lines(r.proxy) for k, r in both.items()}
    assert lines["pylvs"] == lines["haproxy"]
    assert lines["pylvs"][-1] == "proxy 'be' has no server available!"  # a `listen`
    for r in both.values():  # the backend went down once (set_backend_down)
        assert stat_weights(r.sock)["BACKEND"]["chkdown"] == "1"
    assert all(r.picks(1) == [""] for r in both.values())  # nothing to connect to


class HttpServer(ThreadedServer):
    """Answers every request with `status` (a line such as "200 OK"), then closes."""

    def __init__(self) -> None:
        self.status = "200 OK"
        self.requests: list[bytes] = []
        super().__init__(backlog=64)

    def serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data and (chunk := conn.recv(4096)):
                data += chunk
            self.requests.append(data)
            conn.sendall(f"HTTP/1.0 {self.status}\r\nContent-Length: 0\r\n\r\n".encode())


@pytest.fixture
def http() -> Iterator[HttpServer]:
    s = HttpServer()
    try:
        yield s
    finally:
        s.close()


def test_httpchk_expect_status(http: HttpServer, runs: Callable[[str], dict[str, Run]]) -> None:
    body = (
        "    option httpchk GET /health\n    http-check expect status 200\n"
        f"    server web 127.0.0.1:{http.port} check inter 200 rise 1 fall 1\n"
    )
    both = runs(body)
    for r in both.values():
        r.wait(lambda r: r.stat()["web"]["check_status"] == "L7OK")
    http.status = "503 Service Unavailable"
    for r in both.values():
        r.wait(lambda r: r.status("web") == "DOWN")
    down = {k: r.stat() for k, r in both.items()}
    assert down["pylvs"] == down["haproxy"]
    assert down["pylvs"]["web"]["check_code"] == "503"
    lines = {k: state_lines(r.proxy) for k, r in both.items()}
    assert lines["pylvs"] == lines["haproxy"]
    assert "reason: Layer7 wrong status, code: 503" in lines["pylvs"][0]
    assert all(req.startswith(b"GET /health HTTP/1.0\r\n") for req in http.requests)


class LineServer(ThreadedServer):
    """A line protocol: answers "+PONG" to "PING" while `healthy`, "-ERR" otherwise."""

    def __init__(self) -> None:
        self.healthy = True
        super().__init__(backlog=64)

    def serve(self, conn: socket.socket) -> None:
        """One answer, then the connection stays until the check closes it."""
        with conn, contextlib.suppress(OSError):
            conn.settimeout(10)
            if conn.recv(100).startswith(b"PING"):
                conn.sendall(b"+PONG\r\n" if self.healthy else b"-ERR\r\n")
                conn.recv(100)


def test_tcp_check_sequence(runs: Callable[[str], dict[str, Run]]) -> None:
    server = LineServer()
    try:
        body = (
            "    option tcp-check\n    tcp-check send PING\\r\\n\n"
            "    tcp-check expect string +PONG\n"
            f"    server kv 127.0.0.1:{server.port} check inter 200 rise 1 fall 1\n"
        )
        both = runs(body)
        for r in both.values():
            r.wait(lambda r: r.stat()["kv"]["check_status"] == "L7OK")
        server.healthy = False
        for r in both.values():
            r.wait(lambda r: r.status("kv") == "DOWN")
        down = {k: r.stat() for k, r in both.items()}
        assert down["pylvs"] == down["haproxy"]
        lines = {k: state_lines(r.proxy) for k, r in both.items()}
        assert lines["pylvs"] == lines["haproxy"]
        # "-ERR" is not "+PONG": the rule waits for more until the check's timeout
        assert (
            "reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string '+PONG')\""
            in lines["pylvs"][0]
        )
    finally:
        server.close()


def test_marked_down_shuts_sessions(
    servers: Servers, runs: Callable[[str], dict[str, Run]]
) -> None:
    s = servers.add("s1", "hold")
    body = (
        f"    server s1 127.0.0.1:{s.port} check inter 200 fall 1 on-marked-down "
        "shutdown-sessions\n"
    )
    both = runs(body)
    held = {}
    for k, r in both.items():
        r.wait(lambda r: r.stat()["s1"]["check_status"] == "L4OK")
        c = socket.create_connection(("127.0.0.1", r.port), timeout=5)
        c.sendall(b"hi")
        assert c.recv(10) == b"s1"
        held[k] = c
    # The listener goes, the held connections stay: only the check sees the server down.
    with contextlib.suppress(OSError):
        s.sock.shutdown(socket.SHUT_RDWR)  # wakes its accept(2): the port closes
    s.sock.close()
    try:
        for k, r in both.items():
            r.wait(lambda r: r.status("s1") == "DOWN")
            held[k].settimeout(5)
            with contextlib.suppress(ConnectionResetError):
                assert held[k].recv(10) == b""  # cut by the proxy
    finally:
        for c in held.values():
            c.close()


def test_cli_health_commands(servers: Servers, runs: Callable[[str], dict[str, Run]]) -> None:
    both = runs(_three(servers))
    for r in both.values():
        r.wait(lambda r: all(v["status"] == "UP" for v in r.stat().values()))
        assert cli(r.sock, "disable health be/s1") == "\n"
        assert cli(r.sock, "set server be/s1 health down") == "\n"
        assert cli(r.sock, "disable server be/s3") == "\n"
    views = {k: r.stat() for k, r in both.items()}
    assert views["pylvs"] == views["haproxy"]
    assert views["pylvs"]["s1"]["status"] == "DOWN"  # no check runs to bring it back
    picks = {k: r.picks(3) for k, r in both.items()}
    assert picks["pylvs"] == picks["haproxy"] == ["s2"] * 3
    for r in both.values():
        cli(r.sock, "enable server be/s3")
        cli(r.sock, "enable health be/s1")
        r.wait(lambda r: r.status("s1") == "UP")
    views = {k: r.stat() for k, r in both.items()}
    assert views["pylvs"] == views["haproxy"]
    lines = {k: state_lines(r.proxy) for k, r in both.items()}
    assert lines["pylvs"] == lines["haproxy"]


def test_a_reload_keeps_the_check_state(tmp_path: Path, servers: Servers) -> None:
    """`pylvs run` reloaded by SIGHUP with a changed haproxy.cfg: a server the checks took
    down stays down from the first moment of the new runtime (its checks start from the old
    state, as haproxy -sf with a server-state file), rather than starting over "UP"."""
    live = servers.add("s1")
    port, dead, sock = free_port(), free_port(), tmp_path / "stat.sock"
    cfg = tmp_path / "haproxy.cfg"

    def write(weight: int) -> None:
        cfg.write_text(
            f"global\n    stats socket {sock} level admin\n"
            "defaults\n    mode tcp\n    timeout connect 1s\n"
            f"listen be\n    bind 127.0.0.1:{port}\n"
            f"    server s1 127.0.0.1:{live.port} weight {weight} check inter 200\n"
            f"    server s2 127.0.0.1:{dead} check inter 3s rise 2 fall 1\n"
        )

    write(1)
    argv = [sys.executable, "-m", "pylvs", "run", "-n", "-f", str(cfg), "--control",
            str(tmp_path / "pylvs.sock"), "--no-syslog", "--grace", "1", "-p",
            str(tmp_path / "p.pid"), "-r", str(tmp_path / "v.pid"), "-c",
            str(tmp_path / "c.pid"), "--dataplane", "proxy"]  # fmt: skip
    with open(tmp_path / "out.log", "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: stat(sock)["s2"]["status"] == "DOWN")
        write(2)  # the proxies change: a new runtime
        proc.send_signal(signal.SIGHUP)
        rows: dict[str, dict[str, str]] = {}

        def reloaded() -> bool:
            nonlocal rows
            rows = stat_weights(sock)
            return rows["s1"]["weight"] == "2"

        wait_for(reloaded)
        assert rows["s2"]["status"] == "DOWN" and rows["s2"]["check_status"] == "L4CON"
        time.sleep(0.5)
        assert stat(sock)["s2"]["status"] == "DOWN"
        log = (tmp_path / "out.log").read_text()
        assert "Server be/s2 is UP" not in log
        assert log.count("Server be/s2 is DOWN") == 1  # the old runtime's, once
    finally:
        proc.terminate()
        proc.wait(10)


def stat_weights(sock: Path) -> dict[str, dict[str, str]]:
    lines = cli(sock, "show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:]]
    return {r["svname"]: r for r in rows if r.get("pxname") == "be"}
