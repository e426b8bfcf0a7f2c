"""HAProxy's own answers: its error pages, as it sends them on an HTTP/1 connection.

HAProxy 2.6 keeps one message per status of http_err_codes[] (src/http.c http_err_msgs[]: 200,
400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504) and
sends it one of two ways:

* raw, by the HTTP/1 multiplexer itself, when it refuses what it reads before any stream
  exists (src/mux_h1.c h1_send_error: a request its parser refuses gets 400, 413 or 422; an
  internal error 500; `timeout http-request` 408): the text goes out as written in
  http_err_msgs[], original header case included ("Content-length", "Cache-Control"), and
  the connection is closed after it;
* through HTX, when the stream answers (`http-request deny`, `return`, a 502 for a bad
  response, 503 without a server, 504 on `timeout server`, 500 when a rewrite fails): the text
  is parsed into HTX like any response (http_str_to_htx, which keeps its Connection field) and
  written by the multiplexer (encode.py), so names come out in lower case and a `close` moves
  to a `connection: close` appended last; the client's connection then follows its mode
  (connmode.py), closed for the 400 and 408 whose text says `Connection: close`.

`errorfile` contents are raw messages too: `Answer.of(raw)` turns any of them into what is
sent.  The bytes are checked against the real haproxy's (tests/data/http/answers/).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import connmode
from .encode import outgoing_response
from .events import BodyReceived, HeadReceived
from .framer import Framer
from .message import Body, Flag, ResponseHead

# http_err_msgs[]: status -> (reason, the sentence of the body, Connection: close)
_PAGES: dict[int, tuple[str, str, bool]] = {
    200: ("OK", "Service ready.", False),
    400: ("Bad request", "Your browser sent an invalid request.", True),
    401: ("Unauthorized", "You need a valid user and password to access this content.", False),
    403: ("Forbidden", "Request forbidden by administrative rules.", False),
    404: ("Not Found", "The resource could not be found.", False),
    405: (
        "Method Not Allowed",
        "A request was made of a resource using a request method not supported by that resource",
        False,
    ),
    407: ("Unauthorized", "You need a valid user and password to access this content.", False),
    408: ("Request Time-out", "Your browser didn't send a complete request in time.", True),
    410: (
        "Gone",
        "The resource is no longer available and will not be available again.",
        False,
    ),
    413: ("Payload Too Large", "The request entity exceeds the maximum allowed.", False),
    421: ("Misdirected Request", "Request sent to a non-authoritative server.", False),
    422: ("Unprocessable Content", "The server cannot process the contained instructions.", False),
    425: ("Too Early", "Your browser sent early data.", False),
    429: (
        "Too Many Requests",
        "You have sent too many requests in a given amount of time.",
        False,
    ),
    500: ("Internal Server Error", "An internal server error occurred.", False),
    501: (
        "Not Implemented",
        ".The server does not support the functionality required to fulfill the request.",
        False,
    ),
    502: ("Bad Gateway", "The server returned an invalid or incomplete response.", False),
    503: ("Service Unavailable", "No server is available to handle this request.", False),
    504: ("Gateway Time-out", "The server didn't respond in time.", False),
}

STATUSES = tuple(_PAGES)


def raw_page(status: int) -> bytes:
    """http_err_msgs[] for `status`, byte for byte (what h1_send_error writes)."""
    reason, sentence, closes = _PAGES[status]
    body = f"<html><body><h1>{status} {reason}</h1>\n{sentence}\n</body></html>\n".encode()
    head = f"HTTP/1.1 {status} {reason}\r\nContent-length: {len(body)}\r\n"
    head += "Cache-Control: no-cache\r\n"
    if closes:
        head += "Connection: close\r\n"
    head += "Content-Type: text/html\r\n\r\n"
    return head.encode() + body


@dataclass(frozen=True, slots=True)
class Answer:
    """A message HAProxy sends on its own behalf, parsed as HTX holds it."""

    head: ResponseHead
    body: bytes
    silent: bool = False  # an empty errorfile: the connection closes without a word

    @classmethod
    def nothing(cls, status: int) -> Answer:
        """An empty error message for `status` (`errorfile 503 /dev/null`): http_str_to_htx
        leaves the buffer empty and http_reply_message sends nothing before the stream
        closes the connection; `status` is what is logged and counted."""
        head = ResponseHead(b"HTTP/1.1", status, b"%d" % status, b"", (), Flag.VER_11)
        return cls(head, b"", silent=True)

    @classmethod
    def of(cls, raw: bytes) -> Answer:
        """The answer a raw message (http_err_msgs[], an errorfile) stands for; ValueError if
        it is not one complete HTTP/1 response whose body matches its Content-Length, as
        HAProxy requires of errorfiles (http_str_to_htx).  A message with neither
        Content-Length nor chunked keeps its whole rest as body, of unknown length: it is
        written as is and the connection closed after it (no XFER_LEN)."""
        framer = Framer(request=False)
        events = framer.feed(raw) + framer.feed_eof()
        heads = [e.head for e in events if isinstance(e, HeadReceived)]
        if len(heads) != 1 or not isinstance(heads[0], ResponseHead):
            raise ValueError("not one HTTP/1 response")
        body = b"".join(e.data for e in events if isinstance(e, BodyReceived))
        head = heads[0]
        if head.body is Body.CHUNKED:
            raise ValueError("chunk-encoded payload not supported")
        if head.body is not Body.UNTIL_CLOSE and head.length != len(body):
            raise ValueError("the body does not match its Content-Length")
        if head.flags & (Flag.CONN_CLO | Flag.CONN_KAL):
            # http_str_to_htx() keeps the Connection field the framer's cleaning removed;
            # the writer cleans it again and turns it into the appended value
            value = b"close" if head.flags & Flag.CONN_CLO else b"keep-alive"
            head = replace(head, fields=(*head.fields, (b"connection", value)))
        return cls(head, body)

    @classmethod
    def page(cls, status: int) -> Answer:
        """HAProxy's page for `status` (one of STATUSES)."""
        return _ANSWERS[status]

    def write(
        self,
        client_want: connmode.Want,
        request_method: bytes,
        request_flags: int,
        frontend: connmode.Mode,
        *,
        early: bool = False,
    ) -> tuple[bytes, connmode.Want]:
        """The bytes sent through the stream (HTX form) to a client whose request had
        `request_flags`, and what its connection does next.  `early`: the request was not
        read whole (HAProxy closes then)."""
        out = outgoing_response(self.head, request_method)
        if self.head.status < 200:
            # a 1xx the rules made (`set-status 101` on a `return`): the h1 mux writes no
            # connection field (H1S_F_HAVE_O_CONN) nor length (skipped below 200), what
            # follows a 101 as tunnelled data, and the stream that answered ends: the
            # connection closes (mux_h1.c h1_process_mux, http_reply_and_close)
            return out.write() + self.body, connmode.Want.CLOSE
        want, value = connmode.response_out(
            client_want,
            request_method,
            self.head.status,
            out.flags,
            request_flags=request_flags,
            frontend=frontend,
            early=early,
        )
        body = b"" if request_method == b"HEAD" else self.body
        return out.write(value) + body, want

    @property
    def closes(self) -> bool:
        """The message itself asks for the connection to close (`Connection: close`)."""
        return bool(self.head.flags & Flag.CONN_CLO)


_ANSWERS = {status: Answer.of(raw_page(status)) for status in _PAGES}
