"""The statement tree that the keepalived.conf lexer produces and the keyword parsers read.

Every line of keepalived.conf (after includes, `@id` conditionals, `$PARAM` substitution,
`~SEQ`/`~LST` expansion and comment removal) is a `Statement`: its first word is the keyword,
the rest are arguments.  A statement followed by `{ ... }` (on the same line or the next) carries
the statements inside as `block`.  Every word keeps the exact file:line:col it came from, also
inside included files, so any problem can be reported where it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.config.errors import Location


@dataclass(frozen=True, slots=True)
class Word:
    """One whitespace-separated word; a "double-quoted" word is one word without its quotes."""

    text: str
    loc: Location


@dataclass(frozen=True, slots=True)
class Statement:
    keyword: Word
    args: tuple[Word, ...] = ()
    # The rest of the line after the keyword, comments removed and parameters substituted but
    # not split: keywords that keepalived reads "quoted" (script, notify_*, misc_path, ...)
    # re-split it with `lexer.split_quoted`, which applies the escape and quote rules of §3.1.
    raw: str = ""
    raw_loc: Location | None = None
    block: tuple[Statement, ...] | None = None
    # Where the closing `}` of `block` is (None when there is no block).
    end: Location | None = None

    @property
    def name(self) -> str:
        return self.keyword.text

    @property
    def loc(self) -> Location:
        return self.keyword.loc
