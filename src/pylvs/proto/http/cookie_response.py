"""The response side of cookie persistence (proto/http/cookies.py has the request side and
the rules' sources): the server's own Set-Cookie headers deleted, rewritten or prefixed
(src/http_ana.c http_manage_server_side_cookies), then HAProxy's Set-Cookie and, with
`nocache`, `Cache-control: private` added when the insertion block of
http_process_res_common() says so, with the cacheability rules of
http_check_response_for_cacheability (2.6.12, with commit 879debee: a response with neither
freshness nor validator is not cacheable) and `option checkcache`'s verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.proxy_spec import CookieSpec
from pylvs.proto.http.cookies import (
    SPHT,
    Fields,
    RequestCookies,
    ServerCookie,
    del_value,
    hdr_value_end,
    s30tob64,
    scan,
    strip_equal,
)

EXPIRED = b"=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"
# Statuses whose responses are cacheable by default (RFC 7231 6.1; http_process_res_common).
_CACHEABLE_STATUS = frozenset((200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501))
_SAFE_METHODS = frozenset((b"GET", b"HEAD", b"OPTIONS", b"TRACE"))


@dataclass(frozen=True, slots=True)
class ResponseCookies:
    """The response side's outcome: the fields to send, the Set-Cookie state, and whether
    `option checkcache` blocks the response (a cacheable response that sets a cookie)."""

    fields: Fields
    state: ServerCookie = ServerCookie.NONE
    blocked: bool = False


def request_cacheable(method: bytes) -> bool:
    """TX_CACHEABLE at request time: GET, HEAD, OPTIONS and TRACE are safe methods."""
    return method in _SAFE_METHODS


def _values(fields: Fields, name: bytes) -> list[bytes]:
    """Every comma-separated value of every `name` field, spaces trimmed (full=0 look-ups)."""
    out = []
    for n, v in fields:
        if n != name:
            continue
        s = 0
        while s <= len(v):
            e = hdr_value_end(v, s, len(v))
            out.append(v[s:e].strip(SPHT))
            s = e + 1
    return out


def response_cacheable(status: int, fields: Fields, request_cacheable: bool) -> tuple[bool, bool]:
    """(TX_CACHEABLE, TX_CACHE_COOK) of a response, when `nocache` or `option checkcache`
    asks: the status check, then http_check_response_for_cacheability (a `public` directive
    makes even a response of another status cacheable, as there)."""
    cacheable = cook = request_cacheable and status in _CACHEABLE_STATUS
    if status < 200:
        return False, False
    pragma = next((v for n, v in fields if n == b"pragma"), None)
    if pragma is not None and pragma.lower() == b"no-cache":
        return False, False
    fresh = False
    for v in _values(fields, b"cache-control"):
        low = v.lower()
        if low == b"public":
            cacheable = cook = True
        elif low in (b"private", b"no-cache", b"no-store", b"max-age=0", b"s-maxage=0"):
            cacheable = cook = False
        elif low.startswith(b'no-cache="set-cookie'):
            cook = False
        elif low.startswith((b"s-maxage", b"max-age")):
            fresh = True
    if not fresh and not any(n in (b"expires", b"etag", b"last-modified") for n, _ in fields):
        cacheable = False
    return cacheable, cook


@dataclass(frozen=True, slots=True)
class _ResponseContext:
    spec: CookieSpec
    name: bytes
    server: bytes | None  # the server's cookie value
    has_server: bool
    direct: bool
    ignore: bool


def response(
    fields: Fields,
    spec: CookieSpec | None,
    status: int,
    client: RequestCookies | None,
    *,
    server_cookie: bytes | None,
    has_server: bool = True,
    direct: bool = False,
    post: bool = False,
    ignore: bool = False,
    cacheable: bool = False,
    checkcache: bool = False,
    now: int = 0,
) -> ResponseCookies:
    """The response's cookie edits: the server's Set-Cookie headers, then HAProxy's own.

    `direct` is whether the stream still goes to the server the cookie named (a redispatch
    clears it), `post` whether the request was a POST, `cacheable` request_cacheable() of the
    request's method, `checkcache` `option checkcache`.  Interim (1xx but 101) responses are
    not passed here."""
    if spec is None and not checkcache:
        return ResponseCookies(fields)
    state = ServerCookie.NONE
    present = any(n in (b"set-cookie", b"set-cookie2") for n, _ in fields)
    if spec is not None and present:
        ctx = _ResponseContext(spec, spec.name.encode(), server_cookie, has_server, direct, ignore)
        fields, state = _server_side(fields, ctx)
    cache = cook = cacheable and status in _CACHEABLE_STATUS
    if checkcache or (spec is not None and spec.nocache):
        cache, cook = response_cacheable(status, fields, cacheable)
    if spec is not None and _inserts(
        spec,
        client,
        state=state,
        has_server=has_server,
        direct=direct,
        post=post,
        ignore=ignore,
        now=now,
    ):
        line = _set_cookie(spec, server_cookie, client, now)
        fields = (*fields, (b"set-cookie", line))
        state = ServerCookie.UPDATED if server_cookie and direct else ServerCookie.INSERTED
        if spec.nocache and cache:
            cache = cook = False
            fields = (*fields, (b"cache-control", b"private"))
    blocked = checkcache and present and cache and cook
    return ResponseCookies(fields, state, blocked)


def _inserts(
    spec: CookieSpec,
    client: RequestCookies | None,
    *,
    state: ServerCookie,
    has_server: bool,
    direct: bool,
    post: bool,
    ignore: bool,
    now: int,
) -> bool:
    """Whether HAProxy adds its Set-Cookie (the condition of http_process_res_common)."""
    if not (has_server and spec.insert) or ignore:
        return False
    if state is not ServerCookie.NONE and spec.preserve:
        return False
    if spec.postonly and not post:
        return False
    first = client.first_date if client is not None else 0
    last = client.last_date if client is not None else 0
    return bool(
        not direct
        or ((spec.maxidle_s or last) and (not last or last - now < 0))
        or (spec.maxlife_s and not first)
        or (not spec.maxlife_s and first)
    )


def _set_cookie(
    spec: CookieSpec, server: bytes | None, client: RequestCookies | None, now: int
) -> bytes:
    name = spec.name.encode()
    if not server:
        line = name + EXPIRED
    else:
        line = name + b"=" + server
        if spec.maxidle_s or spec.maxlife_s:
            line += b"|" + s30tob64((now + 3) >> 2)
            if spec.maxlife_s:
                first = client.first_date if client is not None else 0
                line += b"|" + s30tob64(first >> 2 if first else (now + 3) >> 2)
        line += b"; path=/"
    if spec.domain:
        line += b"; domain=" + spec.domain.encode()
    if spec.httponly:
        line += b"; HttpOnly"
    if spec.secure:
        line += b"; Secure"
    if spec.attrs:
        line += b"; " + spec.attrs.encode()
    return line


def _server_side(fields: Fields, ctx: _ResponseContext) -> tuple[Fields, ServerCookie]:
    """http_manage_server_side_cookies: every Set-Cookie, then every Set-Cookie2."""
    state = ServerCookie.NONE
    out = list(fields)
    for kind in (b"set-cookie", b"set-cookie2"):
        i = 0
        while i < len(out):
            name, value = out[i]
            if name != kind:
                i += 1
                continue
            kept, state = _server_header(value, kind == b"set-cookie2", ctx, state)
            if kept is None:
                del out[i]
                continue
            out[i] = (name, kept)
            i += 1
    return tuple(out), state


def _server_header(
    value: bytes, cookie2: bool, ctx: _ResponseContext, state: ServerCookie
) -> tuple[bytes | None, ServerCookie]:
    buf = bytearray(value)
    hdr_end = length = len(buf)  # `length`: the block's value length (may lag hdr_end)
    prev, first = 0, True
    stops = b";," if cookie2 else b";"
    spec = ctx.spec
    while prev < hdr_end:
        a = scan(buf, prev, first, hdr_end, stops)
        first = False
        if a.nxt < hdr_end:
            a.nxt = hdr_value_end(buf, a.nxt, hdr_end) if cookie2 else hdr_end
        if a.equal == a.val_end:
            prev = a.nxt
            continue
        if a.att_end != a.equal or a.val_beg > a.equal + 1:
            a.val_beg, shift = strip_equal(buf, a.att_end, a.equal, a.val_beg, hdr_end)
            a.att_end = a.att_end
            a.val_end += shift
            a.nxt += shift
            hdr_end += shift
            length = hdr_end
        if ctx.ignore or bytes(buf[a.att_beg : a.att_end]) != ctx.name:
            prev = a.nxt
            continue
        state = ServerCookie.FOUND
        if spec.preserve:
            pass
        elif (ctx.has_server and spec.insert) or (ctx.direct and spec.indirect):
            if prev == 0 and a.nxt == hdr_end:
                return None, ServerCookie.DELETED
            delta, prev = del_value(buf, 0, hdr_end, prev, a.nxt)
            a.nxt = prev
            hdr_end += delta
            state = ServerCookie.DELETED
        elif ctx.has_server and ctx.server and (spec.rewrite or spec.prefix):
            new = ctx.server if spec.rewrite else ctx.server + b"~"
            cut = a.val_end if spec.rewrite else a.val_beg
            buf[a.val_beg : cut] = new
            delta = len(new) - (cut - a.val_beg)
            a.nxt += delta
            hdr_end += delta
            length += delta
            state = ServerCookie.REPLACED
        prev = a.nxt
    return bytes(buf[:length]), state


def captured(fields: Fields, prefix: bytes, length: int, *, response: bool) -> bytes | None:
    """`capture cookie NAME len N` (the %CC and %CS log fields): the first cookie whose
    `name=value`, spaces around '=' removed, begins with NAME, cut to N bytes; from the
    request's Cookie headers (`$` attributes and words without '=' skipped) or the first
    cookie of each response Set-Cookie, then of each Set-Cookie2 (http_manage_client_side_
    cookies, http_manage_server_side_cookies)."""
    kinds = (b"set-cookie", b"set-cookie2") if response else (b"cookie",)
    for kind in kinds:
        for name, value in fields:
            if name == kind:
                got = _captured_in(value, prefix, length, kind)
                if got is not None:
                    return got
    return None


def _captured_in(value: bytes, prefix: bytes, length: int, kind: bytes) -> bytes | None:
    buf = bytearray(value)
    hdr_end = len(buf)
    prev, first = 0, True
    stops = b";" if kind == b"set-cookie" else b",;"
    while prev < hdr_end:
        a = scan(buf, prev, first, hdr_end, stops)
        first = False
        if kind != b"cookie" and a.nxt < hdr_end:
            a.nxt = hdr_end if kind == b"set-cookie" else hdr_value_end(buf, a.nxt, hdr_end)
        skip = a.equal == a.val_end
        if kind == b"cookie":
            skip = buf[a.att_beg : a.att_beg + 1] == b"$" or a.equal == a.nxt
        if skip:
            prev = a.nxt
            continue
        if a.att_end != a.equal or a.val_beg > a.equal + 1:
            a.val_beg, shift = strip_equal(buf, a.att_end, a.equal, a.val_beg, hdr_end)
            a.val_end += shift
            a.nxt += shift
            hdr_end += shift
        cookie = bytes(buf[a.att_beg : a.val_end])
        if len(cookie) >= len(prefix) and cookie.startswith(prefix):
            return cookie[:length]
        prev = a.nxt
    return None
