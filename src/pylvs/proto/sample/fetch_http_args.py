"""HTTP fetches, continued: query and body parameters, bodies, cookies, captures and the
request as received, authentication headers (src/http_fetch.c, src/http.c; HAProxy 2.6).

Cookies come from the comma-separated values of `Cookie` (request) or `Set-Cookie`
(response): `cook(name)` is the last cookie of that name, `cook()` the first cookie of all; `$`
attributes and cookies without `=` are skipped (http.c http_extract_cookie_value).
`url_param(name[,delim])` is the first `name=value` of the query string (after the first `?`
or `delim`), parameters separated by `&`, `;` or `delim`; without a name, the first
parameter's value.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterator, Mapping

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.crypt import verify
from pylvs.proto.sample.expr import Args, CompileContext, EachFn, FetchFn, fetch
from pylvs.proto.sample.fetch_http import strl2ic
from pylvs.proto.sample.message import HttpMessage, uri_path
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp

# -- query string parameters -----------------------------------------------------------------


def _param_delim(c: int, delim: int) -> bool:
    return c in (0x26, 0x3B) or c == delim


def params(qs: bytes, name: bytes, delim: int) -> Iterator[bytes]:
    """Successive values of parameter `name` (every parameter when empty) in `qs`
    (http.c http_find_next_url_param)."""
    pos, end, n = 0, len(qs), len(name)
    while pos < end:
        if n:
            start = None
            while pos < end:
                equal = pos + n
                if equal >= end:
                    return
                if qs[equal] == 0x3D:
                    if qs[pos:equal] == name:
                        start = pos
                        break
                    pos += n + 1
                while pos < end and not _param_delim(qs[pos], delim):
                    pos += 1
                if pos >= end:
                    return
                pos += 1
            if start is None:
                return
            value_start = start + n + 1
        else:
            eq = qs.find(b"=", pos)
            if eq < 0:
                return
            value_start = eq + 1
        value_end = value_start
        while value_end < end and not _param_delim(qs[value_end], delim):
            value_end += 1
        yield qs[value_start:value_end]
        pos = value_end


def _query_string(s: Stream, delim: int) -> bytes | None:
    """http_find_param_list: what follows the first `delim` of the target."""
    if s.request is None:
        return None
    cut = s.request.uri.find(bytes([delim]))
    return None if cut < 0 else s.request.uri[cut + 1 :]


def _delim(a: Args) -> int:
    return a[1][0] if len(a) > 1 and a[1] else 0x3F


def _url_param_each(s: Stream, a: Args) -> Iterator[Smp]:
    qs = _query_string(s, _delim(a))
    if qs is None:
        return
    for value in params(qs, a[0] or b"", _delim(a)):
        yield Smp(ty.STR, value)


@fetch("url_param", "urlp", each=_url_param_each)
def _url_param(s: Stream, a: Args) -> Smp | None:
    return next(iter(_url_param_each(s, a)), None)


def _urlp_val_each(s: Stream, a: Args) -> Iterator[Smp]:
    for smp in _url_param_each(s, a):
        yield Smp(ty.SINT, strl2ic(smp.text))


@fetch("urlp_val", each=_urlp_val_each)
def _urlp_val(s: Stream, a: Args) -> Smp | None:
    return next(iter(_urlp_val_each(s, a)), None)


def _body_param_each(s: Stream, a: Args) -> Iterator[Smp]:
    if s.req_body is None:
        return
    for value in params(s.req_body, a[0] or b"", 0x26):
        yield Smp(ty.STR, value)


@fetch("req.body_param", each=_body_param_each)
def _body_param(s: Stream, a: Args) -> Smp | None:
    return next(iter(_body_param_each(s, a)), None)


# -- bodies ------------------------------------------------------------------------------------


@fetch("req.body")
def _req_body(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else Smp(ty.BIN, s.req_body or b"")


@fetch("res.body")
def _res_body(s: Stream, a: Args) -> Smp | None:
    return None if s.response is None else Smp(ty.BIN, s.res_body or b"")


@fetch("req.body_len", "req.body_size")
def _req_body_len(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else Smp(ty.SINT, len(s.req_body or b""))


@fetch("res.body_len", "res.body_size")
def _res_body_len(s: Stream, a: Args) -> Smp | None:
    return None if s.response is None else Smp(ty.SINT, len(s.res_body or b""))


# -- cookies ------------------------------------------------------------------------------------


def cookie_value_end(data: bytes, i: int) -> int:
    """http.c http_find_cookie_value_end: the next ',' or ';' outside double quotes."""
    quoted = pair = False
    while i < len(data):
        c = data[i]
        if pair:
            pair = False
        elif quoted:
            if c == 0x5C:
                pair = True
            elif c == 0x22:
                quoted = False
        elif c == 0x22:
            quoted = True
        elif c in (0x2C, 0x3B):
            return i
        i += 1
    return i


def cookies(value: bytes, name: bytes, request: bool) -> Iterator[bytes]:
    """http.c http_extract_cookie_value over one header value: the values of the cookies
    called `name` (every cookie when empty); a Set-Cookie value has only its first one."""
    end = len(value)
    att = 0
    while att + len(name) + 1 < end:
        while att < end and value[att] in (0x20, 0x09):
            att += 1
        equal = att_end = att
        while equal < end:
            c = value[equal]
            if c in (0x3D, 0x3B) or (request and c == 0x2C):
                break
            equal += 1
            if c not in (0x20, 0x09):
                att_end = equal
        if equal < end and value[equal] == 0x3D:
            vbeg = equal + 1
            while vbeg < end and value[vbeg] in (0x20, 0x09):
                vbeg += 1
            nxt = cookie_value_end(value, vbeg)
            vend = nxt
            while vend > vbeg and value[vend - 1] in (0x20, 0x09):
                vend -= 1
        else:
            vbeg = vend = nxt = equal
        if att < end and value[att] == 0x24:  # '$' attributes
            att = nxt + 1
            continue
        if equal != nxt and (not name or value[att:att_end] == name):
            yield value[vbeg:vend]
        elif equal != nxt and not request:
            return
        if not request:
            return
        att = nxt + 1


def _cookie_msg(s: Stream, side: str) -> tuple[HttpMessage | None, bool]:
    if side == "req" or (side == "chn" and not s.in_response):
        return s.request, True
    return s.response, False


def _all_cookies(s: Stream, a: Args, side: str) -> Iterator[bytes]:
    msg, request = _cookie_msg(s, side)
    if msg is None:
        return
    name = a[0] if a and a[0] else b""
    for value in msg.values(b"cookie" if request else b"set-cookie"):
        if len(value) < len(name) + 1:
            continue
        yield from cookies(value, name, request)


def _cook_fetch(side: str) -> tuple[FetchFn, EachFn, FetchFn, FetchFn]:
    def each(s: Stream, a: Args) -> Iterator[Smp]:
        for v in _all_cookies(s, a, side):
            yield Smp(ty.STR, v)

    def one(s: Stream, a: Args) -> Smp | None:
        name = a[0] if a and a[0] else b""
        found = None
        for v in _all_cookies(s, a, side):
            found = v
            if not name:
                break  # no name: the first cookie
        return None if found is None else Smp(ty.STR, found)

    def count(s: Stream, a: Args) -> Smp | None:
        msg, _ = _cookie_msg(s, side)
        if msg is None:
            return None
        return Smp(ty.SINT, sum(1 for _ in _all_cookies(s, a, side)))

    def val(s: Stream, a: Args) -> Smp | None:
        smp = one(s, a)
        return None if smp is None else Smp(ty.SINT, strl2ic(smp.text))

    return one, each, count, val


for _side, _prefixes in (("req", ("req.cook", "cook")), ("res", ("res.cook", "scook"))):
    _one, _each, _count, _val = _cook_fetch(_side)
    fetch(*_prefixes, each=_each)(_one)
    fetch(*(p + "_cnt" for p in _prefixes))(_count)
    fetch(*(p + "_val" for p in _prefixes))(_val)
_one, _each, _count, _val = _cook_fetch("chn")
fetch("cookie", each=_each)(_one)


# -- captures and the request as received ---------------------------------------------------


@fetch("capture.req.hdr")
def _cap_req_hdr(s: Stream, a: Args) -> Smp | None:
    slots = s.captures.request
    idx = a[0]
    if idx is None or not 0 <= idx < len(slots) or slots[idx] is None:
        return None
    return Smp(ty.STR, slots[idx] or b"")


@fetch("capture.res.hdr")
def _cap_res_hdr(s: Stream, a: Args) -> Smp | None:
    slots = s.captures.response
    idx = a[0]
    if idx is None or not 0 <= idx < len(slots) or slots[idx] is None:
        return None
    return Smp(ty.STR, slots[idx] or b"")


@fetch("capture.req.method")
def _cap_method(s: Stream, a: Args) -> Smp | None:
    return None if s.orig_method is None else Smp(ty.STR, s.orig_method)


@fetch("capture.req.uri")
def _cap_uri(s: Stream, a: Args) -> Smp | None:
    if s.orig_uri is None or b" " in s.orig_uri:
        return None
    path = uri_path(s.orig_uri)
    return None if path is None else Smp(ty.STR, path)


@fetch("capture.req.ver")
def _cap_req_ver(s: Stream, a: Args) -> Smp | None:
    if s.orig_version is None:
        return None
    return Smp(ty.STR, b"HTTP/1.1" if s.orig_version >= b"HTTP/1.1" else b"HTTP/1.0")


@fetch("capture.res.ver")
def _cap_res_ver(s: Stream, a: Args) -> Smp | None:
    if s.response is None:
        return None
    return Smp(ty.STR, b"HTTP/1.1" if s.response.version >= b"HTTP/1.1" else b"HTTP/1.0")


@fetch("unique-id")
def _unique_id(s: Stream, a: Args) -> Smp | None:
    """smp_fetch_uniqueid: the stream's id, built now from the frontend's format if it was
    not yet; nothing without a format."""
    if s.unique_id is None and s.make_unique_id is not None:
        s.unique_id = s.make_unique_id(s)
    return None if s.unique_id is None else Smp(ty.STR, s.unique_id)


# -- authentication headers ---------------------------------------------------------------------


def _auth(s: Stream) -> tuple[bytes, bytes] | None:
    """get_http_auth: the scheme and the data of the Authorization header."""
    if s.request is None:
        return None
    values = s.request.full_values(b"authorization")
    if not values:
        return None
    scheme, _, data = values[0].partition(b" ")
    return scheme, data.lstrip(b" ")


@fetch("http_auth_type")
def _auth_type(s: Stream, a: Args) -> Smp | None:
    auth = _auth(s)
    if auth is None:
        return None
    scheme = auth[0].lower()
    names = {b"basic": b"Basic", b"digest": b"Digest", b"bearer": b"Bearer"}
    return None if scheme not in names else Smp(ty.STR, names[scheme])


def _basic(s: Stream) -> tuple[bytes, bytes] | None:
    auth = _auth(s)
    if auth is None or auth[0].lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(auth[1], validate=True)
    except ValueError:
        return None
    user, colon, password = decoded.partition(b":")
    return None if not colon else (user, password)


@fetch("http_auth_user")
def _auth_user(s: Stream, a: Args) -> Smp | None:
    basic = _basic(s)
    return None if basic is None else Smp(ty.STR, basic[0])


@fetch("http_auth_pass")
def _auth_pass(s: Stream, a: Args) -> Smp | None:
    basic = _basic(s)
    return None if basic is None else Smp(ty.STR, basic[1])


@fetch("http_auth_bearer")
def _auth_bearer(s: Stream, a: Args) -> Smp | None:
    if a and a[0]:
        if s.request is None:
            return None
        values = s.request.values(a[0])
        if not values:
            return Smp(ty.STR, b"")
        scheme, _, rest = values[0].partition(b" ")
        rest = rest.lstrip(b" ")
        return Smp(ty.STR, rest if scheme.lower() == b"bearer" and rest else b"")
    auth = _auth(s)
    if auth is None or auth[0].lower() != b"bearer":
        return None
    return Smp(ty.STR, auth[1])


__all__ = ["cookies", "params"]


# -- http_auth: the Basic credentials checked against a userlist (src/auth.c check_user) ------

Users = Mapping[bytes, tuple[bytes, bool]]  # user -> (password or crypt(3) hash, insecure)


def _check_userlist(a: Args, ctx: CompileContext) -> Args:
    """The userlist's users, read once (config/haproxy's Userlist: users as (name,
    password, insecure))."""
    userlist = ctx.userlists[a[0].decode() if isinstance(a[0], bytes) else str(a[0])]
    users: dict[bytes, tuple[bytes, bool]] = {}
    for name, password, insecure in getattr(userlist, "users", ()):
        users.setdefault(name.encode(), (password.encode(), bool(insecure)))
    return (users,)


def check_user(users: Users, user: bytes, password: bytes) -> bool:
    known = users.get(user)
    if known is None:
        return False
    stored, insecure = known
    if insecure:
        return hmac.compare_digest(password, stored)
    return verify(password, stored)


@fetch("http_auth", check=_check_userlist)
def _http_auth(s: Stream, a: Args) -> Smp | None:
    basic = _basic(s)
    if basic is None:
        return Smp(ty.BOOL, 0)
    return Smp(ty.BOOL, int(check_user(a[0], basic[0], basic[1])))
