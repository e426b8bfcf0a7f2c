"""The pump's HTTP/1 exchange engine (_http1.h, http/engine.py) against the driver's machines
and against the real haproxy, on the same kept-alive exchanges; and the same engine serving
connections the pump accepted itself from their first request (_h1own.h, http/own.py).

A scripted server answers by the request's target: plain responses the engine serves (a
Content-Length body, HEAD, 204, 304, bare line ends, a body in a second segment, a 500) and
ones it must hand back to the machines (chunked, larger than its buffer, bytes after the
response, `Connection: close`, no reason phrase, a head HAProxy refuses, a close before any
answer, no answer before `timeout server`); the client sends plain requests and ones the
engine hands back before deciding anything (a body, HTTP/1.0, a folded line).  What the
client and the servers see must be the same under haproxy, under pylvs with the engine, and
under pylvs's pure-Python path; the in-process runs also check that the engine served what
it should (a driver that never hands a connection over fails here), and `show stat`'s HTTP
columns must agree with haproxy's.
"""

from __future__ import annotations

import asyncio
import csv
import io
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.dataplane.haproxy.http import engine, own
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.dataplane.proxy import poller as poller_module
from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    after_streams,
    free_port,
)
from tests.integration.hamode.http.http_helpers import Client, read_head
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

CONFIG = """\
global
    maxconn 1000
{stats}defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 1s
listen app
    bind 127.0.0.1:{port}
    balance roundrobin
{options}    server s1 127.0.0.1:{s1}
    server s2 127.0.0.1:{s2}
"""

BIG = b"b" * 100_000
ANSWERS: dict[bytes, bytes | None] = {
    b"plain": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A:  b  \r\nContent-Length: 5\r\n"
    b"\r\nhello",
    b"head": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
    b"204": b"HTTP/1.1 204 No Content\r\nX-B: c\r\n\r\n",
    b"304": b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
    b"lf": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    b"ka": b"HTTP/1.1 200 OK\r\nConnection:  Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
    b"500": b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1\r\n\r\nx",
    b"chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"big": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BIG), BIG),
    b"junk": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
    b"close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    b"noreason": b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok",
    b"bad": b"HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 2\r\n\r\nok",
    b"eof": b"",
    b"hang": None,
}


class Scripted(ThreadedServer):
    """A server answering each request by its target's last part (ANSWERS); `split` sends
    the plain answer's head and body 50 ms apart.  It records the heads it read."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        super().__init__(backlog=64)

    def serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        try:
            while (head := read_head(conn, buf)) is not None:
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(buf) < length:
                    buf += conn.recv(65536)
                del buf[:length]
                self.heads.append(head)
                name = head.split(b" ")[1].rsplit(b"/", 1)[-1]
                if name == b"split":
                    plain = ANSWERS[b"plain"] or b""
                    conn.sendall(plain[:-5])
                    time.sleep(0.05)
                    conn.sendall(plain[-5:])
                    continue
                answer = ANSWERS.get(name, ANSWERS[b"plain"])
                if answer is None:
                    time.sleep(3)
                    break
                if not answer:
                    break
                conn.sendall(answer)
                if name in (b"junk", b"close", b"bad"):
                    break
        except OSError:
            pass
        conn.close()


def get(name: str, method: str = "GET", extra: str = "") -> bytes:
    return f"{method} /r/{name} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


# Client connections, each a list of requests sent one after the other.
SESSIONS: list[list[bytes]] = [
    [get("plain"), get("plain"), get("head", "HEAD"), get("204"), get("304"), get("split"),
     get("lf"), get("500"), get("plain", extra="User-Agent:\t t\r\n"), get("ka"),
     get("plain", extra="Connection: keep-alive\r\n"), get("ka"),
     get("plain", extra="Connection: close\r\n")],
    [get("plain"), get("plain"), get("chunked"), get("big"), get("plain"), get("junk"),
     get("plain"), get("close"), get("plain"), get("noreason"), get("plain")],
    [get("plain"), get("plain"), b"POST /r/plain HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
     b"\r\nabc", get("plain"), b"GET /r/plain HTTP/1.0\r\nHost: x\r\n\r\n"],
    [get("plain"), get("plain"), get("bad"), get("plain")],
    [get("plain"), get("plain"), get("eof"), get("plain")],
    [get("plain"), get("plain"), get("hang"), get("plain")],
    [get("plain"), get("plain"), b"GET /r/plain HTTP/1.1\r\nHost: x\r\nX-F: a\r\n b\r\n\r\n"],
    # new connections: a first request the engine serves with the close, one it hands over
    # before deciding anything (a body), one whose response it hands over (chunked; the
    # server's close), then kept-alive ones on the same connection
    [get("plain", extra="Connection: close\r\n")],
    [get("head", "HEAD", extra="Connection:  Close\r\n")],
    [b"POST /r/plain HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", get("plain"),
     get("204")],
    [get("chunked"), get("plain"), get("plain", extra="Connection: close\r\n")],
    [get("close"), get("plain")],
    [get("304", extra="Connection: close\r\n")],
]  # fmt: skip


def scenario(port: int, sessions: list[list[bytes]] = SESSIONS) -> list[list[tuple[bytes, bytes]]]:
    """Every session's responses, (head, body), until the proxy closes."""
    seen = []
    for requests in sessions:
        c = Client(port, timeout=10)
        got = []
        for req in requests:
            c.send(req)
            head, body = c.response(b"HEAD" if req.startswith(b"HEAD") else b"GET")
            got.append((head, body))
            if not head:
                break
        c.close()
        seen.append(got)
    return seen


@pytest.fixture
def servers() -> Iterator[tuple[Scripted, Scripted]]:
    pair = (Scripted(), Scripted())
    yield pair
    for s in pair:
        s.close()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many exchanges the engine served, and handed back (for a session: FastPath; for
    a connection the pump accepted: H1Listener)."""
    seen = {"done": 0, "back": 0, "own": 0, "handed": 0}

    def spy(cls: Any, method: str, key: str) -> None:
        real = getattr(cls, method)

        def counting(self: Any, *args: Any) -> None:
            seen[key] += 1
            real(self, *args)

        monkeypatch.setattr(cls, method, counting)

    spy(engine.FastPath, "done", "done")
    spy(engine.FastPath, "back", "back")
    spy(own.H1Listener, "_served", "own")
    spy(own.H1Listener, "handed", "handed")
    real_tallied = own.H1Listener._tallied

    def tallied(self: Any, rec: tuple[Any, ...]) -> None:  # a round's exchanges on a server
        seen["own"] += rec[5]
        real_tallied(self, rec)

    monkeypatch.setattr(own.H1Listener, "_tallied", tallied)
    return seen


# what the engine adds to every request: forwardfor and originalto (without if-none)
OPTIONS = ["", "    option forwardfor\n    option originalto header X-Orig\n"]


def in_process(
    servers: tuple[Scripted, Scripted],
    options: str,
    config: str = CONFIG,
    run: Callable[[int], Any] = scenario,
) -> Any:
    port = free_port()
    text = config.format(
        stats="", options=options, port=port, s1=servers[0].port, s2=servers[1].port
    )
    loaded = load_text(text, "h.cfg")
    assert loaded.ok, [str(p) for p in loaded.problems]
    runtime = ProxyRuntime(to_spec(loaded.config, loaded.problems).proxies, raise_nofile=False)

    async def main() -> Any:
        await runtime.start()
        try:
            return await asyncio.to_thread(run, port)
        finally:
            await runtime.stop(0)

    return asyncio.run(main())


def heads(servers: tuple[Scripted, Scripted]) -> list[list[bytes]]:
    return [list(s.heads) for s in servers]


@pytest.mark.skipif(poller_module._pump is None, reason="the C extension is not built")
@pytest.mark.parametrize("options", OPTIONS)
def test_the_engine_and_the_machines_agree(
    servers: tuple[Scripted, Scripted],
    counted: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    options: str,
) -> None:
    """Python's sessions hand their connections to the engine after the first exchange."""
    monkeypatch.setattr(own, "SERVE", False)
    engine_seen = in_process(servers, options)
    engine_heads = heads(servers)
    served = dict(counted)
    for s in servers:
        s.heads.clear()
    monkeypatch.setattr(poller_module, "USE_PUMP", False)
    python_seen = in_process(servers, options)
    assert engine_seen == python_seen
    assert engine_heads == heads(servers)
    # the engine served the plain exchanges after each session's first, and handed back
    # the others (each non-plain response and request above)
    assert served["done"] >= 19, served
    assert served["back"] >= 12, served
    assert counted == served  # the pure-Python path never engages it
    assert served["own"] == served["handed"] == 0
    first = engine_seen[0]
    assert first[1] == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-a: b\r\ncontent-length: 5\r\n\r\n",
        b"hello",
    )
    assert engine_seen[5][2][0].startswith(b"HTTP/1.1 504")


@pytest.mark.skipif(poller_module._pump is None, reason="the C extension is not built")
@pytest.mark.parametrize("options", OPTIONS)
def test_own_connections_and_the_machines_agree(
    servers: tuple[Scripted, Scripted],
    counted: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    options: str,
) -> None:
    """The pump accepts and serves the connections from their first request (forwardfor
    and originalto: the fields written for each client at its accept), handing over what
    is not plain."""
    own_seen = in_process(servers, options)
    own_heads = heads(servers)
    served = dict(counted)
    for s in servers:
        s.heads.clear()
    monkeypatch.setattr(poller_module, "USE_PUMP", False)
    python_seen = in_process(servers, options)
    assert own_seen == python_seen
    assert own_heads == heads(servers)
    # every plain exchange, first ones too, was the pump's; each connection with a request
    # or response that is not plain (or a server's close or silence) was handed over once
    # and stays a Python session
    assert served["own"] >= 25, served
    assert served["handed"] >= 9, served
    assert served["done"] == served["back"] == 0  # no Python session took the engine back
    assert own_seen[0][0] == (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-a: b\r\ncontent-length: 5\r\n\r\n",
        b"hello",
    )
    assert own_seen[7][0][0].endswith(b"content-length: 5\r\nconnection: close\r\n\r\n")
    assert own_seen[5][2][0].startswith(b"HTTP/1.1 504")


TIMERS = CONFIG.replace(
    "    timeout server 1s\n",
    "    timeout server 1s\n    timeout http-request 300ms\n    timeout http-keep-alive 200ms\n",
)


def idle_clients(port: int) -> list[bytes]:
    """Three clients at once, each read until the proxy closes: one that sends nothing, one
    half a head, one served once and then idle (its connection ends at the keep-alive
    wait: a 3 s read timeout would show as b"<timeout>")."""
    silent = Client(port, timeout=3)
    half = Client(port, timeout=3)
    half.send(b"GET /r/plain HTTP/1.1\r\nHo")
    kept = Client(port, timeout=3)
    kept.send(get("plain"))
    head, body = kept.response()
    out = [head + body]
    for c in (kept, silent, half):
        try:
            got = bytes(c.buf)
            while data := c.sock.recv(65536):
                got += data
        except TimeoutError:
            got += b"<timeout>"
        except OSError:
            got += b"<reset>"
        out.append(got)
        c.close()
    return out


@pytest.mark.skipif(poller_module._pump is None, reason="the C extension is not built")
def test_own_connections_timers(
    servers: tuple[Scripted, Scripted], proxy: Callable[..., Proxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pump's sweep: a first request that does not come whole within `timeout
    http-request` goes to the machines, which answer as HAProxy does; a kept-alive
    connection idle past `timeout http-keep-alive` closes, as under haproxy and the
    pure-Python path."""
    own_seen = in_process(servers, "", TIMERS, idle_clients)
    port = free_port()
    text = TIMERS.format(stats="", options="", port=port, s1=servers[0].port, s2=servers[1].port)
    proxy("haproxy", text, ("127.0.0.1", port))
    haproxy_seen = idle_clients(port)
    monkeypatch.setattr(poller_module, "USE_PUMP", False)
    python_seen = in_process(servers, "", TIMERS, idle_clients)
    assert own_seen == haproxy_seen == python_seen
    assert own_seen[0].startswith(b"HTTP/1.1 200 OK")
    assert own_seen[1] == b""  # closed, with no answer and no timeout


COLUMNS = ("req_tot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx")


@pytest.mark.parametrize("options", OPTIONS)
def test_against_haproxy(proxy: Callable[..., Proxy], options: str) -> None:
    """The same sessions under haproxy and pylvs (the engine on; without options the pump
    serves the connections from their first request, with them Python's sessions hand
    them over after it): responses, what each server read, and the HTTP columns of `show
    stat`.  But the server's close before any
    answer on a reused connection: HAProxy then closes the client's connection without an
    answer (for the client to retry), where the driver's machines answer a 502, with or
    without the engine (the first test compares those two)."""
    seen: dict[str, Any] = {}
    for kind in ("haproxy", "pylvs"):
        pair = (Scripted(), Scripted())
        try:
            port = free_port()
            sock = Path(tempfile.mkdtemp(prefix="pylvs-h1-")) / "stats.sock"
            stats = f"    stats socket {sock} level admin\n"
            text = CONFIG.format(
                stats=stats, options=options, port=port, s1=pair[0].port, s2=pair[1].port
            )
            proxy(kind, text, ("127.0.0.1", port))
            got = scenario(port, [s for s in SESSIONS if get("eof") not in s])
            rows = csv.DictReader(io.StringIO(after_streams(sock, proxy="app").lstrip("# ")))
            counts = {
                r["svname"]: tuple(r[k] for k in COLUMNS) for r in rows if r["pxname"] == "app"
            }
            seen[kind] = got, heads(pair), counts
        finally:
            for s in pair:
                s.close()
    assert seen["pylvs"][0] == seen["haproxy"][0]
    assert seen["pylvs"][1] == seen["haproxy"][1]
    assert seen["pylvs"][2] == seen["haproxy"][2]
