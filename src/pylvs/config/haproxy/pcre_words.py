"""A regex error as HAProxy 2.6 reports it: in PCRE2's words and with PCRE2's offset.

HAProxy compiles regexes with PCRE2 (src/regex.c regex_comp: "regex '%s' is invalid
(error=%s, erroffset=%zu)"); pylvs with Python's `re`, whose errors for the same mistakes
are worded differently and placed elsewhere (Python points at the group an unclosed
parenthesis opens, PCRE2 at the end of the pattern).  The common mistakes are said as PCRE2
says them (checked against haproxy 2.6.12 with libpcre2 10.42); any other error keeps
Python's words and position.
"""

from __future__ import annotations

import re


def pcre2_error(pattern: str, e: re.error) -> tuple[str, int]:
    """(message, offset) as PCRE2 gives them for `e`, raised compiling `pattern`."""
    pos = e.pos or 0
    msg = e.msg
    if msg.startswith("missing ), unterminated subpattern"):
        return "missing closing parenthesis", len(pattern)
    if msg == "unbalanced parenthesis":
        return "unmatched closing parenthesis", pos
    if msg in ("nothing to repeat", "multiple repeat"):
        return "quantifier does not follow a repeatable item", pos
    if msg == "unterminated character set":
        return "missing terminating ] for character class", len(pattern)
    if msg == "min repeat greater than max repeat":
        close = pattern.find("}", pos)
        return "numbers out of order in {} quantifier", close if close >= 0 else pos
    if msg == "bad escape (end of pattern)":
        return "\\ at end of pattern", len(pattern)
    if msg.startswith("unknown extension ?"):
        return "unrecognized character after (? or (?-", pos + 1
    return msg, pos
