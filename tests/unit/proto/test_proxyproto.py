"""PROXY protocol v1/v2: byte for byte what haproxy 2.6.12 sends, and reading headers back."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from pylvs.proto import proxyproto
from pylvs.proto.proxyproto import NEED_MORE, ProxiedAddresses, ProxyHeaderError

RECORDED = json.loads(
    (Path(__file__).parents[2] / "data/haproxy/proxyproto/haproxy-2.6.12.json").read_text()
)
# capture.py's listeners: (version, client address, listener address, listener port)
LISTENERS = {
    "v1": (1, "127.0.0.1", "127.0.0.1", 17101),
    "v2": (2, "127.0.0.1", "127.0.0.1", 17102),
    "v2six": (2, "::1", "::1", 17103),
    "v1six": (1, "::1", "::1", 17104),
}
ip = ipaddress.ip_address


@pytest.mark.parametrize("name", sorted(LISTENERS))
def test_headers_are_haproxys(name: str) -> None:
    version, client, addr, port = LISTENERS[name]
    rec = RECORDED[name]
    got = bytes.fromhex(rec["bytes_hex"])
    assert got.endswith(b"hello")
    header = proxyproto.header(version, ip(client), rec["client_port"], ip(addr), port)
    assert header == got[: -len(b"hello")]
    assert proxyproto.parse(got) == (
        len(header),
        ProxiedAddresses(ip(client), rec["client_port"], ip(addr), port),
    )


def test_mixed_families_are_sent_as_ipv6() -> None:
    line = proxyproto.v1(ip("10.0.0.1"), 1, ip("::1"), 2)
    assert line == b"PROXY TCP6 ::ffff:a00:1 ::1 1 2\r\n"


def test_incomplete_headers_ask_for_more() -> None:
    full = proxyproto.v2(ip("10.0.0.1"), 1, ip("10.0.0.2"), 2)
    for n in range(len(full)):
        assert proxyproto.parse(full[:n]) == (NEED_MORE, None)
    assert proxyproto.parse(b"PROXY TCP4 1.2.3.4") == (NEED_MORE, None)


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.0\r\n",
        b"PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n",
        b"PROXY TCP4 1.2.3.4\r\n",
        b"PROXY " + b"x" * 120,
        b"\r\n\r\n\x00\r\nQUIX\n",
        proxyproto.SIGNATURE + b"\x31\x11\x00\x0c" + b"\0" * 12,
    ],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        proxyproto.parse(data)


def test_unknown_and_local_keep_the_connections_addresses() -> None:
    assert proxyproto.parse(b"PROXY UNKNOWN\r\nrest") == (15, None)
    local = proxyproto.SIGNATURE + b"\x20\x00\x00\x00"
    assert proxyproto.parse(local + b"rest") == (16, None)
