"""The rules engine on the runtime (issue 20): tcp-request connection/session/content rules,
track-sc counters, use_backend on payload and `%[...]` names, use-server, `show table` after
tracking -- pylvs and the real `haproxy -db` on the same haproxy.cfg text, compared by what
clients, servers and the stats socket see."""

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
    Scenario,
    Servers,
    after_streams,
    ask,
    both,
    free_port,
    stats_command,
)

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
global
    maxconn 1000
    nbthread 1
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
"""


def compare(proxy: Callable[..., Proxy], scenario: Scenario) -> object:
    """What pylvs and haproxy both saw."""
    return both(proxy, scenario)["pylvs"]


def hold(port: int, source: str) -> tuple[socket.socket, str]:
    """A client connection from `source` kept open, and the name it got."""
    c = socket.socket()
    c.settimeout(5)
    c.bind((source, 0))
    c.connect(("127.0.0.1", port))
    c.sendall(b"hi")
    return c, c.recv(100).decode()


def backends(servers: Servers, *names: str) -> str:
    text = ""
    for n in names:
        servers.add(n)
        text += f"backend {n}\n    server {n} 127.0.0.1:{servers[n].port}\n"
    return text


def test_connection_and_session_rules_reject_by_source(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        port = free_port()
        text = (
            HEAD + f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    tcp-request connection reject if { src 127.0.5.0/24 }\n"
            "    tcp-request connection accept if { src 127.0.6.1 }\n"
            "    tcp-request connection reject if { src 127.0.6.0/24 }\n"
            "    tcp-request session reject if { src_port lt 0 } || { src 127.0.7.7 }\n"
            "    default_backend s1\n" + backends(servers, "s1")
        )
        proxy(kind, text, None)
        sources = ["127.0.1.1", "127.0.5.5", "127.0.6.1", "127.0.6.2", "127.0.7.7", "127.0.7.8"]
        return [ask(port, source=s) for s in sources]

    assert compare(proxy, run) == ["s1", "", "s1", "", "", "s1"]


def test_track_sc_and_reject_on_conn_cur_and_conn_rate(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1", "hold")
        port = free_port()
        text = (
            HEAD + f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    stick-table type ip size 100 expire 30s store conn_cur,conn_rate(30s)\n"
            "    tcp-request connection track-sc0 src\n"
            "    tcp-request connection reject if { sc0_conn_cur gt 2 }\n"
            "    tcp-request connection reject if { sc0_conn_rate gt 4 }\n"
            f"    default_backend b\nbackend b\n    server s1 127.0.0.1:{servers['s1'].port}\n"
        )
        proxy(kind, text, None)
        held = [hold(port, source="127.0.1.1") for _ in range(2)]
        third = ask(port, source="127.0.1.1")  # conn_cur 3: refused
        other = ask(port, source="127.0.2.2")  # another source has its own entry
        for c, _ in held:
            c.close()
        servers["s1"].release()
        time.sleep(0.5)  # the streams end: conn_cur goes back down
        fourth = ask(port, source="127.0.1.1", timeout=2)  # conn_rate 4: let in
        fifth = ask(port, source="127.0.1.1", timeout=2)  # conn_rate 5: refused
        servers["s1"].release()
        return [n for _, n in held] + [third, other, fourth, fifth]

    assert compare(proxy, run) == ["s1", "s1", "", "s1", "s1", ""]


def test_content_rules_with_an_inspect_delay(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        port = free_port()
        text = (
            HEAD + f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    tcp-request inspect-delay 3s\n"
            "    tcp-request content reject if { req.payload(0,3) -m str BAD }\n"
            "    tcp-request content accept if { req.len ge 4 }\n"
            "    tcp-request content reject\n"
            "    default_backend s1\n" + backends(servers, "s1")
        )
        proxy(kind, text, None)
        out: list[object] = [ask(port, send=b"GOOD"), ask(port, send=b"BADX")]
        # Two bytes, then two more: the rules wait for the rest within the delay.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(b"GO")
            time.sleep(0.5)
            c.sendall(b"OD")
            out.append(c.recv(100).decode())
        # Too short when the delay ends: the last rule rejects it.
        started = time.monotonic()
        out.append(ask(port, send=b"GO", timeout=6))
        out.append(time.monotonic() - started > 2.5)
        return [*out, servers["s1"].received]

    assert compare(proxy, run) == ["s1", "", "s1", "", True, [b"GOOD", b"GOOD"]]


def test_use_backend_on_the_payload_and_a_log_format_name(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        port = free_port()
        text = (
            HEAD + f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    tcp-request inspect-delay 2s\n"
            "    tcp-request content accept if { req.len ge 4 }\n"
            "    use_backend ping if { req.payload(0,4) -m str PING }\n"
            "    use_backend %[req.payload(0,2)]\n"
            "    default_backend b1\n" + backends(servers, "ping", "b1", "b2")
        )
        proxy(kind, text, None)
        return [ask(port, send=s) for s in (b"PING", b"b2xx", b"b1xx", b"zzzz")]

    assert compare(proxy, run) == ["ping", "b2", "b1", "b1"]


def test_use_server_and_stick_on_a_payload_key(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        for n in ("s1", "s2", "s3"):
            servers.add(n)
        port = free_port()
        text = (
            HEAD + f"listen app\n    bind 127.0.0.1:{port}\n    balance roundrobin\n"
            "    tcp-request inspect-delay 2s\n"
            "    tcp-request content accept if { req.len ge 4 }\n"
            "    stick-table type string len 4 size 100 expire 1m\n"
            "    stick on req.payload(0,4)\n"
            "    use-server s3 if { req.payload(0,4) -m str ZZZZ }\n"
        )
        for n in ("s1", "s2", "s3"):
            text += f"    server {n} 127.0.0.1:{servers[n].port}\n"
        proxy(kind, text, None)
        keys = [b"AAAA", b"BBBB", b"AAAA", b"ZZZZ", b"CCCC", b"BBBB", b"ZZZZ", b"AAAA"]
        return [ask(port, send=k) for k in keys]

    got = compare(proxy, run)
    assert isinstance(got, list) and got[0] == got[2] == got[7] and got[3] == got[6] == "s3"


def _entries(table: str) -> list[str]:
    """`show table` lines without what differs between two runs (entry address, expiry)."""
    lines = []
    for raw in table.splitlines():
        line = re.sub(r" exp=\d+", "", re.sub(r"^0x[0-9a-f]+: ", "", raw))
        if line:
            lines.append(line)
    return lines


def test_show_table_after_tracking(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1", "hold")
        port = free_port()
        sock = tmp_path / f"{kind}.sock"
        text = HEAD.replace(
            "    maxconn 1000\n", f"    maxconn 1000\n    stats socket {sock} level admin\n"
        ) + (
            f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    stick-table type ip size 100 expire 30s "
            "store conn_cur,conn_cnt,sess_cnt,gpc0,conn_rate(10s)\n"
            "    tcp-request connection track-sc1 src\n"
            "    tcp-request connection sc-inc-gpc0(1) if { src 127.0.3.3 }\n"
            f"    default_backend b\nbackend b\n    server s1 127.0.0.1:{servers['s1'].port}\n"
        )
        proxy(kind, text, None)
        held = hold(port, source="127.0.3.3")[0]
        for src in ("127.0.1.1", "127.0.1.1", "127.0.3.3"):
            ask(port, source=src, timeout=1)
        servers["s1"].release()
        time.sleep(0.3)
        table = _entries(stats_command(sock, "show table f"))
        held.close()
        return table

    assert compare(proxy, run) == [
        "# table: f, type: ip, size:100, used:2",
        "key=127.0.1.1 use=0 gpc0=0 conn_cnt=2 conn_rate(10000)=2 conn_cur=0 sess_cnt=2",
        "key=127.0.3.3 use=1 gpc0=2 conn_cnt=2 conn_rate(10000)=2 conn_cur=1 sess_cnt=2",
    ]


def test_expect_proxy_and_set_src_reach_the_server_in_send_proxy(
    proxy: Callable[..., Proxy],
) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s1")
        port = free_port()
        text = (
            HEAD + f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    tcp-request connection expect-proxy layer4 if { src 127.0.4.0/24 }\n"
            "    tcp-request connection set-src ipv4(10.9.8.7) if { src 127.0.2.2 }\n"
            "    tcp-request session reject if { src 192.0.2.66 }\n"
            f"    default_backend b\nbackend b\n"
            f"    server s1 127.0.0.1:{servers['s1'].port} send-proxy\n"
        )
        proxy(kind, text, None)
        header = b"PROXY TCP4 192.0.2.1 127.0.0.9 5555 80\r\n"
        rejected = b"PROXY TCP4 192.0.2.66 127.0.0.9 5555 80\r\n"
        got = [
            ask(port, source="127.0.4.4", send=header + b"hi"),
            ask(port, source="127.0.4.4", send=rejected + b"hi"),  # session rules: PROXY's src
            ask(port, source="127.0.2.2"),
        ]
        seen = [r.split(b"\r\n")[0].split(b" ")[:4] for r in servers["s1"].received]
        return got, seen

    got = compare(proxy, run)
    assert got == (
        ["s1", "", "s1"],
        [
            [b"PROXY", b"TCP4", b"192.0.2.1", b"127.0.0.9"],
            [b"PROXY", b"TCP4", b"10.9.8.7", b"127.0.0.1"],
        ],
    )


def _outcome(port: int, source: str, send: bytes = b"hi") -> str:
    """How a refused client learns it: "reset" at once, or "silence" until its timeout (a
    client that sent nothing: a segment to a dropped socket would be answered by a RST)."""
    with socket.socket() as c:
        c.settimeout(1.5)
        c.bind((source, 0))
        try:
            c.connect(("127.0.0.1", port))
            if send:
                c.sendall(send)
            data = c.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            return "reset"
        except TimeoutError:
            return "silence"
        return data.decode() or "closed"


def test_each_reject_closes_as_haproxy_and_silent_drop_says_nothing(
    proxy: Callable[..., Proxy],
) -> None:
    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        port = free_port()
        text = (
            HEAD + f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    tcp-request connection reject if { src 127.0.5.5 }\n"
            "    tcp-request connection silent-drop if { src 127.0.6.6 }\n"
            "    tcp-request session reject if { src 127.0.8.8 }\n"
            "    tcp-request inspect-delay 1s\n"
            "    tcp-request content reject if { req.payload(0,2) -m str hi } { src 127.0.7.7 }\n"
            "    default_backend s1\n" + backends(servers, "s1")
        )
        proxy(kind, text, None)
        sources = ("127.0.1.1", "127.0.5.5", "127.0.6.6", "127.0.7.7", "127.0.8.8")
        # The silent-drop and session-reject clients send nothing: a client's bytes that
        # reach a socket being closed make the kernel answer with a RST, whatever the proxy
        # meant (haproxy itself gave 1 RST and 2 FINs in 3 runs when they did).
        quiet = ("127.0.6.6", "127.0.8.8")
        return [_outcome(port, s, b"" if s in quiet else b"hi") for s in sources]

    # A connection rule's reject is a RST (session.c: no linger); a session or content
    # rule's is an orderly close (conn_full_close), as the connection was accepted.
    assert compare(proxy, run) == ["s1", "reset", "silence", "closed", "closed"]


def test_refused_streams_are_counted_in_show_stat(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """dcon, dses, dreq and the session and connection totals after one refusal at each
    rule set (session.c counts a session once its session rules pass; every accepted
    connection is in conn_tot): the same columns as haproxy's `show stat`."""

    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        port = free_port()
        sock = tmp_path / f"{kind}.sock"
        text = HEAD.replace(
            "    maxconn 1000\n", f"    maxconn 1000\n    stats socket {sock} level admin\n"
        ) + (
            f"frontend f\n    bind 127.0.0.1:{port}\n"
            "    tcp-request connection reject if { src 127.0.5.5 }\n"
            "    tcp-request session reject if { src 127.0.8.8 }\n"
            "    tcp-request inspect-delay 1s\n"
            "    tcp-request content reject if { req.payload(0,2) -m str hi } { src 127.0.7.7 }\n"
            "    default_backend s1\n" + backends(servers, "s1")
        )
        proxy(kind, text, None)
        for source in ("127.0.1.1", "127.0.5.5", "127.0.7.7", "127.0.8.8"):
            _outcome(port, source, b"" if source == "127.0.8.8" else b"hi")
        lines = after_streams(sock).splitlines()
        header = lines[0].lstrip("# ").split(",")
        row = next(dict(zip(header, x.split(","), strict=False)) for x in lines[1:]
                   if x.startswith("f,FRONTEND,"))  # fmt: skip
        return {k: row[k] for k in ("stot", "dreq", "dcon", "dses", "conn_tot")}

    assert compare(proxy, run) == {
        "stot": "2",
        "dreq": "1",
        "dcon": "1",
        "dses": "1",
        "conn_tot": "4",
    }
