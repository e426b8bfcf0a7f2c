"""How the keepalived.conf reader words what the keyword dispatch finds (lib/parser.c 2.2.7).

An unknown keyword is skipped with "Unknown keyword 'x'" (keepalived reports it and runs: a
warning whose kind makes `pylvs check` exit as `keepalived -t` does); too few arguments is
`report_config_error(CONFIG_MISSING_PARAMETER, ...)`; a keyword that needs a block and has
none is keepalived's missing '{'.  Keywords pylvs does not act on (`unsupported.py`) get a
warning of kind UNSUPPORTED.  `table(...)` builds a keepalived section table with the
section's unsupported keywords marked.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import TypeVar

from pylvs.config.errors import Kind, Problem, Severity
from pylvs.config.keepalived.unsupported import reasons
from pylvs.config.keywords import Context, Keyword, Syntax, Table
from pylvs.config.keywords.unsupported import warn as warn_unsupported
from pylvs.config.tree import Statement

D = TypeVar("D")


def _unknown(st: Statement, ctx: Context, _what: str) -> None:
    ctx.warning(st.loc, f"Unknown keyword '{st.name}'")


def _missing(st: Statement, ctx: Context, _need: int) -> None:
    ctx.error(
        st.loc,
        f"Configuration line starting `{st.name}` is missing a parameter after keyword "
        f"`{st.name}` at word position {len(st.args) + 2}",
    )


def _needs_block(st: Statement, ctx: Context) -> None:
    ctx.error(st.loc, f"'{st.name}' needs a {{ ... }} block")


def _no_block(st: Statement, ctx: Context) -> None:
    ctx.error(st.loc, f"'{st.name}' does not take a {{ }} block - ignoring the block")


def _deprecated(st: Statement, ctx: Context, use: str, kind: Kind) -> None:
    keyword = st.keyword  # (st.loc and st.name without their properties: called per statement)
    ctx.problems.add(
        Problem(keyword.loc, Severity.WARNING, _deprecated_message(keyword.text, use), kind)
    )


@functools.lru_cache(maxsize=256)
def _deprecated_message(name: str, use: str) -> str:
    # One string per keyword: a big old-style file has a deprecation on most of its blocks.
    return f"'{name}' is deprecated - please use '{use}'"


KEEPALIVED = Syntax(
    unknown=_unknown,
    missing_args=_missing,
    needs_block=_needs_block,
    no_block=_no_block,
    deprecated=_deprecated,
    unsupported=warn_unsupported,
)


def not_in_227(kw: Keyword[D]) -> Keyword[D]:
    """A keyword of keepalived 2.3 (or of a keepalived built with more options) that the 2.2.7
    of Debian 12 calls unknown: pylvs reads it and says keepalived would not (so `check`
    exits as `keepalived -t` does)."""

    def handler(st: Statement, ctx: Context, draft: D) -> None:
        ctx.warning(st.loc, f"Unknown keyword '{st.name}' to keepalived 2.2.7 - pylvs reads it")
        kw.handler(st, ctx, draft)

    return dataclasses.replace(kw, handler=handler)


def table(
    section: str,
    keywords: Mapping[str, Keyword[D]],
    *,
    draft: type | None = None,
    newer: frozenset[str] = frozenset(),
) -> Table[D]:
    """A keepalived section's table: keywords of `unsupported.py` for `section` are marked, and
    those in `newer` (see `not_in_227`) warn."""
    why = reasons(section)
    marked = {
        name: dataclasses.replace(kw, unsupported=why[name]) if name in why else kw
        for name, kw in keywords.items()
    }
    marked.update({name: not_in_227(marked[name]) for name in newer})
    missing = set(why) - set(marked)
    if missing:
        raise TypeError(f"{section}: unsupported keywords without a handler: {sorted(missing)}")
    return Table(section, marked, KEEPALIVED, draft=draft)
