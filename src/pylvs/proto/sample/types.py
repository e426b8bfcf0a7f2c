"""Sample values and HAProxy's casts between their types (src/sample.c `sample_casts`,
include/haproxy/sample-t.h `SMP_T_*`).

A sample is a type and a value: BOOL and SINT hold an int (SINT is a signed 64-bit integer),
IPV4 and IPV6 hold the address in network order (4 or 16 bytes), STR, BIN and METH hold
bytes (HAProxy's samples are bytes, not text).  ADDR and ANY are only ever *targets* of a
cast: ADDR means "an IPv4 or IPv6 address", ANY "whatever it is".

`cast(smp, to)` is the matrix of sample.c: None where HAProxy has no cast (NULL) or where its
cast function fails (c_str2int on an empty string, c_ipv62ip on an address that is not
IPv4-mapped, ...).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass

from pylvs.proto.stick.keys import format_ipv6

ANY, BOOL, SINT, ADDR, IPV4, IPV6, STR, BIN, METH = range(9)
TYPE_NAMES = ("any", "bool", "sint", "addr", "ipv4", "ipv6", "str", "bin", "meth")
BY_NAME = {name.upper(): i for i, name in enumerate(TYPE_NAMES)}

S64_MIN, S64_MAX = -(1 << 63), (1 << 63) - 1
Value = int | bytes


@dataclass(frozen=True, slots=True)
class Smp:
    """One sample: `type` is one of the SMP_T_* constants above."""

    type: int
    value: Value

    @property
    def text(self) -> bytes:
        """The bytes of a STR/BIN/METH sample (b"" for the others)."""
        return self.value if isinstance(self.value, bytes) else b""

    @property
    def num(self) -> int:
        """The int of a BOOL/SINT sample (0 for the others)."""
        return self.value if isinstance(self.value, int) else 0


def s64(value: int) -> int:
    """Wrap to a signed 64-bit integer, as C arithmetic on `long long` does."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def clamp64(value: int) -> int:
    return S64_MIN if value < S64_MIN else S64_MAX if value > S64_MAX else value


def read_int64(data: bytes) -> int:
    """tools.c read_int64: an optional sign, then digits up to the first non-digit,
    saturated at the 64-bit limits."""
    i = 0
    neg = False
    if data[:1] == b"-":
        neg, i = True, 1
    elif data[:1] == b"+":
        i = 1
    j = i
    while j < len(data) and 0x30 <= data[j] <= 0x39:
        j += 1
    value = int(data[i:j]) if j > i else 0
    value &= (1 << 64) - 1  # read_uint64 wraps silently
    if neg:
        return S64_MIN if value > 1 << 63 else -value
    return min(value, S64_MAX)


def buf2ip(data: bytes) -> bytes | None:
    """tools.c buf2ip: four dotted decimal octets (leading zeros allowed), reading stops at
    the first character that is neither a digit nor a dot."""
    octets: list[int] = []
    current = -1
    for ch in data:
        if 0x30 <= ch <= 0x39:
            current = (0 if current < 0 else current) * 10 + ch - 0x30
            if current > 255:
                return None
            if len(octets) == 4:
                return None
        elif ch == 0x2E and current >= 0:
            if len(octets) == 3:
                return None
            octets.append(current)
            current = -1
        elif ch == 0x2E:
            return None
        else:
            break
    if current < 0 or len(octets) != 3:
        return None
    return bytes([*octets, current])


def buf2ip6(data: bytes) -> bytes | None:
    """tools.c buf2ip6: inet_pton(AF_INET6) on at most INET6_ADDRSTRLEN (46) bytes."""
    if len(data) > 46 or b"%" in data:
        return None
    try:
        return ipaddress.IPv6Address(data.decode("ascii")).packed
    except (ValueError, UnicodeDecodeError):
        return None


def ipv4_text(packed: bytes) -> bytes:
    return b"%d.%d.%d.%d" % tuple(packed)


def ipv6_text(packed: bytes) -> bytes:
    return format_ipv6(packed).encode()


V4_MAPPED = b"\0" * 10 + b"\xff\xff"


def v4tov6(packed: bytes) -> bytes:
    return V4_MAPPED + packed


def v6tov4(packed: bytes) -> bytes | None:
    """tools.c v6tov4: only an IPv4-mapped address (::ffff:a.b.c.d) has an IPv4 form."""
    return packed[12:] if packed[:12] == V4_MAPPED else None


# -- the cast functions (sample.c c_*) ------------------------------------------------------

Cast = Callable[[Smp], Smp | None]


def _c_none(smp: Smp) -> Smp | None:
    return smp


def _int2str(smp: Smp) -> Smp | None:
    return Smp(STR, b"%d" % smp.num)


def _int2bin(smp: Smp) -> Smp | None:
    return Smp(BIN, struct.pack(">q", s64(smp.num)))


def _bool2bin(smp: Smp) -> Smp | None:
    return Smp(BIN, struct.pack(">q", 1 if smp.num else 0))


def _int2ip(smp: Smp) -> Smp | None:
    return Smp(IPV4, struct.pack(">I", smp.num & 0xFFFFFFFF))


def _int2ipv6(smp: Smp) -> Smp | None:
    return Smp(IPV6, v4tov6(struct.pack(">I", smp.num & 0xFFFFFFFF)))


def _ip2int(smp: Smp) -> Smp | None:
    return Smp(SINT, struct.unpack(">I", smp.text)[0])


def _ip2str(smp: Smp) -> Smp | None:
    return Smp(STR, ipv4_text(smp.text))


def _ip2ipv6(smp: Smp) -> Smp | None:
    return Smp(IPV6, v4tov6(smp.text))


def _ipv62ip(smp: Smp) -> Smp | None:
    v4 = v6tov4(smp.text)
    return None if v4 is None else Smp(IPV4, v4)


def _ipv62str(smp: Smp) -> Smp | None:
    return Smp(STR, ipv6_text(smp.text))


def _addr2bin(smp: Smp) -> Smp | None:
    return Smp(BIN, smp.text)


def _str2int(smp: Smp) -> Smp | None:
    # c_str2int makes a SINT even when asked for a BOOL.
    return Smp(SINT, read_int64(smp.text)) if smp.text else None


def _str2addr(smp: Smp) -> Smp | None:
    v4 = buf2ip(smp.text)
    if v4 is not None:
        return Smp(IPV4, v4)
    v6 = buf2ip6(smp.text)
    return None if v6 is None else Smp(IPV6, v6)


def _str2ip(smp: Smp) -> Smp | None:
    v4 = buf2ip(smp.text)
    return None if v4 is None else Smp(IPV4, v4)


def _str2ipv6(smp: Smp) -> Smp | None:
    v6 = buf2ip6(smp.text)
    return None if v6 is None else Smp(IPV6, v6)


def _bin2str(smp: Smp) -> Smp | None:
    return Smp(STR, smp.text.split(b"\0", 1)[0])


def _str2meth(smp: Smp) -> Smp | None:
    return Smp(METH, smp.text)


def _meth2str(smp: Smp) -> Smp | None:
    return Smp(STR, smp.text)


_N = None
_X = _c_none
# sample_casts[from][to], in the order ANY BOOL SINT ADDR IPV4 IPV6 STR BIN METH
_MATRIX: tuple[tuple[Cast | None, ...], ...] = (
    (_X, _X, _X, _X, _X, _X, _X, _X, _X),
    (_X, _X, _X, _N, _N, _N, _int2str, _bool2bin, _N),
    (_X, _X, _X, _int2ip, _int2ip, _int2ipv6, _int2str, _int2bin, _N),
    (_X, _N, _N, _N, _N, _N, _N, _N, _N),
    (_X, _N, _ip2int, _X, _X, _ip2ipv6, _ip2str, _addr2bin, _N),
    (_X, _N, _N, _X, _ipv62ip, _X, _ipv62str, _addr2bin, _N),
    (_X, _str2int, _str2int, _str2addr, _str2ip, _str2ipv6, _X, _X, _str2meth),
    (_X, _N, _N, _N, _N, _N, _bin2str, _X, _str2meth),
    (_X, _N, _N, _N, _N, _N, _meth2str, _meth2str, _X),
)


def castable(frm: int, to: int) -> bool:
    """Whether sample.c has a cast from type `frm` to type `to`."""
    return _MATRIX[frm][to] is not None


def cast(smp: Smp, to: int) -> Smp | None:
    """`smp` converted to type `to` as sample_casts does it (None: no cast, or it failed).

    Casts that are c_none in HAProxy keep the sample's own type: an IPV4 sample asked for as
    ADDR stays IPV4, a SINT asked for as BOOL stays SINT, a STR asked for as BIN stays STR."""
    fn = _MATRIX[smp.type][to]
    if fn is None:
        return None
    return fn(smp)


def as_str(smp: Smp | None) -> bytes | None:
    """sample_fetch_as_type(..., SMP_T_STR): the bytes of a sample cast to a string."""
    if smp is None:
        return None
    if smp.type == STR:
        return smp.text
    out = cast(smp, STR)
    return None if out is None else out.text


def true(smp: Smp) -> bool:
    """A BOOL/SINT sample's truth as conditions read it."""
    return bool(smp.value)
