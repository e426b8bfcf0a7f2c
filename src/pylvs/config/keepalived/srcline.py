"""One line of keepalived.conf text that remembers where every character came from.

The preprocessor rewrites lines (comment removal, `@id` stripping, `$PARAM` substitution,
generator expansion, `{`/`}` splitting), so a plain string would lose the columns.  `SrcLine`
keeps, for each character, the 1-based column it had in the original file, plus one extra
"end" column, so a word found after any rewrite still points at its source.  Substituted text
takes the column of the `$` it replaced.

`decomment` is keepalived's `decomment()` [acassen/keepalived: lib/parser.c]: strip leading
blanks, cut a `#`/`!` comment outside `"..."`, turn `\\#`/`\\!` outside quotes into `#`/`!`,
strip trailing blanks and keep a final `\\` (continuation, used by multiline definitions).
`strtol` mimics C `strtol(s, &end, 0)` as `add_seq()` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.config.errors import Location

# lib/parser.c WHITE_SPACE_STR: what separates words.
WHITE_SPACE = " \t\f\n\r\v"
# isblank(): what decomment() and the definition code strip.
BLANK = " \t"
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class SrcLine:
    text: str
    # len(text) + 1 entries: cols[i] is the source column of text[i]; the last is the end column.
    cols: tuple[int, ...]
    file: str
    line: int

    @classmethod
    def physical(cls, text: str, file: str, line: int, first_col: int = 1) -> SrcLine:
        return cls(text, tuple(range(first_col, first_col + len(text) + 1)), file, line)

    @classmethod
    def synthetic(cls, text: str, loc: Location) -> SrcLine:
        """Text that has no columns of its own (a multiline value): all of it is at `loc`."""
        return cls(text, (loc.col,) * (len(text) + 1), loc.file, loc.line)

    def loc(self, i: int = 0) -> Location:
        return Location(self.file, self.line, self.cols[max(0, min(i, len(self.text)))])

    def slice(self, start: int, end: int | None = None) -> SrcLine:
        n = len(self.text)
        stop = n if end is None else max(0, min(end, n))
        begin = max(0, min(start, stop))
        return SrcLine(
            self.text[begin:stop], (*self.cols[begin:stop], self.cols[stop]), self.file, self.line
        )

    def replace(self, start: int, end: int, value: str, col: int) -> SrcLine:
        """Replace text[start:end] by `value`, all of whose characters sit at column `col`."""
        return SrcLine(
            self.text[:start] + value + self.text[end:],
            self.cols[:start] + (col,) * len(value) + self.cols[end:],
            self.file,
            self.line,
        )

    def strip_blanks(self) -> SrcLine:
        text = self.text
        start = len(text) - len(text.lstrip(BLANK))
        end = len(text.rstrip(BLANK))
        return self.slice(start, max(start, end))


@dataclass(frozen=True, slots=True)
class Decommented:
    line: SrcLine
    # Where a `"` that is never closed opens, or None.
    open_quote: Location | None


def decomment(src: SrcLine) -> Decommented:
    text = src.text
    n = len(text)
    k = n - len(text.lstrip(BLANK))
    chars: list[str] = []
    cols: list[int] = []
    quote = False
    quote_at = 0
    cont_col: int | None = None
    while k < n:
        c = text[k]
        if c == '"':
            quote = not quote
            quote_at = k
        elif c == "\\":
            if k + 1 < n:
                if not quote and text[k + 1] in "#!":
                    # `\#` and `\!` outside quotes are the literal characters.
                    chars.append(text[k + 1])
                    cols.append(src.cols[k + 1])
                else:
                    chars += [c, text[k + 1]]
                    cols += [src.cols[k], src.cols[k + 1]]
                k += 2
                continue
            cont_col = src.cols[k]
            break
        elif not quote and c in "#!":
            break
        chars.append(c)
        cols.append(src.cols[k])
        k += 1
    while chars and chars[-1] in BLANK:
        chars.pop()
        cols.pop()
    if cont_col is not None:
        chars.append("\\")
        cols.append(cont_col)
    end_col = cols[-1] + 1 if cols else src.cols[min(k, n)]
    line = SrcLine("".join(chars), (*cols, end_col), src.file, src.line)
    return Decommented(line, src.loc(quote_at) if quote else None)


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
