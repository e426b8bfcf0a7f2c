"""`req.proto_http` on a stream that is not HTTP yet: the request's first bytes parsed as
an HTTP/1 head (src/http_fetch.c smp_prefetch_htx's RAW branch, HAProxy 2.6).

A tcp frontend's content rules ask it (the `HTTP` predefined ACL) before `switch-mode http`.
HAProxy runs h1_headers_to_hdr_list on the buffer: a complete head with a valid grammar is
HTTP (the HTTP/2 preface too: "PRI * HTTP/2.0" and an empty header block); a head not
complete yet may still become one (SMP_F_MAY_CHANGE, the rules wait) unless the buffer is
full; an HTTP/0.9 request line counts only for GET with a target.  On an HTTP stream the
answer is always yes.
"""

from __future__ import annotations

from pylvs.proto.http.syntax import HeadIncompleteError, LexError, lex
from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import WAIT, Args, Wait, fetch
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp

MAX_HDR = 101  # global.tune.max_http_hdr
FULL = 16384 - 1024  # channel_full(&s->req, global.tune.maxrewrite)


def raw_request(data: bytes, *, final: bool) -> bool | None:
    """Whether `data` starts with a whole HTTP/1 request head; None while it may still."""
    try:
        lexed = lex(data, True, MAX_HDR)
    except HeadIncompleteError:
        return False if final or len(data) >= FULL else None
    if isinstance(lexed, LexError):
        return False
    method, target, version = lexed.parts
    return bool(version) or (method == b"GET" and bool(target))


@fetch("req.proto_http", "req_proto_http")
def _proto_http(s: Stream, a: Args) -> Smp | Wait | None:
    if s.request is not None:
        return Smp(ty.BOOL, 1)
    if s.in_response:
        return None
    got = raw_request(s.req_payload, final=s.final)
    if got is None:
        return WAIT
    return Smp(ty.BOOL, 1) if got else None
