"""What HAProxy records about a message it refused, and how `show errors` prints it.

When its HTTP/1 parser refuses a request or a response, HAProxy 2.6 keeps a snapshot of the
input buffer in the proxy (src/proxy.c proxy_capture_error, from src/mux_h1.c
h1_capture_bad_message): the last invalid request per frontend and the last invalid response
per backend, numbered by a process-wide event counter.  The stats socket's `show errors
[<px>] [request|response]` prints them (src/proxy.c cli_io_handler_show_errors, the buffer
dumped by src/tools.c dump_text_line: lines of at most 80 characters, non-printable bytes
escaped, a '+' marking a continued line) followed by the H1 part (h1_show_error_snapshot).

`ErrorSnapshot` is the record (pure: the date is given, already in the local time zone the
output uses); `render_errors` is the command's output.  The H1 connection and stream flags are
mux_h1's internal words; `front_flags` / `back_flags` give the values HAProxy shows for the two
cases a parser error happens in (a request being read; a response to a forwarded request).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from .head import Refusal
from .limits import DEFAULT_LIMITS
from .syntax import State

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

H1C_F_ST_EMBRYONIC = 0x100
H1C_F_ST_ATTACHED = 0x200
H1C_F_ST_READY = 0x2000
H1C_F_IS_BACK = 0x80000000
H1S_F_WANT_KAL = 0x10
H1S_F_NOT_FIRST = 0x80
H1S_F_PARSING_ERROR = 0x800
H1S_F_HAVE_O_CONN = 0x4000


def front_flags(not_first: bool) -> tuple[int, int]:
    """(connection, stream) flags of a client connection whose request was refused."""
    stream = H1S_F_PARSING_ERROR | H1S_F_WANT_KAL | (H1S_F_NOT_FIRST if not_first else 0)
    return H1C_F_ST_EMBRYONIC, stream


def back_flags() -> tuple[int, int]:
    """(connection, stream) flags of a server connection whose response was refused."""
    conn = H1C_F_IS_BACK | H1C_F_ST_READY | H1C_F_ST_ATTACHED
    return conn, H1S_F_HAVE_O_CONN | H1S_F_PARSING_ERROR | H1S_F_WANT_KAL


@dataclass(frozen=True, slots=True)
class Peer:
    """A proxy or server as `show errors` names it: name and numeric id."""

    name: str
    uid: int


@dataclass(frozen=True, slots=True)
class ErrorSnapshot:
    """struct error_snapshot with its H1 context (include/haproxy/proxy-t.h)."""

    when: datetime.datetime
    proxy: Peer  # the frontend (invalid request) or backend (invalid response)
    response: bool
    other_end: Peer | None  # the backend of a request / the frontend of a response
    server: Peer | None
    event: int
    source: tuple[str, int] | None  # the client's address and port
    buffer: bytes
    error_at: int
    state: State
    msg_flags: int
    conn_flags: int
    stream_flags: int
    chunk_len: int = 0
    body_len: int = 0
    buffer_offset: int = 0
    bufsize: int = DEFAULT_LIMITS.bufsize
    wraps_at: int = DEFAULT_LIMITS.raw_head

    @classmethod
    def of_refusal(cls, refusal: Refusal, buffer: bytes, **context: object) -> ErrorSnapshot:
        """The snapshot of a framer's refusal; `context` gives the other fields."""
        return cls(
            buffer=buffer,
            error_at=refusal.position,
            state=refusal.state,
            msg_flags=refusal.flags,
            **context,  # type: ignore[arg-type]
        )

    def render(self) -> str:
        """This snapshot's part of `show errors`."""
        kind = "response" if self.response else "request"
        lines = [" ", f"[{_date(self.when)}] {_side(self)}: invalid {kind}"]
        if self.response:
            fe = self.other_end
            lines.append(f"  frontend {_named(fe)}{_tail(self)}")
        else:
            lines.append(f"  backend {_named(self.other_end)}{_tail(self)}")
        free = self.bufsize - len(self.buffer)
        lines += [
            f"  buffer starts at {self.buffer_offset} (including 0 out), {free} free,",
            f"  len {len(self.buffer)}, wraps at {self.wraps_at}, error at position "
            f"{self.error_at}",
            f"  H1 connection flags 0x{self.conn_flags:08x}, H1 stream flags "
            f"0x{self.stream_flags:08x}",
            f"  H1 msg state {self.state.label}({int(self.state)}), H1 msg flags "
            f"0x{self.msg_flags:08x}",
            f"  H1 chunk len {self.chunk_len} bytes, H1 body len {self.body_len} bytes :",
            "  ",
        ]
        return "\n".join(lines) + "\n" + dump_text(self.buffer[: self.bufsize])


def _side(es: ErrorSnapshot) -> str:
    return f"{'backend' if es.response else 'frontend'} {es.proxy.name} (#{es.proxy.uid})"


def _named(peer: Peer | None) -> str:
    return f"{peer.name} (#{peer.uid})" if peer is not None else "<NONE> (#-1)"


def _tail(es: ErrorSnapshot) -> str:
    address, port = es.source if es.source is not None else ("", 0)
    return f", server {_named(es.server)}, event #{es.event}, src {address}:{port}"


def _date(when: datetime.datetime) -> str:
    ms = when.microsecond // 1000
    return (
        f"{when.day:02d}/{_MONTHS[when.month - 1]}/{when.year:04d}:"
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}.{ms:03d}"
    )


def render_errors(now: datetime.datetime, events: int, snapshots: Iterable[ErrorSnapshot]) -> str:
    """`show errors`: the header line, then each snapshot (in proxy order, request before
    response, as the caller lists them)."""
    out = f"Total events captured on [{_date(now)}] : {events}\n"
    return out + "".join(s.render() for s in snapshots)


_ESCAPES = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x1B: "\\e", 0x5C: "\\\\"}


def dump_text(buf: bytes) -> str:
    """dump_text_line() over a whole buffer."""
    out = []
    ptr = 0
    line = 0
    while ptr < len(buf):
        text = f"  {ptr:05d}{' ' if ptr == line else '+'} "
        while ptr < len(buf):
            c = buf[ptr]
            if 0x20 <= c < 0x7F and c != 0x5C:
                piece, room = chr(c), 2
            elif c in _ESCAPES:
                piece, room = _ESCAPES[c], 3
            else:
                piece, room = f"\\x{c:02X}", 5
            if len(text) > 80 - room:
                break
            text += piece
            ptr += 1
            if c == 0x0A:
                line = ptr
                break
        out.append(text + "\n")
    return "".join(out)
