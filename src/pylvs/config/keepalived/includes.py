"""`include FILE` and its check levels, as keepalived's lib/parser.c does them.

`include` takes a glob pattern (with csh brace expansion, glibc GLOB_BRACE) relative to the
directory of the including file.  `is_include`/`check_include` recognise the keyword and its
variants; `open_and_check_glob`, `check_glob_file` and `open_conf_file` say what is wrong with
the matches.  Each problem has a check level (the `include_t` bits); it is an error when the
level is in the include's own level or the current `include_check`, otherwise a warning:

* READ (`includer`): a match is a directory, not a regular non-executable file, or unreadable.
* MATCH (`includem`): no file matches a pattern without wildcards.
* WILDCARD (`includew`): no file matches a pattern with wildcards.
* BRACE (`includeb`): some alternative of a `{a,b}` pattern matches nothing; then nothing of the
  pattern is read when the level is checked.
`includea` checks all.  Plain `include` only warns.  `include_check [[+|-]read|match|
wildcard_match|brace_match ...]` (a `global_defs` keyword) changes the default; `include_check`
alone checks everything (`include_check_set()`).
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.config.keepalived.srcline import WHITE_SPACE


class Check(enum.IntFlag):
    NONE = 0
    READ = 1
    MATCH = 2
    WILDCARD = 4
    BRACE = 8
    # Not a keepalived level: problems pylvs always treats as errors.
    ALWAYS = 16


ALL = Check.READ | Check.MATCH | Check.WILDCARD | Check.BRACE

# Patterns one include may expand to: `{a,b}{c,d}...` grows exponentially.
MAX_ALTERNATIVES = 4096

_VARIANTS = {
    "r": Check.READ,
    "m": Check.READ | Check.MATCH,
    "w": Check.READ | Check.MATCH | Check.WILDCARD,
    "b": Check.READ | Check.BRACE,
    "a": ALL,
}

_CHECK_NAMES = {
    "read": Check.READ,
    "match": Check.MATCH,
    "wildcard_match": Check.WILDCARD,
    "brace_match": Check.BRACE,
}


def parse_include(text: str) -> tuple[Check, int] | None:
    """is_include()/check_include(): the include level and where the file name starts."""
    if not text.startswith("include") or len(text) < 8:
        return None
    if text[7] in WHITE_SPACE:
        level, p = Check.NONE, 8
    elif text[7] in _VARIANTS and len(text) > 8 and text[8] in WHITE_SPACE:
        level, p = _VARIANTS[text[7]], 9
    else:
        return None
    while p < len(text) and text[p] in " \t":
        p += 1
    return level, p


def apply_include_check(
    current: Check, words: list[str], report: Callable[[int, str], None]
) -> Check:
    """include_check_set(): `words` are the arguments; `report(index, message)` an error."""
    if not words:
        return ALL
    for i, word in enumerate(words):
        if word[:1] in "+-" and word:
            sign, name = word[0], word[1:]
        elif i == 0:
            sign, name = "", word
            current = Check.NONE
        else:
            report(i, f"Duplicate include_check '{word}' specified - ignoring")
            continue
        flag = _CHECK_NAMES.get(name)
        if flag is None:
            report(i, f"Unknown include_check type '{name}' - ignoring")
            continue
        if sign == "":
            current = Check.READ | flag
        elif sign == "+":
            current |= flag
        else:
            current &= ~flag
    return current


def expand_braces(pattern: str) -> list[str] | None:
    """csh-style `{a,b}` expansion as glibc glob(GLOB_BRACE) does; a bad brace stays literal.

    Returns None when there would be more than MAX_ALTERNATIVES patterns.
    """
    out: list[str] = []
    work = [pattern]
    seen = 0
    while work:
        current = work.pop()
        seen += 1
        if seen > MAX_ALTERNATIVES:
            return None
        group = _first_group(current)
        if group is None:
            out.append(current)
            continue
        start, end, alternatives = group
        work += [current[:start] + alt + current[end:] for alt in reversed(alternatives)]
    return out


def _first_group(pattern: str) -> tuple[int, int, list[str]] | None:
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            parts = _brace_parts(pattern, i)
            if parts is None:
                return None
            return i, parts[1], parts[0]
        i += 1
    return None


def _brace_parts(pattern: str, open_at: int) -> tuple[list[str], int] | None:
    depth = 0
    start = open_at + 1
    alternatives: list[str] = []
    i = start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                alternatives.append(pattern[start:i])
                return alternatives, i + 1
            depth -= 1
        elif c == "," and depth == 0:
            alternatives.append(pattern[start:i])
            start = i + 1
        i += 1
    return None


def has_brace(pattern: str) -> bool:
    return _first_group(pattern) is not None


def _to_python_glob(pattern: str) -> tuple[str, bool]:
    """A glibc pattern (backslash escapes) as a Python glob pattern, and whether it has magic."""
    import glob  # (only a file with includes pays for it)

    out: list[str] = []
    magic = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(glob.escape(pattern[i + 1]))
            i += 2
            continue
        if c in "*?[":
            magic = True
        out.append(c)
        i += 1
    return "".join(out), magic


def _unescape(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            i += 1
        out.append(pattern[i])
        i += 1
    return "".join(out)


def _static_dir(pattern: str) -> str:
    """The directory part of a Python glob pattern before its first magic component."""
    import glob  # (only a file with includes pays for it)

    head = pattern
    while glob.has_magic(head):
        head = os.path.dirname(head)
    return head or "."


@dataclass(slots=True)
class GlobResult:
    """The files an include pattern names, and what keepalived would report about them."""

    paths: list[str] = field(default_factory=list)
    # (level, message) pairs, in the order keepalived reports them.
    problems: list[tuple[Check, str]] = field(default_factory=list)


def resolve(pattern: str, base_dir: str, checks: Check) -> GlobResult:
    """open_and_check_glob(): the files `pattern` names, relative to `base_dir`."""
    import glob  # (only a file with includes pays for it)

    result = GlobResult()
    missing = False
    wildcards = False
    alternatives = expand_braces(pattern)
    if alternatives is None:
        result.problems.append((Check.ALWAYS, f"Too many brace alternatives in '{pattern}'."))
        return result
    for alternative in alternatives:
        py_pattern, magic = _to_python_glob(alternative)
        if magic:
            wildcards = True
            if not os.path.isabs(alternative) and base_dir:
                py_pattern = os.path.join(glob.escape(base_dir), py_pattern)
            matches = sorted(glob.glob(py_pattern))
            if not matches and not os.path.isdir(_static_dir(py_pattern)):
                missing = True
            result.paths += matches
        else:
            path = _unescape(alternative)
            if not os.path.isabs(path) and base_dir:
                path = os.path.join(base_dir, path)
            if os.path.lexists(path):
                result.paths.append(path)
            else:
                missing = True
    brace = has_brace(pattern)
    if not result.paths:
        if missing:
            level = Check.BRACE if brace else Check.MATCH
            result.problems.append((level, f"Config files missing '{pattern}'."))
        elif wildcards:
            result.problems.append((Check.WILDCARD, f"No config files matched '{pattern}'."))
    elif missing:
        result.problems.append((Check.BRACE, f'Some config files missing: "{pattern}".'))
        if checks & Check.BRACE:
            result.paths = []
    return result


def check_file(path: str) -> str | None:
    """check_glob_file(): why `path` cannot be read as a configuration file, or None."""
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        return f"Configuration file '{path}' is a directory - skipping"
    if (
        st is None
        or not stat.S_ISREG(st.st_mode)
        or st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    ):
        return f"Configuration file '{path}' is not a regular non-executable file - skipping"
    return None
