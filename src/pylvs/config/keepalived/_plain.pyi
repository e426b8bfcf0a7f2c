"""Types of the C plain-line reader (_plain.c); plain.py says what it does, kwdispatch.py what
its `dispatch` is."""

import ipaddress
from collections.abc import Iterable
from typing import Any

from pylvs.config.keepalived.plain import Frame, IncludeCheck, Report, Source
from pylvs.config.keywords.context import Context
from pylvs.config.keywords.table import Table
from pylvs.config.tree import Statement, Word

def read(
    src: Source,
    stack: list[Frame],
    lines_left: int,
    report: Report,
    include_check: IncludeCheck,
    /,
) -> tuple[int, bool, int]: ...
def dispatch(
    statements: Iterable[Statement], ctx: Context, table: Table[Any], draft: Any, /
) -> None: ...
def ipv4(text: str, /) -> ipaddress.IPv4Address | None: ...
def addr_port(args: tuple[Word, ...], /) -> tuple[ipaddress.IPv4Address, int] | None: ...
