"""Readers shared by the LVS-side section parsers, on top of the keyword framework.

`timer` is keepalived's TIMER reader (seconds with up to 6 decimals, microsecond resolution,
lib/parser.c `read_decimal_unsigned_strvec` with TIMER_HZ_DIGITS); addresses follow lib/utils.c
`inet_stosockaddr` (an address, optionally a port 1..65535, "0" meaning no port); scripts
follow lib/notify.c `notify_script_init`.  Every reader reports at the word it reads and
returns None on error, so the caller keeps keepalived's fallback (the previous/default value).
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address
from typing import Any

from pylvs.config.errors import Location
from pylvs.config.keepalived.lvs.checks import Script
from pylvs.config.keepalived.plain import _plain
from pylvs.config.keepalived.words import split_quoted
from pylvs.config.keywords import Context, Keyword
from pylvs.config.keywords.values import UINT_MAX, address, micros, unsigned
from pylvs.config.tree import Statement, Word
from pylvs.model.service import Address

__all__ = ["UINT_MAX"]

# _plain.ipv4(text): the IPv4Address of a dotted quad ipaddress accepts, else None
# _plain.addr_port(args): read_addr_port's common case (see there), else None.
# (getattr: as kwdispatch.py, for a _plain built before it had them)
_ipv4: Callable[[str], IPv4Address | None] | None = getattr(_plain, "ipv4", None)
_addr_port: Callable[[tuple[Word, ...]], tuple[IPv4Address, int] | None] | None = getattr(
    _plain, "addr_port", None
)

TIMER_MAX_US = 2**63 - 1  # lib/timer.h TIMER_MAXIMUM (no practical upper bound)


def timer(
    word: Word, ctx: Context, what: str, lo_us: int = 0, hi_us: int = TIMER_MAX_US
) -> float | None:
    """A TIMER in seconds; bounds in microseconds."""
    us = micros(word, ctx, what, lo_us, hi_us)
    return None if us is None else us / 1_000_000


def end_loc(st: Statement) -> Location:
    """Where keepalived reports problems found when a block closes: at its `}`."""
    return st.end if st.end is not None else st.loc


# what -> the names read_addr_port's messages give the address and the port (made once each,
# not twice per virtual and real server)
_NAMES: dict[str, tuple[str, str]] = {}


def read_addr_port(st: Statement, ctx: Context, what: str) -> tuple[Address, int] | None:
    """`IP [PORT]` of virtual_server/real_server/sorry_server; a port of 0 (or 00) is none."""
    args = st.args
    # The common form (a dotted quad, a plain port or none) is read by the C reader's module
    # when built: values.address and values.unsigned, ipaddress's __init__ included, were a
    # tenth of reading a virtual server.  Anything else is read (and reported) below.
    if _addr_port is not None:
        common = _addr_port(args)
        if common is not None:
            return common
    names = _NAMES.get(what)
    if names is None:
        names = _NAMES[what] = (f"{what} address", f"{what} port")
    addr: Address | None = None if _ipv4 is None else _ipv4(args[0].text)
    if addr is None:
        addr = address(args[0], ctx, names[0])
    port = 0
    if len(args) >= 2:
        pw = args[1]
        if pw.text.strip("0") != "" or not pw.text:
            p = unsigned(pw, ctx, 1, 65535, names[1])
            if p is None:
                return None
            port = p
    if addr is None:
        return None
    return addr, port


def script_once(attr: str) -> Keyword[Any]:
    """A script keyword (notify_up/down, quorum_up/down) that may be given once: a second one
    is ignored with keepalived's "script already specified" error."""

    def handle(s: Statement, c: Context, draft: Any) -> None:
        if getattr(draft, attr) is not None:
            c.error(s.loc, f"{s.name} script already specified - ignoring")
            return
        setattr(draft, attr, read_script(s, c))

    return Keyword(handle, 1)


def read_script(st: Statement, ctx: Context, *, with_user: bool = True) -> Script | None:
    """A quoted-keyword script line (lib/notify.c `notify_script_init`): the line is split by
    the quoting rules of §3.1; its first word is the command, itself split again into argv (so
    `"/bin/x arg"` is one command with an argument), the next two the user and group."""
    loc = st.raw_loc or st.loc
    words = split_quoted(st.raw, loc, ctx.problems)
    if not words:
        ctx.error(st.loc, f"'{st.name}' needs a script")
        return None
    argv = split_quoted(words[0].text, words[0].loc, ctx.problems)
    if not argv:
        ctx.error(words[0].loc, f"Unable to parse script '{words[0].text}' - ignoring")
        return None
    user = group = None
    if with_user and len(words) >= 2:
        check_user(words[1], ctx)
        user = words[1].text
        if len(words) >= 3:
            check_group(words[2], ctx)
            group = words[2].text
    return Script(argv=tuple(w.text for w in argv), loc=words[0].loc, user=user, group=group)


def check_user(word: Word, ctx: Context) -> None:
    """Warn (the target host may differ from this one) when a script user is unknown here."""
    exists = ctx.host.user_exists
    if exists is not None and not exists(word.text):
        ctx.warning(word.loc, f"user '{word.text}' does not exist on this host")


def check_group(word: Word, ctx: Context) -> None:
    exists = ctx.host.group_exists
    if exists is not None and not exists(word.text):
        ctx.warning(word.loc, f"group '{word.text}' does not exist on this host")
