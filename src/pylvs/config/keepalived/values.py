"""Value parsers shared by every keepalived.conf section.

Each parser takes the `Word` it reads (so problems point at the exact column) and the
`Context` to report into, and returns the value or None after reporting an error.  Ranges and
spellings follow keepalived's own readers (lib/parser.c `read_int_strvec`, `read_unsigned_strvec`,
`read_decimal_unsigned_strvec`, `check_true_false`) as summarised in reference §3.1.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.tree import Statement, Word
from pylvs.model.service import Address

TRUE_WORDS = frozenset({"on", "true", "yes"})
FALSE_WORDS = frozenset({"off", "false", "no"})
_INT_RE = re.compile(r"[+-]?\d+\Z")


@dataclass(frozen=True)
class HostFacts:
    """Facts of the host the config is checked on, gathered by the caller (the pure parser does
    no I/O).  None means "unknown: do not check"."""

    interfaces: frozenset[str] | None = None
    user_exists: Callable[[str], bool] | None = None
    group_exists: Callable[[str], bool] | None = None


@dataclass
class Context:
    """What a section parser needs besides the statement: where to report, and host facts."""

    problems: Problems = field(default_factory=Problems)
    config_id: str = ""
    host: HostFacts = field(default_factory=HostFacts)

    def error(self, loc: Location, message: str) -> None:
        self.problems.error(loc, message)

    def warning(self, loc: Location, message: str) -> None:
        self.problems.warning(loc, message)


def arg_count(stmt: Statement, ctx: Context, lo: int, hi: int | None = None) -> bool:
    """True if the statement has between lo and hi arguments; reports otherwise."""
    n = len(stmt.args)
    if n < lo:
        need = "an argument" if lo == 1 else f"{lo} arguments"
        ctx.error(stmt.loc, f"'{stmt.name}' needs {need}")
        return False
    if hi is not None and n > hi:
        ctx.error(stmt.args[hi].loc, f"'{stmt.name}' takes at most {hi} argument(s)")
        return False
    return True


def parse_int(word: Word, ctx: Context, lo: int, hi: int, what: str) -> int | None:
    if not _INT_RE.match(word.text):
        ctx.error(word.loc, f"{what} '{word.text}' is not an integer")
        return None
    value = int(word.text)
    if not lo <= value <= hi:
        ctx.error(word.loc, f"{what} '{word.text}' must be between {lo} and {hi}")
        return None
    return value


def parse_decimal(word: Word, ctx: Context, lo: float, hi: float, what: str) -> float | None:
    """A decimal number of seconds (keepalived TIMER: fractional, microsecond resolution)."""
    try:
        d = Decimal(word.text)
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite():
        ctx.error(word.loc, f"{what} '{word.text}' is not a number")
        return None
    value = float(round(d, 6))
    if not lo <= value <= hi:
        ctx.error(word.loc, f"{what} '{word.text}' must be between {lo:g} and {hi:g}")
        return None
    return value


def parse_bool(stmt: Statement, ctx: Context) -> bool | None:
    """`keyword` alone means true; otherwise on|off|true|false|yes|no."""
    if not stmt.args:
        return True
    w = stmt.args[0]
    t = w.text.lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    ctx.error(w.loc, f"'{stmt.name}' expects on|off|true|false|yes|no, not '{w.text}'")
    return None


def parse_ip(word: Word, ctx: Context, what: str = "address") -> Address | None:
    text = word.text
    if "%" in text:  # scope id of a link-local IPv6 address: keep the address part
        text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        ctx.error(word.loc, f"invalid {what} '{word.text}'")
        return None


def parse_port(word: Word, ctx: Context, *, allow_zero: bool = True) -> int | None:
    return parse_int(word, ctx, 0 if allow_zero else 1, 65535, "port")


def parse_enum(word: Word, ctx: Context, choices: tuple[str, ...], what: str) -> str | None:
    """A word from `choices`, compared case-insensitively; the canonical spelling is returned."""
    for c in choices:
        if word.text.lower() == c.lower():
            return c
    ctx.error(word.loc, f"unknown {what} '{word.text}' (expected {'|'.join(choices)})")
    return None
