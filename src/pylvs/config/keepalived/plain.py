"""Plain keepalived.conf lines, read straight into the lexer's open blocks (most of a big file).

A plain line has no quote, escape, `$`, `@`, `~` or NUL and is not an include.  For such a line
keepalived's `decomment()` is a cut at the first `#`/`!`, its processing (`@id`, `$PARAM`,
generators) changes nothing, its words are split on blanks and its braces are cut in one pass
[acassen/keepalived: lib/parser.c `read_line()`, `alloc_strvec_r()`]: nothing the general path
(preprocess.py, then lexer.py) does to it needs more than its text.  `read` takes such lines
from where a file is and applies the lexer's nesting rules (lexer.py says them) to the lexer's
stack of open blocks itself, so the bulk of a file never becomes intermediate objects.

The stack is a list of frames, each a list [owner, brace, items, pending]: the statement that
owns the block (None: the contents of an unexpected `{`, kept at the level around it), where its
`{` is, the statements read in it so far, and the last statement read, which owns the block of
a `{` that comes next (a `Statement` without a block until then).  Frame 0 is the top level.

    read(src, stack, lines_left, report, include_check) -> (lines_left, ready, early)

reads the file `src` (a `Source`: its text and where it is) until a line that is not plain
(left unread), the end of the text, or `lines_left` (counting non-empty lines) is spent.  The
general path hands each finished top-level statement on (to be parsed) before it builds the
next line, and after it has preprocessed it; `read` keeps every problem in that order while
handing statements on in batches: it stops with `ready` true when the top level holds BATCH
finished statements at the start of a line, or before a piece of a line that reports a problem
(a `{` after no statement, a `}` with no open block) or is an `include_check` while the top
level holds any; the caller hands them all on and calls again.  When it stops otherwise
(`ready` false), `early` says how many of the finished statements were finished before the
last piece it read (the general path builds each piece of a line cut at its braces as a line
of its own): those the caller hands on before it preprocesses the next line, the others
after.
`report(loc, message)` takes the lexer's own errors (`{` after no statement, `}` with no open
block); `include_check(statement, frame)` sees every `include_check` statement as it becomes
pending (one inside `global_defs` changes what later includes check).

The C implementation (`_plain.c`, built when a compiler is at hand, like the proxy's `_pump`) is
the same function, statement for statement and location for location; `PYLVS_CONFIG_C=0` in
the environment keeps the pure-Python one, and the test suite runs on both.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from sys import intern
from types import ModuleType
from typing import Any, Protocol

from pylvs.config.errors import Location
from pylvs.config.keepalived.srcline import BLANK, WHITE_SPACE
from pylvs.config.tree import Statement, Word

# A frame of the lexer's stack: [owner, brace, items, pending] (see the module's docstring).
Frame = list[Any]
OWNER, BRACE, ITEMS, PENDING = 0, 1, 2, 3
Report = Callable[[Location, str], None]


class Source(Protocol):
    """Where a file is being read (preprocess.FileSource)."""

    text: str | None
    path: str
    pos: int  # where the next line starts
    index: int  # the number of the last line read
    resume: int  # where the rest of the current line starts (0: at a line's start)
    resume_end: int  # where the text of that line ends


IncludeCheck = Callable[[Statement, Frame], None]

# Keywords and words of up to this many characters are interned: a big file repeats them
# hundreds of thousands of times (`delay_loop`, `6`, `TCP`), so they are held once, and the
# keyword tables' look-ups compare them by identity.  Longer words (addresses, paths) rarely
# repeat.  (_plain.c: INTERN_MAX)
INTERN_MAX = 8
# What makes a physical line need the general path (decomment, processing).
SPECIAL = re.compile(r'["\\$@~\0]')
_WORD = re.compile(r"[^ \t\f\n\r\v]+")
_BRACE = re.compile(r"[{}]")
# Finished top-level statements read before the caller is asked to hand them on (they are
# held in memory until then).
BATCH = 64

_plain: ModuleType | None
try:
    from . import _plain
except ImportError:  # built without a C compiler: the pure-Python reader
    _plain = None

# Whether the lexer uses the C reader (tests flip it to run on both).
# (config is pure: `pylvs` itself turns it off when PYLVS_CONFIG_C=0, cli/main.py)
USE_C = _plain is not None


def new_frame(owner: Statement | None, brace: Location) -> Frame:
    return [owner, brace, [], None]


def flush(frame: Frame) -> None:
    """The pending statement of `frame` is finished (it owns no block)."""
    if frame[PENDING] is not None:
        frame[ITEMS].append(frame[PENDING])
        frame[PENDING] = None


def open_block(stack: list[Frame], loc: Location, report: Report) -> None:
    frame = stack[-1]
    owner = frame[PENDING]
    if owner is None:
        report(loc, "Unexpected '{'")
    frame[PENDING] = None
    stack.append([owner, loc, [], None])


def close_block(stack: list[Frame], loc: Location, report: Report) -> None:
    """A `}` at `loc`."""
    flush(stack[-1])
    if len(stack) == 1:
        report(loc, "Extra '}' found")
        return
    end_block(stack, loc)


def end_block(stack: list[Frame], end: Location | None) -> None:
    """The innermost block ends (at `end`: its `}`, or None when it is never closed)."""
    frame = stack.pop()
    items = stack[-1][ITEMS]
    owner = frame[OWNER]
    if owner is None:
        items.extend(frame[ITEMS])
    else:
        items.append(Statement(owner[0], owner[1], owner[2], owner[3], tuple(frame[ITEMS]), end))


def _read_py(  # noqa: C901 - the hot loop of the pure-Python reader, as _plain.c's
    src: Source, stack: list[Frame], lines_left: int, report: Report, include_check: IncludeCheck
) -> tuple[int, bool, int]:
    text, path = src.text or "", src.path
    pos, index, resume, resume_end = src.pos, src.index, src.resume, src.resume_end
    n = len(text)
    top = stack[0][ITEMS]
    ready = False
    early = 0  # top-level statements finished before the last piece read by this call
    while True:
        if resume:
            start, stop = resume, resume_end
            resume = resume_end = 0
            line_start = text.rfind("\n", 0, start) + 1
        else:
            if pos >= n or lines_left <= 0:
                break
            end = text.find("\n", pos)
            if end < 0:
                end = n
            raw = text[pos:end].rstrip("\r")
            if SPECIAL.search(raw) is not None:
                break
            hash_at, bang_at = raw.find("#"), raw.find("!")
            cut = len(raw)
            if 0 <= hash_at < cut:
                cut = hash_at
            if 0 <= bang_at < cut:
                cut = bang_at
            body = raw[:cut].rstrip(BLANK)
            line = body.lstrip(BLANK)
            if not line:
                pos = end + 1
                index += 1
                continue
            if line.startswith("include") and is_include(line):
                break
            if len(top) >= BATCH:
                ready = True
                break
            line_start = pos
            start, stop = pos + len(body) - len(line), pos + len(body)
            pos = end + 1
            index += 1
            lines_left -= 1
        # the pieces of text[start:stop]: statements between braces, and the braces
        while start < stop:
            m = _BRACE.search(text, start, stop)
            brace = stop if m is None else m.start()
            piece = text[start:brace].strip(BLANK)
            if piece:
                if top and _is_include_check(piece):
                    resume, resume_end = start, stop
                    break
                at = brace - len(text[start:brace].lstrip(BLANK))
                where = Location(path, index, at - line_start + 1)
                early = len(top)
                _statement(piece, where, stack, include_check)
            if m is None:
                break
            opening = m.group() == "{"
            if top and _reports(stack, opening):
                resume, resume_end = brace, stop
                break
            loc = Location(path, index, brace - line_start + 1)
            early = len(top)
            if opening:
                open_block(stack, loc, report)
            else:
                close_block(stack, loc, report)
            start = brace + 1
        if resume:
            ready = True
            break
    src.pos, src.index, src.resume, src.resume_end = pos, index, resume, resume_end
    return lines_left, ready, 0 if ready else early


def is_include(line: str) -> bool:
    """Whether includes.parse_include() reads `line` as an include: `include` and a blank, or
    one of its variants' letters (includer, includem, ...) and a blank.  (includes.py reaches
    the file system, this module is pure; a test keeps the two equal.)"""
    if len(line) < 8 or not line.startswith("include"):
        return False
    after = line[7]
    return after in WHITE_SPACE or (after in "rmwba" and len(line) > 8 and line[8] in WHITE_SPACE)


def _is_include_check(piece: str) -> bool:
    """Whether the statement of `piece` is an include_check (which include_check() sees)."""
    if "include_check" not in piece:
        return False
    first = _WORD.search(piece)
    return first is not None and first.group() == "include_check"


def _reports(stack: list[Frame], opening: bool) -> bool:
    """Whether the brace reports a problem: `{` after no statement, `}` with no open block."""
    return stack[-1][PENDING] is None if opening else len(stack) == 1


def _statement(
    piece: str, where: Location, stack: list[Frame], include_check: IncludeCheck
) -> None:
    """The statement of a plain piece of a line (`where`: its start) becomes pending."""
    frame = stack[-1]
    flush(frame)
    matches = list(_WORD.finditer(piece))
    if not matches:  # blanks other than space and tab only: no statement
        return
    path, line, col = where
    words = [Word(_text(m.group()), Location(path, line, col + m.start())) for m in matches]
    words[0] = Word(intern(words[0].text), words[0].loc)
    raw = piece[matches[0].end() :].lstrip(WHITE_SPACE)
    raw_loc = words[1].loc if len(words) > 1 else None
    st = Statement(words[0], tuple(words[1:]), raw, raw_loc)
    frame[PENDING] = st
    if st.keyword.text == "include_check":
        include_check(st, frame)


def _text(word: str) -> str:
    return intern(word) if len(word) <= INTERN_MAX else word


def read(
    src: Source, stack: list[Frame], lines_left: int, report: Report, include_check: IncludeCheck
) -> tuple[int, bool, int]:
    """Plain lines of the file `src` from where it is (its pos, index, resume and resume_end
    move on) into `stack`; (lines_left, ready, early) as the module's docstring says."""
    fn = _plain.read if USE_C and _plain is not None else _read_py
    result: tuple[int, bool, int] = fn(src, stack, lines_left, report, include_check)
    return result
