"""One line of keepalived.conf text that remembers where every character came from.

The preprocessor rewrites lines (comment removal, `@id` stripping, `$PARAM` substitution,
generator expansion, `{`/`}` splitting), so a plain string would lose the columns.  `SrcLine`
keeps, for each character, the 1-based column it had in the original file (as runs, see the
class), plus an "end" column, so a word found after any rewrite still points at its source.
Substituted text takes the column of the `$` it replaced.

`decomment` is keepalived's `decomment()` [acassen/keepalived: lib/parser.c]: strip leading
blanks, cut a `#`/`!` comment outside `"..."`, turn `\\#`/`\\!` outside quotes into `#`/`!`,
strip trailing blanks and keep a final `\\` (continuation, used by multiline definitions).
`strtol` mimics C `strtol(s, &end, 0)` as `add_seq()` uses it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple

from pylvs.config.errors import Location

# lib/parser.c WHITE_SPACE_STR: what separates words.
WHITE_SPACE = " \t\f\n\r\v"
# isblank(): what decomment() and the definition code strip.
BLANK = " \t"
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


class SrcLine(NamedTuple):
    """Text and, for each character, the source column it came from, kept as spans.

    `spans` are (start, col, step) runs in text order: text[i] for `start <= i` up to the next
    run's start is at column `col + (i - start) * step` (step 1: a stretch of the file; step 0:
    substituted text, all of it at the column of the `$` it replaced).  A line read from a file
    is one run, so cutting and slicing cost the number of runs, not the length of the text:
    reading stays linear however many braces a line holds.
    """

    text: str
    spans: tuple[tuple[int, int, int], ...]
    end_col: int  # the column just after the last character
    file: str
    line: int

    @classmethod
    def physical(cls, text: str, file: str, line: int, first_col: int = 1) -> SrcLine:
        return cls(text, ((0, first_col, 1),), first_col + len(text), file, line)

    def is_plain(self) -> bool:
        """One stretch of the file: column = first column + index."""
        return len(self.spans) == 1 and self.spans[0][2] == 1

    @classmethod
    def synthetic(cls, text: str, loc: Location) -> SrcLine:
        """Text that has no columns of its own (a multiline value): all of it is at `loc`."""
        return cls(text, ((0, loc.col, 0),), loc.col, loc.file, loc.line)

    def col(self, i: int) -> int:
        if i >= len(self.text):
            return self.end_col
        i = max(i, 0)
        spans = self.spans
        k = bisect_right(spans, (i, _BIG, 0)) - 1
        start, col, step = spans[k]
        return col + (i - start) * step

    def loc(self, i: int = 0) -> Location:
        return Location(self.file, self.line, self.col(i))

    def _runs(self, begin: int, stop: int) -> tuple[tuple[int, int, int], ...]:
        """The spans of text[begin:stop], rebased to start at 0."""
        spans = self.spans
        k = bisect_right(spans, (begin, _BIG, 0)) - 1
        start, col, step = spans[k]
        runs = [(0, col + (begin - start) * step, step)]
        for start, col, step in spans[k + 1 :]:
            if start >= stop:
                break
            runs.append((start - begin, col, step))
        return tuple(runs)

    def slice(self, start: int, end: int | None = None) -> SrcLine:
        n = len(self.text)
        stop = n if end is None or end > n else end
        stop = max(stop, 0)
        begin = start if 0 <= start <= stop else (0 if start < 0 else stop)
        if begin == 0 and stop == n:
            return self
        spans = self.spans
        if len(spans) == 1 and spans[0][2] == 1:  # the common case: one stretch of the file
            first = spans[0][1]
            end_col = first + stop if stop < n else self.end_col
            return SrcLine(
                self.text[begin:stop], ((0, first + begin, 1),), end_col, self.file, self.line
            )
        return SrcLine(
            self.text[begin:stop], self._runs(begin, stop), self.col(stop), self.file, self.line
        )

    def replace(self, start: int, end: int, value: str, col: int) -> SrcLine:
        """Replace text[start:end] by `value`, all of whose characters sit at column `col`."""
        n = len(self.text)
        head = self._runs(0, start) if start > 0 else ()
        tail: tuple[tuple[int, int, int], ...] = ()
        if end < n:
            shift = start + len(value)
            tail = tuple((s + shift, c, st) for s, c, st in self._runs(end, n))
        middle = ((start, col, 0),) if value else ()
        spans = _merge((*head, *middle, *tail)) or ((0, self.end_col, 0),)
        return SrcLine(
            self.text[:start] + value + self.text[end:], spans, self.end_col, self.file, self.line
        )

    def strip_blanks(self) -> SrcLine:
        text = self.text
        start = len(text) - len(text.lstrip(BLANK))
        end = len(text.rstrip(BLANK))
        return self.slice(start, max(start, end))

    @classmethod
    def join(cls, parts: list[SrcLine], end_col: int) -> SrcLine:
        """The parts one after the other (all from the same file line)."""
        runs: list[tuple[int, int, int]] = []
        at = 0
        for part in parts:
            if part.text:
                runs += [(s + at, c, st) for s, c, st in part.spans]
                at += len(part.text)
        first = parts[0]
        spans = _merge(tuple(runs)) or ((0, end_col, 0),)
        return cls("".join(p.text for p in parts), spans, end_col, first.file, first.line)


_BIG = 1 << 62


def _merge(runs: tuple[tuple[int, int, int], ...]) -> tuple[tuple[int, int, int], ...]:
    """Drop runs that continue the previous one (a contiguous stretch of the file)."""
    out: list[tuple[int, int, int]] = []
    for start, col, step in runs:
        if out:
            s0, c0, st0 = out[-1]
            if s0 == start:
                out[-1] = (start, col, step)
                continue
            if st0 == step == 1 and c0 + (start - s0) == col:
                continue
        out.append((start, col, step))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Decommented:
    """A line with its comment cut, and whether a quote is left open."""

    line: SrcLine
    # Where a `"` that is never closed opens, or None.
    open_quote: Location | None


_SPECIAL = re.compile(r'["\\#!]')


def decomment(src: SrcLine) -> Decommented:
    text = src.text
    n = len(text)
    k = n - len(text.lstrip(BLANK))
    m = _SPECIAL.search(text, k)
    if m is None or text[m.start()] in "#!":
        # No quote or escape before the comment (if any): the common line.
        cut = n if m is None else m.start()
        return Decommented(src.slice(k, len(text[:cut].rstrip(BLANK))), None)
    return _decomment_slow(src, k)


def _decomment_slow(src: SrcLine, k: int) -> Decommented:
    """keepalived's `decomment()` for a line with quotes or escapes: kept stretches of the
    source are collected and joined, so columns survive."""
    text = src.text
    n = len(text)
    keep: list[tuple[int, int]] = []
    run = k
    quote = False
    quote_at = 0
    continuation: int | None = None
    i = k
    while i < n:
        m = _SPECIAL.search(text, i)
        if m is None:
            break
        i = m.start()
        c = text[i]
        if c == '"':
            quote = not quote
            quote_at = i
            i += 1
        elif c == "\\":
            if i + 1 >= n:
                continuation = i
                break
            if not quote and text[i + 1] in "#!":
                # `\#` and `\!` outside quotes are the literal characters.
                keep.append((run, i))
                run = i + 1
            i += 2
        elif not quote:  # a comment starts
            n = i
            break
        else:
            i += 1
    keep.append((run, min(n, continuation if continuation is not None else n)))
    parts = [src.slice(a, b) for a, b in keep if b > a]
    body = SrcLine.join(parts, src.col(n)) if parts else src.slice(k, k)
    body = body.slice(0, len(body.text.rstrip(BLANK)))
    if continuation is not None:
        tail = src.slice(continuation, continuation + 1)
        body = SrcLine.join([body, tail], tail.end_col) if body.text else tail
    return Decommented(body, src.loc(quote_at) if quote else None)


def strtol(s: str, i: int) -> tuple[int, int]:
    """C strtol(s + i, &end, 0): returns (value, index after the number); no digits -> (0, i)."""
    n = len(s)
    k = i
    while k < n and s[k] in WHITE_SPACE:
        k += 1
    neg = False
    if k < n and s[k] in "+-":
        neg = s[k] == "-"
        k += 1
    base = 10
    digits = "0123456789"
    if s.startswith(("0x", "0X"), k) and k + 2 < n and s[k + 2] in "0123456789abcdefABCDEF":
        base, digits, k = 16, "0123456789abcdefABCDEF", k + 2
    elif k < n and s[k] == "0":
        base, digits = 8, "01234567"
    start = k
    while k < n and s[k] in digits:
        k += 1
    if k == start:
        return 0, i
    value = int(s[start:k], base)
    value = -value if neg else value
    return max(LONG_MIN, min(LONG_MAX, value)), k


def is_name_start(c: str) -> bool:
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z")


def is_name_char(c: str) -> bool:
    return is_name_start(c) or ("0" <= c <= "9")


def is_name(s: str) -> bool:
    return bool(s) and is_name_start(s[0]) and all(is_name_char(c) for c in s[1:])
