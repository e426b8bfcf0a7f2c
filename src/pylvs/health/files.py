"""FILE_CHECK's tracked files: read the number a file holds as keepalived does.

trackers/track_file.c `process_track_file`: up to 127 bytes are read and converted with
strtol(buf, NULL, 0) (decimal, 0x hex, 0 octal; leading blanks and sign; conversion stops at
the first other character, no digits reads 0); a missing or empty file reads 0; a value outside
[INT32_MIN, INT32_MAX + 1] is ignored ("Invalid number ... - ignoring").  keepalived is told of
changes by inotify; pylvs polls (the manager's `file_poll` interval).  `init_file` writes
`init_value` into a missing file (or any file with `init_overwrite`) at start.
"""

from __future__ import annotations

import logging
import os

from pylvs.config.keepalived.vrrp.model import TrackFile

log = logging.getLogger("pylvs.health")

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def c_strtol(text: str) -> int:
    s = text.lstrip(" \t\n\r\f\v")
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    base = 10
    if s[:2].lower() == "0x" and len(s) > 2 and s[2] in "0123456789abcdefABCDEF":
        base, s = 16, s[2:]
    elif s[:1] == "0":
        base = 8
    digits = "0123456789abcdef"[:base]
    n = 0
    for ch in s.lower():
        if ch not in digits:
            break
        n = n * base + digits.index(ch)
    return sign * n


def read_value(path: str) -> int | None:
    """The file's value (0 when missing or empty), or None for an out-of-range number."""
    try:
        with open(path, "rb") as f:
            raw = f.read(127)
    except OSError:
        return 0
    if not raw:
        return 0
    value = c_strtol(raw.decode("latin-1"))
    if not INT32_MIN <= value <= INT32_MAX + 1:
        log.info("Invalid number %d read from %s - ignoring", value, path)
        return None
    return value


def init_file(tf: TrackFile) -> None:
    if not tf.init_file:
        return
    if os.path.exists(tf.path) and not tf.init_overwrite:
        return
    try:
        with open(tf.path, "w", encoding="ascii") as f:
            f.write(f"{tf.init_value}\n")
    except OSError as exc:
        log.error("Unable to initialise track file %s: %s", tf.path, exc)
