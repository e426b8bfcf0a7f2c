"""The differential rig: one generated `mode http` configuration run under the real `haproxy -db`
and under `pylvs run`, the same requests sent to both, and what each side saw.

`EchoServer` answers every request with what it received (its request line and fields in
order, then its body) and names itself in `X-Served-By`; a request's `x-reply-NAME: VALUE`
fields become `NAME: VALUE` fields of its answer (`x-reply-status` sets the status), so the
generated requests also choose the responses the `http-response` rules see.  Its answers
have no date: both proxies' clients get the same bytes when both proxies behave alike.

`run_side` starts one proxy on the configuration, sends the requests on kept-alive
connections (a new one each time the proxy closed the last), and returns per request the
response head and body, then the `option httplog` lines, with what is legitimately different
between two runs masked (process id, dates, client ports, how long the timers took: which
timers were reached is kept).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.integration.hamode.diff.diff_stats import ask, with_socket
from tests.integration.hamode.hamode_helpers import KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import field, read_body, read_head
from tests.integration.hamode.http.test_http_log import timers
from tests.integration.hamode.test_hamode_log import Syslog
from tests.integration.server_helpers import ThreadedServer

REASONS = {200: b"OK", 201: b"Created", 204: b"No Content", 301: b"Moved Permanently",
           302: b"Found", 304: b"Not Modified", 404: b"Not Found", 500: b"Internal Server Error",
           503: b"Service Unavailable"}  # fmt: skip


def preamble(log_port: int | str) -> list[str]:
    """The global and defaults sections of every generated mode http configuration."""
    return ["global", f"    log 127.0.0.1:{log_port} local0", "defaults", "    mode http",
            "    log global", "    option httplog", "    timeout connect 2s",
            "    timeout client 5s", "    timeout server 5s"]  # fmt: skip


class EchoServer(ThreadedServer):
    """An HTTP/1.1 server that answers what it received (see the module's text)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        conn.settimeout(10)
        with contextlib.suppress(OSError, ConnectionError, ValueError):
            while (head := read_head(conn, buf)) is not None:
                body = read_body(conn, buf, head)
                if not self._answer(conn, head, body):
                    break
        with contextlib.suppress(OSError):
            conn.close()

    def _answer(self, conn: socket.socket, head: bytes, body: bytes) -> bool:
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ")[0]
        status = 200
        extra = [b"X-Served-By: " + self.name.encode()]
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            low = name.strip().lower()
            if not low.startswith(b"x-reply-"):
                continue
            if low == b"x-reply-status":
                status = int(value.strip())
            else:
                extra.append(name.strip()[8:] + b": " + value.strip())
        text = head + body
        close = (field(head, b"connection") or b"").lower() == b"close"
        if close:
            extra.append(b"Connection: close")
        if status in (204, 304):
            framing, text = b"", b""
        else:
            framing = b"Content-Length: %d\r\n" % len(text)
        if method == b"HEAD":
            text = b""
        reason = REASONS.get(status, b"Whatever")
        conn.sendall(
            b"HTTP/1.1 %d %s\r\n%s\r\n%s\r\n%s"
            % (status, reason, b"\r\n".join(extra), framing, text)
        )
        return not close


@dataclass(frozen=True, slots=True)
class Seen:
    """What one proxy gave: per request (response head, body), then its log lines."""

    exchanges: tuple[tuple[bytes, bytes], ...]
    logs: tuple[str, ...]
    stats: tuple[str, ...] = ()  # the stats socket's masked answers (diff_stats.py)


def _recv_until_close(sock: socket.socket, buf: bytearray) -> bytes:
    out = bytes(buf)
    buf.clear()
    with contextlib.suppress(OSError):
        while data := sock.recv(65536):
            out += data
    return out


def _response(sock: socket.socket, buf: bytearray, method: bytes) -> tuple[bytes, bytes, bool]:
    """One response: head, body, and whether the connection can carry another request."""
    try:
        head = read_head(sock, buf)
    except OSError:
        return b"", b"", False
    if head is None:
        return b"", b"", False
    status = int(head.split(b" ")[1])
    keep = (field(head, b"connection") or b"").lower() != b"close"
    if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
        return head, b"", keep
    if field(head, b"content-length") is None and field(head, b"transfer-encoding") is None:
        return head, _recv_until_close(sock, buf), False
    try:
        return head, read_body(sock, buf, head), keep
    except (OSError, ConnectionError):
        return head, b"<cut>", False


def exchange_all(
    port: int, requests: list[bytes], after: Callable[[bool], None]
) -> list[tuple[bytes, bytes]]:
    """Each request on the open kept-alive connection, or a new one when the last closed;
    `after(closed)` once each response was read (and its connection closed if it ends)."""
    out: list[tuple[bytes, bytes]] = []
    sock: socket.socket | None = None
    buf = bytearray()
    try:
        for raw in requests:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                buf.clear()
            sock.sendall(raw)
            head, body, keep = _response(sock, buf, raw.split(b" ", 1)[0])
            out.append((head, body))
            closed = not keep or b"\r\nconnection: close" in raw.lower()
            if closed:
                sock.close()
                sock = None
            after(closed)
    finally:
        if sock is not None:
            sock.close()
    return out


MASKS = [
    (re.compile(r"(haproxy|pylvs)\[\d+\]"), r"haproxy[PID]"),
    (re.compile(r"^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d "), r"<\1>DATE "),
    (re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]"), "[ACCEPT]"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
]


def masked(datagram: bytes) -> str:
    text = datagram.decode(errors="replace").rstrip("\n")
    for rx, to in MASKS:
        text = rx.sub(to, text)
    return timers(text)


def log_lines(syslog: Syslog, quiet: float) -> list[str]:
    out: list[str] = []
    syslog.sock.settimeout(quiet)
    while True:
        try:
            out.append(masked(syslog.sock.recv(65536)))
        except TimeoutError:
            return out


def start_side(tmp: Path, kind: str, config: str) -> Proxy:
    return Proxy(tmp / kind, kind, config, None)


def run_side(proxy: Proxy, port: int, syslog: Syslog, requests: list[bytes]) -> Seen:
    """The requests, each one's log line awaited before the next is sent: a stream logs
    when it ends, and the next request's line counts the connections still open (%ac/%fc),
    so without the wait the lines' order and counts would depend on scheduling."""
    log_lines(syslog, 0.05)  # nothing of a previous run
    logs: list[str] = []

    def after(closed: bool) -> None:
        syslog.sock.settimeout(5.0)  # (a loaded box delays a line by seconds)
        with contextlib.suppress(TimeoutError):
            logs.append(masked(syslog.sock.recv(65536)))
        if closed:  # the session is freed just after its stream's line
            time.sleep(0.05)

    got = exchange_all(port, requests, after)
    return Seen(tuple(got), tuple(logs + log_lines(syslog, 1.0)))


def render_seen(seen: Seen) -> list[str]:
    out = []
    for i, (head, body) in enumerate(seen.exchanges):
        out.append(f"--- response {i}")
        out += head.decode(errors="replace").split("\r\n")
        out += body.decode(errors="replace").split("\r\n")
    out.append("--- logs")
    out += list(seen.logs)
    if seen.stats:
        out.append("--- stats")
        out += list(seen.stats)
    return out


# A configuration's text for a frontend port and a syslog port
Render = Callable[[int, int], str]


@dataclass(frozen=True, slots=True)
class Compared:
    """Both proxies' views of one configuration and its requests, and their difference
    (empty when they agree; `failed` says why a side could not run)."""

    config: str
    seen: dict[str, Seen]
    diff: tuple[str, ...]


def run_both(
    tmp: Path,
    render: Render,
    syslogs: dict[str, Syslog],
    requests: list[bytes],
    commands: list[str] | None = None,
) -> Compared:
    """haproxy, then pylvs, on the same configuration (each its own port and syslog);
    `commands`: sent to each one's stats socket once the requests were answered."""
    seen: dict[str, Seen] = {}
    text = ""
    for kind in KINDS:
        port = free_port()
        text = render(port, syslogs[kind].sock.getsockname()[1])
        sock = tmp / f"{kind}.sock"
        try:
            proxy = start_side(tmp, kind, with_socket(text, sock) if commands else text)
        except RuntimeError as e:
            return Compared(text, seen, (f"{kind} did not start: {e}",))
        try:
            got = run_side(proxy, port, syslogs[kind], requests)
            if commands:
                got = dataclasses.replace(got, stats=tuple(ask(sock, commands)))
            seen[kind] = got
        finally:
            proxy.stop()
    diff: tuple[str, ...] = ()
    if seen["pylvs"] != seen["haproxy"]:
        diff = tuple(
            difflib.unified_diff(
                render_seen(seen["haproxy"]), render_seen(seen["pylvs"]), "haproxy", "pylvs",
                lineterm="", n=2,
            )
        )  # fmt: skip
    return Compared(text, seen, diff)
