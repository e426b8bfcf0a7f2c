"""HAProxy 2.6's HTTP/1 head grammar, byte for byte: the reference lexer.

A port of the state machine of src/h1.c h1_headers_to_hdr_list() as HAProxy runs it by default
(`option accept-invalid-http-request` off), with the 2.6 maintenance fixes the installed 2.6.12
shows (empty header names and '#' in the target refused).  It decides what HAProxy decides and
says where: the error's state (H1_MSG_*) and byte offset are what `show errors` prints.

It is not the hot path: the framer hands complete heads to llhttp (fast.py) and comes here
when llhttp refuses a head or a field check fails (then this lexer's verdict is final, since
llhttp is stricter than HAProxy in places and more lenient in others), and to scan a head
that has not yet ended for the errors HAProxy reports before the end arrives.

Grammar, per HAProxy (its char classes are in src/http.c http_char_classes[]):
    request  = *(CRLF) method 1*SPHT target 1*SPHT version EOL
    response = *(CRLF) version 1*SPHT code [1*SPHT reason] EOL
    method   = 1*tchar         target = 1*(%x21-7E except '#')
    version  = 1*(A-Z / DIGIT / "." / "/")    code = 1*DIGIT
    field    = 1*tchar ":" *SPHT value EOL    value = *(any byte but CR, LF) with
               obs-fold (EOL followed by SP/HT) turned into spaces
    EOL      = CR LF / LF                     end of head = EOL on a line of its own
A request line with only a method, or only a method and a target, is HTTP/0.9 and refused
later for its version.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from .fields import FieldState, complete
from .message import PARSER_FLAGS, Flag


class State(enum.IntEnum):
    """include/haproxy/h1.h enum h1m_state (the numbers `show errors` prints)."""

    RQBEFORE = 0
    RQBEFORE_CR = 1
    RQMETH = 2
    RQMETH_SP = 3
    RQURI = 4
    RQURI_SP = 5
    RQVER = 6
    RQLINE_END = 7
    RPBEFORE = 8
    RPBEFORE_CR = 9
    RPVER = 10
    RPVER_SP = 11
    RPCODE = 12
    RPCODE_SP = 13
    RPREASON = 14
    RPLINE_END = 15
    HDR_FIRST = 16
    HDR_NAME = 17
    HDR_COL = 18
    HDR_L1_SP = 19
    HDR_L1_LF = 20
    HDR_L1_LWS = 21
    HDR_VAL = 22
    HDR_L2_LF = 23
    HDR_L2_LWS = 24
    LAST_LF = 25
    CHUNK_SIZE = 26
    DATA = 27
    CHUNK_CRLF = 28
    TRAILERS = 29
    DONE = 30
    TUNNEL = 31

    @property
    def label(self) -> str:
        """h1m_state_str()."""
        return f"MSG_{self.name}"


TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
VERCHAR = frozenset(b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
SPHT = frozenset(b" \t")
CRLF = frozenset(b"\r\n")
_TOKEN_RUN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*")
_URI_RUN = re.compile(rb"[\x21\x22\x24-\x7e]*")
_VER_RUN = re.compile(rb"[./0-9A-Z]*")
_VALUE_RUN = re.compile(rb"[^\r\n]*")
_SPHT_RUN = re.compile(rb"[ \t]*")


@dataclass(frozen=True, slots=True)
class LexError:
    """Where and in which state HAProxy's parser stopped (h1m->err_state, err_pos)."""

    state: State
    position: int
    flags: int


@dataclass(slots=True)
class Lexed:
    """A complete head: its start line's three parts and the fields HAProxy kept."""

    parts: tuple[bytes, bytes, bytes]
    status: int
    fields: FieldState
    end: int  # offset of the first byte after the head
    part_offsets: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Partial:
    """A valid beginning of a head: the state and offset HAProxy's parser would stop at."""

    state: State
    position: int


class HeadIncompleteError(Exception):
    """The bytes end before the head does (carries the state reached, for scans)."""

    def __init__(self, state: State, position: int) -> None:
        super().__init__(state, position)
        self.state = state
        self.position = position


class _InvalidError(Exception):
    def __init__(self, state: State, position: int) -> None:
        super().__init__(state, position)
        self.state = state
        self.position = position


class Lexer:
    """One pass of the reference lexer over `buf` (a head from its first byte)."""

    def __init__(self, buf: bytes, request: bool, max_fields: int, rules: bool = True) -> None:
        self.buf = buf
        self.end = len(buf)
        self.request = request
        self.max_fields = max_fields
        self.rules = rules  # apply the field rules (off: grammar only)
        flags = PARSER_FLAGS if request else PARSER_FLAGS | Flag.RESP
        self.st = FieldState(flags, request)

    def run(self) -> Lexed | LexError:
        """Lex the whole head; HeadIncompleteError propagates when the bytes end first."""
        try:
            if self.request:
                parts, offsets, pos, bodyless_09 = self._request_line()
                status = 0
            else:
                parts, offsets, pos = self._status_line()
                status, bodyless_09 = self._status_code(parts[1]), False
            if bodyless_09:
                end = self._last_lf(pos)
            else:
                end = self._fields(pos)
            if self.rules:
                failed = complete(self.st, parts[0], parts[1])
                if failed is not None:
                    raise _InvalidError(State.LAST_LF if failed == "authority" else State.DATA, end)
            return Lexed(parts, status, self.st, end, offsets)
        except _InvalidError as bad:
            return LexError(bad.state, bad.position, self.st.flags)

    def trailers(self) -> int | LexError:
        """Lex a trailer block (h1_parse_msg_tlrs: fields, then an empty line) from offset 0;
        return the offset after it.  Raises HeadIncompleteError."""
        self.st.flags = PARSER_FLAGS | Flag.HDRS_ONLY
        try:
            return self._fields(0)
        except _InvalidError as bad:
            return LexError(bad.state, bad.position, self.st.flags)

    # -- byte helpers ---------------------------------------------------------------------

    def _at(self, pos: int, state: State) -> int:
        if pos >= self.end:
            raise HeadIncompleteError(state, pos)
        return self.buf[pos]

    def _eol(self, pos: int, state: State) -> int:
        """At a CR or LF ending a line: the offset after the line end (CR must precede LF)."""
        if self.buf[pos] == 0x0D:
            if self._at(pos + 1, state) != 0x0A:
                raise _InvalidError(state, pos + 1)
            return pos + 2
        return pos + 1

    def _before(self, pos: int, before: State, before_cr: State) -> int:
        """Skip the empty lines HAProxy tolerates before a start line."""
        while True:
            c = self._at(pos, before)
            if c == 0x0A:
                pos += 1
            elif c == 0x0D:
                if self._at(pos + 1, before_cr) != 0x0A:
                    raise _InvalidError(before_cr, pos + 1)
                pos += 2
            elif c in TCHAR:
                return pos
            else:
                raise _InvalidError(before, pos)

    def _run(self, pattern: re.Pattern[bytes], pos: int) -> int:
        match = pattern.match(self.buf, pos)
        assert match is not None  # every run pattern matches the empty string
        return match.end()

    # -- start lines ----------------------------------------------------------------------

    def _request_line(self) -> tuple[tuple[bytes, bytes, bytes], tuple[int, int, int], int, bool]:
        m0 = self._before(0, State.RQBEFORE, State.RQBEFORE_CR)
        m1 = self._run(_TOKEN_RUN, m0)
        c = self._at(m1, State.RQMETH)
        if c in CRLF:  # HTTP/0.9: a method alone
            return (self.buf[m0:m1], b"", b""), (m0, m1, m1), self._rqline_end(m1, False), True
        if c not in SPHT:
            raise _InvalidError(State.RQMETH, m1)
        u0 = self._run(_SPHT_RUN, m1)
        c = self._at(u0, State.RQMETH_SP)
        if c in CRLF:
            return (self.buf[m0:m1], b"", b""), (m0, u0, u0), self._rqline_end(u0, False), True
        u1, _settled = uri_run(self.buf, u0)
        # A byte past the last whole word (`_settled`) is judged alone, as HAProxy judges it
        # on the bytes it has read: DEL or 0x80..0xa3 there is refused at once (observed:
        # "A \x7f" gets the 400 before the line ends), so the verdict depends on the reads.
        c = self._at(u1, State.RQURI)
        if c in CRLF:
            parts = (self.buf[m0:m1], self.buf[u0:u1], b"")
            return parts, (m0, u0, u1), self._rqline_end(u1, False), True
        if c not in SPHT:
            raise _InvalidError(State.RQURI, u1)  # a control char, DEL, '#' or a byte >= 0x80
        v0 = self._run(_SPHT_RUN, u1)
        c = self._at(v0, State.RQURI_SP)
        if c in CRLF:
            parts = (self.buf[m0:m1], self.buf[u0:u1], b"")
            return parts, (m0, u0, v0), self._rqline_end(v0, False), True
        v1 = self._run(_VER_RUN, v0)
        c = self._at(v1, State.RQVER)
        if c not in CRLF:
            raise _InvalidError(State.RQVER, v1)
        version = self.buf[v0:v1]
        if version_11(version):
            self.st.flags |= Flag.VER_11
        parts = (self.buf[m0:m1], self.buf[u0:u1], version)
        return parts, (m0, u0, v0), self._rqline_end(v1, True), False

    def _rqline_end(self, pos: int, versioned: bool) -> int:
        if not versioned:
            return pos  # HTTP/0.9: the line end is the head's end (see run)
        return self._eol(pos, State.RQLINE_END)

    def _status_line(self) -> tuple[tuple[bytes, bytes, bytes], tuple[int, int, int], int]:
        v0 = self._before(0, State.RPBEFORE, State.RPBEFORE_CR)
        v1 = self._run(_VER_RUN, v0)
        if self._at(v1, State.RPVER) not in SPHT:
            raise _InvalidError(State.RPVER, v1)
        version = self.buf[v0:v1]
        if version_11(version):
            self.st.flags |= Flag.VER_11
        c0 = self._run(_SPHT_RUN, v1)
        if self._at(c0, State.RPVER_SP) in CRLF:
            raise _InvalidError(State.RPVER_SP, c0)
        c1 = c0
        while self._at(c1, State.RPCODE) in b"0123456789":
            c1 += 1
        c = self.buf[c1]
        if c not in SPHT and c not in CRLF:
            raise _InvalidError(State.RPCODE, c1)
        r0 = r1 = c1
        if c in SPHT:
            r0 = self._run(_SPHT_RUN, c1)
            self._at(r0, State.RPCODE_SP)
            r1 = self._run(_VALUE_RUN, r0)
            self._at(r1, State.RPREASON)
        parts = (version, self.buf[c0:c1], self.buf[r0:r1])
        return parts, (v0, c0, r0), self._eol(r1, State.RPLINE_END)

    @staticmethod
    def _status_code(code: bytes) -> int:
        status = 0
        for digit in code:
            status = (status * 10 + digit - 0x30) & 0xFFFF  # HAProxy keeps it in 16 bits
        return status

    # -- header fields --------------------------------------------------------------------

    def _fields(self, pos: int) -> int:
        """Lex the header fields from `pos`; return the offset after the head."""
        while True:
            c = self._at(pos, State.HDR_FIRST)
            if c in CRLF:
                return self._last_lf(pos)
            pos = self._field(pos)

    def _field(self, sol: int) -> int:
        col = self._run(_TOKEN_RUN, sol)
        c = self._at(col, State.HDR_NAME)
        if c != 0x3A or col == sol:  # ':' after a non-empty name
            raise _InvalidError(State.HDR_NAME, col)
        sov = pos = self._run(_SPHT_RUN, col + 1)
        while True:
            pos = self._run(_VALUE_RUN, pos)
            state = State.HDR_L1_LF if pos == sov else State.HDR_L2_LF
            self._at(pos, State.HDR_VAL if pos > sov else State.HDR_L1_SP)
            nxt = self._eol(pos, state)
            follow = State.HDR_L2_LWS if pos > sov else State.HDR_L1_LWS
            if self._at(nxt, follow) not in SPHT:
                break
            pos = nxt  # obs-fold: the line end becomes spaces inside the value
        if not self.rules:
            return nxt
        value = self.buf[sov:pos].replace(b"\r", b" ").replace(b"\n", b" ").strip(b" \t")
        if len(self.st.kept) > self.max_fields:
            raise _InvalidError(State.HDR_L2_LWS, nxt)
        if not self.st.take(self.buf[sol:col], value):
            raise _InvalidError(State.HDR_L2_LWS, sov + _lead(self.buf, sov, pos))
        return nxt

    def _last_lf(self, pos: int) -> int:
        if len(self.st.kept) > self.max_fields:
            raise _InvalidError(State.LAST_LF, pos)
        if self.buf[pos] == 0x0D:
            pos += 1
        if self._at(pos, State.LAST_LF) != 0x0A:
            raise _InvalidError(State.LAST_LF, pos)
        return pos + 1


def uri_run(buf: bytes, pos: int) -> tuple[int, int]:
    """Where HAProxy's H1_MSG_RQURI state stops taking bytes into the target, and from where
    that depends on bytes not yet received.

    HAProxy (on little-endian machines, HA_UNALIGNED_LE) first skips whole 4-byte words with a
    SWAR test meant to find bytes outside 0x24..0x7e; borrows make it skip a word whose bytes
    all lie in 0x24..0xa3 unless they all lie at or above 0x7f, so DEL and 0x80..0xa3 pass
    inside such a word, and are refused elsewhere by the byte-by-byte check that follows
    (0x21..0x7e except '#').  The skip needs four bytes in the buffer: near its end the
    bytes left (returned as the second value) are judged one by one.
    """
    end = len(buf)
    while pos + 4 <= end:
        x = (int.from_bytes(buf[pos : pos + 4], "little") - 0x24242424) & 0xFFFFFFFF
        if x & 0x80808080 or not ((x - 0x5B5B5B5B) & 0xFFFFFFFF) & 0x80808080:
            match = _URI_RUN.match(buf, pos)
            assert match is not None
            return match.end(), end
        pos += 4
    match = _URI_RUN.match(buf, pos)
    assert match is not None
    return match.end(), pos


def version_11(version: bytes) -> bool:
    """HAProxy's H1_MF_VER_11 test on the raw version (major > 1, or 1 with minor >= 1)."""
    return len(version) == 8 and (version[5] > 0x31 or (version[5] == 0x31 and version[7] >= 0x31))


def _lead(buf: bytes, sov: int, eol: int) -> int:
    """Offset of the trimmed value inside the raw one (HAProxy points errors at it)."""
    i = sov
    while i < eol and buf[i] in b" \t\r\n":
        i += 1
    return i - sov


def lex(buf: bytes, request: bool, max_fields: int) -> Lexed | LexError:
    """Lex a complete head (raises HeadIncompleteError if `buf` ends before the head does)."""
    return Lexer(buf, request, max_fields).run()


def scan(buf: bytes, request: bool) -> LexError | Partial | int:
    """Check a head whose end has not been seen for the errors HAProxy reports early.

    Returns the error; or, for a valid beginning, where the parser stands; or the offset at
    which the grammar ends the head before an empty line does (an HTTP/0.9 request line).
    Only the grammar is checked, as on HAProxy's resumed passes; the field rules apply once
    the head is complete.
    """
    try:
        result = Lexer(buf, request, 1 << 30, rules=False).run()
    except HeadIncompleteError as short:
        return Partial(short.state, short.position)
    return result if isinstance(result, LexError) else result.end
