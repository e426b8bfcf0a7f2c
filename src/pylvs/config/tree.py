"""The statement tree every config lexer produces and the keyword framework reads.

A logical line of a config file (after the format's own preprocessing: keepalived's includes,
`@id` conditionals, `$PARAM`s and generators; HAProxy's quoting and `${ENV}` expansion) is a
`Statement`: its first word is the keyword, the rest are arguments.  A statement that owns other
statements carries them as `block`: keepalived's `NAME { ... }`, or the lines of an HAProxy
section (`listen NAME` and what follows it up to the next section keyword).  Every word keeps the
exact file:line:col it came from, also inside included files, so any problem can be reported
where it is.
"""

from __future__ import annotations

from typing import NamedTuple

from pylvs.config.errors import Location


class Word(NamedTuple):
    """One whitespace-separated word; a "double-quoted" word is one word without its quotes.
    (A named tuple, as `Location`: there is one per word of the file.)"""

    text: str
    loc: Location


class Statement(NamedTuple):
    keyword: Word
    args: tuple[Word, ...] = ()
    # The rest of the line after the keyword, comments removed and parameters substituted but
    # not split: keywords that keepalived reads "quoted" (script, notify_*, misc_path, ...)
    # re-split it with `keepalived.words.split_quoted` (the escape and quote rules of §3.1).
    raw: str = ""
    raw_loc: Location | None = None
    block: tuple[Statement, ...] | None = None
    # Where the block ends: keepalived's closing `}` (None when there is no block or it is not
    # closed); for an HAProxy section, None.
    end: Location | None = None

    @property
    def name(self) -> str:
        return self.keyword.text

    @property
    def loc(self) -> Location:
        return self.keyword.loc
