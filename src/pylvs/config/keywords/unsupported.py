"""What every format says about a keyword pylvs reads and does not act on (issue 18 #5): one
warning text, of kind UNSUPPORTED (`pylvs check --strict` fails on it), and one table layout for
the generated operator's lists (docs/unsupported.md, docs/unsupported-haproxy.md)."""

from __future__ import annotations

from collections.abc import Iterable

from pylvs.config.errors import Kind
from pylvs.config.keywords.context import Context
from pylvs.config.tree import Statement


def message(keyword: str, why: str) -> str:
    return f"pylvs does not do '{keyword}': {why} - ignoring"


def warn(st: Statement, ctx: Context, why: str) -> None:
    """The `Syntax.unsupported` of every format: the warning at the keyword."""
    ctx.warning(st.loc, message(st.name, why), Kind.UNSUPPORTED)


def markdown(title: str, intro: str, rows: Iterable[tuple[str, str, str]]) -> str:
    """A generated list: `title`, `intro` (wrapped as it should read), (where, keyword, why)."""
    lines = [f"# {title}", "", intro, ""]
    lines += ["| where | keyword | why pylvs does not act on it |", "|---|---|---|"]
    lines += [f"| {where} | `{keyword}` | {why} |" for where, keyword, why in rows]
    return "\n".join(lines) + "\n"
