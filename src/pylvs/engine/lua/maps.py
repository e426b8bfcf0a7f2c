"""Lua's Map class and core.parse_addr (HAProxy 2.6 src/hlua.c hlua_map_new,
_hlua_map_lookup; src/hlua_fcn.c hlua_parse_addr): the Python side of prelude.lua's Map.

`Map.new(file[, method])` loads a map file while HAProxy starts (the scripts' load and
their init functions; later it is refused: "map: cannot load map at runtime"), sharing the
pattern reference of that file with the configuration's map converters, so the stats
socket's `set map` / `add map` change what `lookup` finds.  The methods are pattern.c's
(`Map._str`, `Map._beg`, ...); those a map cannot be looked up with (found, bool, bin, len,
regm) are refused.  A lookup gives the value as a string, or nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.pattern import Matcher, PatternError, parse_ip
from pylvs.proto.sample.pattern_ref import PatternFileError, PatternRef, PatternStore
from pylvs.proto.sample.types import Smp

# pattern.c pat_match_names, in PAT_MATCH_* order (Map._found is 0, Map._str 6, ...)
METHODS = (
    *("found", "bool", "int", "ip", "bin", "len", "str"),
    *("beg", "sub", "dir", "dom", "end", "reg", "regm"),
)  # fmt: skip
_MAPPABLE = frozenset({"str", "beg", "sub", "dir", "dom", "end", "reg", "int", "ip"})


class LuaMaps:
    """The maps a Lua state's scripts made (by number, as the Lua objects refer to them)."""

    def __init__(self, store: Callable[[], PatternStore]) -> None:
        self.store = store
        self.maps: list[Matcher] = []
        self.starting = True  # MODE_STARTING: maps load only while HAProxy starts

    def new(self, file: bytes, match: int) -> tuple[int | None, bytes | None]:
        method = METHODS[match]
        if method not in _MAPPABLE:
            return None, b"'new' doesn't support this match mode."
        if not self.starting:
            return None, b"'new': map: cannot load map at runtime."
        path = file.decode("utf-8", "surrogateescape")
        try:
            ref = self.store().file(path, is_map=True)
        except PatternFileError as e:
            return None, f"'new': {e}.".encode()
        try:
            matcher = Matcher(method, [ref])
        except PatternError:
            return None, f"'new': {_first_bad(method, ref)}.".encode()
        self.maps.append(matcher)
        return len(self.maps) - 1, None

    def lookup(self, ref: int, key: object) -> bytes | None:
        matcher = self.maps[ref]
        if isinstance(key, int):
            smp = Smp(ty.SINT, key)
        else:
            smp = Smp(ty.STR, key if isinstance(key, bytes) else str(key).encode())
        found = matcher.match(smp)
        if found is None or found.entry is None:
            return None
        return found.entry.value or b""


def _first_bad(method: str, ref: PatternRef) -> str:
    """pattern_read_from_file's message: the first key the method cannot parse, its line."""
    for entry in ref.entries:
        one = PatternRef(ref.name, is_map=True, uid=-1)
        one.entries = [entry]
        try:
            Matcher(method, [one])
        except PatternError as e:
            return f"{e} at line {entry.line} of file '{ref.name}'"
    return f"cannot load file '{ref.name}'"


@dataclass(frozen=True, slots=True)
class NetAddr:
    """What core.parse_addr gives a script: an opaque userdata, as HAProxy's struct
    net_addr (the state's attribute filter keeps its fields from Lua)."""

    family: int
    addr: int
    mask: int


def parse_addr(text: bytes) -> NetAddr | None:
    """hlua_parse_addr: str2net (IPv4 with an optional /len or /mask, no name resolution)
    or str62net (IPv6 /len), else nil."""
    try:
        net = parse_ip(text)
    except PatternError:
        return None
    if isinstance(net, ipaddress.IPv6Network):
        return NetAddr(6, int(net.network_address), int(net.netmask))
    return NetAddr(4, net.addr, net.mask)


def match_addr(a: object, b: object) -> bool:
    """hlua_match_addr: two networks of one family, each address under the other's mask."""
    if not isinstance(a, NetAddr) or not isinstance(b, NetAddr) or a.family != b.family:
        return False
    return a.addr & b.mask == b.addr & a.mask


def read_file(path: str) -> bytes | None:
    """The file's bytes, or None (what the reader's LuaLoader loads maps with)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None
