"""Value readers shared by every config reader: one word in, a value or None out.

Each reader takes the `Word` it reads (so a problem points at its exact column) and reports
into the `Context`; None means "reported, keep the previous or default value".  No input can
make a reader raise: numbers are matched as ASCII digit strings and their length is bounded
before conversion (Python refuses to convert more than 4300 digits), exponents and other float
spellings are refused as the C readers refuse them.

keepalived's readers (lib/parser.c, 2.2.7): `integer` is `read_int_func` (strtol base 10, the
whole word must be the number), `unsigned` is `read_unsigned_func` (no sign but `+`),
`seconds` is `read_decimal_unsigned_long_func` with 6 decimal places (TIMER_HZ: a value in
seconds with microsecond resolution), `boolean` is `check_true_false` (case-sensitive).
HAProxy's (src/tools.c `parse_time_err`, `parse_size_err`; doc §2.5) are `duration` (a number
with an optional unit us/ms/s/m/h/d; HAProxy keeps milliseconds) and `size` (k/m/g suffixes,
powers of 2).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from pylvs.config.keywords.context import Context
from pylvs.config.tree import Statement, Word
from pylvs.model.service import Address

T = TypeVar("T")

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
UINT_MAX = 2**32 - 1
ULONG_MAX = 2**64 - 1
TRUE_WORDS = frozenset({"on", "true", "yes"})
FALSE_WORDS = frozenset({"off", "false", "no"})
# C's isspace(): what strtol() skips before a number.
_C_SPACE = " \t\n\v\f\r"
_INT_RE = re.compile(r"([+-]?)([0-9]+)\Z")
_UNSIGNED_RE = re.compile(r"\+?([0-9]+)\Z")
_DECIMAL_RE = re.compile(r"\+?([0-9]*)(?:\.([0-9]*))?\Z")
# Plain digit strings this short take the fast path of the readers (any range they check fits
# in an int of this size; longer ones go the general way, which saturates).
_FAST_DIGITS = 9
# The octets of a dotted quad, 0-255 without leading zeros: exactly what ipaddress accepts,
# read by four look-ups instead of its general code (or a regular expression and four int()s:
# twice the work, and a big file has two addresses per virtual server).
_OCTETS = {str(i): i for i in range(256)}
# More digits than this are out of any range a reader accepts (2**64 has 20).
_MAX_DIGITS = 24
_HUGE: int = int("1" + "0" * _MAX_DIGITS)


def to_int(digits: str) -> int:
    """A string of ASCII digits as an int; absurdly long ones saturate instead of raising."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return _HUGE
    return int(digits)


def integer(word: Word, ctx: Context, lo: int, hi: int, what: str) -> int | None:
    text = word.text
    if text.isdigit() and len(text) <= _FAST_DIGITS and text.isascii():
        value = int(text)  # the common plain number (isdigit alone admits other scripts)
        if lo <= value <= hi:
            return value
    m = _INT_RE.match(text.lstrip(_C_SPACE))
    if m is None:
        ctx.error(word.loc, f"{what}: invalid number '{text}'")
        return None
    value = to_int(m.group(2))
    value = -value if m.group(1) == "-" else value
    if not lo <= value <= hi:
        ctx.error(word.loc, f"{what}: number '{text}' outside range [{lo}, {hi}]")
        return None
    return value


def unsigned(word: Word, ctx: Context, lo: int, hi: int, what: str) -> int | None:
    text = word.text
    if text.isdigit() and len(text) <= _FAST_DIGITS and text.isascii():
        value = int(text)
        if lo <= value <= hi:
            return value
    stripped = text.lstrip(_C_SPACE)
    if stripped.startswith("-"):
        ctx.error(word.loc, f"{what}: negative number '{text}'")
        return None
    m = _UNSIGNED_RE.match(stripped)
    if m is None:
        ctx.error(word.loc, f"{what}: invalid number '{text}'")
        return None
    value = to_int(m.group(1))
    if value > UINT_MAX:
        ctx.error(word.loc, f"{what}: number '{text}' outside unsigned integer range")
        return None
    if not lo <= value <= hi:
        ctx.error(word.loc, f"{what}: number '{text}' outside range [{lo}, {hi}]")
        return None
    return value


def micros(word: Word, ctx: Context, what: str, lo: int = 0, hi: int = ULONG_MAX) -> int | None:
    """A decimal number of seconds as microseconds, in [lo, hi] microseconds.

    More than 6 decimal places is reported and rounded, as keepalived does; a sign other than
    `+`, an exponent or a second `.` is an invalid number.
    """
    text = word.text
    if text.isdigit() and len(text) <= _FAST_DIGITS and text.isascii():
        value = int(text) * 1_000_000  # whole seconds, the common case
        if lo <= value <= hi:
            return value
    stripped = text.lstrip(_C_SPACE)
    if stripped.startswith("-"):
        ctx.error(word.loc, f"{what}: negative number '{text}'")
        return None
    m = _DECIMAL_RE.match(stripped)
    if m is None or not (m.group(1) or m.group(2)):
        ctx.error(word.loc, f"{what}: invalid number '{text}'")
        return None
    whole, frac = m.group(1), m.group(2) or ""
    round_up = False
    if len(frac) > 6:
        ctx.error(word.loc, f"{what}: number '{text}' has too many decimal places")
        round_up = frac[6] >= "5"
        frac = frac[:6]
    value = to_int(whole + frac.ljust(6, "0")) + round_up
    if value > ULONG_MAX:
        ctx.error(word.loc, f"{what}: number '{text}' outside unsigned decimal range")
        return None
    if not lo <= value <= hi:
        ctx.error(word.loc, f"{what}: number '{text}' outside range [{_secs(lo)}, {_secs(hi)}]")
        return None
    return value


def seconds(
    word: Word, ctx: Context, what: str, lo: float = 0.0, hi: float = ULONG_MAX / 1e6
) -> float | None:
    """`micros` as a float number of seconds (bounds in seconds)."""
    us = micros(word, ctx, what, round(lo * 1_000_000), round(hi * 1_000_000))
    return None if us is None else us / 1_000_000


def _secs(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def boolean(st: Statement, ctx: Context, what: str | None = None) -> bool | None:
    """`keyword` alone is true; otherwise on|true|yes or off|false|no, case-sensitive."""
    if not st.args:
        return True
    w = st.args[0]
    if w.text in TRUE_WORDS:
        return True
    if w.text in FALSE_WORDS:
        return False
    ctx.error(w.loc, f"invalid value '{w.text}' for {what or st.name} (on|off|true|false|yes|no)")
    return None


def address(word: Word, ctx: Context, what: str = "address") -> Address | None:
    """An IPv4 or IPv6 address; a link-local scope (`%eth0`) is dropped."""
    text = word.text
    octets = _OCTETS
    try:
        a, b, c, d = text.split(".")
        return ipaddress.IPv4Address(octets[a] << 24 | octets[b] << 16 | octets[c] << 8 | octets[d])
    except (ValueError, KeyError):  # not four octets: any other form (IPv6, ...) below
        pass
    text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        ctx.error(word.loc, f"invalid {what} '{word.text}'")
        return None


def port(word: Word, ctx: Context, what: str = "port", *, zero: bool = True) -> int | None:
    return unsigned(word, ctx, 0 if zero else 1, 65535, what)


def choice(word: Word, ctx: Context, choices: Sequence[str], what: str) -> str | None:
    if word.text in choices:
        return word.text
    ctx.error(word.loc, f"unknown {what} '{word.text}' (expected {'|'.join(choices)})")
    return None


# ---- adapters from word readers to statement readers (for `table.Store`) --------------------


def arg(read: Callable[[Word, Context], T | None]) -> Callable[[Statement, Context], T | None]:
    """Read the statement's first argument (the table's `args=1` guarantees there is one)."""

    def read_first(st: Statement, ctx: Context) -> T | None:
        return read(st.args[0], ctx)

    return read_first


def text(st: Statement, _ctx: Context) -> str:
    return st.args[0].text


def flag(_st: Statement, _ctx: Context) -> bool:
    return True
