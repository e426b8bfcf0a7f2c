"""The differential rig and grammar for `mode tcp`: generated configurations with
`tcp-request content` rules, stick tables (`stick on src`, `track-sc0` with the `sc0_*`
fetches, a deny by `gpc0`) and `balance roundrobin|source|leastconn|static-rr|first`, run
under the real `haproxy -db` and under `pylvs run`; the same connections made to both.

`TcpEcho` servers read what a connection sends until its client shuts its side (or a pause),
answer their name and those bytes, and close.  A client connection sends its payload, shuts
its side and reads until the proxy closes: what it read, or that it was reset, is what is
compared, with each proxy's stats socket after the traffic (`show stat`, `show table`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_stats import ask, with_socket
from tests.integration.hamode.hamode_helpers import KINDS, Proxy, free_port
from tests.integration.server_helpers import ThreadedServer


class TcpEcho(ThreadedServer):
    """A TCP server that answers `NAME:` and what it received, then closes."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        got = b""
        conn.settimeout(2)
        with contextlib.suppress(OSError):
            while data := conn.recv(65536):
                got += data
            conn.sendall(self.name.encode() + b":" + got)
        with contextlib.suppress(OSError):
            conn.close()


def talk(port: int, payload: bytes) -> bytes:
    """One connection: the payload, our side shut, then what came back until the close."""
    out = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            if payload:
                c.sendall(payload)
            c.shutdown(socket.SHUT_WR)
            while data := c.recv(65536):
                out += data
    except OSError:  # reset, or closed before our shutdown: nothing more came
        return out + (b"<cut>" if out else b"")
    return out


# (a connection that sends nothing before its FIN is left out: a known divergence, haproxy
# ends it without a server or resets it where pylvs relays it to one)
PAYLOADS = [b"hello", b"BAD request", b"GET / HTTP/1.0\r\n\r\n", b"x" * 100, b"ping\n"]

# (no req.len: it answers at once, 0 before the bytes came, so a rule on it runs at the
# accept or after the payload as the scheduler has it, on either proxy; req.payload waits)
CRITERIA = [
    "{ req.payload(0,3) -m str BAD }",
    "{ req.payload(0,3) -m str GET }",
    "{ src 127.0.0.1 }",
    "{ src 10.0.0.0/8 }",
    "{ sc0_get_gpc0 gt 1 }",
    "{ sc0_conn_cnt gt 2 }",
    "{ sc_conn_cnt(0) ge 2 }",
    "{ req.payload(0,4) -m str ping }",
]


@dataclass(frozen=True, slots=True)
class TcpConfig:
    frontend: tuple[str, ...]
    backend: tuple[str, ...]
    servers: int

    def render(self, port: int, ports: list[int]) -> str:
        out = [
            "defaults",
            "    mode tcp",
            "    timeout connect 2s",
            "    timeout client 5s",
            "    timeout server 5s",
            "frontend fe",
            f"    bind 127.0.0.1:{port}",
            *("    " + line for line in self.frontend),
            "    default_backend be",
            "backend be",
            *("    " + line for line in self.backend),
        ]
        out += [f"    server s{i + 1} 127.0.0.1:{ports[i]}" for i in range(self.servers)]
        return "\n".join(out) + "\n"


@st.composite
def tcp_configs(draw: st.DrawFn) -> TcpConfig:
    fe = ["tcp-request inspect-delay 200ms"]
    tracked = draw(st.booleans())
    if tracked:
        # (bytes_in_cnt is left out: pylvs does not count a tcp stream's bytes in the
        # counters it tracks, a known divergence)
        fe.insert(0, "stick-table type ip size 1k expire 30s store gpc0,conn_cnt")
        fe.append("tcp-request content track-sc0 src")
    rules = []
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["accept", "reject", "sc-inc-gpc0(0)"]))
        if action == "sc-inc-gpc0(0)" and not tracked:
            action = "reject"
        # a reject on what needs no data runs at the accept, before or after the client's
        # bytes arrive (its `bin` and whether the client's FIN or a reset comes first are
        # a race on either proxy): rejects read the payload
        usable = [c for c in CRITERIA if (tracked or "sc" not in c)]
        if action == "reject":
            usable = [c for c in usable if "req.payload" in c]
        cond = draw(st.sampled_from(usable))
        rules.append(f"tcp-request content {action} if {cond}")
    fe += rules
    algorithms = ["roundrobin", "source", "leastconn", "static-rr", "first"]
    be = [f"balance {draw(st.sampled_from(algorithms))}"]
    if draw(st.booleans()):
        be = [*be, "stick-table type ip size 1k expire 30s", "stick on src"]
    return TcpConfig(tuple(fe), tuple(be), draw(st.integers(1, 3)))


def tcp_payloads() -> st.SearchStrategy[list[bytes]]:
    return st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=6)


@dataclass(frozen=True, slots=True)
class TcpSeen:
    answers: tuple[bytes, ...]
    stats: tuple[str, ...] = ()


def run_tcp_both(
    tmp: Path, config: TcpConfig, ports: list[int], payloads: list[bytes], commands: list[str]
) -> tuple[str, dict[str, TcpSeen], list[str]]:
    """Each proxy on the configuration: the connections one after the other (each awaited:
    the sticking and tracked counts then do not depend on scheduling), then the commands."""
    seen: dict[str, TcpSeen] = {}
    text = ""
    for kind in KINDS:
        port = free_port()
        text = config.render(port, ports)
        sock = tmp / f"{kind}.sock"
        proxy = Proxy(tmp / kind, kind, with_socket("global\n" + text, sock), None)
        try:
            answers = []
            for payload in payloads:
                answers.append(talk(port, payload))
                time.sleep(0.05)  # the stream's end seen by the proxy before the next
            got = TcpSeen(tuple(answers))
            seen[kind] = dataclasses.replace(got, stats=tuple(ask(sock, commands)))
        finally:
            proxy.stop()

    def lines(s: TcpSeen) -> list[str]:
        return [repr(a) for a in s.answers] + ["--- stats", *s.stats]

    diff = list(
        difflib.unified_diff(
            lines(seen["haproxy"]), lines(seen["pylvs"]), "haproxy", "pylvs", lineterm="", n=2
        )
    )
    return text, seen, diff
