"""The keyword dispatch the keepalived reader runs its sections through.

It is `pylvs.config.keywords.table.dispatch` (that module's docstring says what it does),
taken from `_plain.c` when the C reader is built: the same loop, statement for statement (the
same table entries, checks, calls and order; anything but the direct case goes to the same
Python `dispatch_one`), without the interpreter's cost per statement.  A big keepalived.conf
runs ten statements per virtual server through it, and the loop was a tenth of reading each
(bench/config_bench.py, issue 18 #10).  Without a compiler it is the Python function, and
also in `pylvs` run with PYLVS_CONFIG_C=0 (cli/main.py sets it before the reader's modules
bind it); tests compare the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from pylvs.config.keepalived.plain import _plain
from pylvs.config.keywords.context import Context
from pylvs.config.keywords.table import Table
from pylvs.config.keywords.table import dispatch as dispatch_py
from pylvs.config.tree import Statement


class Dispatch(Protocol):
    def __call__(
        self, statements: Iterable[Statement], ctx: Context, table: Table[Any], draft: Any
    ) -> None: ...


# (getattr: a checkout's _plain built before it had `dispatch` keeps working until rebuilt)
dispatch: Dispatch = getattr(_plain, "dispatch", None) or dispatch_py

__all__ = ["dispatch", "dispatch_py"]
