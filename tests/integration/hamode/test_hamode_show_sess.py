"""`show sess` on the stats socket: mode tcp and mode http streams, with the client
connection's own address (not a PROXY header's), pylvs and the real `haproxy -db` on the
same haproxy.cfg text."""

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

_FIELDS = re.compile(r"proto=(\S+) src=([\d.]+|unix):(\d+) fe=(\S+) be=(\S+) srv=(\S+)")


def test_show_sess_lists_tcp_and_http_streams(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("t1", "stall")
        servers.add("h1", "stall")
        servers.add("u1", "stall")
        tcp, http, feed = free_port(), free_port(), free_port()
        name = f"pylvs_sess_{kind}_{feed}"
        sock = tmp_path / f"{kind}.sock"
        text = (
            f"global\n    stats socket {sock} level admin\n"
            "defaults\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"
            f"listen t\n    mode tcp\n    bind 127.0.0.1:{tcp}\n"
            f"    server t1 127.0.0.1:{servers['t1'].port}\n"
            f"frontend f\n    mode http\n    bind 127.0.0.1:{http} accept-proxy\n"
            "    default_backend b\n"
            f"backend b\n    mode http\n    server h1 127.0.0.1:{servers['h1'].port}\n"
            f"listen feed\n    mode tcp\n    bind 127.0.0.1:{feed}\n"
            f"    server u abns@{name} send-proxy\n"
            f"listen u\n    mode tcp\n    bind 127.0.0.1:{free_port()}\n"
            f"    bind abns@{name} accept-proxy\n"
            f"    server u1 127.0.0.1:{servers['u1'].port}\n"
        )
        proxy(kind, text, None)
        clients = []
        idle = socket.create_connection(("127.0.0.1", http), timeout=5)  # no request: no stream
        idle.sendall(b"PROXY TCP4 10.9.9.8 10.0.0.1 4241 80\r\n")
        clients.append(idle)
        c = socket.create_connection(("127.0.0.1", tcp), timeout=5)
        c.sendall(b"hello")
        clients.append(c)
        h = socket.create_connection(("127.0.0.1", http), timeout=5)
        h.sendall(b"PROXY TCP4 10.9.9.9 10.0.0.1 4242 80\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n")
        clients.append(h)
        u = socket.create_connection(("127.0.0.1", feed), timeout=5)
        u.sendall(b"hello")
        clients.append(u)
        time.sleep(0.5)
        names = ("idle", "tcp", "http", "feed")
        ports = {cl.getsockname()[1]: name for cl, name in zip(clients, names, strict=True)}
        listed = []
        for line in stats_command(sock, "show sess").splitlines():
            m = _FIELDS.search(line)
            if m is not None and "fe=GLOBAL" not in line:  # not the CLI's own stream
                proto, src, sport, fe, be, srv = m.groups()
                listed.append((proto, src, ports.get(int(sport), sport), fe, be, srv))
        for cl in clients:
            cl.close()
        return sorted(listed)

    seen = both(proxy, run)
    assert seen["pylvs"] == [
        ("tcpv4", "127.0.0.1", "feed", "feed", "feed", "u"),
        ("tcpv4", "127.0.0.1", "http", "f", "b", "h1"),
        ("tcpv4", "127.0.0.1", "tcp", "t", "t", "t1"),
        ("unix_stream", "unix", "2", "u", "u", "u1"),  # the second bind's listener
    ]
