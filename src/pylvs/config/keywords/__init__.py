"""The keyword framework every config reader is built on: statements in, typed drafts out.

`table` holds the keyword table type and the one dispatch; `values` the value readers (each
reports at the word it reads); `context` what a handler reports into.  The formats
(`config/keepalived`, `config/haproxy`) supply their tables, their `Syntax` (how they word what
the dispatch finds) and their post-parse rules.
"""

from pylvs.config.keywords.context import Context, HostFacts
from pylvs.config.keywords.table import (
    Block,
    Handler,
    Keyword,
    Store,
    Syntax,
    Table,
    dispatch,
    dispatch_one,
)

__all__ = [
    "Block",
    "Context",
    "Handler",
    "HostFacts",
    "Keyword",
    "Store",
    "Syntax",
    "Table",
    "dispatch",
    "dispatch_one",
]
