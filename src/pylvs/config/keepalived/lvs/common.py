"""Keyword dispatch and value readers shared by the LVS-side section parsers.

The readers mirror keepalived's lib/parser.c: `read_unsigned_strvec` (decimal, no sign),
`read_timer` (seconds with up to 6 decimals, microsecond resolution, `TIMER_HZ_DIGITS`),
`check_true_false` and lib/utils.c `inet_stosockaddr` (an address, optionally a port 1..65535,
"0" meaning no port).  Every reader reports at the word it reads and returns None on error, so
the caller keeps keepalived's fallback (the previous/default value) as the policy asks.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from pylvs.config.errors import Location
from pylvs.config.keepalived.lexer import split_quoted
from pylvs.config.keepalived.lvs.checks import Script
from pylvs.config.keepalived.tree import Statement, Word
from pylvs.config.keepalived.values import FALSE_WORDS, TRUE_WORDS, Context
from pylvs.model.service import Address

T = TypeVar("T")

UINT_MAX = 2**32 - 1
TIMER_MAX_US = 2**63 - 1  # lib/timer.h TIMER_MAXIMUM (no practical upper bound)
US = 1_000_000
_UNSIGNED_RE = re.compile(r"\s*\+?\d+\Z")
_DECIMAL_RE = re.compile(r"\+?(\d*)(?:\.(\d*))?\Z")


@dataclass(frozen=True, slots=True)
class Handler(Generic[T]):
    """How one keyword is read: `args` is the minimum number of arguments (keepalived stops
    with "missing a parameter" below it), `block` whether it opens a `{ }` block."""

    func: Callable[[Statement, Context, T], None]
    args: int = 0
    block: bool = False


def dispatch(
    statements: Sequence[Statement],
    ctx: Context,
    table: Mapping[str, Handler[T]],
    target: T,
    aliases: Mapping[str, str] | None = None,
) -> None:
    """Run the handler of every statement; unknown keywords are warned about and skipped
    (keepalived: "Unknown keyword '%s'")."""
    for st in statements:
        name = st.name
        handler = table.get(name)
        if handler is None:
            ctx.warning(st.loc, f"Unknown keyword '{name}'")
            continue
        if aliases and name in aliases:
            ctx.warning(st.loc, f"'{name}' is deprecated - please use '{aliases[name]}'")
        if len(st.args) < handler.args:
            ctx.error(
                st.loc,
                f"Configuration line starting `{name}` is missing a parameter after keyword "
                f"`{name}` at word position {len(st.args) + 2}",
            )
            continue
        if handler.block and st.block is None:
            ctx.error(st.loc, f"'{name}' needs a {{ }} block")
            continue
        if not handler.block and st.block is not None:
            ctx.error(st.loc, f"'{name}' does not take a {{ }} block - ignoring the block")
        handler.func(st, ctx, target)


def end_loc(st: Statement) -> Location:
    """Where keepalived reports problems found when a block closes: at its `}`."""
    return st.end if st.end is not None else st.loc


def read_unsigned(word: Word, ctx: Context, lo: int, hi: int, what: str) -> int | None:
    text = word.text
    if text.lstrip().startswith("-"):
        ctx.error(word.loc, f"{what}: negative number '{text}'")
        return None
    if not _UNSIGNED_RE.match(text):
        ctx.error(word.loc, f"{what}: invalid number '{text}'")
        return None
    value = int(text)
    if value > UINT_MAX:
        ctx.error(word.loc, f"{what}: number '{text}' outside unsigned integer range")
        return None
    if not lo <= value <= hi:
        ctx.error(word.loc, f"{what}: number '{text}' outside range [{lo}, {hi}]")
        return None
    return value


def read_int(word: Word, ctx: Context, lo: int, hi: int, what: str) -> int | None:
    text = word.text
    if not re.fullmatch(r"[+-]?\d+", text):
        ctx.error(word.loc, f"{what}: invalid number '{text}'")
        return None
    value = int(text)
    if not lo <= value <= hi:
        ctx.error(word.loc, f"{what}: number '{text}' outside range [{lo}, {hi}]")
        return None
    return value


def read_timer(
    word: Word, ctx: Context, what: str, lo_us: int = 0, hi_us: int = TIMER_MAX_US
) -> float | None:
    """A TIMER in seconds; more than 6 decimals is an error (keepalived rounds and goes on)."""
    text = word.text
    if text.startswith("-"):
        ctx.error(word.loc, f"{what}: negative number '{text}'")
        return None
    m = _DECIMAL_RE.match(text)
    if not m or not (m.group(1) or m.group(2)):
        ctx.error(word.loc, f"{what}: invalid number '{text}'")
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already accepted it
        ctx.error(word.loc, f"{what}: invalid number '{text}'")
        return None
    if m.group(2) is not None and len(m.group(2)) > 6:
        ctx.error(word.loc, f"{what}: number '{text}' has too many decimal places")
    us = int((d * US).to_integral_value())
    if not lo_us <= us <= hi_us:
        ctx.error(
            word.loc,
            f"{what}: number '{text}' outside range [{_secs(lo_us)}, {_secs(hi_us)}]",
        )
        return None
    return us / US


def _secs(us: int) -> str:
    return f"{Decimal(us) / US:f}"


def read_bool(st: Statement, ctx: Context, what: str) -> bool | None:
    """`keyword` alone is true; otherwise on|off|true|false|yes|no (check_true_false)."""
    if not st.args:
        return True
    t = st.args[0].text
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    ctx.error(st.args[0].loc, f"Invalid {what} parameter {t}")
    return None


def read_addr(word: Word, ctx: Context, what: str) -> Address | None:
    try:
        return ipaddress.ip_address(word.text)
    except ValueError:
        ctx.error(word.loc, f"Invalid {what} address {word.text}")
        return None


def read_addr_port(st: Statement, ctx: Context, what: str) -> tuple[Address, int] | None:
    """`IP [PORT]` of virtual_server/real_server/sorry_server; a port of 0 (or 00) is none."""
    addr = read_addr(st.args[0], ctx, what)
    port = 0
    if len(st.args) >= 2:
        pw = st.args[1]
        if pw.text.strip("0") != "" or not pw.text:
            p = read_unsigned(pw, ctx, 1, 65535, f"{what} port")
            if p is None:
                return None
            port = p
    if addr is None:
        return None
    return addr, port


def script_once(attr: str) -> Handler[Any]:
    """A script keyword (notify_up/down, quorum_up/down) that may be given once: a second one
    is ignored with keepalived's "script already specified" error."""

    def handle(s: Statement, c: Context, draft: Any) -> None:
        if getattr(draft, attr) is not None:
            c.error(s.loc, f"{s.name} script already specified - ignoring")
            return
        setattr(draft, attr, read_script(s, c))

    return Handler(handle, 1)


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
