"""`show sess` and `shutdown session` for the exchanges of a listener the pump serves itself
(_h1own.h's h1_list / h1_hand, http/own.py's H1View): pylvs and the real `haproxy -db` on the
same haproxy.cfg list a request in flight as a stream of its frontend, backend and server
(an idle kept-alive connection, and a connection that sent nothing yet, as none), and
`shutdown session` ends it (no longer listed), the other request goes on.  What the client
then reads is compared in diff/test_diff_kill.py."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    Servers,
    both,
    free_port,
    stats_command,
)

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

_LINE = re.compile(r"^(0x[0-9a-f]+): proto=(\S+) src=[\d.]+:(\d+) fe=(\S+) be=(\S+) srv=(\S+)")


def test_show_sess_lists_and_shutdown_ends_an_exchange_in_flight(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("slow", "stall")
        port = free_port()
        sock = tmp_path / f"{kind}.sock"
        text = (
            f"global\n    stats socket {sock} level admin\n"
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n"
            "    timeout server 10s\n"
            f"listen app\n    bind 127.0.0.1:{port}\n"
            f"    server slow 127.0.0.1:{servers['slow'].port}\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        silent = socket.create_connection(("127.0.0.1", port), timeout=5)  # no request
        held = socket.create_connection(("127.0.0.1", port), timeout=5)
        held.sendall(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        other = socket.create_connection(("127.0.0.1", port), timeout=5)
        other.sendall(b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        names = {held.getsockname()[1]: "held", other.getsockname()[1]: "other"}
        listed, pointer = [], ""
        for line in stats_command(sock, "show sess").splitlines():
            m = _LINE.match(line)
            if m is None or " fe=GLOBAL " in line:
                continue
            ptr, proto, sport, fe, be, srv = m.groups()
            name = names.get(int(sport), sport)
            listed.append((proto, name, fe, be, srv))
            if name == "held":
                pointer = ptr
        answer = stats_command(sock, f"shutdown session {pointer}")
        still = [ln for ln in stats_command(sock, "show sess").splitlines() if " fe=app " in ln]
        for c in (silent, held, other):
            c.close()
        return sorted(listed), answer.strip(), len(still)

    seen = both(proxy, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"] == (
        [("tcpv4", "held", "app", "app", "slow"), ("tcpv4", "other", "app", "app", "slow")],
        "",
        1,  # the other request is still in flight
    )
