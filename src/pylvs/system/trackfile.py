"""Tracked files: the number a `track_file` holds, read the one way keepalived reads it.

keepalived 2.2.7 reads every tracked file with one function, trackers/track_file.c
`process_track_file`, for VRRP's `track_file` and the checkers' FILE_CHECK alike: up to 127
bytes, converted with `strtol(buf, NULL, 0)`: leading blanks and a sign, then `0x`/`0X` and hex
digits, or a leading `0` and octal digits, or decimal digits; the conversion stops at the first
other character and no digits at all reads 0 ("0x10" is 16, "010" is 8, "12abc" is 12).  A
missing or empty file reads 0.  A value outside [INT32_MIN, INT32_MAX + 1], or one strtol
cannot hold, is logged "Invalid number ... - ignoring" and the previous value stays: `read`
returns None then.  keepalived is told of changes by inotify; pylvs's callers poll.

`initialise` is `track_file_end_handler`'s `init_file [VALUE] [overwrite]`: the file is created
with the value, or rewritten with `overwrite` (a file that is not a regular file is refused).
"""

from __future__ import annotations

import os
import stat

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
READ_MAX = 127  # char buf[128], one byte for the terminating NUL
_SPACE = " \t\n\v\f\r"  # isspace() in the C locale
_HEX = "0123456789abcdefABCDEF"


def strtol0(text: str) -> int | None:
    """C `strtol(text, NULL, 0)`; None where strtol reports ERANGE (beyond a 64-bit long)."""
    s = text.lstrip(_SPACE)
    negative = s[:1] == "-"
    if s[:1] in "+-" and s:
        s = s[1:]
    base, digits = 10, "0123456789"
    if s[:2] in ("0x", "0X") and s[2:3] != "" and s[2] in _HEX:
        base, digits, s = 16, _HEX, s[2:]
    elif s[:1] == "0":
        base, digits = 8, "01234567"
    end = 0
    while end < len(s) and s[end] in digits:
        end += 1
    if end == 0:
        return 0
    # 22 octal, 17 hex or 20 decimal significant digits already pass LONG_MAX
    run = s[:end].lstrip("0")
    if len(run) > 22:
        return None
    value = int(run or "0", base)
    if value > LONG_MAX + negative:
        return None
    return -value if negative else value


def value_of(data: bytes) -> int | None:
    """The value of a tracked file's contents; None: keepalived ignores it and keeps the last."""
    if not data:
        return 0
    text = data[:READ_MAX].split(b"\0", 1)[0].decode("latin-1")
    value = strtol0(text)
    if value is None or not INT32_MIN <= value <= INT32_MAX + 1:
        return None
    return value


def read(path: str) -> int | None:
    """The value the file at `path` holds now (0 when it cannot be opened)."""
    try:
        with open(path, "rb") as f:
            data = f.read(READ_MAX)
    except OSError:
        return 0
    return value_of(data)


def initialise(path: str, value: int, *, overwrite: bool, reload: bool = False) -> str | None:
    """Create the file with `value`, or rewrite it with `overwrite` (never on a reload);
    what went wrong, or None."""
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None:
        if not overwrite:
            return None
        if not stat.S_ISREG(st.st_mode):
            return f"Cannot initialise track file {path} - it is not a regular file"
        if reload:
            return None
    try:
        with open(path, "w", encoding="ascii") as f:
            f.write(f"{value}\n")
    except OSError as exc:
        return f"Unable to initialise track file {path}: {exc.strerror}"
    return None
