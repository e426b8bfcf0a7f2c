"""Splitting a keepalived.conf line into words: the default rule and the "quoted" rule.

`split_words` is keepalived's `alloc_strvec_r()` [acassen/keepalived: lib/parser.c]: words are
separated by blanks; a word starting with `"` runs to the next `"` and loses its quotes (blanks
kept); an unquoted word also ends at a `"`.  Single quotes are ordinary characters.  A `"` with
no closing one ends the line's words ("Unmatched quote").

`split_quoted` is `alloc_strvec_quoted_escaped()`, which keywords registered with
`install_keyword_quoted` (script, notify*, misc_path, ...) apply to the raw line: `"` or `'`
open a quote closed by the same character, quotes are removed and can be anywhere in a word
(`abcd" efg h jkl "mnop` is one word), and a backslash escapes everywhere: `\\a \\b \\E \\f \\n
\\r \\t \\v`, `\\nnn` (octal, up to 3 digits), `\\xXX` (up to 2 hex digits), `\\cC` (control-C),
and `\\C` is C itself.  An unterminated quote or a final lone backslash makes the whole value
invalid (keepalived returns no words), reported as an error.
"""

from __future__ import annotations

import re

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.srcline import WHITE_SPACE, SrcLine
from pylvs.config.tree import Word

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


_WORD = re.compile(r'[ \t\f\n\r\v]*(?:"([^"]*)"|([^ \t\f\n\r\v"]+))')


def split_words(line: SrcLine) -> tuple[list[Word], list[int], int | None]:
    """Words of `line`, the index just after each, and where an unmatched `"` is (or None)."""
    text = line.text
    if '"' not in text and len(line.spans) == 1 and line.spans[0][2] == 1:
        return _split_plain(line)
    n = len(text)
    words: list[Word] = []
    ends: list[int] = []
    p = 0
    match = _WORD.match
    while p < n:
        m = match(text, p)
        if m is None:
            rest = text[p:].lstrip(WHITE_SPACE)
            return words, ends, (n - len(rest) if rest else None)
        quoted = m.group(1)
        if quoted is not None:
            words.append(Word(quoted, line.loc(m.start(1) - 1)))
        else:
            words.append(Word(m.group(2), line.loc(m.start(2))))
        p = m.end()
        ends.append(p)
    return words, ends, None


_PLAIN_WORD = re.compile(r"[^ \t\f\n\r\v]+")


def _split_plain(line: SrcLine) -> tuple[list[Word], list[int], int | None]:
    """split_words for a line with no quote that is one stretch of the file (most lines)."""
    base = line.spans[0][1]
    file, number = line.file, line.line
    words: list[Word] = []
    ends: list[int] = []
    for m in _PLAIN_WORD.finditer(line.text):
        words.append(Word(m.group(), Location(file, number, base + m.start())))
        ends.append(m.end())
    return words, ends, None


def split_quoted(raw: str, loc: Location, problems: Problems) -> list[Word]:
    """The words of a quoted keyword's raw value; `loc` is where raw[0] is in the file."""

    def at(i: int) -> Location:
        return Location(loc.file, loc.line, loc.col + i)

    n = len(raw)
    words: list[Word] = []
    p = 0
    while True:
        while p < n and raw[p] in WHITE_SPACE:
            p += 1
        if p >= n:
            return words
        start = p
        out: list[str] = []
        quote = ""
        quote_at = p
        while p < n:
            c = raw[p]
            if c == "\\":
                if p + 1 >= n:
                    problems.error(at(p), "Missing escape char at end")
                    return []
                char, p = _escape(raw, p + 1)
                out.append(char)
            elif quote:
                if c == quote:
                    quote = ""
                else:
                    out.append(c)
                p += 1
            elif c in "\"'":
                quote = c
                quote_at = p
                p += 1
            elif c in WHITE_SPACE:
                break
            else:
                out.append(c)
                p += 1
        if quote:
            problems.error(at(quote_at), f"String '{raw}': missing terminating {quote}")
            return []
        words.append(Word("".join(out), at(start)))


def _escape(s: str, p: int) -> tuple[str, int]:
    """The character that the escape at s[p] (just after the backslash) stands for."""
    c = s[p]
    if c == "x" and p + 1 < len(s) and s[p + 1] in _HEX:
        digits = s[p + 1 : p + 3]
        if digits[-1] not in _HEX:
            digits = digits[:1]
        return chr(int(digits, 16)), p + 1 + len(digits)
    if c == "c" and p + 1 < len(s):
        return chr(ord(s[p + 1]) & 0x1F), p + 2
    if c in _OCTAL:
        end = p + 1
        while end < len(s) and end < p + 3 and s[end] in _OCTAL:
            end += 1
        # keepalived builds the value in a char: only the low 8 bits remain.
        return chr(int(s[p:end], 8) & 0xFF), end
    return _SIMPLE_ESCAPES.get(c, c), p + 1
