"""`tcp-response content` rules on mode tcp streams: what the client gets when a backend's
rules accept, reject, close or wait on the server's first bytes, pylvs and the real
`haproxy -db` on the same haproxy.cfg text."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, Servers, both, free_port

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""
# listen name -> (server name: what it answers, behaviour, the backend's rules)
CASES = {
    "accepted": ("okay", "name", "tcp-response inspect-delay 2s\n"
                 "    tcp-response content accept if { res.payload(0,2) -m str ok }\n"
                 "    tcp-response content reject\n"),
    "rejected": ("nope", "hold", "tcp-response inspect-delay 2s\n"
                 "    tcp-response content accept if { res.payload(0,2) -m str ok }\n"
                 "    tcp-response content reject\n"),
    "short": ("tiny", "hold", "tcp-response content reject if { res.len lt 10 }\n"),
    "closed": ("closer", "hold", "tcp-response content close\n"),
    "waited": ("abc", "hold", "tcp-response inspect-delay 300ms\n"
               "    tcp-response content accept if { res.len ge 10 }\n"
               "    tcp-response content set-var(res.n) res.len\n"
               "    tcp-response content reject if { var(res.n) -m int 3 }\n"),
}  # fmt: skip


def _talk(port: int) -> tuple[str, str, bool]:
    """What the client reads until the end, how it ended, and whether it took more than
    the inspect delay of the `waited` case."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"hi")
        got = b""
        end = "eof"
        try:
            while chunk := c.recv(100):
                got += chunk
        except ConnectionResetError:
            end = "reset"
        except TimeoutError:
            end = "open"
    return got.decode(), end, time.monotonic() - started > 0.25


def test_response_rules_decide_what_the_client_gets(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        text = HEAD
        ports = {}
        for name, (server, behaviour, rules) in CASES.items():
            servers.add(server, behaviour)
            ports[name] = free_port()
            text += (
                f"listen {name}\n    bind 127.0.0.1:{ports[name]}\n    {rules}"
                f"    server {server} 127.0.0.1:{servers[server].port}\n"
            )
        proxy(kind, text, None)
        return {name: _talk(port) for name, port in ports.items()}

    seen = both(proxy, run)
    got = seen["pylvs"]
    assert isinstance(got, dict)
    assert got["accepted"] == ("okay", "eof", False)
    # nothing of the response, and a FIN: the server still holds its socket open
    assert got["rejected"] == got["short"] == got["closed"] == ("", "eof", False)
    assert got["waited"] == ("", "eof", True)  # rejected once the delay is over
