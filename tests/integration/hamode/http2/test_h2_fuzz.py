"""Malformed HTTP/2 frames thrown at `pylvs run` (`bind ... proto h2`, hypothesis): whatever
comes in, the connection gets frames back (a GOAWAY or RST_STREAM with an error code, or
the responses) or is closed, never a traceback; and after each one a new connection is
served.  Frames are built with a valid header around random types, flags, stream ids,
lengths (sometimes wrong) and payloads, with real HPACK blocks mixed in.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import hpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.hamode.hamode_helpers import Proxy, free_port
from tests.integration.hamode.http.http_helpers import HttpServer
from tests.integration.hamode.http2.h2_client import H2Client

pytestmark = pytest.mark.slow

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
CONFIG = """\
defaults
    mode http
    timeout connect 2s
    timeout client 2s
    timeout server 2s
frontend fe
    bind 127.0.0.1:{port} proto h2
    default_backend app
backend app
    server s1 127.0.0.1:{s1}
"""


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.app = HttpServer("s1", "name")
        self.port = free_port()
        self.proxy = Proxy(tmp, "pylvs", CONFIG.format(port=self.port, s1=self.app.port), None)

    def close(self) -> None:
        self.proxy.stop()
        self.app.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("h2-fuzz"))
    try:
        yield r
        assert "Traceback" not in r.proxy.output()
    finally:
        r.close()


def frame(kind: int, flags: int, sid: int, payload: bytes, length: int | None = None) -> bytes:
    size = len(payload) if length is None else length
    return struct.pack(">I", size)[1:] + bytes([kind, flags]) + struct.pack(">I", sid) + payload


def block(headers: list[tuple[bytes, bytes]]) -> bytes:
    return hpack.Encoder().encode(headers)


REQUEST = [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"), (b":authority", b"x")]
FIELD = st.tuples(
    st.sampled_from([b":method", b":path", b":status", b"content-length", b"connection", b"x"])
    | st.binary(max_size=6),
    st.binary(max_size=8),
)


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 10))
        flags = draw(st.sampled_from([0, 1, 4, 5, 8, 0x20]) | st.integers(0, 255))
        sid = draw(st.sampled_from([0, 1, 3, 2, 0x7FFFFFFF]) | st.integers(0, 2**32 - 1))
        if kind == 1 and draw(st.booleans()):
            payload = block(REQUEST + draw(st.lists(FIELD, max_size=3)))
        else:
            payload = draw(st.binary(max_size=24))
        length = draw(st.none() | st.integers(0, 40))
        out.append(frame(kind, flags, sid, payload, length))
    return b"".join(out)


def answer(port: int, data: bytes) -> bytes:
    """What the proxy sends back to a connection that says `data` after a valid start."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(PREFACE + frame(4, 0, 0, b"") + data)
        deadline = time.monotonic() + 1.0
        s.settimeout(0.3)
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            except ConnectionError:
                break
            if not chunk:
                break
            got += chunk
    return got


def parses_as_frames(data: bytes) -> bool:
    at = 0
    while at + 9 <= len(data):
        size = int.from_bytes(data[at : at + 3], "big")
        at += 9 + size
    return at == len(data)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=frames())
def test_malformed_frames_get_frames_back_and_others_are_served(rig: Rig, data: bytes) -> None:
    back = answer(rig.port, data)
    assert back[3:4] == b"\x04" or back == b""  # our SETTINGS first
    assert parses_as_frames(back)
    c = H2Client(rig.port)
    try:
        sid = c.request("/alive")
        c.wait([sid])
        assert c.streams[sid].body == b"s1 /alive"
    finally:
        c.close()
