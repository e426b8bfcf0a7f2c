"""Lua's Channel class (`txn.req`, `txn.res`; HAProxy 2.6 src/hlua.c hlua_channel_*): the
bytes of a `mode tcp` stream a `tcp-request content` or `tcp-response content` action sees,
read and rewritten by the script (engine/lua's bridge calls `run`; the drivers,
dataplane/haproxy/lua_channel.py, move the bytes).

A channel is its output (bytes already forwarded: `send`, `forward`) and its input (what
came and waits: `get`, `dup`, `getline`, `data`, `line`, `set`, `append`, `prepend`,
`insert`, `remove`).  In `tcp-request content` the request channel holds the client's bytes
the rules looked at (`req.payload`); once a script changed them, the stream's server gets
the channel's bytes (its output, then its input) in place of those, then the rest of the
stream; the response channel is empty and what a script sends on it goes to the client at
once (a `txn.res:send(...)` then `txn:done()` answers and closes).  In `tcp-response
content` the response channel holds the server's bytes the rules read; the client gets the
channel's bytes.  The request channel cannot be written from response rules here.

The reads never wait for more data: they see what the inspection has (HAProxy waits only
while the action may yield; pylvs's tcp rule sets do not yield a Lua action).  In HTTP
mode every method but `input`, `output`, `is_full`, `may_recv` and `is_resp` fails with
"Cannot manipulate HAProxy channels in HTTP mode.", as in HAProxy; there `input` counts
the buffered body only (HAProxy counts the message's HTX blocks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

BUFSIZE = 16384  # tune.bufsize
HTTP_MODE = b"Cannot manipulate HAProxy channels in HTTP mode."
READS = frozenset({"dup", "data", "line", "input", "output", "is_full", "may_recv", "is_resp"})


@dataclass
class ChannelBuf:
    """One direction's bytes (see the module doc)."""

    is_resp: bool
    data: bytearray = field(default_factory=bytearray)  # input
    out: bytearray = field(default_factory=bytearray)  # output
    orig: int = 0  # how many bytes of the source the channel stands for
    changed: bool = False  # rewritten: the channel's bytes replace the source's
    closed: bool = False  # no more input will come (the peer closed)

    def sync(self, source: bytes) -> bytes:
        """The source's bytes as read now: the input as the script left it, with what came
        since; what the rules' payload fetches see."""
        if not self.changed:
            self.data[:] = source
        else:
            self.data += source[self.orig :]
        self.orig = len(source)
        return bytes(self.data)

    def bytes_out(self) -> bytes:
        return bytes(self.out + self.data)

    def room(self) -> int:
        return max(BUFSIZE - len(self.out) - len(self.data), 0)

    def span(self, offset: int | None, length: int | None) -> tuple[int, int] | bytes:
        """The input's [offset, offset+length) as _hlua_channel's functions take them (a
        negative offset from the end, -1: to the end); an error's text."""
        size = len(self.data)
        start = 0
        if offset is not None:
            start = max(0, size + offset) if offset < 0 else offset
            if start > size:
                return b"offset out of range."
        n = size - start
        if length is not None and length != 0:
            n = size - start if length == -1 else length
            if n < 0 or start + n > size:
                return b"length out of range."
        elif length == 0:
            n = 0
        return start, n

    def insert(self, text: bytes, at: int) -> int:
        if not text:
            return 0
        if len(text) > self.room():
            return -1
        self.data[at:at] = text
        self.changed = True
        return len(text)

    def delete(self, at: int, n: int) -> None:
        if n:
            del self.data[at : at + n]
            self.changed = True

    def forward(self, n: int) -> int:
        n = min(n, len(self.data))
        self.out += self.data[:n]
        del self.data[:n]
        return n


@dataclass
class Channels:
    """A stream's two channels (kept on the stream for its later Lua calls)."""

    req: ChannelBuf = field(default_factory=lambda: ChannelBuf(False))
    res: ChannelBuf = field(default_factory=lambda: ChannelBuf(True))
    response_rules: bool = False  # tcp-response content runs: the response is the source


def run(chn: ChannelBuf, http: bool, op: str, args: list[object]) -> object:
    """One Channel method (hlua_channel_*): its result, or (None, error text)."""
    if op in _LENGTHS:
        return _LENGTHS[op](chn)
    if http:
        return None, HTTP_MODE
    a = [x if isinstance(x, int | bytes) else None for x in args]
    if op in ("dup", "get", "getline"):
        return _take(chn, op)
    if op in ("data", "line", "set", "remove"):
        return _ranged(chn, op, a)
    if op in ("append", "prepend", "insert"):
        return _insert(chn, op, a)
    if op == "send":
        text = a[0] if isinstance(a[0], bytes) else b""
        take = text[: chn.room()]
        chn.out += take
        chn.changed = True
        return len(take)
    if op == "forward":
        return chn.forward(_int(a, 0) or 0)
    return None


_LENGTHS: dict[str, Callable[[ChannelBuf], object]] = {
    "input": lambda c: len(c.data),
    "output": lambda c: len(c.out),
    "is_full": lambda c: c.room() == 0,
    "may_recv": lambda c: not c.closed and c.room() > 0,
    "is_resp": lambda c: c.is_resp,
}


def _take(chn: ChannelBuf, op: str) -> bytes | None:
    """dup (a copy of the input), get (all of it, taken), getline (up to a LF, taken; all
    when there is none: no more will come to this call)."""
    if not chn.data and chn.closed:
        return None
    end = chn.data.find(b"\n") + 1 if op == "getline" else 0
    n = end or len(chn.data)
    got = bytes(chn.data[:n])
    if op != "dup":
        chn.delete(0, n)
    return got


def _ranged(chn: ChannelBuf, op: str, a: list[int | bytes | None]) -> object:
    """data/line (copies), remove, set (the span replaced by a string)."""
    text = a.pop(0) if op == "set" else b""
    span = chn.span(_int(a, 0), _int(a, 1))
    if isinstance(span, bytes):
        return None, span
    start, n = span
    if op == "line":
        cut = chn.data.find(b"\n", start, start + n)
        n = cut + 1 - start if cut >= 0 else n
    if op in ("data", "line"):
        return bytes(chn.data[start : start + n])
    if op == "remove":
        chn.delete(start, n)
        return n
    text = text if isinstance(text, bytes) else b""
    if len(text) > chn.room() + n:
        return -1
    chn.delete(start, n)
    return chn.insert(text, start)


def _insert(chn: ChannelBuf, op: str, a: list[int | bytes | None]) -> object:
    text = a[0] if isinstance(a[0], bytes) else b""
    at = 0  # append too: 2.6's hlua_channel_append inserts at the input's start
    if op == "insert":
        off = _int(a, 1)
        at = len(chn.data)
        if off is not None:
            at = max(0, len(chn.data) + off) if off < 0 else off
            if at > len(chn.data):
                return None, b"offset out of range."
    return chn.insert(text, at)


def _int(a: list[int | bytes | None], i: int) -> int | None:
    v = a[i] if i < len(a) else None
    return v if isinstance(v, int) else None
