"""Keyword tables and the one dispatch every config reader uses (architecture principle 8).

A section of a configuration (keepalived's `virtual_server { }`, an HAProxy `backend`) is read
by a `Table`: keyword -> `Keyword` (the handler, the fewest arguments it needs, whether it owns
a block, and what pylvs says about it: a deprecated spelling, or a keyword pylvs reads but does
not act on).  `dispatch` runs each statement of a section through its table into a typed draft
(a mutable dataclass of the section's values, None meaning "not set"), which the format's
post-parse rules then turn into the frozen model.  A `Keyword` with `sub` is a two-word keyword
family (HAProxy's `option X`, `timeout X`, `stick X`): the next word selects the entry of the
sub-table, and the handler sees the statement with both words as its name.

How a format words its complaints (keepalived warns "Unknown keyword 'x'" and goes on; HAProxy
alerts "unknown keyword 'x' in 'frontend' section") is the table's `Syntax`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pylvs.config.errors import Kind
from pylvs.config.keywords.context import Context
from pylvs.config.tree import Statement, Word

# Contravariant: a keyword that reads any checker's draft also reads a UDP_CHECK's draft.
D_contra = TypeVar("D_contra", contravariant=True)
T = TypeVar("T")
Handler = Callable[[Statement, Context, D_contra], None]
# Table._direct's entries (see there)
_Direct = tuple[Handler[D_contra], int, "bool | None", "str | None", Kind]


class Block(enum.Enum):
    NONE = "none"  # the keyword takes no block: one is reported and skipped
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class Keyword(Generic[D_contra]):
    """A keyword of a section: its handler and the arguments and block it needs."""

    handler: Handler[D_contra]
    args: int = 0  # the fewest arguments the handler can work with
    block: Block = Block.NONE
    # A deprecated spelling: the keyword to use instead, and whether the original tool also
    # complains (Kind.CONFIG) or accepts it silently (Kind.DEPRECATED).
    use_instead: str | None = None
    deprecation: Kind = Kind.DEPRECATED
    # The original acts on this keyword and pylvs does not: why (see config/unsupported.py).
    unsupported: str | None = None
    sub: Table[D_contra] | None = None


@dataclass(frozen=True, slots=True)
class Syntax:
    """How a format reports what the dispatch itself finds wrong."""

    unknown: Callable[[Statement, Context, str], None]
    missing_args: Callable[[Statement, Context, int], None]
    needs_block: Callable[[Statement, Context], None]
    no_block: Callable[[Statement, Context], None]
    deprecated: Callable[[Statement, Context, str, Kind], None]
    unsupported: Callable[[Statement, Context, str], None]


class Table(Generic[D_contra]):
    """The keywords of one section (`what` names the section in messages)."""

    __slots__ = ("_direct", "keywords", "syntax", "what")

    def __init__(
        self,
        what: str,
        keywords: Mapping[str, Keyword[D_contra]],
        syntax: Syntax,
        *,
        draft: type | None = None,
    ) -> None:
        self.what = what
        self.keywords = dict(keywords)
        self.syntax = syntax
        if draft is not None:
            check_fields(self.keywords.values(), draft)
        # Keywords that are no sub-table and no unsupported keyword: `dispatch` calls their
        # handler at once (after the deprecation warning, if any) when the statement has the
        # arguments and the block they need, without the checks of `dispatch_one` (most
        # statements of a big file).  (handler, fewest args, block: must be absent (True),
        # present (False) or either (None), the keyword to use instead, and the kind of that
        # deprecation)
        self._direct: dict[str, _Direct[D_contra]] = {
            name: (kw.handler, kw.args, _BLOCK_ABSENT[kw.block], kw.use_instead, kw.deprecation)
            for name, kw in self.keywords.items()
            if kw.sub is None and kw.unsupported is None
        }

    def get(self, name: str) -> Keyword[D_contra] | None:
        return self.keywords.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.keywords

    def with_keywords(self, more: Mapping[str, Keyword[D_contra]]) -> Table[D_contra]:
        return Table(self.what, {**self.keywords, **more}, self.syntax)


_BLOCK_ABSENT = {Block.NONE: True, Block.REQUIRED: False, Block.OPTIONAL: None}


def dispatch(statements: Iterable[Statement], ctx: Context, table: Table[T], draft: T) -> None:
    """Run every statement of a section through `table` into `draft`."""
    direct = table._direct
    deprecated = table.syntax.deprecated
    for st in statements:
        entry = direct.get(st.keyword.text)
        if entry is not None:
            handler, args, absent, use_instead, kind = entry
            if len(st.args) >= args and (absent is None or (st.block is None) is absent):
                # what dispatch_one does for such a statement, in the same order
                if use_instead is not None:
                    deprecated(st, ctx, use_instead, kind)
                handler(st, ctx, draft)
                continue
        dispatch_one(st, ctx, table, draft)


def dispatch_one(
    st: Statement, ctx: Context, table: Table[T], draft: T, key: str | None = None
) -> None:
    """One statement; `key` is the word a sub-table looks up (the statement's last word)."""
    syntax = table.syntax
    kw = table.keywords.get(st.name if key is None else key)
    if kw is None:
        syntax.unknown(st, ctx, table.what)
        return
    if kw.sub is not None:
        if not st.args:
            syntax.missing_args(st, ctx, 1)
            return
        dispatch_one(joined(st), ctx, kw.sub, draft, st.args[0].text)
        return
    if kw.use_instead is not None:
        syntax.deprecated(st, ctx, kw.use_instead, kw.deprecation)
    if kw.unsupported is not None:
        syntax.unsupported(st, ctx, kw.unsupported)
    if len(st.args) < kw.args:
        syntax.missing_args(st, ctx, kw.args)
        return
    if kw.block is Block.REQUIRED and st.block is None:
        syntax.needs_block(st, ctx)
        return
    if kw.block is Block.NONE and st.block is not None:
        syntax.no_block(st, ctx)
    kw.handler(st, ctx, draft)


def joined(st: Statement) -> Statement:
    """`option httpchk GET /` as the statement `option httpchk` with arguments `GET /`."""
    first = st.args[0]
    keyword = Word(f"{st.keyword.text} {first.text}", st.keyword.loc)
    return st._replace(keyword=keyword, args=st.args[1:])


def sub_name(st: Statement) -> str:
    """The word a sub-table looked up: `httpchk` of `option httpchk`."""
    return st.name.rpartition(" ")[2]


# ---- handlers that store into a draft field ---------------------------------------------------


class Store:
    """A handler that reads the statement with `read` and stores the value in `draft.attr`.

    `read` returns None after reporting a problem; then `fallback` is stored if given (the
    value keepalived substitutes for a bad one), else nothing.  Tables built with `draft=`
    check at import that `attr` is a field of the draft.
    """

    __slots__ = ("attr", "fallback", "read")

    def __init__(
        self,
        attr: str,
        read: Callable[[Statement, Context], object | None],
        fallback: object | None = None,
    ) -> None:
        self.attr = attr
        self.read = read
        self.fallback = fallback

    def __call__(self, st: Statement, ctx: Context, draft: object) -> None:
        value = self.read(st, ctx)
        if value is None:
            value = self.fallback
        if value is not None:
            setattr(draft, self.attr, value)


def check_fields(keywords: Iterable[Keyword[T]], draft: type) -> None:
    names = {f.name for f in dataclasses.fields(draft)}
    for kw in keywords:
        attr = getattr(kw.handler, "attr", None)
        if isinstance(kw.handler, Store) and attr not in names:
            raise TypeError(f"{draft.__name__} has no field {attr!r}")
        if kw.sub is not None:
            check_fields(kw.sub.keywords.values(), draft)
