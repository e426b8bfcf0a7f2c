"""`shutdown session` on a request waiting for its response, under the real `haproxy -db` and
`pylvs run` on the same configuration: what the client reads and the `option httplog` line.

stream_shutdown (src/stream.c) shuts the stream's server side with SF_ERR_KILLED, which
http_wait_for_response (src/http_ana.c, case 4) takes as the server's close: the
connection's first request gets the 502 page and logs `502 ... KH--`; a later request of a
kept-alive connection goes to abort_keep_alive, which closes without an answer so the client
retries, and logs nothing.  Both the listener the pump serves itself (no rules) and a
Python-served one (`option http-server-close`) are compared.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.hamode.diff.diff_rig import log_lines
from tests.integration.hamode.diff.diff_stats import wait_socket
from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port, stats_command
from tests.integration.hamode.http.http_helpers import read_head
from tests.integration.hamode.test_hamode_log import Syslog
from tests.integration.server_helpers import ThreadedServer

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]

_SESS = re.compile(r"^(0x[0-9a-f]+): proto=\S+ src=[\d.]+:(\d+) ")


class StallServer(ThreadedServer):
    """Answers `200 ok` to every request but those for /slow, which it never answers."""

    def serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        with contextlib.suppress(OSError, ValueError):
            while (head := read_head(conn, buf)) is not None:
                if b" /slow " in head.split(b"\r\n", 1)[0]:
                    return  # held open, unanswered
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")


@pytest.fixture
def server() -> Iterator[StallServer]:
    s = StallServer()
    try:
        yield s
    finally:
        s.close()


def _killed(
    tmp: Path, kind: str, mode: str, first: bool, server: StallServer, log: Syslog
) -> tuple[bytes, list[str]]:
    """The client's bytes after its /slow request was shut down, and the frontend's lines."""
    port = free_port()
    sock = tmp / f"{kind}.sock"
    text = (
        f"global\n    stats socket {sock} level admin\n    log 127.0.0.1:{log.port} local0\n"
        "defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 2s\n"
        f"    timeout client 10s\n    timeout server 10s\n{mode}"
        f"listen app\n    bind 127.0.0.1:{port}\n    server s 127.0.0.1:{server.port}\n"
    )
    proxy = Proxy(tmp / kind, kind, text, None)
    try:
        wait_socket(sock)
        log_lines(log, 0.05)  # nothing of a previous run
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            if not first:
                c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert read_head(c, bytearray()) is not None
            c.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            sport, pointer = c.getsockname()[1], None
            deadline = time.monotonic() + 10
            while pointer is None and time.monotonic() < deadline:  # until it is in flight
                for line in stats_command(sock, "show sess").splitlines():
                    m = _SESS.match(line)
                    if m is not None and int(m.group(2)) == sport and " srv=s " in line:
                        pointer = m.group(1)
                time.sleep(0.05)
            assert pointer is not None, f"{kind}: the request is not listed"
            assert stats_command(sock, f"shutdown session {pointer}").strip() == ""
            got = b""
            with contextlib.suppress(OSError):
                while data := c.recv(65536):
                    got += data
        lines = _app_lines(log)
    finally:
        proxy.stop()
    return got, lines


def _app_lines(log: Syslog) -> list[str]:
    """The frontend's lines: the first awaited (a loaded box delays it by seconds), then
    what else comes until a quiet second."""
    lines: list[str] = []
    deadline = time.monotonic() + 15
    while not lines and time.monotonic() < deadline:
        lines = [line for line in log_lines(log, 1.0) if " app app/s " in line]
    return lines + [line for line in log_lines(log, 1.0) if " app app/s " in line]


@pytest.mark.parametrize("mode", ["", "    option http-server-close\n"], ids=["pump", "python"])
@pytest.mark.parametrize("first", [True, False], ids=["first", "kept-alive"])
def test_shutdown_session_answers_the_first_request_502_and_closes_a_later_one_silently(
    tmp_path: Path, server: StallServer, mode: str, first: bool
) -> None:
    log = Syslog()
    try:
        seen = {kind: _killed(tmp_path, kind, mode, first, server, log) for kind in KINDS}
    finally:
        log.sock.close()
    assert seen["pylvs"] == seen["haproxy"]
    got, lines = seen["pylvs"]
    if first:
        assert got.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
        assert len(lines) == 1 and " 502 209 - - KH-- " in lines[0], lines
    else:  # abort_keep_alive: no answer, and only the first request's line
        assert got == b""
        assert len(lines) == 1 and '"GET / HTTP/1.1"' in lines[0], lines
