"""HTTP fetches: the request line and headers (src/http_fetch.c, src/http.c; HAProxy 2.6);
fetch_http_args.py has parameters, bodies, cookies, captures and authentication.

Headers: `hdr(name[,occ])` sees comma-separated values, `fhdr` whole field values; without an
occurrence a single fetch returns the *last* value, an ACL iterates over all of them; a
positive occurrence counts from the first, a negative one from the last (at most 10 back).
`hdr`/`cookie` read the request while request rules run and the response while response
rules run; `req.*` and `res.*` name their side.
"""

from __future__ import annotations

from collections.abc import Iterator

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Args, EachFn, FetchFn, fetch
from pylvs.proto.sample.fetch_l4 import addr_sample
from pylvs.proto.sample.message import HttpMessage, authority_host, uri_parts, uri_path
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp
from pylvs.sched.haproxy.hashes import full_hash, sdbm

MAX_HDR_HISTORY = 10


def _req(s: Stream) -> HttpMessage | None:
    return s.request


def _res(s: Stream) -> HttpMessage | None:
    return s.response


def _chn(s: Stream) -> HttpMessage | None:
    return s.response if s.in_response else s.request


def strl2ic(data: bytes) -> int:
    """tools.c strl2ic: a sign and the leading digits, 0 if none."""
    i, neg = 0, False
    if data[:1] in (b"-", b"+"):
        neg, i = data[:1] == b"-", 1
    j = i
    while j < len(data) and 0x30 <= data[j] <= 0x39:
        j += 1
    value = int(data[i:j]) if j > i else 0
    return _int32(-value if neg else value)


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def _pick(values: list[bytes], occ: int | None) -> bytes | None:
    """http_get_htx_hdr's choice of one occurrence (0/None: the last one)."""
    if not values:
        return None
    if occ is None or occ == 0:
        return values[-1]
    if occ > 0:
        return values[occ - 1] if occ <= len(values) else None
    if -occ > MAX_HDR_HISTORY or -occ > len(values):
        return None
    return values[occ]


def _hdr_values(msg: HttpMessage | None, a: Args, full: bool) -> list[bytes] | None:
    if msg is None:
        return None
    name = a[0] if a and a[0] is not None else b""
    return msg.full_values(name) if full else msg.values(name)


def _hdr_fetch(side: str, full: bool) -> tuple[FetchFn, EachFn]:
    get = _req if side == "req" else _res if side == "res" else _chn

    def one(s: Stream, a: Args) -> Smp | None:
        values = _hdr_values(get(s), a, full)
        if values is None:
            return None
        value = _pick(values, a[1] if len(a) > 1 else None)
        return None if value is None else Smp(ty.STR, value)

    def each(s: Stream, a: Args) -> Iterator[Smp]:
        values = _hdr_values(get(s), a, full)
        if values is None:
            return
        occ = a[1] if len(a) > 1 else None
        if occ:
            value = _pick(values, occ)
            if value is not None:
                yield Smp(ty.STR, value)
            return
        for value in values:
            yield Smp(ty.STR, value)

    return one, each


for _names, _side, _full in (
    (("req.hdr",), "req", False),
    (("res.hdr", "shdr"), "res", False),
    (("hdr",), "chn", False),
    (("req.fhdr",), "req", True),
    (("res.fhdr",), "res", True),
):
    _one, _each = _hdr_fetch(_side, _full)
    fetch(*_names, each=_each)(_one)


def _count_fetch(side: str, full: bool) -> FetchFn:
    get = _req if side == "req" else _res

    def fn(s: Stream, a: Args) -> Smp | None:
        values = _hdr_values(get(s), a, full)
        return None if values is None else Smp(ty.SINT, len(values))

    return fn


fetch("req.hdr_cnt", "hdr_cnt")(_count_fetch("req", False))
fetch("res.hdr_cnt", "shdr_cnt")(_count_fetch("res", False))
fetch("req.fhdr_cnt")(_count_fetch("req", True))
fetch("res.fhdr_cnt")(_count_fetch("res", True))


def url2ipv4(text: bytes) -> tuple[bytes, int] | None:
    """tools.c url2ipv4: a dotted quad at the start of `text` (no leading zeros check), and
    how many bytes it took."""
    octets: list[int] = []
    i = 0
    while len(octets) < 4:
        j = i
        while j < len(text) and 0x30 <= text[j] <= 0x39 and j - i < 3:
            j += 1
        if j == i:
            return None
        value = int(text[i:j])
        if value > 255:
            return None
        octets.append(value)
        i = j
        if len(octets) < 4:
            if text[i : i + 1] != b".":
                return None
            i += 1
    return bytes(octets), i


def _as_ip(value: bytes) -> Smp | None:
    """smp_fetch_hdr_ip: an IPv4 address (optionally `:port`), else an IPv6 one."""
    v4 = url2ipv4(value)
    if v4 is not None:
        packed, used = v4
        if used == len(value):
            return Smp(ty.IPV4, packed)
        rest = value[used + 1 :]
        if value[used : used + 1] == b":" and rest.isdigit() and int(rest) <= 65535:
            return Smp(ty.IPV4, packed)
    v6 = ty.buf2ip6(value)
    return None if v6 is None else Smp(ty.IPV6, v6)


def _hdr_ip(side: str) -> tuple[FetchFn, EachFn]:
    get = _req if side == "req" else _res

    def each(s: Stream, a: Args) -> Iterator[Smp]:
        values = _hdr_values(get(s), a, False)
        if not values:
            return
        occ = a[1] if len(a) > 1 else None
        if occ:
            chosen = _pick(values, occ)
            candidates = [] if chosen is None else [chosen]
        else:
            candidates = values
        for value in candidates:
            smp = _as_ip(value)
            if smp is not None:
                yield smp

    def one(s: Stream, a: Args) -> Smp | None:
        values = _hdr_values(get(s), a, False)
        if not values:
            return None
        value = _pick(values, a[1] if len(a) > 1 else None)
        return None if value is None else _as_ip(value)

    return one, each


_one, _each = _hdr_ip("req")
fetch("req.hdr_ip", "hdr_ip", each=_each)(_one)
_one, _each = _hdr_ip("res")
fetch("res.hdr_ip", "shdr_ip", each=_each)(_one)


def _hdr_val(side: str) -> tuple[FetchFn, EachFn]:
    get = _req if side == "req" else _res

    def one(s: Stream, a: Args) -> Smp | None:
        values = _hdr_values(get(s), a, False)
        if not values:
            return None
        value = _pick(values, a[1] if len(a) > 1 else None)
        return None if value is None else Smp(ty.SINT, strl2ic(value))

    def each(s: Stream, a: Args) -> Iterator[Smp]:
        values = _hdr_values(get(s), a, False) or []
        occ = a[1] if len(a) > 1 else None
        chosen = [_pick(values, occ)] if occ else values
        for value in chosen:
            if value is not None:
                yield Smp(ty.SINT, strl2ic(value))

    return one, each


_one, _each = _hdr_val("req")
fetch("req.hdr_val", "hdr_val", each=_each)(_one)
_one, _each = _hdr_val("res")
fetch("res.hdr_val", "shdr_val", each=_each)(_one)


def _names_fetch(side: str) -> FetchFn:
    get = _req if side == "req" else _res

    def fn(s: Stream, a: Args) -> Smp | None:
        msg = get(s)
        if msg is None:
            return None
        delim = a[0][:1] if a and a[0] else b","
        return Smp(ty.STR, delim.join(msg.names()))

    return fn


fetch("req.hdr_names")(_names_fetch("req"))
fetch("res.hdr_names")(_names_fetch("res"))


def _hdrs_fetch(side: str) -> FetchFn:
    get = _req if side == "req" else _res

    def fn(s: Stream, a: Args) -> Smp | None:
        msg = get(s)
        if msg is None:
            return None
        return Smp(ty.STR, b"".join(n + b": " + v + b"\r\n" for n, v in msg.fields) + b"\r\n")

    return fn


fetch("req.hdrs")(_hdrs_fetch("req"))
fetch("res.hdrs")(_hdrs_fetch("res"))


# -- the request line ------------------------------------------------------------------------


# find_http_meth's methods (case-sensitive): txn->meth keeps one as received
KNOWN_METHODS = frozenset(
    (b"OPTIONS", b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"TRACE", b"CONNECT")
)


@fetch("method")
def _method(s: Stream, a: Args) -> Smp | None:
    """smp_fetch_meth (http_fetch.c) reads txn->meth, set from the request line as received
    and left by `set-method`: only a method it does not know is read from the line now."""
    if s.orig_method in KNOWN_METHODS:
        return Smp(ty.METH, s.orig_method)
    msg = s.request
    if msg is not None:
        return Smp(ty.METH, msg.method)
    return None if s.orig_method is None else Smp(ty.METH, s.orig_method)


@fetch("url")
def _url(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else Smp(ty.STR, s.request.uri)


@fetch("path")
def _path(s: Stream, a: Args) -> Smp | None:
    if s.request is None:
        return None
    path = uri_path(s.request.uri)
    return None if path is None else Smp(ty.STR, path.split(b"?", 1)[0])


@fetch("pathq")
def _pathq(s: Stream, a: Args) -> Smp | None:
    if s.request is None:
        return None
    path = uri_path(s.request.uri)
    return None if path is None else Smp(ty.STR, path)


@fetch("query")
def _query(s: Stream, a: Args) -> Smp | None:
    if s.request is None or b"?" not in s.request.uri:
        return None
    return Smp(ty.STR, s.request.uri.split(b"?", 1)[1])


def _host_values(msg: HttpMessage) -> bytes | None:
    values = msg.values(b"host")
    return values[0] if values else None


def base_of(msg: HttpMessage, with_query: bool) -> bytes | None:
    """smp_fetch_base: the first Host value and the path (the path alone without Host)."""
    host = _host_values(msg)
    path = uri_path(msg.uri)
    if not host:
        if path is None:
            return None
        return path if with_query else path.split(b"?", 1)[0]
    out = host
    if path is not None:
        part = path if with_query else path.split(b"?", 1)[0]
        if part[:1] == b"/":
            out += part
    return out


@fetch("base")
def _base(s: Stream, a: Args) -> Smp | None:
    value = None if s.request is None else base_of(s.request, False)
    return None if value is None else Smp(ty.STR, value)


@fetch("baseq")
def _baseq(s: Stream, a: Args) -> Smp | None:
    value = None if s.request is None else base_of(s.request, True)
    return None if value is None else Smp(ty.STR, value)


def _sdbm_chain(h: int, data: bytes) -> int:
    for c in data:
        h = (c + (h << 6) + (h << 16) - h) & 0xFFFFFFFF
    return h


def base32_of(msg: HttpMessage) -> int:
    host = _host_values(msg) or b""
    h = _sdbm_chain(0, host)
    path = uri_path(msg.uri)
    if path is not None:
        part = path.split(b"?", 1)[0]
        if part[:1] == b"/":
            h = _sdbm_chain(h, part)
    return full_hash(h)


def url32_of(msg: HttpMessage) -> int:
    full = msg.full_values(b"host")
    h = _sdbm_chain(0, full[0] if full else b"")
    path = uri_path(msg.uri)
    if path and path[:1] == b"/":
        h = _sdbm_chain(h, path)
    return full_hash(h)


def _with_src(s: Stream, value: int) -> Smp | None:
    src = addr_sample(s.src)
    if src is None:
        return None
    return Smp(ty.BIN, value.to_bytes(4, "big") + src.text)


@fetch("base32")
def _base32(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else Smp(ty.SINT, base32_of(s.request))


@fetch("base32+src")
def _base32_src(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else _with_src(s, base32_of(s.request))


@fetch("url32")
def _url32(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else Smp(ty.SINT, url32_of(s.request))


@fetch("url32+src")
def _url32_src(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else _with_src(s, url32_of(s.request))


def _url_host(s: Stream) -> tuple[bytes, int] | None:
    """url2sa on an absolute URI: its IPv4 host and port (80 when not given)."""
    if s.request is None:
        return None
    scheme, authority, _ = uri_parts(s.request.uri)
    if scheme is None or scheme.lower() != b"http://" or authority is None:
        return None
    v4 = url2ipv4(authority_host(authority))
    if v4 is None:
        return None
    packed, used = v4
    rest = authority_host(authority)[used:]
    port = 80
    if rest[:1] == b":":
        digits = rest[1:]
        port = int(digits) if digits.isdigit() else 0
    elif rest:
        return None
    return packed, port


@fetch("url_ip")
def _url_ip(s: Stream, a: Args) -> Smp | None:
    host = _url_host(s)
    return None if host is None else Smp(ty.IPV4, host[0])


@fetch("url_port")
def _url_port(s: Stream, a: Args) -> Smp | None:
    host = _url_host(s)
    return None if host is None else Smp(ty.SINT, host[1])


def _version(version: bytes) -> Smp | None:
    """smp_fetch_rqver/stver: what follows the '/' of the version."""
    slash = version.find(b"/")
    if slash < 0 or slash == len(version) - 1:
        return None
    return Smp(ty.STR, version[slash + 1 :])


@fetch("req.ver", "req_ver")
def _req_ver(s: Stream, a: Args) -> Smp | None:
    return None if s.request is None else _version(s.request.version)


@fetch("res.ver", "resp_ver")
def _res_ver(s: Stream, a: Args) -> Smp | None:
    return None if s.response is None else _version(s.response.version)


@fetch("status")
def _status(s: Stream, a: Args) -> Smp | None:
    return None if s.response is None else Smp(ty.SINT, s.response.status)


@fetch("res.comp")
def _res_comp(s: Stream, a: Args) -> Smp | None:
    """flt_http_comp.c smp_fetch_res_comp: the response is compressed (HTTP_MSGF_COMPRESSING)."""
    return Smp(ty.BOOL, 1 if s.comp_algo is not None else 0)


@fetch("res.comp_algo")
def _res_comp_algo(s: Stream, a: Args) -> Smp | None:
    """The algorithm's configuration name ("gzip", "raw-deflate", "identity")."""
    return None if s.comp_algo is None else Smp(ty.STR, s.comp_algo.encode())


@fetch("res.cache_hit")
def _res_cache_hit(s: Stream, a: Args) -> Smp | None:
    """cache.c smp_fetch_res_cache_hit: the response came from a cache (cache-use's hit)."""
    return Smp(ty.BOOL, 1 if getattr(s.cache_state, "hit", None) is not None else 0)


@fetch("res.cache_name")
def _res_cache_name(s: Stream, a: Args) -> Smp | None:
    """The name of the cache the response came from (none without a hit)."""
    if getattr(s.cache_state, "hit", None) is None:
        return None
    return Smp(ty.STR, str(getattr(s.cache_state, "hit_cache", "")).encode())


@fetch("http_first_req")
def _first_req(s: Stream, a: Args) -> Smp | None:
    return Smp(ty.BOOL, 1 if s.http_first else 0)


__all__ = ["base32_of", "base_of", "sdbm", "strl2ic", "url32_of"]
