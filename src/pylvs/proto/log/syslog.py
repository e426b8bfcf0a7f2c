"""A log line as HAProxy 2.6 puts it on the wire: header, message cut to the target's length,
newline (src/log.c build_log_header, __do_send_log, process_send_log, __send_log; src/fd.c
fd_write_frag_line for descriptors).

    <134>Dec  6 07:40:00 haproxy[1234]: message              (unspecified format: "local")
    <134>Dec  6 07:40:00 host haproxy[1234]: message         (rfc3164; "localhost" without a host)
    <134>1 2026-12-06T07:40:00.123456+00:00 host haproxy 1234 - - message      (rfc5424)
    <6>message (short)   <134>message (priority)   message (raw)
    <6>2026-12-06T07:40:00.123456+00:00 message (timed)   2026-12-06T...+00:00 message (iso)

A target's unspecified format is "local" (HAProxy always has a tag) unless
`log-send-hostname` gives a host name, then "rfc3164".  The priority is facility * 8 +
level, the level raised to the target's `min_level`; "short" and "timed" carry the level
alone.  The legacy date is local time with the day padded by a space; the ISO one has
microseconds and the local offset.

The cut: a datagram's header and message together keep `len` bytes (a header element that
does not fit whole is left out, as __do_send_log's iovec loop does), then the newline; a line
written to a descriptor keeps `len - 1` bytes before its newline.  Trailing newlines and NULs
of the message are dropped first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pylvs.model.proxy_log import LogTarget

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Metadata:
    """What the header names: the tag (`log-tag`, else the program's name), the process id
    and the host (`log-send-hostname`; "" for none)."""

    tag: str
    pid: int
    host: str = ""


def effective_format(fmt: str, meta: Metadata) -> str:
    """build_log_header's choice for an unspecified format."""
    if fmt:
        return fmt
    if meta.host:
        return "rfc3164"
    return "local" if meta.tag else "raw"


def legacy_time(when: datetime) -> str:
    """'Dec  6 07:40:00' (local time)."""
    return f"{_MONTHS[when.month - 1]} {when.day:2d} {when:%H:%M:%S}"


def iso_time(when: datetime) -> str:
    """timeofday_as_iso_us: '2026-12-06T07:40:00.123456+00:00' (local time and offset)."""
    offset = when.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}{sign}{hh:02d}:{mm:02d}"


def header(fmt: str, facility: int, level: int, meta: Metadata, when: datetime) -> list[str]:
    """The header's elements, in order (the cut works on whole elements)."""
    fmt = effective_format(fmt, meta)
    out: list[str] = []
    if fmt in ("local", "rfc3164", "rfc5424", "priority"):
        out.append(f"<{facility * 8 + level}>")
    elif fmt in ("short", "timed"):
        out.append(f"<{level}>")
    if fmt in ("local", "rfc3164"):
        out.append(legacy_time(when) + " ")
    elif fmt == "rfc5424":
        out += ["1 ", iso_time(when) + " "]
    elif fmt in ("timed", "iso"):
        out.append(iso_time(when) + " ")
    if fmt == "rfc3164":
        out.append(f"{meta.host or 'localhost'} ")
    if fmt in ("local", "rfc3164") and meta.tag:
        out.append(f"{meta.tag}[{meta.pid}]: ")
    elif fmt == "rfc5424":
        # host, tag, pid, msgid, structured data (send_log's is "- ", trimmed to "-")
        out += [f"{meta.host or '-'} ", f"{meta.tag or '-'} ", f"{meta.pid} ", "- ", "- "]
    return out


def frame(
    target: LogTarget, level: int, meta: Metadata, message: str | bytes, when: datetime
) -> bytes:
    """The bytes sent to `target` for a line of `level` (see the module doc)."""
    raw = message if isinstance(message, bytes) else encode(message)
    return cut(target, prepared(target, level, meta, when), raw.rstrip(b"\n\x00"))


def prepared(target: LogTarget, level: int, meta: Metadata, when: datetime) -> tuple[bytes, int]:
    """The header as `target` sends it and the room its message has (-1: a descriptor's
    line, cut whole), the same for every line of that level at that date: the senders
    make it once per second (see `cut`)."""
    head = header(target.format, target.facility, max(level, target.min_level), meta, when)
    if target.kind == "fd":  # fd_write_frag_line: cut with its header
        return "".join(head).encode(), -1
    room = target.maxlen
    parts: list[bytes] = []
    for element in head:
        e = element.encode()
        if room <= len(e):  # cut, then overwritten by the newline: left out
            room = 0
            break
        parts.append(e)
        room -= len(e)
    return b"".join(parts), room


def cut(target: LogTarget, head: tuple[bytes, int], msg: bytes) -> bytes:
    """A message (its trailing newlines and NULs already dropped) after its `prepared`
    header, cut to the target's length, with its newline."""
    prefix, room = head
    if room < 0:  # a descriptor: len - 1 bytes, then the newline
        return (prefix + msg)[: max(target.maxlen - 1, 0)] + b"\n"
    return prefix + msg[:room] + b"\n"


# The header formats whose date has no fraction of a second ("local", "rfc3164") or no
# date at all: one header per second serves every line (rfc5424, timed, iso: microseconds)
PER_SECOND = frozenset({"local", "rfc3164", "priority", "short", "raw"})


def encode(text: str) -> bytes:
    """The message's bytes (a name read from a file as bytes comes back as those bytes)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


class Sampler:
    """`log ... sample RANGES:SIZE`: of each SIZE lines, those whose index (1-based) falls
    in a range are sent (process_send_log, in_smp_log_range)."""

    def __init__(self, ranges: tuple[tuple[int, int], ...], size: int) -> None:
        self.ranges = ranges
        self.size = size
        self.index = 0  # the line's position in the current SIZE
        self.current = 0  # the range being consumed
        self.used = [0] * len(ranges)  # lines taken from each range

    def take(self) -> bool:
        """Whether this line goes to the target (and count it)."""
        low, high = self.ranges[self.current]
        taken = low <= self.index + 1 <= high
        if taken:
            n = self.current
            self.used[n] = (self.used[n] + 1) % (high - low + 1)
            if not self.used[n]:
                self.current = (n + 1) % len(self.ranges)
        self.index = (self.index + 1) % self.size
        return taken
