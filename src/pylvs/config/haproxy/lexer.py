"""Split haproxy.cfg lines into words as HAProxy 2.6 does (src/tools.c `parse_line`).

Words are separated by blanks.  `#` starts a comment outside quotes.  Double quotes are weak:
blanks, `#` and `'` are literal inside them, and `$NAME`, `${NAME}`, `${NAME-default}` and
`${NAME[*]}` (one word per blank-separated part of the value) are replaced by the environment
variable's value there, and only there; `.LINE`, `.FILE` and `.SECTION` name the place being
read.  Single quotes are strong: nothing inside is interpreted.  A backslash escapes a blank,
`\\`, `#`, `'`, `"` (outside single quotes), `$` (inside double quotes) and stands for a tab,
newline or carriage return in `\\t`, `\\n`, `\\r`, or for a byte in `\\xHH`; before anything else
it is kept.  A line ends at a newline or carriage return.  Problems are HAProxy's alerts
(cfgparse.c `readcfgfile`): unmatched quote or brace, a forbidden first character in a
variable name, a truncated hex sequence, more than 64 words.

The environment is an argument (the reader is pure) and a mutable copy: `setenv` and its
siblings in `global` change it for the lines that follow, as in HAProxy.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field

from pylvs.config.errors import Cite, Kind, Location, Problems
from pylvs.config.tree import Word

MAX_LINE_ARGS = 64  # include/haproxy/defaults.h
_BLANK = " \t\v\f"  # isspace() without the line ends, which end the line
_HEX = "0123456789abcdefABCDEF"
_NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_."


@dataclass
class Place:
    """What `.FILE`, `.LINE` and `.SECTION` expand to."""

    file: str
    line: int = 0
    section: str = ""


@dataclass
class _Word:
    chars: list[str] = field(default_factory=list)
    start: int | None = None  # column of its first source character

    def add(self, text: str, col: int) -> None:
        if self.start is None:
            self.start = col
        self.chars.append(text)


class LineSplitter:
    """One line at a time, with the environment as it is at that line."""

    def __init__(self, env: MutableMapping[str, str], problems: Problems) -> None:
        self.env = env
        self.problems = problems

    def split(self, text: str, place: Place) -> list[Word] | None:
        """The words of one line; None when the line is refused (an alert was reported)."""
        state = _State(self, text, place)
        return state.run()


class _State:
    def __init__(self, splitter: LineSplitter, text: str, place: Place) -> None:
        self.env = splitter.env
        self.problems = splitter.problems
        self.text = text
        self.place = place
        self.words: list[Word] = []
        self.current = _Word()
        self.squote: int | None = None
        self.dquote: int | None = None

    def _loc(self, i: int) -> Location:
        return Location(self.place.file, self.place.line, i + 1)

    def _error(self, i: int, message: str) -> None:
        """readcfgfile's alert: the place, then the line (its leading blanks skipped) and a
        caret under the character at fault."""
        text = self.text.rstrip("\r\n")
        start = len(text) - len(text.lstrip())
        shown, at = _printable(text[start:], i - start)
        self.problems.error(
            self._loc(i),
            f"{message} at position {i + 1}:\n  {shown}\n  {' ' * at}^",
            Kind.CONFIG,
            Cite.TIGHT,
        )

    def _end_word(self) -> None:
        w = self.current
        if w.start is not None:
            self.words.append(Word("".join(w.chars), self._loc(w.start)))
        self.current = _Word()

    def run(self) -> list[Word] | None:
        text, n, i = self.text, len(self.text), 0
        while i < n:
            c = text[i]
            if c in "\r\n":
                break
            if c == "#" and self.squote is None and self.dquote is None:
                break
            if c == '"' and self.squote is None:
                self.dquote = None if self.dquote is not None else i
                self.current.add("", i)  # "" is an (empty) word
                i += 1
            elif c == "'" and self.dquote is None:
                self.squote = None if self.squote is not None else i
                self.current.add("", i)
                i += 1
            elif c == "\\" and self.squote is None:
                nxt = self._escape(i)
                if nxt is None:
                    return None
                i = nxt
            elif c in _BLANK and self.squote is None and self.dquote is None:
                self._end_word()
                while i < n and text[i] in _BLANK:
                    i += 1
            elif c == "$" and self.dquote is not None:
                nxt = self._variable(i)
                if nxt is None:
                    return None
                i = nxt
            else:
                self.current.add(c, i)
                i += 1
        quote = self.squote if self.squote is not None else self.dquote
        if quote is not None:
            self._error(quote, "unmatched quote")
            return None
        self._end_word()
        if len(self.words) > MAX_LINE_ARGS:
            w = self.words[MAX_LINE_ARGS - 1]
            self.problems.error(
                w.loc,
                f"too many words, truncating after word {MAX_LINE_ARGS}, position {w.loc.col}:"
                f" <{w.text}>.",
            )
            return None
        return self.words

    def _escape(self, i: int) -> int | None:
        """A backslash sequence; returns the index after it."""
        text = self.text
        nxt = text[i + 1] if i + 1 < len(text) else ""
        simple = {" ": " ", "\\": "\\", "t": "\t", "n": "\n", "r": "\r", "#": "#", "'": "'"}
        if nxt in simple:
            self.current.add(simple[nxt], i)
            return i + 2
        if nxt == '"' or (nxt == "$" and self.dquote is not None):
            self.current.add(nxt, i)
            return i + 2
        if nxt == "x":
            digits = text[i + 2 : i + 4]
            if len(digits) < 2 or digits[0] not in _HEX or digits[1] not in _HEX:
                self._error(i, "truncated or invalid hexadecimal sequence")
                return None
            self.current.add(chr(int(digits, 16)), i)
            return i + 4
        self.current.add("\\", i)  # other combinations are not escape sequences
        return i + 1

    def _variable(self, i: int) -> int | None:
        """`$NAME`, `${NAME}`, `${NAME-default}`, `${NAME[*]}` inside double quotes."""
        text, n = self.text, len(self.text)
        p = i + 1
        brace = p if p < n and text[p] == "{" else None
        if brace is not None:
            p += 1
        if p >= n or text[p] not in _NAME_START:
            self._error(p, "forbidden first char in environment variable name")
            return None
        start = p
        if text[p] == ".":
            p += 1
        while p < n and (text[p].isascii() and (text[p].isalnum() or text[p] == "_")):
            p += 1
        name = text[start:p]
        found, value = self._lookup(name, start)
        if not found:
            return None
        expand = False
        if brace is not None and p < n and text[p] == "[":
            if text[p : p + 3] != "[*]":
                self._error(p, "truncated or invalid word expansion sequence")
                return None
            expand = True
            p += 3
        if brace is not None:
            if p < n and text[p] == "-":
                close = text.find("}", p)
                if close < 0:
                    self._error(brace, "unmatched brace in environment variable name")
                    return None
                if value is None:
                    value = text[p + 1 : close]
                p = close
            elif p >= n or text[p] != "}":
                self._error(brace, "unmatched brace in environment variable name")
                return None
            p += 1
        if value:
            self._emit_value(value, i, expand)
        else:
            self.current.add("", i)
        return p

    def _lookup(self, name: str, at: int) -> tuple[bool, str | None]:
        """(valid name, its value or None when unset)."""
        if not name.startswith("."):
            return True, self.env.get(name)
        pseudo = {
            ".LINE": str(self.place.line),
            ".FILE": self.place.file,
            ".SECTION": self.place.section,
        }
        if name not in pseudo:
            self._error(at, "forbidden first char in environment variable name")
            return False, None
        return True, pseudo[name]

    def _emit_value(self, value: str, col: int, expand: bool) -> None:
        if not expand:
            self.current.add(value, col)
            return
        parts = value.split()
        for k, part in enumerate(parts):
            if k:
                self._end_word()
            self.current.add(part, col)


def _printable(line: str, pos: int, width: int = 80) -> tuple[str, int]:
    """`line` as HAProxy shows it (tools.c sanitize_for_printing): blanks as spaces, what does
    not print as '?', at most `width` characters around `pos` ("..." where cut); and where
    `pos` is in what is shown."""
    shift = 0
    src, room = line, width
    if pos >= width:  # centred on pos, "..." on both sides
        shift = pos - width // 2
        src, room = line[shift + 3 :], width - 6
    body = "".join(
        " " if c.isspace() else c if c.isascii() and c.isprintable() else "?" for c in src[:room]
    )
    return (f"...{body}..." if shift else body), pos - shift
