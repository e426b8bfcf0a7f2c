"""The PROXY protocol, versions 1 and 2: the header a proxy sends first, and reading one.

HAProxy's proxy-protocol.txt (doc/proxy-protocol.txt, 2020/03/05): `send-proxy` puts the v1
text line `PROXY TCP4|TCP6 SRC DST SPORT DPORT\\r\\n` before the client's bytes,
`send-proxy-v2` the binary header (12-byte signature, version 2 / command PROXY, family and
protocol byte, length, the addresses and ports in network order).  HAProxy 2.6 sends no TLV
without options asking for them (recorded: tests/data/haproxy/proxyproto).  An IPv4 address
on one side and IPv6 on the other is sent as IPv6 with the IPv4 one mapped (src/connection.c
make_proxy_line_v1/v2).

`parse` reads a received header (`accept-proxy`): the addresses it carries, or None for
UNKNOWN / LOCAL (the connection's own addresses stay), with the number of bytes it took;
`NEED_MORE` while it is incomplete; `ProxyHeaderError` when it is not a PROXY header (the
connection is then closed, as HAProxy does).  A v1 line is at most 107 bytes (the spec).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_MAX = 107
_V2_HEAD = struct.Struct("!12sBBH")
_CMD_LOCAL, _CMD_PROXY = 0x20, 0x21
_AF_INET_STREAM, _AF_INET6_STREAM = 0x11, 0x21
_V4 = struct.Struct("!4s4sHH")
_V6 = struct.Struct("!16s16sHH")


class ProxyHeaderError(ValueError):
    """What was received is not a valid PROXY header."""


@dataclass(frozen=True, slots=True)
class ProxiedAddresses:
    """The client's connection as the sender saw it."""

    src: Address
    src_port: int
    dst: Address
    dst_port: int


NEED_MORE = -1


def _same_family(src: Address, dst: Address) -> tuple[Address, Address]:
    if src.version == dst.version:
        return src, dst
    return _as_v6(src), _as_v6(dst)


def _as_v6(a: Address) -> ipaddress.IPv6Address:
    if a.version == 6:
        return a
    return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + a.packed)


def v1(src: Address, src_port: int, dst: Address, dst_port: int) -> bytes:
    src, dst = _same_family(src, dst)
    proto = "TCP4" if src.version == 4 else "TCP6"
    return f"PROXY {proto} {src} {dst} {src_port} {dst_port}\r\n".encode()


def v2(src: Address, src_port: int, dst: Address, dst_port: int) -> bytes:
    src, dst = _same_family(src, dst)
    if src.version == 4:
        body = _V4.pack(src.packed, dst.packed, src_port, dst_port)
        fam = _AF_INET_STREAM
    else:
        body = _V6.pack(src.packed, dst.packed, src_port, dst_port)
        fam = _AF_INET6_STREAM
    return _V2_HEAD.pack(SIGNATURE, _CMD_PROXY, fam, len(body)) + body


def header(version: int, src: Address, src_port: int, dst: Address, dst_port: int) -> bytes:
    return (v1 if version == 1 else v2)(src, src_port, dst, dst_port)


def parse(data: bytes) -> tuple[int, ProxiedAddresses | None]:
    """(bytes the header takes, its addresses or None for UNKNOWN/LOCAL), or (NEED_MORE,
    None) while `data` may still become a header."""
    if data[:1] == b"P":
        return _parse_v1(data)
    if data[:1] == b"\r":
        return _parse_v2(data)
    if not data:
        return NEED_MORE, None
    raise ProxyHeaderError("not a PROXY protocol header")


def _parse_v1(data: bytes) -> tuple[int, ProxiedAddresses | None]:
    if not b"PROXY "[: len(data)].startswith(data[:6]):
        raise ProxyHeaderError("not a PROXY protocol header")
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(data) >= V1_MAX:
            raise ProxyHeaderError("PROXY v1 line too long")
        return NEED_MORE, None
    words = data[:end].split(b" ")
    if len(words) >= 2 and words[1] == b"UNKNOWN":
        return end + 2, None
    if len(words) != 6 or words[1] not in (b"TCP4", b"TCP6"):
        raise ProxyHeaderError("malformed PROXY v1 line")
    try:
        src = ipaddress.ip_address(words[2].decode("ascii"))
        dst = ipaddress.ip_address(words[3].decode("ascii"))
        sport, dport = int(words[4]), int(words[5])
    except (ValueError, UnicodeDecodeError):
        raise ProxyHeaderError("malformed PROXY v1 line") from None
    want = 4 if words[1] == b"TCP4" else 6
    if src.version != want or dst.version != want or not (0 <= sport < 65536 > dport >= 0):
        raise ProxyHeaderError("malformed PROXY v1 line")
    return end + 2, ProxiedAddresses(src, sport, dst, dport)


def _parse_v2(data: bytes) -> tuple[int, ProxiedAddresses | None]:
    if not SIGNATURE.startswith(data[:12]):
        raise ProxyHeaderError("not a PROXY protocol header")
    if len(data) < _V2_HEAD.size:
        return NEED_MORE, None
    _sig, cmd, fam, length = _V2_HEAD.unpack_from(data)
    total = _V2_HEAD.size + length
    if cmd & 0xF0 != 0x20 or cmd not in (_CMD_LOCAL, _CMD_PROXY):
        raise ProxyHeaderError("unsupported PROXY v2 version or command")
    if len(data) < total:
        return NEED_MORE, None
    if cmd == _CMD_LOCAL or fam not in (_AF_INET_STREAM, _AF_INET6_STREAM):
        return total, None  # LOCAL, UNSPEC, UDP or unix: the connection's own addresses
    layout = _V4 if fam == _AF_INET_STREAM else _V6
    if length < layout.size:
        raise ProxyHeaderError("PROXY v2 address block too short")
    s, d, sport, dport = layout.unpack_from(data, _V2_HEAD.size)
    return total, ProxiedAddresses(ipaddress.ip_address(s), sport, ipaddress.ip_address(d), dport)
