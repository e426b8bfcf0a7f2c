"""argparse's help formatter without its `import shutil`, for the commands that start fast.

argparse makes a `HelpFormatter` for every `add_argument` (to check the metavar), and the
formatter of Python 3.11 asks `shutil.get_terminal_size()` for the width [CPython
Lib/argparse.py `HelpFormatter.__init__`]: `shutil` brings zlib, bz2 and lzma, about 45 M
instructions, a seventh of `pylvs check`'s fixed cost (bench/config_bench.py, issue 18 #10).
`columns()` is the width `shutil.get_terminal_size` gives [Lib/shutil.py]: $COLUMNS when a
positive number, else the terminal of stdout, else 80; the help text is the same.
"""

from __future__ import annotations

import argparse
import os
import sys


def columns() -> int:
    """The terminal's width as `shutil.get_terminal_size().columns` reports it."""
    try:
        width = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        width = 0
    if width <= 0:
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            width = 0
    return width if width > 0 else 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse.HelpFormatter, its width from `columns()` (same text, no `shutil`)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, columns() - 2 if width is None else width
        )
