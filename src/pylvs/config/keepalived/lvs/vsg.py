"""`virtual_server_group NAME { ... }` (reference §3.8; check/check_data.c `alloc_vsg_entry`).

Each line is `ADDR [PORT]`, an address range `a.b.c.d-e` (last octet; last 16-bit group in
hex for IPv6), `a.b.c.d-e.f.g.h`, a prefix `a.b.c.d/nn` (host bits must be zero), or
`fwmark N [inet|inet6]`.  A bad line is skipped with an error; an empty group, or one mixing
IPv4, IPv6 and a fwmark without family, is removed with an error (check_parser.c
`vsg_handler`).  A port of 0 means "no port".
"""

from __future__ import annotations

import ipaddress

from pylvs.config.keepalived.lvs.common import UINT_MAX, end_loc
from pylvs.config.keepalived.lvs.model import VirtualServerGroup, VsgEntry
from pylvs.config.keywords import Context
from pylvs.config.keywords.values import unsigned
from pylvs.config.tree import Statement, Word
from pylvs.model.service import AF_INET, AF_INET6, Address

# pylvs expands a group into one IPVS service per address; a larger range is refused
# rather than building millions of services (keepalived would try).
MAX_RANGE = 65536


def parse_group(st: Statement, ctx: Context) -> VirtualServerGroup | None:
    name = st.args[0].text
    entries: list[VsgEntry] = []
    for line in st.block or ():
        if line.block is not None:
            ctx.error(line.loc, f"({name}): unexpected {{ }} block - ignoring")
        entry = _entry(line, ctx, name)
        if entry is not None:
            entries.append(entry)
    if not entries:
        ctx.error(end_loc(st), f"virtual server group {name} has no entries - removing")
        return None
    v4 = any(_family(e) == AF_INET for e in entries)
    v6 = any(_family(e) == AF_INET6 for e in entries)
    no_family = any(e.fwmark is not None and e.family is None for e in entries)
    if v4 and v6 and no_family:
        ctx.error(
            end_loc(st),
            f"virtual server group {name} cannot have IPv4, IPv6 and fwmark without family"
            " - removing",
        )
        return None
    return VirtualServerGroup(name=name, loc=st.loc, entries=tuple(entries))


def _family(e: VsgEntry) -> int | None:
    if e.fwmark is not None:
        return e.family
    assert e.first is not None
    return AF_INET if e.first.version == 4 else AF_INET6


def _entry(line: Statement, ctx: Context, gname: str) -> VsgEntry | None:
    words = (line.keyword, *line.args)
    if line.name == "fwmark":
        return _fwmark(line, ctx, gname)
    text = words[0].text
    port = 0
    if len(words) >= 2 and words[1].text.strip("0"):
        p = unsigned(words[1], ctx, 1, 65535, "virtual server group port")
        if p is None:
            ctx.error(
                words[0].loc,
                f"Invalid virtual server group IP address {text} /port/{words[1].text} - skipping",
            )
            return None
        port = p
    span = _parse_range(words[0], ctx)
    if span is None:
        return None
    first, last = span
    if int(last) - int(first) + 1 > MAX_RANGE:
        ctx.error(words[0].loc, f"range {text} has more than {MAX_RANGE} addresses - skipping")
        return None
    return VsgEntry(loc=line.loc, first=first, last=last, port=port)


def _fwmark(line: Statement, ctx: Context, gname: str) -> VsgEntry | None:
    if not line.args:
        ctx.error(line.loc, f"({gname}): fwmark needs a value - ignoring")
        return None
    mark = unsigned(line.args[0], ctx, 0, UINT_MAX, "fwmark")
    if mark is None:
        ctx.error(
            line.args[0].loc,
            f"({gname}): fwmark '{line.args[0].text}' must be in [0, {UINT_MAX}] - ignoring",
        )
        return None
    family: int | None = None
    if len(line.args) >= 2:
        fam = line.args[1].text
        if fam == "inet":
            family = AF_INET
        elif fam == "inet6":
            family = AF_INET6
        else:
            ctx.error(
                line.args[1].loc, f"({gname}): fwmark '{mark}' family {fam} unknown - ignoring"
            )
            return None
    if mark == 0:
        # IPVS has no fwmark 0 service: keepalived accepts the line but the kernel refuses it.
        ctx.error(line.args[0].loc, f"({gname}): fwmark 0 is not a valid IPVS service")
        return None
    return VsgEntry(loc=line.loc, fwmark=mark, family=family)


def _ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_range(word: Word, ctx: Context) -> tuple[Address, Address] | None:
    text = word.text
    base, sep, rest = text.partition("/")
    if not sep:
        base, sep, rest = text.partition("-")
    start = _ip(base)
    if start is None:
        ctx.error(word.loc, f"Invalid virtual server group IP address {text} - skipping")
        return None
    bits = 32 if start.version == 4 else 128
    if "/" in text:
        if not (rest.isascii() and rest.isdigit() and len(rest) <= 3 and 1 <= int(rest) <= bits):
            ctx.error(word.loc, f"Invalid netmask - {text} - skipping")
            return None
        host = (1 << (bits - int(rest))) - 1
        if int(start) & host:
            ctx.error(word.loc, f"Address mask bits not empty - {text} - skipping")
            return None
        return start, ipaddress.ip_address(int(start) | host) if bits == 32 else _v6(
            int(start) | host
        )
    if not sep:
        return start, start
    if (start.version == 4 and "." in rest) or (start.version == 6 and ":" in rest):
        end = _ip(rest)
        if end is None:
            ctx.error(word.loc, f"Invalid range end {text} - skipping")
            return None
        if end.version != start.version:
            ctx.error(word.loc, f"Range address families do not match {text} - skipping")
            return None
        if int(end) < int(start):
            ctx.error(
                word.loc,
                f"Address range end is less than address range start - {text} - skipping",
            )
            return None
        return start, end
    try:
        last = int(rest, 10 if start.version == 4 else 16)
    except ValueError:
        ctx.error(word.loc, f"Virtual server group range '{text}' has extra characters at end")
        return None
    width = 8 if start.version == 4 else 16
    if last >= 1 << width:
        ctx.error(word.loc, f"Virtual server group range '{text}' end '{rest}' too large")
        return None
    low = int(start) & ((1 << width) - 1)
    if low >= last:
        ctx.error(
            word.loc,
            f"Address range end is not greater than address range start - {text} - skipping",
        )
        return None
    end_int = int(start) - low + last
    return start, ipaddress.ip_address(end_int) if start.version == 4 else _v6(end_int)


def _v6(n: int) -> Address:
    return ipaddress.IPv6Address(n)
