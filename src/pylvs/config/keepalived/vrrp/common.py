"""Helpers shared by the VRRP-side section parsers: field setters, scripts, tracker lists.

A section is read by a keyword table (config/keywords) into a typed draft (`drafts.py`); the
setters here build the table entries that store one value in a draft field.  Scripts follow
keepalived's `notify_script_init` / `set_script_uid_gid` (lib/notify.c): the first (quoted)
word is the command, the next words the user and group.  Tracker lists follow
vrrp/vrrp_track.c `alloc_track_*` ("NAME [weight W [reverse|noreverse]]").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pylvs.config.keepalived.vrrp.global_model import NotifyScript, TrackedItem
from pylvs.config.keepalived.words import split_quoted
from pylvs.config.keywords import Context, Keyword, Store
from pylvs.config.keywords.values import boolean, integer, seconds
from pylvs.config.tree import Statement, Word

IFNAMSIZ = 16


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


def set_bool(attr: str) -> Keyword[Any]:
    return Keyword(Store(attr, boolean))


def set_flag(attr: str, value: bool = True) -> Keyword[Any]:
    return Keyword(Store(attr, lambda _s, _c: value))


def set_int(
    attr: str, lo: int, hi: int, what: str | None = None, fallback: int | None = None
) -> Keyword[Any]:
    """An integer in [lo, hi]; an invalid one is an error and `fallback` (if any) is used."""

    def read(st: Statement, ctx: Context) -> int | None:
        return integer(st.args[0], ctx, lo, hi, what or st.name)

    return Keyword(Store(attr, read, fallback), 1)


def set_decimal(attr: str, lo: float, hi: float, what: str | None = None) -> Keyword[Any]:
    def read(st: Statement, ctx: Context) -> float | None:
        return seconds(st.args[0], ctx, what or st.name, lo, hi)

    return Keyword(Store(attr, read), 1)


def set_word(attr: str) -> Keyword[Any]:
    return Keyword(Store(attr, lambda st, _c: st.args[0].text), 1)


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


def set_script(attr: str, owner: Callable[[Any], str]) -> Keyword[Any]:
    """A notify script; a second one is ignored as keepalived does ("already specified")."""

    def handler(stmt: Statement, ctx: Context, draft: Any) -> None:
        if getattr(draft, attr) is not None:
            ctx.error(stmt.loc, f"({owner(draft)}) {stmt.name} script already specified - ignoring")
            return
        script = parse_script(stmt, ctx)
        if script is not None:
            setattr(draft, attr, script)

    return Keyword(handler)


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
    weight = integer(words[1], ctx, span[0], span[1], f"({owner}) weight for {name}")
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
