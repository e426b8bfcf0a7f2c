"""PROXY v2 TLVs: what a server with `proxy-v2-options` gets, what an `accept-proxy` bind
keeps (fc_pp_authority, fc_pp_unique_id) and refuses, and the connection's addresses against
the stream's (fc_src, src): pylvs and the real `haproxy -db` on the same haproxy.cfg text."""

from __future__ import annotations

import ipaddress
import json
import socket
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from pylvs.proto import proxyproto
from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, Servers, both, free_port

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

RECORDED = json.loads(
    (Path(__file__).parents[2] / "data/haproxy/proxyproto/haproxy-2.6.12-tlv.json").read_text()
)
CLIENT = bytes.fromhex(RECORDED["client_header_hex"])  # TCP4 10.0.0.1:1000, authority
HEAD = """\
defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""
ip = ipaddress.ip_address


def test_proxy_v2_options_send_haproxys_tlvs(proxy: Callable[..., Proxy]) -> None:
    """crc32c, authority (the client's own), unique-id (the frontend's format, built for
    a tcp stream too) and ssl: the bytes capture_tlv.py recorded from haproxy."""

    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        servers.add("s")
        port = free_port()
        text = (
            HEAD + f"listen tlv\n    mode tcp\n    bind 127.0.0.1:{port} accept-proxy\n"
            "    unique-id-format %{+X}o%ci:%cp-%[fc_pp_authority]\n"
            f"    server s 127.0.0.1:{servers['s'].port} send-proxy-v2"
            " proxy-v2-options crc32c,authority,unique-id,ssl\n"
        )
        proxy(kind, text, None)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(CLIENT + b"hello")
            assert c.recv(10) == b"s"
        (got,) = servers["s"].received
        return got.hex()

    seen = both(proxy, run)
    assert seen["pylvs"] == RECORDED["tcp"]["bytes_hex"]


def _tlv_header(fam: int, body: bytes, cmd: int = 0x21) -> bytes:
    return proxyproto.SIGNATURE + struct.pack("!BBH", cmd, fam, len(body)) + body


ADDRS = bytes([127, 0, 0, 1, 127, 0, 0, 1, 0, 42, 5, 57])


def _with_crc(body: bytes, good: bool) -> bytes:
    head = _tlv_header(0x11, body + b"\x03\x00\x04\0\0\0\0")
    crc = proxyproto.crc32c(head) ^ (0 if good else 1)
    return head[:-4] + struct.pack("!I", crc)


CASES = {
    "authority": _tlv_header(0x11, ADDRS + b"\x02\x00\x0512345"),
    "unique-id": _tlv_header(0x11, ADDRS + b"\x05\x00\x03abc"),
    "crc-good": _with_crc(ADDRS + b"\x02\x00\x01a", good=True),
    "crc-bad": _with_crc(ADDRS + b"\x02\x00\x01a", good=False),
    "tlv-past-end": _tlv_header(0x11, ADDRS + b"\x02\x00\x0a12345") + b"12345",
    "tlv-short": _tlv_header(0x11, ADDRS + b"\x02\x00\x04123"),
    "tlv-head-cut": _tlv_header(0x11, ADDRS + b"\x02\x00"),
    "authority-256": _tlv_header(0x11, ADDRS + b"\x02\x01\x00" + b"a" * 256),
    "udp4": _tlv_header(0x12, ADDRS),
    "unspec": _tlv_header(0x00, b""),
    "local": _tlv_header(0x11, ADDRS, cmd=0x20),
}


def test_accept_proxy_keeps_and_checks_tlvs(proxy: Callable[..., Proxy]) -> None:
    """What conn_recv_proxy keeps and refuses, and the three levels of addresses: a
    connection rule's set-src is fc_src, the PROXY header's address is src."""

    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        port = free_port()
        text = (
            HEAD + f"frontend f\n    mode http\n    bind 127.0.0.1:{port} accept-proxy\n"
            "    tcp-request connection set-src ipv4(10.1.0.1)\n"
            "    http-request return status 200 hdr a %[fc_pp_authority,hex]"
            " hdr u %[fc_pp_unique_id] hdr fc %[fc_src] hdr src %[src]\n"
        )
        proxy(kind, text, None)
        out = {}
        for name, header in CASES.items():
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                c.sendall(header + b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                try:
                    answer = c.recv(4096)
                except ConnectionResetError:
                    answer = b"reset"
            fields = [
                line.decode()
                for line in answer.split(b"\r\n")
                if line[:2] in (b"a:", b"u:", b"fc", b"sr") or line.startswith(b"HTTP/")
            ]
            out[name] = fields or answer.decode("latin-1")
        return out

    seen = both(proxy, run)
    got = seen["pylvs"]
    assert isinstance(got, dict)
    assert "a: 3132333435" in got["authority"] and "u: abc" in got["unique-id"]
    assert "fc: 10.1.0.1" in got["authority"] and "src: 127.0.0.1" in got["authority"]
    assert got["crc-good"][0] == "HTTP/1.1 200 OK"
    for refused in ("crc-bad", "tlv-short", "tlv-head-cut", "authority-256", "udp4"):
        assert got[refused] in ("reset", ""), refused


def test_abns_servers_and_binds_carry_proxy_headers(proxy: Callable[..., Proxy]) -> None:
    """`server abns@NAME send-proxy-v2` into `bind abns@NAME accept-proxy` (the
    seamless-reload reg-test's pair): the client's addresses cross the unix socket."""

    def run(proxy: Callable[..., Proxy], servers: Servers, kind: str) -> object:
        port = free_port()
        name = f"pylvs_test_{kind}_{port}"
        text = (
            HEAD + f"listen front\n    mode http\n    bind 127.0.0.1:{port}\n"
            f"    server s abns@{name} send-proxy-v2 proxy-v2-options authority\n"
            f"frontend back\n    mode http\n    bind abns@{name} accept-proxy\n"
            "    http-request return status 200 hdr src %[src] hdr dst %[dst]"
            " hdr fc %[fc_src]\n"
        )
        proxy(kind, text, None)
        out = []
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            for _ in range(2):
                c.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                answer = c.recv(4096)
                out.append(
                    sorted(
                        line.decode()
                        for line in answer.split(b"\r\n")
                        if line[:3] in (b"src", b"dst", b"fc:") or line.startswith(b"HTTP/")
                    )
                )
        return out

    seen = both(proxy, run)
    got = seen["pylvs"]
    assert isinstance(got, list)
    assert got[0][0] == "HTTP/1.1 200 OK" and "src: 127.0.0.1" in got[0]
