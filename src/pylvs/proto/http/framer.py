"""One direction of an HTTP/1 connection, bytes in, framing events out (sans I/O).

A `Framer` reads requests (a client's side) or responses (a server's side) the way HAProxy 2.6's
H1 multiplexer does (src/mux_h1.c h1_process_demux): it waits for a head to end, within
`tune.bufsize`; hands the complete head to llhttp (fast.py) or, when llhttp will not take it,
to the reference lexer (syntax.py); applies HAProxy's post-parse (head.py); then frames the
body by the head's verdict: Content-Length bytes counted, chunked decoded (chunked.py), a
response without a length read to EOF, a 101 or a 2xx to CONNECT turned into a tunnel.

A head that has not ended is checked on arrival for the errors HAProxy reports before the end
(a TLS handshake sent to a plain port is answered at once, as HAProxy does).

After `MessageEnded` the framer holds whatever follows until the owner says what it is: the
next message (`next_message()`, once the transaction is over, as HAProxy parses a pipelined
request only after the previous response) or tunnel bytes (`tunnel()`, after a 101).  The
held bytes are `buffered`; a driver stops reading while they fill the buffer HAProxy has.
A refused message ends the framer: `MessageRejected` carries the status HAProxy answers.

A driver may let a body go on without the framer (`handover()`: the relay's C path reads it,
pylvs.proto.relay.body) and tell it how the body ended (`passed()`): it goes on from there,
reading a chunked body's trailer block itself.
"""

from __future__ import annotations

import enum

from pylvs.proto.relay.body import BodyEnded, ChunkRefused, ChunksRelayed, Relayed

from .chunked import ChunkedDecoder, ChunkError, Step
from .events import (
    MESSAGE_ENDED,
    MESSAGE_TRUNCATED,
    BodyReceived,
    FramerEvent,
    HeadReceived,
    MessageRejected,
    TunnelReceived,
)
from .fast import FastLexer
from .head import Refusal, request_head, response_head
from .limits import DEFAULT_LIMITS, Limits
from .message import PARSER_FLAGS, Body, Flag, RequestHead, ResponseHead
from .syntax import HeadIncompleteError, LexError, Partial, State, lex, scan


class Phase(enum.Enum):
    HEAD = "head"  # waiting for (the rest of) a head
    LENGTH = "length"  # counting Content-Length bytes
    CHUNKED = "chunked"  # decoding chunks
    UNTIL_CLOSE = "until-close"  # a response body that ends at EOF
    HELD = "held"  # a message ended; what follows waits for next_message()/tunnel()
    TUNNEL = "tunnel"  # raw bytes
    DEAD = "dead"  # the peer closed or a message was refused


class Framer:
    """Frames requests (`request=True`) or responses read from one peer."""

    __slots__ = (
        "_buf",
        "_chunks",
        "_fast",
        "_limits",
        "_method",
        "_remaining",
        "_scanned",
        "phase",
        "request",
    )

    def __init__(self, request: bool, limits: Limits = DEFAULT_LIMITS) -> None:
        self.request = request
        self._limits = limits
        self._fast = FastLexer(request)
        self._buf = b""
        self._scanned = -1  # buffer length at the last early scan (-1: none yet)
        self._remaining = 0
        self._chunks: ChunkedDecoder | None = None
        self._method = b"GET"
        self.phase = Phase.HEAD

    @property
    def buffered(self) -> int:
        """Bytes received and not yet framed (a partial head, or what follows a message)."""
        return len(self._buf)

    def expect(self, method: bytes) -> None:
        """Responses: the method of the request the next response answers (HEAD and CONNECT
        change its framing)."""
        self._method = method

    def feed(self, data: bytes) -> list[FramerEvent]:
        """Frame `data`, the next bytes read from the peer."""
        out: list[FramerEvent] = []
        if self.phase is Phase.DEAD or not data:
            return out
        if self.phase is Phase.TUNNEL:
            out.append(TunnelReceived(data))
            return out
        self._buf = self._buf + data if self._buf else data
        if self.phase is not Phase.HELD:
            self._run(out, data)
            if not self.request and out and isinstance(out[-1], MessageRejected):
                _refuse_whole(out)
        return out

    def feed_eof(self) -> list[FramerEvent]:
        """The peer closed its side: end a body that runs to EOF, report a cut body, refuse a
        cut head (observed: a request head then a shutdown gets HAProxy's raw 400)."""
        out: list[FramerEvent] = []
        phase = self.phase
        if phase is Phase.UNTIL_CLOSE:
            out.append(MESSAGE_ENDED)
        elif phase in (Phase.LENGTH, Phase.CHUNKED):
            out.append(MESSAGE_TRUNCATED)
        elif phase is Phase.HEAD and self._buf:
            # a head cut by the peer's close: HAProxy answers a 400 (a response: a 502)
            flags = PARSER_FLAGS if self.request else PARSER_FLAGS | Flag.RESP
            status = 400 if self.request else 502
            self._reject(out, Refusal(status, *self._stopped_at(), flags))
        if self.phase is not Phase.HELD:
            self.phase = Phase.DEAD
        return out

    def next_message(self) -> list[FramerEvent]:
        """The transaction is over: frame the bytes held after the last message."""
        out: list[FramerEvent] = []
        if self.phase is Phase.HELD:
            self.phase = Phase.HEAD
            self._scanned = -1
            if self._buf:
                self._run(out, self._buf)
        return out

    def handover(self) -> tuple[Phase, int] | None:
        """Whether the body being read can go on without this framer (the relay's C path,
        pylvs.proto.relay.body) and how: (LENGTH, the bytes left), (CHUNKED, the data left in
        the chunk being read: 0 at a size line's start), (UNTIL_CLOSE, 0); None while bytes
        wait here or the chunked reader is between a chunk's data and its size line."""
        if self._buf:
            return None
        phase = self.phase
        if phase is Phase.LENGTH:
            return phase, self._remaining
        if phase is Phase.CHUNKED:
            chunks = self._chunks
            assert chunks is not None
            if chunks.step is Step.SIZE:
                return phase, 0
            if chunks.step is Step.DATA:
                return phase, chunks.remaining
            return None
        if phase is Phase.UNTIL_CLOSE:
            return phase, 0
        return None

    def passed(self, ended: BodyEnded) -> list[FramerEvent]:
        """The body handed over (`handover`) ended as `ended` says: go on from there (a
        chunked body's trailer block is read here, by the field rules)."""
        out: list[FramerEvent] = []
        if isinstance(ended, Relayed):
            self._remaining -= ended.n
            if self._remaining <= 0:
                self._end(out)
        elif isinstance(ended, ChunksRelayed):
            chunks = self._chunks
            assert chunks is not None
            chunks.step = Step.TRAILERS
            self._buf = ended.trailers
            if not self._chunked(out) and self.phase is Phase.CHUNKED:
                # an unfinished block (cut at the cap): refused as a head that does not end
                flags = PARSER_FLAGS | Flag.CHNK | (0 if self.request else Flag.RESP)
                status = 400 if self.request else 502
                self._reject(out, Refusal(status, State.TRAILERS, len(self._buf), flags))
        elif isinstance(ended, ChunkRefused):
            flags = PARSER_FLAGS | Flag.CHNK | (0 if self.request else Flag.RESP)
            status = 400 if self.request else 502
            self._reject(out, Refusal(status, State.CHUNK_SIZE, 0, flags))
        else:  # BodyCut: the peer closed before the body ended
            out.append(MESSAGE_TRUNCATED)
            self.phase = Phase.DEAD
        return out

    def tunnel(self) -> list[FramerEvent]:
        """The connection switched protocols: everything from here on is passed raw."""
        out: list[FramerEvent] = []
        if self.phase is Phase.HELD:
            self.phase = Phase.TUNNEL
            if self._buf:
                out.append(TunnelReceived(self._buf))
                self._buf = b""
        return out

    # -- framing --------------------------------------------------------------------------

    def _run(self, out: list[FramerEvent], fresh: bytes) -> None:
        while self._buf:
            phase = self.phase
            if phase is Phase.HEAD:
                if not self._head(out, fresh):
                    return
            elif phase is Phase.LENGTH:
                take = min(self._remaining, len(self._buf))
                out.append(BodyReceived(self._buf[:take] if take < len(self._buf) else self._buf))
                self._buf = self._buf[take:]
                self._remaining -= take
                if not self._remaining:
                    self._end(out)
            elif phase is Phase.CHUNKED:
                if not self._chunked(out):
                    return
            elif phase is Phase.UNTIL_CLOSE:
                out.append(BodyReceived(self._buf))
                self._buf = b""
            else:
                return

    def _end(self, out: list[FramerEvent]) -> None:
        out.append(MESSAGE_ENDED)
        self.phase = Phase.HELD

    def _chunked(self, out: list[FramerEvent]) -> bool:
        chunks = self._chunks
        assert chunks is not None
        try:
            used = chunks.decode(self._buf, out)
        except ChunkError as bad:
            flags = PARSER_FLAGS | Flag.CHNK | (0 if self.request else Flag.RESP)
            status = 400 if self.request else 502
            self._reject(out, Refusal(status, bad.state, bad.position, flags))
            return False
        self._buf = self._buf[used:]
        if chunks.step is Step.DONE:
            self._chunks = None
            self._end(out)
            return True
        return bool(used)

    def _head(self, out: list[FramerEvent], fresh: bytes) -> bool:
        """Frame a head if it is complete; False while it is not (or once refused)."""
        buf = self._buf
        end = _head_end(buf, self._limits.raw_head + 3)
        if end < 0 or end > self._limits.raw_head:
            end = self._early_scan(out, fresh)
            if end <= 0:
                return False
        head = self._parse(buf, end)
        if isinstance(head, Refusal):
            self._reject(out, head)
            return False
        out.append(HeadReceived(head))
        self._buf = buf[end:]
        self._start_body(out, head)
        return True

    def _early_scan(self, out: list[FramerEvent], fresh: bytes) -> int:
        """A head without its end: refuse it if it is too big or already broken; return the
        head's end if the grammar ends it (HTTP/0.9), else 0."""
        buf = self._buf
        flags = PARSER_FLAGS if self.request else PARSER_FLAGS | Flag.RESP
        status = 400 if self.request else 502
        if len(buf) >= self._limits.raw_head:
            state, position = self._stopped_at()
            self._reject(out, Refusal(status, state, position, flags))
            return 0
        if self._scanned >= 0 and b"\n" not in fresh and len(buf) - self._scanned < 1024:
            return 0  # scan again once a line ends (HAProxy resumes where it stopped)
        self._scanned = len(buf)
        found = scan(buf, self.request)
        if isinstance(found, LexError):
            self._reject(out, Refusal(status, found.state, found.position, found.flags))
            return 0
        return found if isinstance(found, int) else 0

    def _stopped_at(self) -> tuple[State, int]:
        found = scan(self._buf, self.request)
        if isinstance(found, Partial):
            return found.state, found.position
        if isinstance(found, LexError):
            return found.state, found.position
        return State.LAST_LF, found

    def _parse(self, buf: bytes, end: int) -> RequestHead | ResponseHead | Refusal:
        limits = self._limits
        fast = self._fast.lex(buf[:end], limits.max_fields)
        if fast is not None:
            parts, status, st = fast
            version_at = 0  # only used for refusals, which are redone below
            if self.request:
                head: RequestHead | ResponseHead | Refusal = request_head(
                    parts, st, end, version_at, limits
                )
            else:
                head = response_head(
                    parts,
                    status,
                    st,
                    end,
                    version_at=version_at,
                    request_method=self._method,
                    limits=limits,
                )
            if not isinstance(head, Refusal):
                return head
        return self._reference(buf)

    def _reference(self, buf: bytes) -> RequestHead | ResponseHead | Refusal:
        """The reference lexer's verdict (final), with HAProxy's error positions."""
        status = 400 if self.request else 502
        try:
            lexed = lex(buf, self.request, self._limits.max_fields)
        except HeadIncompleteError as short:
            flags = PARSER_FLAGS if self.request else PARSER_FLAGS | Flag.RESP
            return Refusal(status, short.state, short.position, flags)
        if isinstance(lexed, LexError):
            return Refusal(status, lexed.state, lexed.position, lexed.flags)
        if lexed.end > self._limits.raw_head:
            return Refusal(status, State.LAST_LF, lexed.end, lexed.fields.flags)
        version_at = lexed.part_offsets[2 if self.request else 0]
        if self.request:
            return request_head(lexed.parts, lexed.fields, lexed.end, version_at, self._limits)
        return response_head(
            lexed.parts,
            lexed.status,
            lexed.fields,
            lexed.end,
            version_at=version_at,
            request_method=self._method,
            limits=self._limits,
        )

    def _start_body(self, out: list[FramerEvent], head: RequestHead | ResponseHead) -> None:
        body = head.body
        if isinstance(head, ResponseHead) and head.informational:
            return  # the final response's head follows
        if body is Body.NONE:
            self._end(out)
        elif body is Body.LENGTH:
            self._remaining = head.length
            self.phase = Phase.LENGTH
        elif body is Body.CHUNKED:
            self._chunks = ChunkedDecoder(self._limits)
            self.phase = Phase.CHUNKED
        elif body is Body.UNTIL_CLOSE:
            self.phase = Phase.UNTIL_CLOSE
        else:  # a tunnel: the response's side switches at once
            self._end(out)
            self._tunnel_now(out)

    def _tunnel_now(self, out: list[FramerEvent]) -> None:
        self.phase = Phase.TUNNEL
        if self._buf:
            out.append(TunnelReceived(self._buf))
            self._buf = b""

    def _reject(self, out: list[FramerEvent], refusal: Refusal) -> None:
        out.append(MessageRejected(refusal, self._buf[: self._limits.raw_head]))
        self._buf = b""
        self.phase = Phase.DEAD


def _refuse_whole(out: list[FramerEvent]) -> None:
    """A response refused in the read that brought its head (a bad first chunk-size line):
    HAProxy's mux parses the body read with the head before the stream's analyser takes the
    head, and the parsing error makes that analyser answer its 502 (http_wait_for_response,
    HTX_FL_PARSING_ERROR), so the head is not forwarded: drop it and its body here."""
    for i in range(len(out) - 2, -1, -1):
        event = out[i]
        if isinstance(event, HeadReceived):
            head = event.head
            if not (isinstance(head, ResponseHead) and head.informational):
                del out[i:-1]
            return


def _head_end(buf: bytes, limit: int = 1 << 30) -> int:
    """Offset after the first empty line that follows a start line, or -1 (looked for in the
    first `limit` bytes)."""
    lead = 0
    if buf[:1] in (b"\r", b"\n"):
        lead = len(buf) - len(buf[:limit].lstrip(b"\r\n"))
    a = buf.find(b"\n\r\n", lead, limit)
    b = buf.find(b"\n\n", lead, limit if a < 0 else a + 2)
    if a < 0:
        return -1 if b < 0 else b + 2
    if b < 0:
        return a + 3
    return b + 2
