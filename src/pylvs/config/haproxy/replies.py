"""HTTP replies a haproxy.cfg defines: `errorfile` files and the `status ... content-type ...
string|file|errorfile|errorfiles|lf-string|lf-file ... hdr ...` arguments of `http-error`,
`http-request return` and `deny`/`tarpit` (src/http_htx.c `http_parse_http_reply`,
`http_load_errorfile`, `http_str_to_htx`; HAProxy 2.6).

Files are read through the host facts (the reader stays pure); without them a file is named,
not read.  Errors and warnings carry HAProxy's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.config.keywords import HostFacts

# The status codes HAProxy has a built-in error page for (http_err_codes[]).
ERROR_CODES = frozenset(
    {200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504}
)
_STATUS_LINE = re.compile(rb"(HTTP/[0-9]\.[0-9]) ([0-9]{3})(?:[ \t][^\r\n]*)?\r?\n")
_BODY_KINDS = frozenset(
    ("errorfiles", "default-errorfiles", "errorfile", "file", "string", "lf-file", "lf-string")
)
_IGNORED_HEADERS = frozenset({"content-length", "transfer-encoding", "content-type"})


class ReplyError(ValueError):
    """A reply HAProxy refuses (its message)."""


@dataclass(frozen=True, slots=True)
class HttpReply:
    """What HAProxy answers: `kind` is "empty" or how the body is given (`errorfile`, `string`,
    `lf-string`, `file`, `lf-file`, `errorfiles`, `default-errorfiles`); `body` is the string,
    format, file content or http-errors section name; `path` the file it came from."""

    status: int
    kind: str = "empty"
    content_type: str | None = None
    body: str | bytes | None = None
    path: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # (name, log-format value)


def load_errorfile(path: str, host: HostFacts | None) -> bytes | None:
    """An error file's content as http_load_errorfile checks it (None: not read, no host
    facts); raises ReplyError with HAProxy's message."""
    if host is None or host.read_file is None:
        return None
    raw = host.read_file(path)
    if raw is None:
        raise ReplyError(f"error opening file '{path}'.")
    if not raw:
        return raw
    head = _STATUS_LINE.match(raw)
    if head is None or not (b"\r\n\r\n" in raw or b"\n\n" in raw):
        raise ReplyError(f"'{path}': unable to parse headers (error offset: 0)")
    status = int(head.group(2))
    if status < 200 and (status == 100 or status >= 102):
        raise ReplyError(f"'{path}': invalid http status code for an error message ({status})")
    problem = _payload_problem(raw, status)
    if problem:
        raise ReplyError(f"'{path}': {problem}")
    return raw


def _payload_problem(raw: bytes, status: int) -> str | None:
    """http_str_to_htx's checks of the body against the head: none is expected of a 204 or
    304 or after a Content-Length of 0, a chunked one is refused, and a Content-Length must
    be the size of what follows the head."""
    cut = raw.find(b"\r\n\r\n")
    head, body = (raw[:cut], raw[cut + 4 :]) if cut >= 0 else raw.partition(b"\n\n")[::2]
    length: int | None = None
    chunked = False
    for line in head.replace(b"\r\n", b"\n").split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip(b" \t")
        if name == b"content-length" and value.isdigit():
            length = int(value)
        elif name == b"transfer-encoding" and value.lower().split(b",")[-1].strip() == b"chunked":
            chunked = True
    if status in (204, 304) or (not chunked and length == 0):
        return "message payload not expected" if body else None
    if chunked:
        return "chunk-encoded payload not supported"
    if length is not None and length != len(body):
        return f"payload size does not match the announced content-length ({len(body)} != {length})"
    return None


def parse_reply(
    words: Sequence[str], start: int, default_status: int, host: HostFacts | None
) -> tuple[HttpReply, int, list[str]]:
    """The reply arguments from words[start] on: the reply, the index of the first word that
    is not part of it, and HAProxy's warnings.  Raises ReplyError."""
    status, ctype, kind, body, path = default_status, None, "empty", None, None
    headers: list[tuple[str, str]] = []
    warnings: list[str] = []
    i = start

    def arg(n: int, what: str) -> str:
        if n >= len(words) or not words[n]:
            raise ReplyError(f"'{words[n - 1]}' expects {what} as argument")
        return words[n]

    while i < len(words) and words[i]:
        word = words[i]
        if word == "status":
            status = _atol(arg(i + 1, "<status_code>"))
            if not 200 <= status <= 599:
                raise ReplyError(f"Unexpected status code '{status}'")
            i += 2
        elif word == "content-type":
            ctype = arg(i + 1, "<ctype>")
            i += 2
        elif word in _BODY_KINDS:
            if kind != "empty":
                raise ReplyError(f"unexpected '{word}' argument, '{kind}' already defined")
            kind = word
            if word == "default-errorfiles":
                i += 1
                continue
            what = {"errorfiles": "<name>", "string": "<str>", "lf-string": "<fmt>"}
            value = arg(i + 1, what.get(word, "<fmt>" if word == "errorfile" else "<file>"))
            body, path = _body(word, value, host)
            i += 2
        elif word == "hdr":
            if i + 2 >= len(words) or not words[i + 1] or not words[i + 2]:
                raise ReplyError("'hdr' expects <name> and <value> as arguments")
            if words[i + 1].lower() in _IGNORED_HEADERS:
                warnings.append(f"header '{words[i + 1]}' always ignored by the http reply.")
            else:
                headers.append((words[i + 1], words[i + 2]))
            i += 3
        else:
            break
    reply = HttpReply(status, kind, ctype, body, path, tuple(headers))
    return _checked(reply, warnings), i, warnings


def _body(kind: str, value: str, host: HostFacts | None) -> tuple[str | bytes | None, str | None]:
    if kind == "errorfile":
        return load_errorfile(value, host), value
    if kind in ("file", "lf-file"):
        if host is None or host.read_file is None:
            return None, value
        raw = host.read_file(value)
        if raw is None:
            raise ReplyError(f"error opening file '{value}'")
        return raw, value
    return value, None


def _checked(reply: HttpReply, warnings: list[str]) -> HttpReply:
    """The consistency rules at the end of http_parse_http_reply."""
    ctype = reply.content_type
    if reply.kind == "empty":
        if ctype:
            warnings.append(
                f"content-type '{ctype}' ignored by the http reply because neither errorfile"
                " nor payload defined."
            )
            ctype = None
    elif reply.kind in ("errorfiles", "default-errorfiles", "errorfile"):
        if reply.kind != "errorfile" and reply.status not in ERROR_CODES:
            raise ReplyError(
                f"status code '{reply.status}' not handled by default with '{reply.kind}' argument."
            )
        if ctype:
            warnings.append(
                f"content-type '{ctype}' ignored by the http reply when used with an erorrfile."
            )
            ctype = None
        if reply.headers:
            warnings.append("hdr parameters ignored by the http reply when used with an erorrfile.")
    elif reply.kind in ("string", "file"):
        size = len(reply.body) if reply.body is not None else 1
        if reply.status in (204, 304) and size:
            raise ReplyError(f"No body expected for {reply.status} responses")
        if not ctype and size:
            raise ReplyError("a content type must be defined when non-empty payload is configured")
        if ctype and not size:
            warnings.append(
                f"content-type '{ctype}' ignored by the http reply when used with an empty payload."
            )
            ctype = None
    else:  # lf-string, lf-file
        if reply.status in (204, 304):
            raise ReplyError(f"No body expected for {reply.status} responses")
        if not ctype:
            raise ReplyError("a content type must be defined with a log-format payload")
    if ctype == reply.content_type:
        return reply
    return HttpReply(reply.status, reply.kind, ctype, reply.body, reply.path, reply.headers)


def _atol(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = re.match(r"[+-]?([0-9]*)", text)
    value = digits.group(1) if digits else ""
    return sign * int(value[:12]) if value else 0
