"""Netlink attributes (TLVs) declared as tables, encoded and decoded without I/O.

An attribute is `struct nlattr { u16 nla_len; u16 nla_type; }` followed by its payload,
padded to 4 bytes (include/uapi/linux/netlink.h, NLA_ALIGNTO); `nla_len` counts the header and
the payload, not the padding.  A nested attribute's payload is itself a list of attributes;
libnl sets NLA_F_NESTED (bit 15) on the nests it writes (as `encode` does), the kernel on
some of its own; the flag is masked off when reading (NLA_TYPE_MASK).

A family's attributes are declared as data (`AttrTable`): number -> name, kind and, for a
nested attribute, the table of what it holds, the way the kernel declares its `nla_policy`
arrays and pyroute2 its `nla_map`.  `encode` writes the items in the order given (libnl and
the kernel write them in a fixed order; the goldens hold it); `decode` returns the known
attributes by name and keeps unknown ones by number, so a newer kernel's extra attributes
are neither an error nor silently confused with known ones.  Integers are in host byte order
(`=`) except the kinds that carry a network-order value in an integer attribute (`BE16`:
ports, which the IPVS family sends as __be16 inside NLA_U16).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

NLA_HDR = struct.Struct("=HH")
NLA_ALIGNTO = 4
NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF


class NetlinkDecodeError(ValueError):
    """A message or attribute does not have the layout its table declares."""


class Kind(enum.Enum):
    U8 = "u8"
    U16 = "u16"
    U32 = "u32"
    U64 = "u64"
    BE16 = "be16"  # a network-order 16-bit value in an NLA_U16 (IPVS ports)
    STRING = "string"  # NLA_NUL_STRING / NLA_STRING: written with its NUL
    BINARY = "binary"  # raw bytes (addresses, structs the caller unpacks)
    FLAGS = "flags"  # struct ip_vs_flags { u32 flags; u32 mask; }
    NESTED = "nested"


_INT_FORMATS = {
    Kind.U8: struct.Struct("=B"),
    Kind.U16: struct.Struct("=H"),
    Kind.U32: struct.Struct("=I"),
    Kind.U64: struct.Struct("=Q"),
    Kind.BE16: struct.Struct("!H"),
}
_FLAGS = struct.Struct("=II")


@dataclass(frozen=True, slots=True)
class Attr:
    """One attribute: its name, kind and (NESTED) the table of its contents."""

    name: str
    kind: Kind
    nested: AttrTable | None = None

    def __post_init__(self) -> None:
        if (self.kind is Kind.NESTED) != (self.nested is not None):
            raise ValueError(f"{self.name}: a nested attribute needs a table, others none")


@dataclass(frozen=True, slots=True)
class AttrTable:
    """The attributes of one level, by number (a kernel `nla_policy` array, as data)."""

    name: str
    attrs: Mapping[int, Attr]
    by_name: Mapping[str, tuple[int, Attr]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = {a.name: (n, a) for n, a in self.attrs.items()}
        if len(names) != len(self.attrs):
            raise ValueError(f"{self.name}: two attributes share a name")
        object.__setattr__(self, "by_name", names)


@dataclass(frozen=True, slots=True)
class Attrs:
    """Decoded attributes: known ones by name, unknown ones by number (raw payload)."""

    values: Mapping[str, Value]
    unknown: Mapping[int, bytes] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def get(self, name: str) -> Value | None:
        return self.values.get(name)

    def get_int(self, name: str, default: int | None = None) -> int:
        value = self.values.get(name, default)
        if not isinstance(value, int):
            raise NetlinkDecodeError(f"attribute {name} missing or not an integer")
        return value

    def get_str(self, name: str, default: str | None = None) -> str:
        value = self.values.get(name, default)
        if not isinstance(value, str):
            raise NetlinkDecodeError(f"attribute {name} missing or not a string")
        return value

    def get_bytes(self, name: str) -> bytes:
        value = self.values.get(name)
        if not isinstance(value, bytes):
            raise NetlinkDecodeError(f"attribute {name} missing or not binary")
        return value

    def get_flags(self, name: str) -> tuple[int, int]:
        value = self.values.get(name)
        if not isinstance(value, tuple):
            raise NetlinkDecodeError(f"attribute {name} missing or not flags")
        return value

    def get_nested(self, name: str) -> Attrs | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, Attrs):
            raise NetlinkDecodeError(f"attribute {name} is not nested")
        return value


Value = int | str | bytes | tuple[int, int] | Attrs


def align(length: int) -> int:
    return (length + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1)


def _payload(attr: Attr, value: object) -> bytes:
    kind = attr.kind
    if kind in _INT_FORMATS:
        if not isinstance(value, int):
            raise TypeError(f"{attr.name}: an integer is needed")
        return _INT_FORMATS[kind].pack(value)
    if kind is Kind.STRING:
        if not isinstance(value, str):
            raise TypeError(f"{attr.name}: a string is needed")
        return value.encode() + b"\0"
    if kind is Kind.BINARY:
        if not isinstance(value, bytes):
            raise TypeError(f"{attr.name}: bytes are needed")
        return value
    if kind is Kind.FLAGS:
        if not isinstance(value, tuple):
            raise TypeError(f"{attr.name}: (flags, mask) is needed")
        return _FLAGS.pack(*value)
    assert attr.nested is not None
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise TypeError(f"{attr.name}: nested items are needed")
    return encode(attr.nested, value)


def encode(table: AttrTable, items: Iterable[tuple[str, object]]) -> bytes:
    """The attributes `items` (name, value), in that order, padded as the kernel pads."""
    out = bytearray()
    for name, value in items:
        number, attr = table.by_name[name]
        payload = _payload(attr, value)
        flag = NLA_F_NESTED if attr.kind is Kind.NESTED else 0  # libnl's nla_nest_start
        out += NLA_HDR.pack(NLA_HDR.size + len(payload), number | flag)
        out += payload
        out += bytes(align(len(payload)) - len(payload))
    return bytes(out)


def _value(attr: Attr, data: bytes) -> Value:
    kind = attr.kind
    fmt = _INT_FORMATS.get(kind)
    if fmt is not None:
        if len(data) < fmt.size:
            raise NetlinkDecodeError(f"{attr.name}: {len(data)} bytes, {fmt.size} needed")
        value: int = fmt.unpack_from(data)[0]
        return value
    if kind is Kind.STRING:
        return data.split(b"\0", 1)[0].decode(errors="replace")
    if kind is Kind.BINARY:
        return bytes(data)
    if kind is Kind.FLAGS:
        if len(data) < _FLAGS.size:
            raise NetlinkDecodeError(f"{attr.name}: {len(data)} bytes, {_FLAGS.size} needed")
        flags, mask = _FLAGS.unpack_from(data)
        return (flags, mask)
    assert attr.nested is not None
    return decode(attr.nested, data)


def decode(table: AttrTable, data: bytes | memoryview) -> Attrs:
    """The attributes in `data`; NetlinkDecodeError when a length runs past the end."""
    buf = memoryview(data)
    values: dict[str, Value] = {}
    unknown: dict[int, bytes] = {}
    offset = 0
    while offset + NLA_HDR.size <= len(buf):
        length, number = NLA_HDR.unpack_from(buf, offset)
        if length < NLA_HDR.size or offset + length > len(buf):
            raise NetlinkDecodeError(f"{table.name}: attribute length {length} at {offset}")
        payload = bytes(buf[offset + NLA_HDR.size : offset + length])
        number &= NLA_TYPE_MASK
        attr = table.attrs.get(number)
        if attr is None:
            unknown[number] = payload
        else:
            values[attr.name] = _value(attr, payload)
        offset += align(length)
    return Attrs(values, unknown)
