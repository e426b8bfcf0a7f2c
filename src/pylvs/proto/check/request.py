"""The bytes of an HTTP check's request, as HAProxy 2.6 writes them.

HAProxy builds the request as an HTX message (src/tcpcheck.c tcpcheck_eval_send, case
TCPCHK_SEND_HTTP) and its H1 multiplexer writes it (src/mux_h1.c).  Recorded from the real
haproxy (tests/data/haproxy/checks): the request line keeps the method and URI and writes
the version as HTTP/1.1 when it is 1.1 or more, else HTTP/1.0; header names go out in
lower case in the order given (a `connection: close` of an HTTP/1.0 request is dropped: 1.0
implies it), then `x-haproxy-server-state` (`http-check send-state`), `content-length`
with a body or for a method other than OPTIONS, GET, HEAD and DELETE (2.6.12 has d48bfb698),
and `connection: close` for HTTP/1.1 when the rule gave no `connection`
header.  `host` is not added.  Over HTTP/2 (check/h2.py) the same message goes in frames.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.check.rules import HttpSend
from pylvs.proto.check.sample import Context, render


def version_11(version: str) -> bool:
    """tcpcheck_eval_send: "HTTP/2" or "HTTP/x.y" with x.y >= 1.1 counts as 1.1."""
    v = version
    if len(v) == 6 and v[5] == "2":
        return True
    return len(v) == 8 and (v[5] > "1" or (v[5] == "1" and v[7] >= "1"))


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """The request a rule makes, before a multiplexer writes it: names in lower case, in
    the order they go out (HTTP/1 adds `connection: close` to a 1.1 one when writing)."""

    method: bytes
    uri: bytes
    v11: bool
    fields: tuple[tuple[bytes, bytes], ...]
    body: bytes
    connection: bool  # the rule gave a `connection` header


def parts(rule: HttpSend, ctx: Context, server_state: str | None) -> CheckRequest:
    """tcpcheck_eval_send's HTX message for `rule`."""
    method = rule.method or "OPTIONS"
    if rule.uri_fmt is not None:
        uri = render(rule.uri_fmt, ctx) or b"/"
    else:
        uri = (rule.uri or "/").encode("latin-1")
    v11 = version_11(rule.version or "HTTP/1.0")
    fields: list[tuple[bytes, bytes]] = []
    connection = False
    for name, fmt in rule.headers:
        value = render(fmt, ctx)
        if not value:
            continue
        lname = name.lower().encode("latin-1")
        if lname == b"connection":
            connection = True
            if not v11 and value.lower() == b"close":
                continue
        fields.append((lname, value))
    if server_state is not None:
        fields.append((b"x-haproxy-server-state", server_state.encode("latin-1")))
    if rule.body_fmt is not None:
        body = render(rule.body_fmt, ctx)
    else:
        body = (rule.body or "").encode("latin-1")
    if body or method not in ("OPTIONS", "GET", "HEAD", "DELETE"):
        fields.append((b"content-length", b"%d" % len(body)))
    return CheckRequest(method.encode("latin-1"), uri, v11, tuple(fields), body, connection)


def http1(req: CheckRequest) -> bytes:
    """The request as the H1 multiplexer writes it."""
    lines = [b"%s %s %s" % (req.method, req.uri, b"HTTP/1.1" if req.v11 else b"HTTP/1.0")]
    lines += [name + b": " + value for name, value in req.fields]
    if req.v11 and not req.connection:
        lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + req.body


def build(rule: HttpSend, ctx: Context, server_state: str | None) -> tuple[bytes, bytes]:
    """The HTTP/1 request bytes and the method (the response's framing depends on it)."""
    req = parts(rule, ctx, server_state)
    return http1(req), req.method
