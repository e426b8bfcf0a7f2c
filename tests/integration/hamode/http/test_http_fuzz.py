"""Malformed requests and responses thrown at `pylvs run` and at the real `haproxy -db` on the
same `mode http` configuration (hypothesis): the client must see the same bytes from both
(HAProxy's 400/408/502 pages, the forwarded response, or the close), and after each one the
proxy must still serve a normal request on a new connection.

Requests are built from a valid one with one part broken (method, target, version, a field
name or value, Content-Length / Transfer-Encoding combinations, a truncated body or head);
responses likewise, answered by a scripted server that closes after them.  Both proxies run
for the whole module; `timeout http-request` and `http-keep-alive` are short so an
incomplete or finished exchange ends fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.hamode.hamode_helpers import HAPROXY, KINDS, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer

pytestmark = [pytest.mark.slow, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]

CONFIG = """\
global
    maxconn 200
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 1s
    timeout http-request 300ms
    timeout http-keep-alive 100ms
frontend fe
    bind 127.0.0.1:{port}
    default_backend app
frontend fe_script
    bind 127.0.0.1:{sport}
    default_backend scripted
backend app
    server s1 127.0.0.1:{s1}
backend scripted
    server s2 127.0.0.1:{s2}
"""


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.app = HttpServer("s1", "name")
        self.scripted = {kind: HttpServer("s2", "script") for kind in KINDS}
        self.proxies: dict[str, Proxy] = {}
        self.ports: dict[str, tuple[int, int]] = {}
        for kind in KINDS:
            port, sport = free_port(), free_port()
            text = CONFIG.format(
                port=port, sport=sport, s1=self.app.port, s2=self.scripted[kind].port
            )
            self.proxies[kind] = Proxy(tmp / kind, kind, text, None)
            self.ports[kind] = (port, sport)

    def close(self) -> None:
        for p in self.proxies.values():
            p.stop()
        self.app.close()
        for s in self.scripted.values():
            s.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("http-fuzz"))
    try:
        yield r
    finally:
        r.close()


def exchange(port: int, data: bytes) -> bytes:
    c = Client(port)
    try:
        c.send(data)
        c.sock.settimeout(3.0)  # beyond timeout server: a 504 is seen whole, or nothing
        return c.rest()
    finally:
        c.close()


def still_serves(port: int) -> bytes:
    c = Client(port)
    try:
        c.get("/alive", "Connection: close\r\n")
        return c.response()[1]
    finally:
        c.close()


TOKEN = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh-_!#", min_size=1, max_size=8)
JUNK = st.binary(min_size=0, max_size=6)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT"]) | TOKEN.map(str.encode))
    target = draw(st.sampled_from([b"/", b"/a?b=c", b"http://x/y", b"*"]) | JUNK)
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.1"]) | JUNK)
    fields = [b"Host: x"]
    for _ in range(draw(st.integers(0, 3))):
        name = draw(TOKEN.map(str.encode) | JUNK)
        value = draw(st.binary(max_size=10))
        fields.append(name + b":" + draw(st.sampled_from([b" ", b"", b"\t"])) + value)
    body = b""
    framing = draw(st.sampled_from(["none", "cl", "chunked", "both", "cl2", "bad-chunk"]))
    if framing in ("cl", "both"):
        body = b"abcde"
        fields.append(b"Content-Length: %d" % draw(st.integers(0, 8)))
    if framing == "cl2":
        fields += [b"Content-Length: 3", b"Content-Length: %d" % draw(st.integers(2, 4))]
        body = b"abcd"
    if framing in ("chunked", "both", "bad-chunk"):
        fields.append(b"Transfer-Encoding: chunked")
        body = b"3\r\nabc\r\n0\r\n\r\n" if framing != "bad-chunk" else draw(JUNK) + b"\r\n"
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    raw = method + b" " + target + b" " + version + eol + eol.join(fields) + eol + eol + body
    cut = draw(st.none() | st.integers(1, len(raw)))
    return raw if cut is None else raw[:cut]


@st.composite
def responses(draw: st.DrawFn) -> bytes:
    status = draw(st.sampled_from([b"200", b"404", b"204", b"304", b"101"]) | JUNK)
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]) | JUNK)
    fields: list[bytes] = []
    for _ in range(draw(st.integers(0, 2))):
        fields.append(draw(TOKEN.map(str.encode) | JUNK) + b": " + draw(st.binary(max_size=8)))
    framing = draw(st.sampled_from(["cl", "chunked", "close", "cl2", "bad-chunk"]))
    body = b"hello"
    if framing == "cl":
        fields.append(b"Content-Length: %d" % draw(st.integers(0, 8)))
    elif framing == "cl2":
        fields += [b"Content-Length: 5", b"Content-Length: 4"]
    elif framing == "chunked":
        fields.append(b"Transfer-Encoding: chunked")
        body = b"5\r\nhello\r\n0\r\n\r\n"
    elif framing == "bad-chunk":
        fields.append(b"Transfer-Encoding: chunked")
        body = draw(JUNK) + b"\r\nhello\r\n"
    raw = version + b" " + status + b" OK\r\n" + b"\r\n".join(fields) + b"\r\n\r\n" + body
    cut = draw(st.none() | st.integers(1, len(raw)))
    return raw if cut is None else raw[:cut]


# The same examples on every run (a suite must not turn red at random on a gap it already
# knows, below); PYLVS_HTTP_FUZZ_RANDOM=1 explores afresh, PYLVS_HTTP_FUZZ sets how many.
FUZZ = settings(
    max_examples=int(os.environ.get("PYLVS_HTTP_FUZZ", "40")),
    deadline=None,
    derandomize=not os.environ.get("PYLVS_HTTP_FUZZ_RANDOM"),
    database=None if not os.environ.get("PYLVS_HTTP_FUZZ_RANDOM") else settings().database,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# What random runs found where pylvs answered otherwise than haproxy 2.6.12, kept as fixed
# cases: verdicts HAProxy makes on the bytes of one read.
READ_VERDICT_REQUESTS = [
    # An invalid byte in a head that has not ended: HAProxy's 400 at once (its byte-wise
    # check judges a read's last bytes), not the 408 of `timeout http-request`.
    b"A \x7f",
]
READ_VERDICT_RESPONSES = [
    # An empty chunk-size line read with the head: HAProxy's 502, the head not forwarded.
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n",
]


@FUZZ
@given(data=requests())
def test_malformed_requests(rig: Rig, data: bytes) -> None:
    seen = {kind: exchange(rig.ports[kind][0], data) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"], data
    assert still_serves(rig.ports["pylvs"][0]) == b"s1 /alive"


@FUZZ
@given(data=responses())
def test_malformed_responses(rig: Rig, data: bytes) -> None:
    seen = {}
    for kind in KINDS:
        rig.scripted[kind].script = data
        seen[kind] = exchange(rig.ports[kind][1], b"GET /r HTTP/1.1\r\nHost: x\r\n\r\n")
    assert seen["pylvs"] == seen["haproxy"], data
    assert still_serves(rig.ports["pylvs"][0]) == b"s1 /alive"


@pytest.mark.parametrize("data", READ_VERDICT_REQUESTS)
def test_read_verdict_requests(rig: Rig, data: bytes) -> None:
    seen = {kind: exchange(rig.ports[kind][0], data) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"], data
    assert seen["pylvs"].startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("data", READ_VERDICT_RESPONSES)
def test_read_verdict_responses(rig: Rig, data: bytes) -> None:
    seen = {}
    for kind in KINDS:
        rig.scripted[kind].script = data
        seen[kind] = exchange(rig.ports[kind][1], b"GET /r HTTP/1.1\r\nHost: x\r\n\r\n")
    assert seen["pylvs"] == seen["haproxy"], data
    assert seen["pylvs"].startswith(b"HTTP/1.1 502 ")
