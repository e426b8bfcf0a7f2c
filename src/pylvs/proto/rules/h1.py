"""Between proto/http's framed heads and the messages rules edit.

The HTTP/1 machines (proto/http) frame a `RequestHead`/`ResponseHead` with the flags that
say how the body is delimited; rules read and edit an `HttpMessage` (proto/sample), the form
HTX holds.  A driver turns a framed head into a message before the rule phases, and the
edited message back into a head to forward (the framing flags stay those of the original
head: HAProxy's rules do not change how a body already being read is delimited).  A
`Response` the rules made (deny, return, redirect, auth, error pages) becomes an `Answer`,
which proto/http writes as HAProxy does.
"""

from __future__ import annotations

import dataclasses

from pylvs.proto.http.answers import Answer
from pylvs.proto.http.message import RequestHead, ResponseHead
from pylvs.proto.rules.replies import Response
from pylvs.proto.sample.message import HttpMessage


def request_message(head: RequestHead) -> HttpMessage:
    return HttpMessage.make_request(head.method, head.target, head.fields, head.version)


def response_message(head: ResponseHead) -> HttpMessage:
    return HttpMessage.make_response(head.status, head.reason, head.fields, head.version)


def request_head(msg: HttpMessage, original: RequestHead) -> RequestHead:
    """The edited request, framed as the original."""
    return dataclasses.replace(
        original, method=msg.method, target=msg.uri, fields=tuple(msg.fields)
    )


def response_head(msg: HttpMessage, original: ResponseHead) -> ResponseHead:
    """The edited response, framed as the original (`set-status` changes its code)."""
    code = original.code if msg.status == original.status else str(msg.status).encode()
    return dataclasses.replace(
        original, status=msg.status, code=code, reason=msg.reason, fields=tuple(msg.fields)
    )


def answer(resp: Response) -> Answer:
    """A response the rules made, as proto/http sends HAProxy's own answers."""
    if resp.silent:
        return Answer.nothing(resp.head.status)
    try:
        return Answer.of(resp.raw())
    except ValueError:  # the rules made a message HTTP/1 cannot carry: HAProxy's 500
        return Answer.page(500)


def early_hint(fields: tuple[tuple[bytes, bytes], ...]) -> bytes:
    """A `SendEarlyHint` command's 103 response as HAProxy writes it on HTTP/1.1."""
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in fields)
    return b"HTTP/1.1 103 Early Hints\r\n" + lines + b"\r\n"
