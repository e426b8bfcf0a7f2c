"""Stick-table key types: how a value becomes a key, how keys sort, how `show table` prints them.

HAProxy 2.6 (src/stick_table.c stktable_types, smp_to_stkey; src/sample.c sample_casts) keeps
a key as the bytes of its type, and its key tree orders them bytewise:

* `ip`: the IPv4 address, 4 bytes in network order (dotted on output);
* `ipv6`: 16 bytes (inet_ntop's text on output, `::ffff:a.b.c.d` for mapped addresses);
* `integer`: an unsigned 32-bit value in host memory order -- little endian on the x86-64 and
  arm64 machines HAProxy runs on, so 65536 sorts before 256, before 1, before 2;
* `string [len N]` (default 32): up to N bytes, compared as C strings;
* `binary [len N]` (default 32): exactly N bytes, zero padded, printed in upper-case hex.

`key_of` converts a sample value the runtime fetched (an address, an int, a str or bytes) with
HAProxy's casts (an IPv6 address fits an `ip` table only if it is IPv4-mapped; an IPv4 one
becomes mapped in an `ipv6` table; an int becomes an address, a string its decimal text...);
None when the cast does not exist.  `cli_key` reads a key typed on the stats socket as
stick_table.c table_process_entry_per_key does.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from dataclasses import dataclass

from pylvs.sched.haproxy.cnum import leading_digits, read_int64, strtoul10

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Sample = Address | int | str | bytes


class KeyType(enum.Enum):
    IP = "ip"
    IPV6 = "ipv6"
    INTEGER = "integer"
    STRING = "string"
    BINARY = "binary"

    @property
    def default_size(self) -> int:
        return {"ip": 4, "ipv6": 16, "integer": 4, "string": 32, "binary": 32}[self.value]

    @property
    def custom_len(self) -> bool:
        return self in (KeyType.STRING, KeyType.BINARY)


@dataclass(frozen=True, slots=True)
class KeyFormat:
    """A table's key type and size (`key_size`: a string's length plus its terminator)."""

    type: KeyType
    size: int

    @classmethod
    def of(cls, key_type: KeyType, length: int | None = None) -> KeyFormat:
        if length is None or not key_type.custom_len:
            return cls(key_type, key_type.default_size)
        # A string's `len` leaves room for the C string's NUL (the default 32 does not).
        return cls(key_type, length + 1 if key_type is KeyType.STRING else length)

    def fix(self, raw: bytes) -> bytes:
        """The stored key for raw key bytes (stksess_setkey, the binary padding)."""
        if self.type is KeyType.STRING:
            return raw.split(b"\0", 1)[0][: self.size - 1]
        if self.type is KeyType.BINARY:
            return raw[: self.size].ljust(self.size, b"\0")
        return raw

    def sort_key(self, key: bytes) -> bytes:
        """The tree order: bytewise (a string ends at its NUL, so plain bytes order it)."""
        return key

    # -- samples -------------------------------------------------------------------------

    def key_of(self, value: Sample) -> bytes | None:
        """smp_to_stkey after sample_convert to the table's type; None if no cast exists."""
        t = self.type
        if t is KeyType.IP:
            v4 = _as_ipv4(value)
            return None if v4 is None else v4.packed
        if t is KeyType.IPV6:
            v6 = _as_ipv6(value)
            return None if v6 is None else v6.packed
        if t is KeyType.INTEGER:
            n = _as_int(value)
            return None if n is None else struct.pack("<I", n & 0xFFFFFFFF)
        if t is KeyType.STRING:
            text = _as_text(value)
            return None if text is None else self.fix(text)
        raw = _as_binary(value)
        return None if raw is None else self.fix(raw)

    # -- the stats socket ----------------------------------------------------------------

    def cli_key(self, text: str) -> bytes | None:
        """A key typed after `key` on the CLI; None for HAProxy's "Invalid key"."""
        t = self.type
        if t is KeyType.IP:
            return struct.pack(">I", inetaddr_host(text))
        if t is KeyType.IPV6:
            try:
                return ipaddress.IPv6Address(text).packed
            except ValueError:
                return None
        if t is KeyType.INTEGER:
            n = strtoul10(text)
            return None if n is None or n > 0xFFFFFFFF else struct.pack("<I", n)
        if t is KeyType.STRING:
            return self.fix(text.encode("latin-1", "replace"))
        return None  # binary keys cannot be typed on the CLI

    def render(self, key: bytes) -> str:
        """The `key=` part of a `show table` line (table_dump_entry_to_buffer)."""
        t = self.type
        if t is KeyType.IP:
            return str(ipaddress.IPv4Address(key))
        if t is KeyType.IPV6:
            return format_ipv6(key)
        if t is KeyType.INTEGER:
            return str(struct.unpack("<I", key)[0])
        if t is KeyType.STRING:
            return dump_text(key)
        return key.hex().upper()


def _as_ipv4(value: Sample) -> ipaddress.IPv4Address | None:
    if isinstance(value, ipaddress.IPv4Address):
        return value
    if isinstance(value, ipaddress.IPv6Address):
        return value.ipv4_mapped  # c_ipv62ip: only v4-mapped addresses
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)  # c_int2ip
    if isinstance(value, str):
        parsed = _parse_address(value)
        return _as_ipv4(parsed) if parsed is not None else None
    return None


def _as_ipv6(value: Sample) -> ipaddress.IPv6Address | None:
    if isinstance(value, ipaddress.IPv6Address):
        return value
    if isinstance(value, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + value.packed)  # c_ip2ipv6
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _as_ipv6(ipaddress.IPv4Address(value & 0xFFFFFFFF))  # c_int2ipv6
    if isinstance(value, str):
        parsed = _parse_address(value)
        return _as_ipv6(parsed) if parsed is not None else None
    return None


def _parse_address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _as_int(value: Sample) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, ipaddress.IPv4Address):
        return int(value)  # c_ip2int
    if isinstance(value, str):
        return read_int64(value) if value else None  # c_str2int
    return None


def _as_text(value: Sample) -> bytes | None:
    if isinstance(value, str):
        return value.encode("latin-1", "replace")
    if isinstance(value, bytes):
        return value.split(b"\0", 1)[0]  # c_bin2str stops at the first NUL
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, ipaddress.IPv6Address):
        return format_ipv6(value.packed).encode()
    return str(value).encode()


def _as_binary(value: Sample) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("latin-1", "replace")
    if isinstance(value, int):
        return struct.pack(">q", value)  # c_int2bin: 8 bytes, network order
    return value.packed  # c_addr2bin


def inetaddr_host(text: str) -> int:
    """tools.c inetaddr_host: a fast, unchecked dotted-quad reader (the CLI's `ip` keys).

    Each of up to four dot-separated groups contributes its last three digits to its byte;
    what is missing counts as 0, so "1.2.3" is 1.2.3.0 and "1.2.3.4.5" is 1.2.3.4.
    """
    zero = 0x30303030
    dig1 = dig10 = dig100 = zero
    shift = 24
    data = text.encode("latin-1", "replace")
    start = p = 0
    while True:
        while p < len(data) and 0x30 <= data[p] <= 0x39:
            p += 1
        if p != start:
            d = p - 1
            dig1 |= data[d] << shift
            if d != start:
                d -= 1
                dig10 |= data[d] << shift
                if d != start:
                    d -= 1
                    dig100 |= data[d] << shift
        if not shift or p >= len(data) or data[p] != 0x2E:
            break
        shift -= 8
        p += 1
        start = p
    dig100 = (dig100 - zero) & 0xFFFFFFFF
    dig10 = (dig10 - zero) & 0xFFFFFFFF
    dig1 = (dig1 - zero) & 0xFFFFFFFF
    return (((dig100 * 10) + dig10) * 10 + dig1) & 0xFFFFFFFF


def format_ipv6(packed: bytes) -> str:
    """glibc inet_ntop(AF_INET6): the longest run of zero words (two at least, the first of
    equals) as "::", and the last 32 bits dotted for IPv4-compatible (::a.b.c.d) and
    IPv4-mapped (::ffff:a.b.c.d) addresses."""
    words = struct.unpack(">8H", packed)
    best_base, best_len, cur_base, cur_len = -1, 0, -1, 0
    for i, w in enumerate(words):
        if w:
            cur_base, cur_len = -1, 0
            continue
        cur_base, cur_len = (i, 1) if cur_base < 0 else (cur_base, cur_len + 1)
        if cur_len > best_len:
            best_base, best_len = cur_base, cur_len
    if best_len < 2:
        best_base = -1
    embedded = best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF))
    out = ""
    for i, w in enumerate(words):
        if best_base >= 0 and best_base <= i < best_base + best_len:
            if i == best_base:
                out += ":"
            continue
        if i:
            out += ":"
        if i == 6 and embedded:
            return out + str(ipaddress.IPv4Address(packed[12:]))
        out += f"{w:x}"
    if best_base >= 0 and best_base + best_len == 8:
        out += ":"
    return out


def dump_text(raw: bytes) -> str:
    """tools.c dump_text: printable ASCII as is; space, '=' and '\\' escaped with a
    backslash, tab/CR/LF/ESC as \\t \\r \\n \\e, anything else as \\xHH."""
    out = []
    for c in raw:
        if c == 0:
            break
        ch = chr(c)
        if 0x20 < c < 0x7F and ch not in "\\=":
            out.append(ch)
        elif ch in " =\\":
            out.append("\\" + ch)
        elif ch in "\t\n\r\x1b":
            out.append("\\" + {"\t": "t", "\n": "n", "\r": "r", "\x1b": "e"}[ch])
        else:
            out.append(f"\\x{c:02X}")
    return "".join(out)


_SIZE_SUFFIX = {"k": 10, "m": 20, "g": 30}


def parse_size(text: str) -> int | str:
    """tools.c parse_size_err: digits and an optional k/m/g (powers of 2) suffix.

    The size, or the offending rest of the text for HAProxy's "unexpected character" message.
    """
    value, rest = leading_digits(text)
    if value is None:
        return text
    for i in range(1, len(text) - len(rest) + 1):
        if int(text[:i]) > 0xFFFFFFFF:
            return text[i - 1 :]  # the digit that overflows 32 bits
    if rest:
        shift = _SIZE_SUFFIX.get(rest[0].lower())
        if shift is None:
            return rest
        if value > 0xFFFFFFFF >> shift:
            return rest
        value <<= shift
        if len(rest) > 1:
            return rest[1:]
    return value
