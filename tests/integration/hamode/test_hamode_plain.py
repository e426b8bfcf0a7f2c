"""Plain listeners (dataplane/haproxy/plain.py, the pump's _accept.h): a frontend without
rules in front of a roundrobin / static-rr / leastconn / first backend has its streams
accepted, balanced and spliced in C.  Each scenario runs under pylvs and under the real
haproxy on the same text and must see the same: pick orders across a weight change and a
server going down, leastconn's and first's picks with held connections and a queue, the
`show stat` counters after traffic, `maxconn` (the hand-over to Python's accept loop), a
refused server (the hand-over to Python's retries and redispatch), `show sess` and
`shutdown sessions server`, and an idle timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    Servers,
    ask,
    both,
    closed_port,
    free_port,
    hold,
    stats_command,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
]


def _config(sock: Path, port: int, servers: str, *, extra: str = "", balance: str = "") -> str:
    return f"""global
    stats socket {sock} mode 600 level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
listen lb
    bind 127.0.0.1:{port}
    balance {balance or "roundrobin"}
{extra}{servers}
"""


def _waiting(port: int) -> tuple[socket.socket, str]:
    """A client that sends and is not answered within 0.7 s ("waiting": queued, or left to
    the accept loop), or what it was answered."""
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(b"hi")
    client.settimeout(0.7)
    try:
        return client, client.recv(100).decode()
    except TimeoutError:
        return client, "waiting"


def _stat(sock: Path) -> dict[str, dict[str, str]]:
    lines = stats_command(sock, "show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = {}
    for line in lines[1:]:
        if line:
            row = dict(zip(header, line.split(","), strict=False))
            rows[f"{row['pxname']}/{row['svname']}"] = row
    return rows


@pytest.mark.parametrize("balance", ["roundrobin", "static-rr"])
def test_picks_follow_weight_changes_and_a_server_down(
    proxy: Callable[..., Proxy], tmp_path: Path, balance: str
) -> None:
    def scenario(start: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        a, b, c = servers.add("a"), servers.add("b"), servers.add("c")
        port, sock = free_port(), tmp_path / f"{kind}-{balance}.sock"
        lines = "".join(
            f"    server {s.name} 127.0.0.1:{s.port} weight {w}\n"
            for s, w in ((a, 1), (b, 2), (c, 3))
        )
        start(kind, _config(sock, port, lines, balance=balance), None)
        seen = [ask(port) for _ in range(13)]
        seen.append(stats_command(sock, "set server lb/c weight 0").strip())
        seen += [ask(port) for _ in range(7)]
        seen.append(stats_command(sock, "disable server lb/a").strip())
        seen += [ask(port) for _ in range(4)]
        seen.append(stats_command(sock, "set server lb/c weight 100%").strip())
        seen.append(stats_command(sock, "enable server lb/a").strip())
        seen += [ask(port) for _ in range(13)]
        return seen

    both(proxy, scenario)


def test_show_stat_counts_what_the_pump_ran(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    fields = ("scur", "stot", "bin", "bout", "lbtot", "econ")
    # A live stream's bytes: haproxy counts them later than the pure-Python relay does
    # (PYLVS_PROXY_PUMP=0); compared once the stream is over.
    live_fields = ("scur", "stot", "lbtot", "econ")

    def scenario(start: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        a, b = servers.add("a"), servers.add("b")
        port, sock = free_port(), tmp_path / f"{kind}.sock"
        lines = f"    server a 127.0.0.1:{a.port}\n    server b 127.0.0.1:{b.port} weight 3\n"
        start(kind, _config(sock, port, lines), None)
        names = [ask(port, send=b"x" * n) for n in range(1, 17)]
        held, name = hold(port)
        time.sleep(0.3)
        during = _stat(sock)
        held.close()
        time.sleep(0.5)
        after = _stat(sock)
        out: list[object] = [names, name]
        for rows, shown in ((during, live_fields), (after, fields)):
            for key in ("lb/FRONTEND", "lb/a", "lb/b", "lb/BACKEND"):
                out.append((key, [rows[key].get(f, "") for f in shown]))
        return out

    seen = both(proxy, scenario)
    assert ("lb/FRONTEND", ["0", "17", "138", "17", "", ""]) in seen["pylvs"]  # type: ignore[operator]


def test_maxconn_hands_the_next_client_to_the_accept_loop(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    def scenario(start: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("a", "hold")
        b = servers.add("b", "hold")
        a = servers["a"]
        port, sock = free_port(), tmp_path / f"{kind}.sock"
        lines = f"    server a 127.0.0.1:{a.port}\n    server b 127.0.0.1:{b.port}\n"
        start(kind, _config(sock, port, lines, extra="    maxconn 2\n"), None)
        first, n1 = hold(port)
        second, n2 = hold(port)
        third, early = _waiting(port)
        scur = _stat(sock)["lb/FRONTEND"]["scur"]
        first.close()
        servers.release()  # the servers hold: let the first one go
        third.settimeout(5)
        late = third.recv(100).decode() if early == "waiting" else early
        second.close()
        third.close()
        return [n1, n2, early, scur, late]

    seen = both(proxy, scenario)
    assert seen["pylvs"] == ["a", "b", "waiting", "2", "a"]


def test_a_refused_server_goes_to_python_retries_and_redispatch(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    def scenario(start: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        b = servers.add("b")
        port, sock = free_port(), tmp_path / f"{kind}.sock"
        lines = f"    server a 127.0.0.1:{closed_port()}\n    server b 127.0.0.1:{b.port}\n"
        extra = "    retries 1\n    option redispatch\n"
        start(kind, _config(sock, port, lines, extra=extra), None)
        seen: list[object] = [ask(port) for _ in range(6)]
        rows = _stat(sock)
        # (wredis is not compared: pylvs does not count it per server yet)
        seen.append([rows["lb/a"][f] for f in ("stot", "econ")])
        seen.append([rows["lb/b"][f] for f in ("stot", "econ")])
        return seen

    seen = both(proxy, scenario)
    assert seen["pylvs"][:6] == ["b"] * 6  # type: ignore[index]


def test_show_sess_and_shutdown_sessions_server(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    def scenario(start: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        a, b = servers.add("a", "hold"), servers.add("b", "hold")
        port, sock = free_port(), tmp_path / f"{kind}.sock"
        lines = f"    server a 127.0.0.1:{a.port}\n    server b 127.0.0.1:{b.port}\n"
        start(kind, _config(sock, port, lines), None)
        held = [hold(port) for _ in range(4)]
        sess = stats_command(sock, "show sess")
        streams = sorted(
            w.split("=")[1]
            for line in sess.splitlines()
            if "proto=tcpv4" in line
            for w in line.split()
            if w.startswith("srv=")
        )
        stats_command(sock, "shutdown sessions server lb/a")
        closed = []
        for conn, name in held:
            conn.settimeout(2)
            try:
                closed.append((name, conn.recv(10) == b""))
            except TimeoutError:
                closed.append((name, False))
            except OSError:
                closed.append((name, True))
            conn.close()
        servers.release()
        return [streams, closed]

    seen = both(proxy, scenario)
    assert seen["pylvs"] == [
        ["a", "a", "b", "b"],
        [("a", True), ("b", False), ("a", True), ("b", False)],
    ]


def test_an_idle_stream_ends_at_its_timeout(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    def scenario(start: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        a = servers.add("a", "hold")
        port, sock = free_port(), tmp_path / f"{kind}.sock"
        config = _config(sock, port, f"    server a 127.0.0.1:{a.port}\n").replace("10s", "600ms")
        start(kind, config, None)
        conn, name = hold(port)
        conn.settimeout(0.3)
        try:
            early = conn.recv(10)
        except TimeoutError:
            early = b"open"
        conn.settimeout(5)
        t0 = time.monotonic()
        try:
            late = conn.recv(10)
        except OSError:
            late = b"reset"
        waited = time.monotonic() - t0
        conn.close()
        servers.release()
        return [name, early, late in (b"", b"reset"), waited < 3]

    seen = both(proxy, scenario)
    assert seen["pylvs"] == ["a", b"open", True, True]


def test_leastconn_and_first_with_maxconn_pick_in_c_and_queue_in_python(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """leastconn's held connections over weights 1:2:3, and `first` filling servers up to
    their maxconn (_leastconn.h), then the stream no server has room for waiting in the
    backend queue (Python's) until one closes; `show stat`'s current sessions on the way."""

    def scenario(start: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        a, b, c = (servers.add(n, "hold") for n in ("a", "b", "c"))
        out: list[object] = []
        for balance, opts in (("leastconn", ("weight 1", "weight 2", "weight 3")),
                              ("first", ("maxconn 1", "maxconn 2", "maxconn 1"))):  # fmt: skip
            port, sock = free_port(), tmp_path / f"{kind}-{balance}.sock"
            lines = "".join(
                f"    server {s.name} 127.0.0.1:{s.port} {o}\n"
                for s, o in zip((a, b, c), opts, strict=True)
            )
            extra = "    timeout queue 5s\n"
            p = start(kind, _config(sock, port, lines, extra=extra, balance=balance), None)
            held = [hold(port) for _ in range(4 if balance == "first" else 9)]
            out.append([name for _, name in held])
            if balance == "first":
                late, early = _waiting(port)
                rows = _stat(sock)
                out.append([early, rows["lb/BACKEND"]["qcur"]])
                held[1][0].close()  # one of b's: the queued stream goes there
                servers.release()
                late.settimeout(5)
                out.append(late.recv(100).decode() if early == "waiting" else early)
                late.close()
            out.append([_stat(sock)[f"lb/{n}"]["scur"] for n in "abc"])
            for h, _ in held:
                h.close()
            servers.release()
            p.stop()
        return out

    seen = both(proxy, scenario)
    assert seen["pylvs"] == [
        ["a", "b", "c", "c", "b", "c", "c", "b", "c"],  # fwlc over 1:2:3, all held
        ["1", "3", "5"],
        ["a", "b", "b", "c"],  # first: each server up to its maxconn
        ["waiting", "1"],  # no room: the backend queue
        "b",  # the slot b freed
        ["1", "2", "1"],
    ]
