"""HTTP replies the rules send: `deny`, `tarpit`, `return`, `auth`, `redirect` and the error
pages, built as HAProxy builds them into HTX (src/http_ana.c http_reply_to_htx,
http_error_message, http_apply_redirect_rule; src/http.c http_get_reason; HAProxy 2.6).

A reply is either an error message (an `errorfile`, an `http-errors` section's file, or
HAProxy's own page for the status: `ErrorMessage`), or a status with optional headers and a
payload (`Built`: none, a file's bytes, or a log-format string).  Building one gives a
`Response`: the head as an `HttpMessage` (names in lower case, in HTX order) and the body.
A built reply's head is `HTTP/1.1 <status> <reason>`, then its `hdr` lines (those whose
value is empty are left out), `content-length`, and `content-type` when there is a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pylvs.proto.rules.logfmt import LogFormat
from pylvs.proto.sample.message import HttpMessage
from pylvs.proto.sample.stream import Stream

# http.c http_get_reason
REASONS: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    210: "Content Different",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    310: "Too many Redirects",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Time-out",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Requested range unsatisfiable",
    417: "Expectation failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Content",
    423: "Locked",
    424: "Method failure",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    449: "Retry With",
    450: "Blocked by Windows Parental Controls",
    451: "Unavailable For Legal Reasons",
    456: "Unrecoverable Error",
    499: "client has closed connection",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway or Proxy Error",
    503: "Service Unavailable",
    504: "Gateway Time-out",
    505: "HTTP Version not supported",
    506: "Variant also negotiate",
    507: "Insufficient storage",
    508: "Loop detected",
    509: "Bandwidth Limit Exceeded",
    510: "Not extended",
    511: "Network authentication required",
    520: "Web server is returning an unknown error",
}
_CLASSES = {1: "Informational", 2: "Success", 3: "Redirection", 4: "Client Error"}
_CLASSES[5] = "Server Error"


def reason(status: int) -> bytes:
    """http_get_reason: the reason phrase HAProxy writes for `status`."""
    if status in REASONS:
        return REASONS[status].encode()
    return _CLASSES.get(status // 100, "Other").encode()


@dataclass(frozen=True, slots=True)
class Response:
    """A response the proxy sends: its head and its whole body."""

    head: HttpMessage
    body: bytes
    silent: bool = False  # an empty error message: nothing is sent, the connection closes

    def raw(self) -> bytes:
        """The response as HTTP/1 text (names as HTX holds them: lower case)."""
        h = self.head
        lines = [b"%s %d %s" % (h.version, h.status, h.reason)]
        lines += [n + b": " + v for n, v in h.fields]
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body


def parse_raw(raw: bytes) -> Response:
    """An errorfile or error page (already checked when the configuration was read) as HTX
    holds it: header names in lower case, values trimmed."""
    head, _, body = raw.partition(b"\r\n\r\n")
    if not _:
        head, _, body = raw.partition(b"\n\n")
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, why = rest.partition(b" ")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields.append((name.strip().lower(), value.strip(b" \t")))
    msg = HttpMessage.make_response(int(code), why, fields, version)
    return Response(msg, body)


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    """An error message reply: `raw` is an errorfile's content; None means "the proxy's
    message for the status" (default-errorfiles, deny without arguments)."""

    status: int
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class Built:
    """A reply made of a status, headers and an optional payload (string, file or
    log-format)."""

    status: int
    headers: tuple[tuple[bytes, LogFormat], ...] = ()
    content_type: bytes | None = None
    body: bytes | LogFormat | None = None


Reply = ErrorMessage | Built


@dataclass(frozen=True, slots=True)
class ErrorPages:
    """The messages a proxy answers errors with: its `errorfile`/`errorfiles`/`http-error`
    replies by status (http_error_message looks in the backend's, then the frontend's, then
    HAProxy's own pages)."""

    replies: Mapping[int, Reply] = field(default_factory=dict)


def default_page(status: int) -> bytes:
    """HAProxy's page for `status` (http_err_msgs[]); 500 for a status without one."""
    from pylvs.proto.http.answers import STATUSES, raw_page

    return raw_page(status if status in STATUSES else 500)


def error_message(status: int, backend: ErrorPages | None, frontend: ErrorPages | None) -> Reply:
    """http_error_message: what answers `status`."""
    code = status if status in _ERR_CODES else 500
    for pages in (backend, frontend):
        if pages is not None and code in pages.replies:
            return pages.replies[code]
    return ErrorMessage(code, default_page(code))


_ERR_CODES = frozenset(
    {200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504}
)


def build(
    reply: Reply, s: Stream, backend: ErrorPages | None, frontend: ErrorPages | None
) -> Response:
    """http_reply_to_htx: the response for `reply` on stream `s`."""
    if isinstance(reply, ErrorMessage):
        if reply.raw is None:
            found = error_message(reply.status, backend, frontend)
            if isinstance(found, Built):
                return build(found, s, None, None)
            raw = found.raw if found.raw is not None else default_page(found.status)
        else:
            raw = reply.raw
        if not raw:  # `errorfile N /dev/null`
            status = reply.status
            return Response(HttpMessage.make_response(status, reason(status), []), b"", True)
        return parse_raw(raw)
    if isinstance(reply.body, LogFormat):
        body = reply.body.build(s)
    else:
        body = reply.body or b""
    fields: list[tuple[bytes, bytes]] = []
    for name, fmt in reply.headers:
        value = fmt.build(s)
        if value:
            fields.append((name.lower(), value))
    fields.append((b"content-length", str(len(body)).encode()))
    if body and reply.content_type:
        fields.append((b"content-type", reply.content_type))
    msg = HttpMessage.make_response(reply.status, reason(reply.status), fields)
    return Response(msg, body)
