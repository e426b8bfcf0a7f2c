"""Chunked transfer coding, read by HAProxy 2.6's rules (RFC 9112 section 7.1).

include/haproxy/h1.h h1_parse_chunk_size() and h1_skip_chunk_crlf(), src/h1_htx.c
h1_parse_msg_tlrs():
    chunk-size line = 1*HEXDIG *SPHT [ ";" anything-but-CRLF ] (CRLF / LF)
    a chunk size of 2^52 or more is refused (HAProxy never lets one reach a float-based peer)
    chunk data is followed by CRLF or a bare LF
    the last chunk (size 0) is followed by trailer fields, read as header fields (same
    grammar, same field rules, same limits), then an empty line.
llhttp's chunk grammar differs from HAProxy's both ways (it refuses extensions that are not
token=value, a bare LF after the size, and accepts sizes up to 2^64), and httptools reports
neither chunk sizes nor error offsets, so a divergence found in the middle of a body could
not be settled without having kept the body; this decoder is HAProxy's rules instead.  It
looks at each size line with one find() and hands the chunk data on in slices, never
buffering more than one size line or trailer block.
"""

from __future__ import annotations

import enum
import re

from .events import BodyReceived, FramerEvent, TrailersReceived
from .limits import Limits, htx_fields_size
from .message import Fields
from .syntax import HeadIncompleteError, Lexer, LexError, State

_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?(\r?)\n")
_MAX_CHUNK = 1 << 52


class Step(enum.Enum):
    SIZE = State.CHUNK_SIZE
    DATA = State.DATA
    CRLF = State.CHUNK_CRLF
    TRAILERS = State.TRAILERS
    DONE = State.DONE


class ChunkError(Exception):
    """The coding broke HAProxy's rules at `position` (relative to the bytes given)."""

    def __init__(self, state: State, position: int) -> None:
        super().__init__(state, position)
        self.state = state
        self.position = position


class ChunkedDecoder:
    """Feed it the bytes after a chunked head; it yields body and trailer events."""

    __slots__ = ("_limits", "remaining", "step")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self.step = Step.SIZE
        self.remaining = 0  # chunk bytes still to come (DATA)

    def decode(self, data: bytes, out: list[FramerEvent]) -> int:
        """Consume what it can of `data`, appending events; return the bytes consumed.

        Stops early (consuming less) when a size line, a CRLF or the trailer block is not
        complete, and once the message is done.  Raises ChunkError.
        """
        pos = 0
        end = len(data)
        pieces: list[bytes] = []  # contiguous data becomes one event (one HTX block)
        while pos < end and self.step is not Step.DONE:
            if self.step is Step.DATA:
                take = min(self.remaining, end - pos)
                pieces.append(data[pos : pos + take] if take < end - pos or pos else data)
                pos += take
                self.remaining -= take
                if not self.remaining:
                    self.step = Step.CRLF
            elif self.step is Step.SIZE:
                used = self._size_line(data, pos)
                if not used:
                    break
                pos += used
            elif self.step is Step.CRLF:
                used = _crlf(data, pos)
                if not used:
                    break
                pos += used
                self.step = Step.SIZE
            else:
                if pieces:
                    out.append(BodyReceived(b"".join(pieces)))
                    pieces = []
                used = self._trailers(data, pos, out)
                if not used:
                    break
                pos += used
        if pieces:
            out.append(BodyReceived(pieces[0] if len(pieces) == 1 else b"".join(pieces)))
        return pos

    def _size_line(self, data: bytes, pos: int) -> int:
        match = _SIZE_LINE.match(data, pos)
        if match is None:
            _check_partial_size(data, pos)
            return 0
        digits = match.group(1).lstrip(b"0")
        if len(digits) > 13 or int(digits or b"0", 16) >= _MAX_CHUNK:
            raise ChunkError(State.CHUNK_SIZE, pos)
        size = int(digits or b"0", 16)
        if size:
            self.remaining = size
            self.step = Step.DATA
        else:
            self.step = Step.TRAILERS
        return match.end() - pos

    def _trailers(self, data: bytes, pos: int, out: list[FramerEvent]) -> int:
        """The trailer block: header fields up to an empty line, with the head's limits."""
        block = data[pos:]
        lexer = Lexer(block, request=False, max_fields=self._limits.max_fields)
        try:
            end = lexer.trailers()
        except HeadIncompleteError:
            if len(block) >= self._limits.raw_head:
                raise ChunkError(State.TRAILERS, pos + len(block)) from None
            return 0
        if isinstance(end, LexError):
            raise ChunkError(State.TRAILERS, pos + end.position)
        fields: Fields = tuple(lexer.st.kept)
        if htx_fields_size(fields) > self._limits.htx_room:
            raise ChunkError(State.TRAILERS, pos + end)
        if fields:
            out.append(TrailersReceived(fields))
        self.step = Step.DONE
        return end


def _crlf(data: bytes, pos: int) -> int:
    """h1_skip_chunk_crlf(): CRLF or LF after chunk data; 0 if not there yet."""
    c = data[pos]
    if c == 0x0A:
        return 1
    if c != 0x0D:
        raise ChunkError(State.CHUNK_CRLF, pos)
    if pos + 1 >= len(data):
        return 0
    if data[pos + 1] != 0x0A:
        raise ChunkError(State.CHUNK_CRLF, pos + 1)
    return 2


_PARTIAL_SIZE = re.compile(rb"([0-9A-Fa-f]*)[ \t]*(?:;[^\r\n]*)?\r?")


def _check_partial_size(data: bytes, pos: int) -> None:
    """A size line that has not ended: raise if it can no longer become a valid one."""
    match = _PARTIAL_SIZE.match(data, pos)
    assert match is not None  # every part is optional
    digits = match.group(1)
    if not digits and match.end() > pos:
        raise ChunkError(State.CHUNK_SIZE, pos)  # no size before blanks or an extension
    # The size first, as h1_parse_chunk_size() refuses it while reading the digits: the
    # verdict must not depend on whether the line's later bytes came in the same read.
    if len(digits.lstrip(b"0")) > 13 or (digits and int(digits, 16) >= _MAX_CHUNK):
        raise ChunkError(State.CHUNK_SIZE, pos)
    if match.end() < len(data):
        raise ChunkError(State.CHUNK_SIZE, match.end())
