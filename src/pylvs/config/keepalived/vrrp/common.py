"""Helpers shared by the VRRP-side section parsers: keyword tables, scripts, tracker lists.

A section is parsed into a "draft" (a dict of field name -> value, absent = unset) by a keyword
table: keyword -> handler(stmt, ctx, draft).  Keywords not in the table are warned about and
skipped, as keepalived's lib/parser.c does ("Unknown keyword").  Scripts follow keepalived's
`notify_script_init` / `set_script_uid_gid` (lib/notify.c): the first (quoted) word is the
command, the next words the user and group.  Tracker lists follow vrrp/vrrp_track.c
`alloc_track_*` ("NAME [weight W [reverse|noreverse]]").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pylvs.config.keepalived.tree import Statement, Word
from pylvs.config.keepalived.values import (
    FALSE_WORDS,
    TRUE_WORDS,
    Context,
    parse_decimal,
    parse_int,
)
from pylvs.config.keepalived.vrrp.model import NotifyScript, TrackedItem
from pylvs.config.keepalived.words import split_quoted

Draft = dict[str, Any]
Handler = Callable[[Statement, Context, Draft], None]
IFNAMSIZ = 16


def run_block(stmt: Statement, ctx: Context, table: dict[str, Handler], draft: Draft) -> None:
    """Feed each statement of `stmt`'s block to its handler; unknown keywords are warned about."""
    for child in stmt.block or ():
        handler = table.get(child.name)
        if handler is None:
            ctx.warning(child.loc, f"Unknown keyword '{child.name}' - ignoring")
        else:
            handler(child, ctx, draft)


def need_block(stmt: Statement, ctx: Context) -> tuple[Statement, ...]:
    if stmt.block is None:
        ctx.error(stmt.loc, f"'{stmt.name}' needs a {{ ... }} block")
        return ()
    return stmt.block


def block_words(stmt: Statement) -> list[Word]:
    """All words of a block given as a word list (`group { A B }` or one name per line)."""
    words: list[Word] = []
    for child in stmt.block or ():
        words.append(child.keyword)
        words.extend(child.args)
    return words


def first_arg(stmt: Statement, ctx: Context) -> Word | None:
    if not stmt.args:
        ctx.error(stmt.loc, f"'{stmt.name}' needs an argument")
        return None
    return stmt.args[0]


def bool_word(stmt: Statement, ctx: Context) -> bool | None:
    """keepalived `check_true_false`: no argument means true; a bad word is an error."""
    if not stmt.args:
        return True
    text = stmt.args[0].text.lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    ctx.error(stmt.args[0].loc, f"invalid value '{stmt.args[0].text}' for {stmt.name} - ignoring")
    return None


def set_bool(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        value = bool_word(stmt, ctx)
        if value is not None:
            draft[key] = value

    return handler


def set_flag(key: str, value: Any = True) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        draft[key] = value

    return handler


def set_int(
    key: str, lo: int, hi: int, what: str | None = None, fallback: int | None = None
) -> Handler:
    """An integer in [lo, hi]; an invalid one is an error and `fallback` (if any) is used."""

    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        value = None if word is None else parse_int(word, ctx, lo, hi, what or stmt.name)
        if value is not None:
            draft[key] = value
        elif fallback is not None:
            draft[key] = fallback

    return handler


def set_decimal(key: str, lo: float, hi: float, what: str | None = None) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        value = None if word is None else parse_decimal(word, ctx, lo, hi, what or stmt.name)
        if value is not None:
            draft[key] = value

    return handler


def set_word(key: str) -> Handler:
    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        word = first_arg(stmt, ctx)
        if word is not None:
            draft[key] = word.text

    return handler


def check_interface(word: Word, ctx: Context, what: str) -> None:
    """A host fact: warn (not fail) when the interface does not exist on this host."""
    if ctx.host.interfaces is not None and word.text not in ctx.host.interfaces:
        ctx.warning(word.loc, f"interface {word.text} for {what} doesn't exist on this host")


def split_command(command: str) -> tuple[str, ...]:
    """Split a script command into argv: spaces separate, '...' groups (keepalived.conf(5))."""
    argv: list[str] = []
    cur: list[str] = []
    in_word = in_quote = False
    for ch in command:
        if ch == "'":
            in_quote = not in_quote
            in_word = True
        elif ch.isspace() and not in_quote:
            if in_word:
                argv.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(ch)
            in_word = True
    if in_word:
        argv.append("".join(cur))
    return tuple(argv)


def user_group(words: list[Word], ctx: Context) -> tuple[str | None, str | None]:
    """`user [:][group]` or `user:group` [lib/notify.c `set_script_uid_gid`]; unknown ones warn."""
    if not words:
        return None, None
    user, _, group = words[0].text.partition(":")
    group_word = words[0]
    if not group and len(words) > 1:
        group = words[1].text.lstrip(":")
        group_word = words[1]
    exists = ctx.host.user_exists
    if exists is not None and user and not exists(user):
        ctx.warning(words[0].loc, f"script user '{user}' does not exist on this host")
    gexists = ctx.host.group_exists
    if gexists is not None and group and not gexists(group):
        ctx.warning(group_word.loc, f"script group '{group}' does not exist on this host")
    return user or None, group or None


def parse_script(stmt: Statement, ctx: Context) -> NotifyScript | None:
    """`KEYWORD <script> [user [:][group]]`, the script read with the quoting rules of §3.1."""
    loc = stmt.raw_loc or stmt.loc
    words = split_quoted(stmt.raw, loc, ctx.problems) if stmt.raw else list(stmt.args)
    if not words or not words[0].text.strip():
        ctx.error(stmt.loc, f"'{stmt.name}' needs a script")
        return None
    user, group = user_group(words[1:], ctx)
    command = words[0].text
    return NotifyScript(split_command(command), command, user, group, words[0].loc)


def set_script(key: str, owner: str) -> Handler:
    """A notify script; a second one is ignored as keepalived does ("already specified")."""

    def handler(stmt: Statement, ctx: Context, draft: Draft) -> None:
        if key in draft:
            ctx.error(stmt.loc, f"({owner}) {stmt.name} script already specified - ignoring")
            return
        script = parse_script(stmt, ctx)
        if script is not None:
            draft[key] = script

    return handler


def parse_weight_options(
    words: tuple[Word, ...], ctx: Context, owner: str, name: str, span: tuple[int, int]
) -> tuple[bool, int | None, bool | None]:
    """Parse `weight W [reverse|noreverse]` after a tracked name.

    Returns (keep, weight, reverse); keep False means keepalived drops the entry.
    """
    if not words:
        return True, None, None
    if words[0].text != "weight":
        ctx.error(words[0].loc, f"({owner}) unknown option '{words[0].text}' for {name} - ignoring")
        return False, None, None
    if len(words) == 1:
        ctx.error(words[0].loc, f"({owner}) weight without value specified for {name} - ignoring")
        return False, None, None
    weight = parse_int(words[1], ctx, span[0], span[1], f"({owner}) weight for {name}")
    reverse: bool | None = None
    if len(words) >= 3:
        opt = words[2].text
        if opt in ("reverse", "noreverse"):
            reverse = opt == "reverse"
        else:
            ctx.error(
                words[2].loc, f"({owner}) unknown weight option '{opt}' for {name} - ignoring"
            )
    return True, weight, reverse


def parse_tracked(
    stmt: Statement,
    ctx: Context,
    owner: str,
    known: Callable[[str], bool] | None,
    span: tuple[int, int],
    *,
    what: str,
) -> tuple[TrackedItem, ...]:
    """A `track_* { NAME [weight W [reverse]] ... }` block [vrrp/vrrp_track.c `alloc_track_*`].

    `known(name)` says whether the tracker is defined *before* this point: keepalived resolves
    the name while parsing, so a later definition is "not found" and the entry is dropped.
    """
    items: list[TrackedItem] = []
    seen: set[str] = set()
    for child in need_block(stmt, ctx):
        name = child.name
        if known is not None and not known(name):
            ctx.error(child.loc, f"({owner}) {what} {name} not found, ignoring...")
            continue
        if name in seen:
            ctx.error(child.loc, f"({owner}) duplicate {stmt.name} {name} - ignoring")
            continue
        keep, weight, reverse = parse_weight_options(child.args, ctx, owner, name, span)
        if not keep:
            continue
        if weight is not None and abs(weight) == 254 and span[1] == 254 and what == "track script":
            # vrrp_track.c: +/-254 is accepted for old configs and clamped to +/-253
            ctx.error(child.args[1].loc, f"({owner}) weight for {name} cannot be +/-254")
            weight = 253 if weight > 0 else -253
        seen.add(name)
        items.append(TrackedItem(name, weight, bool(reverse), child.loc))
    return tuple(items)
