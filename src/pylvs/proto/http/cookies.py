"""Cookie persistence as HAProxy 2.6 does it: `cookie NAME insert|rewrite|prefix ...` and the
servers' `cookie` values.  This module is the request side and the scanning both sides
share; cookie_response.py the response side.

Rules from src/http_ana.c: http_manage_client_side_cookies() (`request`: find the
persistence cookie in every Cookie header, pick the first server whose cookie it names,
check `maxidle`/`maxlife` dates, drop the cookie in insert+indirect mode, strip the server's
prefix in prefix mode), http_manage_server_side_cookies() and the insertion block of
http_process_res_common() (`response`: delete, rewrite or prefix the server's own Set-Cookie,
then add HAProxy's Set-Cookie and, with `nocache`, `Cache-control: private`), the cacheability
checks (http_check_response_for_cacheability, as 2.6.12 has it with commit 879debee: a
response without freshness or validator is not cacheable), base64.c's s30tob64/b64tos30 for
the dates, and server.c srv_set_dyncookie for `dynamic` cookies.

Header values are edited as HAProxy edits them in place, pointer for pointer: spaces around
'=' are removed, a deleted cookie takes its delimiter along (http_del_hdr_value), and a
Set-Cookie2 value from which a cookie is cut in the middle keeps its old length (HAProxy does
not shorten that block: what follows is the rest of the old bytes).  Fields are
`(lower-case name, value)` pairs as proto/http's heads carry them; added fields go last, named
as HAProxy's HTX names them (`set-cookie`, `cache-control`).  `now` is the wall clock in
seconds (HAProxy's `date.tv_sec`).  Golden data: tests/data/http/cookies.json, recorded from
haproxy 2.6.12 by tests/data/http/capture_cookies.py.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

from pylvs.model.proxy_spec import CookieSpec

Fields = tuple[tuple[bytes, bytes], ...]

SPHT = b" \t"
DELIM = 0x7E  # '~': COOKIE_DELIM, prefix mode
DATE_DELIM = 0x7C  # '|': COOKIE_DELIM_DATE
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_REV = {c: i for i, c in enumerate(_B64)}


class ClientCookie(enum.IntEnum):
    """TX_CK_*: what the request's persistence cookie was (log letters `NIDVEOU`)."""

    NONE = 0
    INVALID = 1  # names no server
    DOWN = 2  # names a server that is down
    VALID = 3  # names a usable server: the request goes there
    EXPIRED = 4  # maxidle passed
    OLD = 5  # maxlife passed
    UNUSED = 6  # persistence ignored, or a server was already assigned

    @property
    def letter(self) -> str:
        return "NIDVEOU"[self]


class ServerCookie(enum.IntEnum):
    """TX_SCK_*: what happened to the response's persistence cookie (letters `NPDIRU`)."""

    NONE = 0
    FOUND = 1  # the server set one, left as it was (passive)
    DELETED = 2
    INSERTED = 3
    REPLACED = 4  # rewritten or prefixed
    UPDATED = 5  # HAProxy's own, re-sent with a new date

    @property
    def letter(self) -> str:
        return "NPDIRU"[self]


@dataclass(frozen=True, slots=True)
class RequestCookies:
    """The request side's outcome: the fields to forward, the server the cookie designates
    (an index into the candidates; the stream goes there directly, SF_DIRECT), the cookie's
    state and the dates it carried (seconds; 0: none)."""

    fields: Fields
    server: int | None = None
    state: ClientCookie = ClientCookie.NONE
    first_date: int = 0
    last_date: int = 0


# -- base64 dates (src/base64.c) -----------------------------------------------------------


def s30tob64(value: int) -> bytes:
    """30 bits as 5 characters, most significant first, no padding."""
    return bytes(_B64[(value >> (24 - 6 * i)) & 0x3F] for i in range(5))


def b64tos30(text: bytes) -> int:
    """The 30-bit value of 5 characters; -1 if one is not in the alphabet."""
    out = 0
    for c in text[:5]:
        v = _B64_REV.get(c)
        if v is None:
            return -1
        out = (out << 6) + v
    return out


def dynamic_cookie(
    key: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int
) -> str:
    """srv_set_dyncookie: XXH64 (seed 0) of the key, the address's bytes and the port as a
    big-endian 32-bit word, printed as 16 hex digits."""
    data = key.encode() + address.packed + port.to_bytes(4, "big")
    return f"{xxhash.xxh64_intdigest(data, 0):016x}"


# -- scanning helpers (src/http.c) ---------------------------------------------------------


def _unquoted_end(buf: bytes | bytearray, s: int, e: int, stops: tuple[int, ...]) -> int:
    """The first byte of `stops` from `s` outside a quoted string (with its backslash
    pairs), else `e`: the scan of http_find_cookie_value_end / http_findhdr_value_end."""
    quoted = qdpair = False
    while s < e:
        c = buf[s]
        if qdpair:
            qdpair = False
        elif quoted:
            if c == 0x5C:
                qdpair = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
        elif c in stops:
            return s
        s += 1
    return s


def _cookie_value_end(buf: bytearray, s: int, e: int) -> int:
    """http_find_cookie_value_end: the first unquoted ',' or ';' from `s`, else `e`."""
    return _unquoted_end(buf, s, e, (0x2C, 0x3B))


def hdr_value_end(buf: bytes | bytearray, s: int, e: int) -> int:
    """http_findhdr_value_end: the first unquoted ',' from `s`, else `e`."""
    return _unquoted_end(buf, s, e, (0x2C,))


def _move(buf: bytearray, dst: int, src: int, n: int) -> None:
    """memmove within the value (the buffer keeps its size, as the HTX block does)."""
    if n > 0:
        buf[dst : dst + n] = buf[src : src + n]


def del_value(buf: bytearray, start: int, end: int, frm: int, nxt: int) -> tuple[int, int]:
    """http_del_hdr_value: remove [frm, nxt) with its delimiter; (delta, new frm)."""
    prev = frm
    if prev == start:
        if nxt < end:
            nxt += 1
        while nxt < end and buf[nxt] in SPHT:
            nxt += 1
    else:
        while buf[prev - 1] in SPHT:
            prev -= 1
        frm = prev
        if nxt < end:
            buf[prev] = buf[nxt]
            prev, nxt = prev + 1, nxt + 1
            if prev + 1 < nxt:
                buf[prev] = 0x20
                prev += 1
            while nxt < end and buf[nxt] in SPHT:
                nxt += 1
    _move(buf, prev, nxt, end - nxt)
    return prev - nxt, frm


def strip_equal(
    buf: bytearray, att_end: int, equal: int, val_beg: int, hdr_end: int
) -> tuple[int, int]:
    """Remove the spaces around '=' (both parsers do it); (val_beg, shift) after it."""
    before = 0
    if att_end != equal:
        _move(buf, att_end, equal, hdr_end - equal)
        before = att_end - equal
        equal += before
        val_beg += before
    if val_beg > equal + 1:
        _move(buf, equal + 1, val_beg, hdr_end + before - val_beg)
        after = equal + 1 - val_beg
        val_beg += after
        before += after
    return val_beg, before


@dataclass(slots=True)
class _Attr:
    """One `name[=value]` of a cookie header: HAProxy's att_beg .. next pointers."""

    att_beg: int
    att_end: int
    equal: int
    val_beg: int
    val_end: int
    nxt: int


def scan(buf: bytearray, prev: int, first: bool, hdr_end: int, stops: bytes) -> _Attr:
    att_beg = prev if first else prev + 1
    while att_beg < hdr_end and buf[att_beg] in SPHT:
        att_beg += 1
    equal = att_end = att_beg
    while equal < hdr_end:
        c = buf[equal]
        if c == 0x3D or c in stops:
            break
        equal += 1
        if c not in SPHT:
            att_end = equal
    if equal < hdr_end and buf[equal] == 0x3D:
        val_beg = equal + 1
        while val_beg < hdr_end and buf[val_beg] in SPHT:
            val_beg += 1
        nxt = _cookie_value_end(buf, val_beg, hdr_end)
        val_end = nxt
        while val_end > val_beg and buf[val_end - 1] in SPHT:
            val_end -= 1
    else:
        val_beg = val_end = nxt = equal
    return _Attr(att_beg, att_end, equal, val_beg, val_end, nxt)


# -- the request side ----------------------------------------------------------------------


@dataclass(slots=True)
class _Txn:
    server: int | None = None
    state: ClientCookie = ClientCookie.NONE
    first_date: int = 0
    last_date: int = 0


@dataclass(frozen=True, slots=True)
class _RequestContext:
    spec: CookieSpec
    name: bytes
    servers: Sequence[tuple[bytes | None, bool]]
    now: int
    persist: bool
    skip: bool  # SF_IGNORE_PRST or SF_ASSIGNED
    assigned: bool


def request(
    fields: Fields,
    spec: CookieSpec,
    servers: Sequence[tuple[bytes | None, bool]],
    *,
    now: int,
    persist: bool = False,
    force: bool = False,
    ignore: bool = False,
    assigned: bool = False,
) -> RequestCookies:
    """http_manage_client_side_cookies over a request's fields.

    `servers` are the backend's servers in configuration order as (cookie value or None,
    running); `persist` is `option persist` (a server that is down is still used), `force`
    a `force-persist` rule that matched, `ignore` an `ignore-persist` one, `assigned` a
    server already chosen (`use-server`)."""
    ctx = _RequestContext(
        spec, spec.name.encode(), servers, now, persist or force, ignore or assigned, assigned
    )
    txn = _Txn()
    out: list[tuple[bytes, bytes]] = []
    for name, value in fields:
        if name != b"cookie":
            out.append((name, value))
            continue
        kept = _request_header(value, ctx, txn)
        if kept is not None:
            out.append((name, kept))
    return RequestCookies(tuple(out), txn.server, txn.state, txn.first_date, txn.last_date)


def _request_header(value: bytes, ctx: _RequestContext, txn: _Txn) -> bytes | None:
    buf = bytearray(value)
    hdr_end = len(buf)
    del_from: int | None = None
    preserve = False
    prev, first = 0, True
    while prev < hdr_end:
        a = scan(buf, prev, first, hdr_end, b",;")
        first = False
        if a.att_beg < hdr_end and buf[a.att_beg] == 0x24:  # '$': RFC 2109 attributes
            prev = a.nxt
            continue
        if a.equal == a.nxt:  # no '=': not ours, the header stays
            preserve = True
            if del_from is not None:
                delta, del_from = del_value(buf, 0, hdr_end, del_from, prev)
                a.nxt += delta
                hdr_end += delta
                del_from = None
            prev = a.nxt
            continue
        if a.att_end != a.equal or a.val_beg > a.equal + 1:
            a.val_beg, shift = strip_equal(buf, a.att_end, a.equal, a.val_beg, hdr_end)
            a.att_end = a.equal = a.att_end
            a.val_end += shift
            a.nxt += shift
            hdr_end += shift
        if bytes(buf[a.att_beg : a.att_end]) == ctx.name:
            delim = _persistence_cookie(buf, a, ctx, txn)
            spec = ctx.spec
            if spec.prefix and delim != a.val_end:
                n = hdr_end - (delim + 1)
                _move(buf, a.val_beg, delim + 1, n)
                delta = a.val_beg - (delim + 1)
                a.nxt += delta
                hdr_end += delta
                del_from = None
                preserve = True
            elif del_from is None and spec.insert and spec.indirect:
                del_from = prev
        else:
            preserve = True
            if del_from is not None:
                delta, del_from = del_value(buf, 0, hdr_end, del_from, prev)
                a.nxt += delta
                hdr_end += delta
                del_from = None
        prev = a.nxt
    if del_from is not None:
        hdr_end = del_from if preserve else 0
    return bytes(buf[:hdr_end]) if hdr_end else None


def _persistence_cookie(buf: bytearray, a: _Attr, ctx: _RequestContext, txn: _Txn) -> int:
    """The persistence cookie's value: its dates, its server; returns `delim` (the end of
    the server part)."""
    spec = ctx.spec
    if spec.prefix:
        delim = a.val_beg
        while delim < a.val_end and buf[delim] != DELIM:
            delim += 1
    else:
        delim = _dates(buf, a, txn)
    if (
        txn.first_date
        and spec.maxlife_s
        and (ctx.now - txn.first_date > spec.maxlife_s or txn.first_date - ctx.now > 86400)
    ):
        txn.state, delim = ClientCookie.OLD, a.val_beg
        txn.first_date = txn.last_date = 0
    elif (
        txn.last_date
        and spec.maxidle_s
        and (ctx.now - txn.last_date > spec.maxidle_s or txn.last_date - ctx.now > 86400)
    ):
        txn.state, delim = ClientCookie.EXPIRED, a.val_beg
        txn.first_date = txn.last_date = 0
    found = False
    if delim != a.val_beg and not ctx.skip and txn.server is None:
        wanted = bytes(buf[a.val_beg : delim])
        for index, (cookie, running) in enumerate(ctx.servers):
            if cookie is None or cookie != wanted:
                continue
            if running or ctx.persist:
                txn.state = ClientCookie.VALID if running else ClientCookie.DOWN
                txn.server = index
                found = True
                break
            txn.state = ClientCookie.DOWN
    if not found and txn.state is ClientCookie.NONE:  # `!(txn->flags & TX_CK_MASK)`
        txn.state = (
            ClientCookie.UNUSED if ctx.skip or txn.server is not None else ClientCookie.INVALID
        )
    return delim


def _dates(buf: bytearray, a: _Attr, txn: _Txn) -> int:
    """`SRV|<last seen>[|<first seen>]`: the dates after the server's value; returns the end
    of the server's value."""
    val_beg, val_end = a.val_beg, a.val_end
    bar = buf.find(DATE_DELIM, val_beg, val_end)
    if bar < 0:
        return val_end
    delim, bar = bar, bar + 1
    if val_end - bar >= 5:
        v = b64tos30(bytes(buf[bar : bar + 5]))
        if v > 0:
            txn.last_date = v << 2
    bar2 = buf.find(DATE_DELIM, bar, val_end)
    if bar2 >= 0 and val_end - bar2 > 5:
        v = b64tos30(bytes(buf[bar2 + 1 : bar2 + 6]))
        if v > 0:
            txn.first_date = v << 2
    return delim
