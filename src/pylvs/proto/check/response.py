"""What an HTTP check has received: the response as HAProxy's H1 multiplexer hands it over.

HAProxy reads an HTTP check's response through its H1 multiplexer into an HTX message
(src/tcpcheck.c tcpcheck_eval_recv, tcpcheck_eval_expect_http): nothing is visible until the
head is complete; then the status line and the headers (names lower-cased), the body as it
arrives, and "end of message" once it is all there.  A response the parser refuses sets a
parsing-error flag.  proto/http's `Framer` frames the bytes by the same rules.

The body kept is bounded by the buffer the check reads into (tune.bufsize): when it is full
the check decides on what it has (`full`).
"""

from __future__ import annotations

from pylvs.proto.check.sample import HttpView
from pylvs.proto.http.events import (
    BodyReceived,
    FramerEvent,
    HeadReceived,
    MessageEnded,
    MessageRejected,
    MessageTruncated,
    TunnelReceived,
)
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.limits import DEFAULT_LIMITS
from pylvs.proto.http.message import ResponseHead

# Room for the body in the check's buffer: tune.bufsize less the HTX header and the
# head's blocks (an approximation of htx_free_data_space; the head's size is subtracted).
BODY_ROOM = DEFAULT_LIMITS.bufsize - 48


class HttpResponse:
    """The response to an HTTP check, fed with bytes as they arrive."""

    __slots__ = ("_framer", "body", "eom", "head", "parsing_error", "truncated")

    def __init__(self, method: bytes = b"GET") -> None:
        self._framer = Framer(request=False)
        self._framer.expect(method)
        self.head: ResponseHead | None = None
        self.body = bytearray()
        self.eom = False  # HTX_FL_EOM: the whole message was received
        self.parsing_error = False  # HTX_FL_PARSING_ERROR
        self.truncated = False  # the peer closed inside the body

    @property
    def empty(self) -> bool:
        """htx_is_empty: nothing handed over yet (the head is not complete)."""
        return self.head is None and not self.parsing_error

    @property
    def full(self) -> bool:
        """!htx_free_data_space: the buffer cannot take more."""
        return self.head is not None and len(self.body) >= self._room()

    def _room(self) -> int:
        head = self.head
        if head is None:
            return BODY_ROOM
        used = 28 + len(head.version) + len(head.code) + len(head.reason) + 9
        used += sum(8 + len(n) + len(v) for n, v in head.fields)
        return max(0, BODY_ROOM - used)

    def feed(self, data: bytes) -> int:
        """Take received bytes; returns how many became part of the message (a head
        counts only once complete), as the multiplexer's rcv_buf would."""
        before = self._size()
        self._apply(self._framer.feed(data))
        return self._size() - before

    def feed_eof(self) -> None:
        """The server closed: a response without a complete head is a parsing error (the
        H1 multiplexer ends the message with HTX_FL_PARSING_ERROR; recorded: "Layer7
        invalid response" without information, for no answer at all too)."""
        self._apply(self._framer.feed_eof())
        if self.head is None:
            self.parsing_error = True

    def _size(self) -> int:
        return (1 if self.head is not None else 0) + len(self.body)

    def _apply(self, events: list[FramerEvent]) -> None:
        for ev in events:
            if isinstance(ev, HeadReceived):
                if self.head is None and isinstance(ev.head, ResponseHead):
                    self.head = ev.head
            elif isinstance(ev, BodyReceived | TunnelReceived):
                room = self._room() - len(self.body)
                if room > 0:
                    self.body += ev.data[:room]
            elif isinstance(ev, MessageEnded):
                self.eom = True
            elif isinstance(ev, MessageTruncated):
                self.truncated = True
            elif isinstance(ev, MessageRejected):
                self.parsing_error = True

    def view(self) -> HttpView | None:
        head = self.head
        if head is None:
            return None
        return HttpView(head.status, head.reason, head.version, head.fields, bytes(self.body))
