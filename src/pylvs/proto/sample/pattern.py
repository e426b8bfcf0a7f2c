"""Pattern matching: the `-m` methods of ACLs and the lookups of map converters (src/pattern.c).

A `Matcher` is one method (`found bool int ip bin len str beg sub dir dom end reg regm`),
the `-i` flag, and the pattern references it reads (an ACL's inline patterns and `-f` files,
or a map file).  It parses each reference's keys as its method does (pat_parse_*), rebuilds
when a reference's generation changes (the stats socket edited it), and answers `match()`
with the entry that matched, as pattern_exec_match does:

* `found`: any sample matches; `bool`: a non-zero integer matches;
* `int`/`len`: ranges `N`, `N:M`, `N-M`, `:M`, `N:` (the ACL parser also turns `gt/ge/lt/le
  N` into ranges); `len` compares the string length;
* `ip`: IPv4 networks with a contiguous mask and every IPv6 network are looked up by longest
  prefix (HAProxy's trees), an IPv4 sample then tried as `::ffff:a.b.c.d`, an IPv6 sample in
  the mapped, compatible or 6to4 forms as IPv4; networks with a non-contiguous mask last;
* `str`: the first equal key; `beg`: without `-i` the *longest* key that starts the sample
  (a prefix tree), with `-i` the first one; `sub`, `end`, `dir`, `dom`, `reg`, `regm`, `bin`:
  the first key in order that matches.  `dir`/`dom` match whole words delimited by `/?` and
  `/?.:`, delimiters at the ends of the key ignored.

Before matching, the sample is cast to the method's type (STR for strings, SINT for
numbers, ADDR for addresses) as pattern_exec_match does; a failed cast matches nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.pattern_ref import Entry, PatternRef
from pylvs.proto.sample.types import Smp

METHODS = (
    *("found", "bool", "int", "ip", "bin", "len", "str", "beg", "sub", "dir", "dom", "end"),
    *("reg", "regm"),
)
# pat_match_types: the type a sample is cast to before matching
EXPECT = {"found": ty.SINT, "bool": ty.SINT, "int": ty.SINT, "ip": ty.ADDR, "bin": ty.BIN}
EXPECT |= dict.fromkeys(("len", "str", "beg", "sub", "dir", "dom", "end", "reg", "regm"), ty.STR)


class PatternError(ValueError):
    """A pattern its method cannot parse (HAProxy's message)."""


def strl2llrc(text: bytes) -> int | None:
    """tools.c strl2llrc: an optional sign then decimal digits and nothing else."""
    body = text[1:] if text[:1] in (b"-", b"+") else text
    if not body or not body.isdigit():
        return None
    return int(text)


def parse_range(text: bytes) -> tuple[int | None, int | None]:
    """pat_parse_int: (min, max), None where the range is open."""
    if not text:
        raise PatternError(f"'{text.decode('latin-1')}' is not a valid number range")
    cut = next((i for i, c in enumerate(text) if c in b":-"), -1)
    shown = text.decode("latin-1")
    if cut < 0:
        value = strl2llrc(text)
        if value is None:
            raise PatternError(f"'{shown}' is not a number")
        return value, value
    low, high = text[:cut], text[cut + 1 :]
    if cut == 0 and high:
        hi = strl2llrc(high)
        if hi is None:
            raise PatternError(f"'{shown}' is not a valid number range")
        return None, hi
    if not high:
        lo = strl2llrc(low)
        if lo is None:
            raise PatternError(f"'{shown}' is not a valid number range")
        return lo, None
    lo, hi = strl2llrc(low), strl2llrc(high)
    if lo is None or hi is None or lo > hi:
        raise PatternError(f"'{shown}' is not a valid number range")
    return lo, hi


@dataclass(frozen=True, slots=True)
class Net4:
    addr: int
    mask: int

    @property
    def prefix(self) -> int | None:
        """The prefix length when the mask is contiguous (tree-indexed), else None."""
        inv = ~self.mask & 0xFFFFFFFF
        return 32 - inv.bit_length() if inv & (inv + 1) == 0 else None


def _mask4(text: str) -> int | None:
    """tools.c str2mask: a prefix length or a dotted mask."""
    if "." in text:
        try:
            return int(ipaddress.IPv4Address(text))
        except ValueError:
            return None
    if not text.isdigit() or int(text) > 32:
        return None
    n = int(text)
    return (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF if n else 0


def parse_ip(
    text: bytes, resolve: Callable[[str], bytes | None] | None = None
) -> Net4 | ipaddress.IPv6Network:
    """pat_parse_ip: str2net (IPv4 address or name, optional /len or /dotted mask), else
    str62net (IPv6 address, optional /len)."""
    s = text.decode("latin-1")
    addr_text, slash, mask_text = s.rpartition("/")
    if not slash:
        addr_text, mask_text = s, ""
    mask = _mask4(mask_text) if slash else 0xFFFFFFFF
    if mask is not None:
        packed = ty.buf2ip(addr_text.encode("latin-1")) if _strict_v4(addr_text) else None
        if packed is None and resolve is not None and addr_text and ":" not in addr_text:
            packed = resolve(addr_text)
        if packed is not None:
            return Net4(int.from_bytes(packed, "big"), mask)
    length = 128
    if slash:
        if not mask_text or not mask_text.isdigit() or int(mask_text) > 128:
            raise PatternError(f"'{s}' is not a valid IPv4 or IPv6 address")
        length = int(mask_text)
    v6 = ty.buf2ip6(addr_text.encode("latin-1"))
    if v6 is None:
        raise PatternError(f"'{s}' is not a valid IPv4 or IPv6 address")
    return ipaddress.IPv6Network((v6, length), strict=False)


def _strict_v4(text: str) -> bool:
    """inet_pton(AF_INET): exactly four dotted decimal octets, nothing else."""
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) < 256 for p in parts)


def parse_bin(text: bytes) -> bytes:
    """pat_parse_bin: hexadecimal digits, two per byte."""
    try:
        return bytes.fromhex(text.decode("latin-1"))
    except ValueError:
        raise PatternError(f"'{text.decode('latin-1')}' is not a valid binary string") from None


@dataclass(frozen=True, slots=True)
class Found:
    """What matched: the entry (its value, for maps) and, for `regm`, the match."""

    entry: Entry | None
    groups: re.Match[bytes] | None = None


_FOUND_NOTHING = Found(None)


def _word_match(sample: bytes, key: bytes, delims: bytes, icase: bool) -> bool:
    """pattern.c match_word: `key` in `sample` between delimiters or the ends."""
    ps = key.strip(delims)
    if len(ps) > len(sample):
        return False
    if icase:
        sample, ps = sample.lower(), ps.lower()
    pl = len(ps)
    end = len(sample) - pl
    may = True
    for c in range(end + 1):
        ch = sample[c]
        if ch in delims:
            may = True
            continue
        if not may:
            continue
        if sample[c : c + pl] == ps and (c == end or sample[c + pl] in delims):
            return True
        may = False
    return False


class Matcher:
    """One method over one or more pattern references (see the module doc)."""

    def __init__(
        self,
        method: str,
        refs: Sequence[PatternRef],
        *,
        icase: bool = False,
        resolve: Callable[[str], bytes | None] | None = None,
        parse_value: Callable[[bytes], Any] | None = None,
        extra: Sequence[Any] = (),
    ) -> None:
        self.method = method
        self.refs = list(refs)
        self.icase = icase
        self.resolve = resolve
        self.parse_value = parse_value  # maps: the value's parse (checked when loading)
        self.expect = EXPECT[method]
        # patterns the ACL parser made itself (`gt 3` and the like): already parsed
        self.extra: list[tuple[Any, Entry]] = [(p, Entry(b"")) for p in extra]
        self._generations: tuple[int, ...] = ()
        self._patterns: list[tuple[Any, Entry]] = []
        self._exact: dict[bytes, Entry] = {}
        self.build()

    def build(self) -> None:
        """Parse every key (pat_ref_load): raises PatternError on the first bad one."""
        patterns: list[tuple[Any, Entry]] = []
        for ref in self.refs:
            for entry in ref.entries:
                patterns.append((self._parse(entry.key), entry))
                if self.parse_value is not None and entry.value is not None:
                    self.parse_value(entry.value)
        patterns.extend(self.extra)
        self._patterns = patterns
        self._exact = {}
        if self.method == "str":
            for key, entry in patterns:
                self._exact.setdefault(key, entry)
        self._generations = tuple(r.generation for r in self.refs)

    def _parse(self, key: bytes) -> Any:
        m = self.method
        if m in ("int", "len"):
            return parse_range(key)
        if m == "ip":
            return parse_ip(key, self.resolve)
        if m == "bin":
            return parse_bin(key)
        if m in ("reg", "regm"):
            from pylvs.proto.sample.expr import CompileError, compile_regex

            try:
                return compile_regex(key.decode("latin-1"), icase=self.icase)
            except CompileError as e:
                raise PatternError(str(e)) from None
        if m in ("found", "bool"):
            return None
        return key.lower() if self.icase else key

    def _fresh(self) -> None:
        if tuple(r.generation for r in self.refs) != self._generations:
            self.build()

    def match(self, smp: Smp) -> Found | None:
        """pattern_exec_match: what matched, or None."""
        if self.method == "found":
            return _FOUND_NOTHING
        if smp.type != self.expect and not (
            self.expect == ty.ADDR and smp.type in (ty.IPV4, ty.IPV6)
        ):
            cast = ty.cast(smp, self.expect)
            if cast is None:
                return None
            smp = cast
        self._fresh()
        m = self.method
        if m == "bool":
            return _FOUND_NOTHING if smp.num else None
        if m == "ip":
            return self._match_ip(smp)
        if m in ("int", "len"):
            value = smp.num if m == "int" else len(smp.text)
            for (lo, hi), entry in self._patterns:
                if (lo is None or lo <= value) and (hi is None or value <= hi):
                    return Found(entry)
            return None
        return self._match_bytes(smp.text)

    def _match_bytes(self, text: bytes) -> Found | None:
        m = self.method
        if m in ("reg", "regm"):
            for regex, entry in self._patterns:
                found = regex.search(text)
                if found is not None:
                    return Found(entry, found if m == "regm" else None)
            return None
        if m == "bin":
            for key, entry in self._patterns:
                if key == text:
                    return Found(entry)
            return None
        sample = text.lower() if self.icase else text
        if m == "str":
            hit = self._exact.get(sample)
            return None if hit is None else Found(hit)
        if m == "beg":
            return self._match_beg(sample)
        for key, entry in self._patterns:
            if m == "sub":
                ok = key in sample
            elif m == "end":
                ok = sample.endswith(key)
            elif m == "dir":
                ok = _word_match(sample, key, b"/?", False)
            else:  # dom
                ok = _word_match(sample, key, b"/?.:", False)
            if ok:
                return Found(entry)
        return None

    def _match_beg(self, sample: bytes) -> Found | None:
        best: tuple[bytes, Entry] | None = None
        for key, entry in self._patterns:
            if sample.startswith(key):
                if self.icase:
                    return Found(entry)  # a list: the first one
                if best is None or len(key) > len(best[0]):
                    best = (key, entry)  # a prefix tree: the longest one
        return None if best is None else Found(best[1])

    def _match_ip(self, smp: Smp) -> Found | None:
        v4: int | None = None
        if smp.type == ty.IPV4:
            v4 = int.from_bytes(smp.text, "big")
            hit = self._longest4(v4)
            if hit is None:
                hit = self._longest6(ty.v4tov6(smp.text))
            if hit is not None:
                return hit
        else:
            packed = smp.text
            hit = self._longest6(packed)
            if hit is not None:
                return hit
            v4 = _embedded_v4(packed)
            if v4 is not None:
                hit = self._longest4(v4)
                if hit is not None:
                    return hit
        if v4 is None:
            return None
        for net, entry in self._patterns:
            if isinstance(net, Net4) and net.prefix is None and (v4 ^ net.addr) & net.mask == 0:
                return Found(entry)
        return None

    def _longest4(self, v4: int) -> Found | None:
        best: tuple[int, Entry] | None = None
        for net, entry in self._patterns:
            if (
                isinstance(net, Net4)
                and net.prefix is not None
                and (v4 ^ net.addr) & net.mask == 0
                and (best is None or net.prefix > best[0])
            ):
                best = (net.prefix, entry)
        return None if best is None else Found(best[1])

    def _longest6(self, packed: bytes) -> Found | None:
        addr = ipaddress.IPv6Address(packed)
        best: tuple[int, Entry] | None = None
        for net, entry in self._patterns:
            if (
                isinstance(net, ipaddress.IPv6Network)
                and addr in net
                and (best is None or net.prefixlen > best[0])
            ):
                best = (net.prefixlen, entry)
        return None if best is None else Found(best[1])


def _embedded_v4(packed: bytes) -> int | None:
    """The IPv4 address of an IPv4-mapped, IPv4-compatible or 6to4 IPv6 address."""
    if packed[:8] == b"\0" * 8 and packed[8:12] in (b"\0\0\0\0", b"\0\0\xff\xff"):
        return int.from_bytes(packed[12:], "big")
    if packed[:2] == b"\x20\x02":
        return int.from_bytes(packed[2:6], "big")
    return None
