"""VRRP advertisement codec: VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 5798 §5), checksums, IPv4 header.

The layout and the checksum rules are keepalived's (vrrp/vrrp.c `vrrp_build_vrrp_v2/_v3`,
`vrrp_build_ip4`, `vrrp_check_packet`; reference §4.2-4.3):

* v2 (IPv4 only): 8-byte header, `naddr` IPv4 addresses, then 8 authentication bytes that are
  always present (zeros unless `auth_type` PASS).  Checksum: RFC 1071 over the whole message,
  auth bytes included, no pseudo-header.
* v3 IPv4: header (4 reserved bits + 12-bit Max Adver Int in centiseconds), addresses, no auth.
  Checksum over an IPv4 pseudo-header {src, dst, 0, 112, length} + message by default;
  `v3_checksum_as_v2` leaves the pseudo-header out (RFC 9568 reading).
* v3 IPv6: header + IPv6 addresses, checksum with the IPv6 pseudo-header (RFC 8200 §8.1; the
  kernel computes it on a real socket with IPV6_CHECKSUM, the codec computes the same value).

`decode_advert` and the header parsers never raise: anything malformed gives None.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

# The authentication constants and address type are part of the instance parameters (model).
from pylvs.model.vrrp import VRRP_AUTH_AH as VRRP_AUTH_AH
from pylvs.model.vrrp import VRRP_AUTH_LEN as VRRP_AUTH_LEN
from pylvs.model.vrrp import VRRP_AUTH_NONE as VRRP_AUTH_NONE
from pylvs.model.vrrp import VRRP_AUTH_PASS as VRRP_AUTH_PASS
from pylvs.model.vrrp import VRRP_MAX_ADDR as VRRP_MAX_ADDR
from pylvs.model.vrrp import IPAddress as IPAddress

# keepalived/include/vrrp.h
IPPROTO_VRRP = 112
VRRP_IP_TTL = 255
VRRP_PKT_ADVERT = 1
HEADER_LEN = 8
IPV4_HEADER_LEN = 20
IPV4_TOS_NETWORK_CONTROL = 0xC0  # vrrp_build_ip4: "internet network control"
V3_ADVER_INT_MASK = 0x0FFF  # V3_PKT_ADVER_INT_NTOH: the top 4 bits are reserved
ZERO_AUTH = bytes(VRRP_AUTH_LEN)


def checksum_add(data: bytes, acc: int = 0) -> int:
    """Add `data` as 16-bit big-endian words to the one's-complement accumulator (RFC 1071)."""
    if len(data) % 2:
        data += b"\x00"
    acc += sum(struct.unpack(f"!{len(data) // 2}H", data))
    while acc > 0xFFFF:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return acc


def checksum_finish(acc: int) -> int:
    return ~acc & 0xFFFF


def inet_checksum(data: bytes, acc: int = 0) -> int:
    """The Internet checksum of `data` (RFC 1071), starting from a pseudo-header sum `acc`."""
    return checksum_finish(checksum_add(data, acc))


def ipv4_pseudo_header(
    src: ipaddress.IPv4Address, dst: ipaddress.IPv4Address, length: int
) -> bytes:
    """keepalived's `ipv4_phdr_t`: src, dst, zero, protocol 112, VRRP length."""
    return src.packed + dst.packed + struct.pack("!BBH", 0, IPPROTO_VRRP, length)


def ipv6_pseudo_header(
    src: ipaddress.IPv6Address, dst: ipaddress.IPv6Address, length: int
) -> bytes:
    """RFC 8200 §8.1 upper-layer pseudo-header with next header 112."""
    return src.packed + dst.packed + struct.pack("!I3xB", length, IPPROTO_VRRP)


@dataclass(frozen=True, slots=True)
class Advert:
    """One VRRP advertisement as on the wire (the checksum is computed, not stored).

    `adver_int` is in the wire unit: whole seconds for v2 (8 bits), centiseconds for v3
    (12 bits).  `auth_type`/`auth_data` only exist in v2; v3 keeps the zero defaults.
    """

    version: int
    vrid: int
    priority: int
    adver_int: int
    addresses: tuple[IPAddress, ...] = ()
    family: int = 4
    auth_type: int = VRRP_AUTH_NONE
    auth_data: bytes = ZERO_AUTH
    type: int = VRRP_PKT_ADVERT

    def __post_init__(self) -> None:
        if self.version not in (2, 3):
            raise ValueError(f"VRRP version must be 2 or 3, not {self.version}")
        if self.family not in (4, 6):
            raise ValueError(f"address family must be 4 or 6, not {self.family}")
        if self.version == 2 and self.family != 4:
            raise ValueError("VRRPv2 carries IPv4 addresses only (RFC 3768)")
        for name, value, top in (
            ("vrid", self.vrid, 255),
            ("priority", self.priority, 255),
            ("type", self.type, 15),
            ("auth_type", self.auth_type, 255),
            ("adver_int", self.adver_int, 255 if self.version == 2 else V3_ADVER_INT_MASK),
        ):
            if not 0 <= value <= top:
                raise ValueError(f"{name} {value} is outside 0..{top}")
        if len(self.addresses) > VRRP_MAX_ADDR:
            raise ValueError(f"at most {VRRP_MAX_ADDR} addresses fit the 8-bit count")
        if any(a.version != self.family for a in self.addresses):
            raise ValueError(f"every address must be IPv{self.family}")
        if len(self.auth_data) != VRRP_AUTH_LEN:
            raise ValueError("auth_data is exactly 8 bytes")
        if self.version == 3 and (self.auth_type or self.auth_data != ZERO_AUTH):
            raise ValueError("VRRPv3 has no authentication fields")

    @property
    def interval_us(self) -> int:
        """The advertisement interval in microseconds (keepalived's TIMER_HZ unit)."""
        return self.adver_int * (1_000_000 if self.version == 2 else 10_000)

    @property
    def length(self) -> int:
        return message_length(self.version, self.family, len(self.addresses))


def message_length(version: int, family: int, naddr: int) -> int:
    """keepalived `expected_vrrp_pkt_len`: header + addresses (+ 8 auth bytes for v2 IPv4)."""
    if family == 4:
        return HEADER_LEN + (VRRP_AUTH_LEN if version == 2 else 0) + 4 * naddr
    return HEADER_LEN + 16 * naddr


def password_bytes(password: bytes) -> bytes:
    """The 8 PASS authentication bytes: truncated to 8, zero padded (vrrp_parser.c)."""
    return password[:VRRP_AUTH_LEN].ljust(VRRP_AUTH_LEN, b"\x00")


def _body(adv: Advert) -> bytearray:
    word = (adv.auth_type << 8 | adv.adver_int) if adv.version == 2 else adv.adver_int
    out = bytearray(
        struct.pack(
            "!BBBBHH",
            adv.version << 4 | adv.type,
            adv.vrid,
            adv.priority,
            len(adv.addresses),
            word,
            0,
        )
    )
    for addr in adv.addresses:
        out += addr.packed
    if adv.version == 2:
        out += adv.auth_data
    return out


def checksum_seed(
    version: int,
    family: int,
    length: int,
    *,
    src: IPAddress | None,
    dst: IPAddress | None,
    pseudo_header: bool,
) -> int:
    """The accumulator a VRRP checksum starts from: the pseudo-header sum, or 0 when none."""
    if family == 6:
        if not isinstance(src, ipaddress.IPv6Address) or not isinstance(dst, ipaddress.IPv6Address):
            raise ValueError("an IPv6 VRRP checksum needs the IPv6 source and destination")
        return checksum_add(ipv6_pseudo_header(src, dst, length))
    if version == 2 or not pseudo_header:
        return 0
    if not isinstance(src, ipaddress.IPv4Address) or not isinstance(dst, ipaddress.IPv4Address):
        raise ValueError("a VRRPv3 IPv4 pseudo-header needs the IPv4 source and destination")
    return checksum_add(ipv4_pseudo_header(src, dst, length))


def encode_advert(
    adv: Advert,
    *,
    src: IPAddress | None = None,
    dst: IPAddress | None = None,
    pseudo_header: bool = True,
) -> bytes:
    """The VRRP message bytes with the checksum filled in.

    `pseudo_header=False` is `v3_checksum_as_v2`; it only matters for v3 over IPv4.
    """
    body = _body(adv)
    seed = checksum_seed(
        adv.version, adv.family, len(body), src=src, dst=dst, pseudo_header=pseudo_header
    )
    struct.pack_into("!H", body, 6, inet_checksum(bytes(body), seed))
    return bytes(body)


def verify_checksum(
    message: bytes,
    version: int,
    family: int,
    *,
    src: IPAddress | None = None,
    dst: IPAddress | None = None,
    pseudo_header: bool = True,
) -> bool:
    """True when the checksum of a received message is right (the sum over it folds to 0)."""
    try:
        seed = checksum_seed(
            version, family, len(message), src=src, dst=dst, pseudo_header=pseudo_header
        )
    except ValueError:
        return False
    return inet_checksum(message, seed) == 0


@dataclass(frozen=True, slots=True)
class VrrpHeader:
    """The fixed 8 bytes of a received message, fields as on the wire (`vrrphdr_t`)."""

    version: int
    type: int
    vrid: int
    priority: int
    naddr: int
    word: int  # v2: auth_type << 8 | adver_int; v3: reserved bits + max adver int
    checksum: int

    @property
    def auth_type(self) -> int:
        return self.word >> 8

    @property
    def v2_adver_int(self) -> int:
        return self.word & 0xFF

    @property
    def v3_adver_int(self) -> int:
        return self.word & V3_ADVER_INT_MASK


def parse_header(message: bytes) -> VrrpHeader | None:
    if len(message) < HEADER_LEN:
        return None
    vt, vrid, prio, naddr, word, csum = struct.unpack_from("!BBBBHH", message)
    return VrrpHeader(vt >> 4, vt & 0x0F, vrid, prio, naddr, word, csum)


def peek_vrid(message: bytes) -> int | None:
    """The VRID of a VRRP message, for demultiplexing to instances (None if too short)."""
    header = parse_header(message)
    return None if header is None else header.vrid


def decode_advert(message: bytes, family: int) -> Advert | None:
    """Decode one VRRP message of exactly the length its header announces, or None."""
    header = parse_header(message)
    if header is None or header.version not in (2, 3) or family not in (4, 6):
        return None
    if header.version == 2 and family != 4:
        return None
    if len(message) != message_length(header.version, family, header.naddr):
        return None
    size = 4 if family == 4 else 16
    raw = [
        message[HEADER_LEN + i * size : HEADER_LEN + (i + 1) * size] for i in range(header.naddr)
    ]
    addresses: tuple[IPAddress, ...] = tuple(
        ipaddress.IPv4Address(r) if family == 4 else ipaddress.IPv6Address(r) for r in raw
    )
    if header.version == 2:
        return Advert(
            2,
            header.vrid,
            header.priority,
            header.v2_adver_int,
            addresses,
            4,
            header.auth_type,
            message[-VRRP_AUTH_LEN:],
            header.type,
        )
    return Advert(
        3, header.vrid, header.priority, header.v3_adver_int, addresses, family, type=header.type
    )


@dataclass(frozen=True, slots=True)
class Ipv4Header:
    ihl: int  # header length in bytes
    tos: int
    total_length: int
    ident: int
    frag_off: int
    ttl: int
    protocol: int
    checksum: int
    src: ipaddress.IPv4Address
    dst: ipaddress.IPv4Address


def parse_ipv4(datagram: bytes) -> Ipv4Header | None:
    """The IPv4 header of a datagram read from a raw socket, or None if it is not one."""
    if len(datagram) < IPV4_HEADER_LEN or datagram[0] >> 4 != 4:
        return None
    ihl = (datagram[0] & 0x0F) * 4
    if ihl < IPV4_HEADER_LEN or ihl > len(datagram):
        return None
    _, tos, tot, ident, frag, ttl, proto, csum = struct.unpack_from("!BBHHHBBH", datagram)
    return Ipv4Header(
        ihl,
        tos,
        tot,
        ident,
        frag,
        ttl,
        proto,
        csum,
        ipaddress.IPv4Address(datagram[12:16]),
        ipaddress.IPv4Address(datagram[16:20]),
    )


def encode_ipv4(
    payload: bytes,
    src: ipaddress.IPv4Address,
    dst: ipaddress.IPv4Address,
    *,
    ttl: int = VRRP_IP_TTL,
    protocol: int = IPPROTO_VRRP,
) -> bytes:
    """keepalived's IP_HDRINCL header (`vrrp_build_ip4`): tos 0xc0, id 0, DF clear, checksum set.

    The kernel fills the header checksum of an IP_HDRINCL datagram itself; it is computed here
    too so the bytes match what goes on the wire.
    """
    header = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            IPV4_TOS_NETWORK_CONTROL,
            IPV4_HEADER_LEN + len(payload),
            0,
            0,
            ttl,
            protocol,
            0,
            src.packed,
            dst.packed,
        )
    )
    struct.pack_into("!H", header, 10, inet_checksum(bytes(header)))
    return bytes(header) + payload
