"""The PROXY protocol, versions 1 and 2: the header a proxy sends first, and reading one.

HAProxy's proxy-protocol.txt (doc/proxy-protocol.txt, 2020/03/05): `send-proxy` puts the v1
text line `PROXY TCP4|TCP6 SRC DST SPORT DPORT\\r\\n` before the client's bytes,
`send-proxy-v2` the binary header (12-byte signature, version 2 / command PROXY, family and
protocol byte, length, the addresses and ports in network order).  HAProxy 2.6 sends no TLV
without options asking for them (recorded: tests/data/haproxy/proxyproto).  An IPv4 address
on one side and IPv6 on the other is sent as IPv6 with the IPv4 one mapped (src/connection.c
make_proxy_line_v1/v2).  A server's `proxy-v2-options` add TLVs after the addresses, in
make_proxy_line_v2's order: CRC32C (the checksum of the whole header, computed with its own
value zeroed), ALPN (a TLS client's protocol, sent without options too), AUTHORITY (what the
client's own PROXY header carried, else its TLS SNI), UNIQUE_ID (the stream's unique id), SSL
(client flags, verify result, the TLS sub-TLVs; all zero for a client without TLS).

`parse` reads a received header (`accept-proxy`): the addresses it carries, or None for
UNKNOWN / LOCAL (the connection's own addresses stay), with the number of bytes it took;
`NEED_MORE` while it is incomplete; `ProxyHeaderError` when it is not a PROXY header (the
connection is then closed, as HAProxy does).  A v1 line is at most 107 bytes (the spec).
A v2 header's TLVs are checked as conn_recv_proxy checks them: each must fit in the header
and the last must end it, a CRC32C must be 4 bytes and match, an AUTHORITY is at most 255
bytes and a UNIQUE_ID 128; the authority and unique id are kept (`fc_pp_authority`,
`fc_pp_unique_id`), other types skipped.  The PROXY command with a family other than TCP
over IPv4/IPv6 is refused: HAProxy 2.6 then reads TLVs from the header's first byte, which
never parses (checked against haproxy 2.6.12: the connection is reset).
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
_TLV = struct.Struct("!BH")

# include/haproxy/connection-t.h: PP2_TYPE_*, PP2_AUTHORITY_MAX; stream-t.h UNIQUEID_LEN
TYPE_ALPN, TYPE_AUTHORITY, TYPE_CRC32C, TYPE_NOOP, TYPE_UNIQUE_ID = 0x01, 0x02, 0x03, 0x04, 0x05
TYPE_SSL, TYPE_NETNS = 0x20, 0x30
AUTHORITY_MAX = 255
UNIQUE_ID_MAX = 128
# struct tlv_ssl after its TLV head for a client without TLS: client flags 0, verify 0
SSL_NONE = b"\0" * 5
# The options `proxy-v2-options` takes (server.c srv_parse_proxy_v2_options); the cert-*
# and ssl-cipher ones imply `ssl`.
V2_OPTIONS = frozenset(
    {"ssl", "cert-cn", "cert-key", "cert-sig", "ssl-cipher", "authority", "crc32c", "unique-id"}
)


class ProxyHeaderError(ValueError):
    """What was received is not a valid PROXY header."""


@dataclass(frozen=True, slots=True)
class ProxiedAddresses:
    """The client's connection as the sender saw it."""

    src: Address
    src_port: int
    dst: Address
    dst_port: int
    authority: bytes | None = None  # PP2_TYPE_AUTHORITY
    unique_id: bytes | None = None  # PP2_TYPE_UNIQUE_ID


NEED_MORE = -1


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli, reflected), as src/hash.c hash_crc32c."""
    crc = 0xFFFFFFFF
    table = _CRC32C
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def tlv(kind: int, value: bytes) -> bytes:
    return _TLV.pack(kind, len(value)) + value


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


def v2(
    src: Address,
    src_port: int,
    dst: Address,
    dst_port: int,
    *,
    crc: bool = False,
    alpn: bytes | None = None,
    authority: bytes | None = None,
    unique_id: bytes | None = None,
    ssl: bytes | None = None,
) -> bytes:
    """The v2 header; the TLVs in make_proxy_line_v2's order (None / False: not sent)."""
    src, dst = _same_family(src, dst)
    if src.version == 4:
        body = _V4.pack(src.packed, dst.packed, src_port, dst_port)
        fam = _AF_INET_STREAM
    else:
        body = _V6.pack(src.packed, dst.packed, src_port, dst_port)
        fam = _AF_INET6_STREAM
    tlvs = []
    if crc:
        tlvs.append(tlv(TYPE_CRC32C, b"\0\0\0\0"))
    if alpn is not None:
        tlvs.append(tlv(TYPE_ALPN, alpn))
    if authority is not None:
        tlvs.append(tlv(TYPE_AUTHORITY, authority))
    if unique_id is not None:
        tlvs.append(tlv(TYPE_UNIQUE_ID, unique_id))
    if ssl is not None:
        tlvs.append(tlv(TYPE_SSL, ssl))
    body += b"".join(tlvs)
    head = _V2_HEAD.pack(SIGNATURE, _CMD_PROXY, fam, len(body)) + body
    if not crc:
        return head
    at = _V2_HEAD.size + layout_size(fam) + _TLV.size
    return head[:at] + struct.pack("!I", crc32c(head)) + head[at + 4 :]


def layout_size(fam: int) -> int:
    return _V4.size if fam == _AF_INET_STREAM else _V6.size


_SSL_OPTIONS = V2_OPTIONS - {"authority", "crc32c", "unique-id"}


def header(
    version: int,
    src: Address,
    src_port: int,
    dst: Address,
    dst_port: int,
    *,
    options: frozenset[str] = frozenset(),
    authority: bytes | None = None,
    unique_id: bytes | None = None,
    alpn: bytes | None = None,
    ssl: bytes = SSL_NONE,
) -> bytes:
    """What a server with `send-proxy` (1) or `send-proxy-v2` (2) and `proxy-v2-options`
    gets first.  `authority` is the client's own PROXY authority, else its TLS SNI (sent
    only when it had one), `unique_id` the stream's (an empty one is sent as an empty TLV,
    as HAProxy does); `alpn`: the client's TLS ALPN protocol (sent whatever the options);
    `ssl`: the SSL TLV's value (proxy_header.py builds it of a TLS client's handshake)."""
    if version == 1:
        return v1(src, src_port, dst, dst_port)
    return v2(
        src,
        src_port,
        dst,
        dst_port,
        crc="crc32c" in options,
        alpn=alpn,
        authority=authority if "authority" in options else None,
        unique_id=(unique_id or b"") if "unique-id" in options else None,
        ssl=ssl if options & _SSL_OPTIONS else None,
    )


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
    if cmd == _CMD_LOCAL:
        return total, None  # the connection's own addresses
    if fam not in (_AF_INET_STREAM, _AF_INET6_STREAM):
        raise ProxyHeaderError("unsupported PROXY v2 address family")
    layout = _V4 if fam == _AF_INET_STREAM else _V6
    if length < layout.size:
        raise ProxyHeaderError("PROXY v2 address block too short")
    s, d, sport, dport = layout.unpack_from(data, _V2_HEAD.size)
    authority, unique_id = _tlvs(data[:total], _V2_HEAD.size + layout.size)
    src, dst = ipaddress.ip_address(s), ipaddress.ip_address(d)
    return total, ProxiedAddresses(src, sport, dst, dport, authority, unique_id)


def _tlvs(header: bytes, offset: int) -> tuple[bytes | None, bytes | None]:
    """The TLVs from `offset` to the header's end, checked (conn_recv_proxy): (authority,
    unique id)."""
    total = len(header)
    authority = unique_id = None
    while offset < total:
        if offset + _TLV.size > total:
            raise ProxyHeaderError("truncated PROXY v2 TLV")
        kind, length = _TLV.unpack_from(header, offset)
        start = offset + _TLV.size
        offset = start + length
        if offset > total:
            raise ProxyHeaderError("PROXY v2 TLV longer than the header")
        value = header[start:offset]
        if kind == TYPE_CRC32C:
            zeroed = header[:start] + b"\0\0\0\0" + header[offset:]
            if length != 4 or crc32c(zeroed) != struct.unpack("!I", value)[0]:
                raise ProxyHeaderError("bad PROXY v2 CRC32C")
        elif kind == TYPE_AUTHORITY:
            if length > AUTHORITY_MAX:
                raise ProxyHeaderError("PROXY v2 authority too long")
            authority = value
        elif kind == TYPE_UNIQUE_ID:
            if length > UNIQUE_ID_MAX:
                raise ProxyHeaderError("PROXY v2 unique id too long")
            unique_id = value
    return authority, unique_id
