"""What HAProxy 2.6's cache may look up, store and for how long (src/cache.c
http_action_req_cache_use, http_action_store_cache, http_calc_maxage,
should_send_notmodified_response; src/http_ana.c http_check_request_for_cacheability,
http_check_response_for_cacheability; src/http.c parse_http_date, http_compare_etags).

* The request: looked up only for an HTTP/1.1 GET or HEAD (else "ignored"), and not when it
  carries Authorization, a Cache-Control value beginning with max-age, no-cache, max-stale or
  min-fresh, or (without Cache-Control) `Pragma: no-cache`.  Its key is the SHA-1 of
  "https://" + the first Host value + the URI (an absolute URI alone); no Host, no key.
* The response: stored only for a GET whose response is a 200 with no Vary (or, with
  `process-vary on`, a Vary naming only Accept-Encoding and Referer), that is cacheable
  (a safe method; no Pragma: no-cache; Cache-Control public, or none of private, no-cache,
  no-store, max-age=0, s-maxage=0; not `no-cache="set-cookie"`) and has freshness (max-age,
  s-maxage, Expires) or a validator (ETag, Last-Modified).  A successful unsafe method
  (2xx/3xx) drops the entry of its key.
* Its age: s-maxage, else max-age, else Expires - now, bounded by the cache's max-age.
* A conditional hit answers 304: an If-None-Match value `*` or equal to the stored ETag
  (weak comparison), else an If-Modified-Since not before the stored Last-Modified (or Date,
  or the time of storing).
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.proto.http import cookie_response
from pylvs.proto.sample.message import split_values

Field = tuple[bytes, bytes]

_SAFE = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE"})


def values(fields: Sequence[Field], name: bytes) -> list[bytes]:
    """Every comma-separated value of the fields `name` (http_find_header, full=0)."""
    out: list[bytes] = []
    for n, v in fields:
        if n.lower() == name:
            out.extend(split_values(v))
    return out


def first_full(fields: Sequence[Field], name: bytes) -> bytes | None:
    """The first field `name`'s whole value (http_find_header, full=1)."""
    for n, v in fields:
        if n.lower() == name:
            return v.strip(b" \t")
    return None


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What cache-use learnt of a request: its key (None: not computed), whether the cache
    ignores it (TX_CACHE_IGNORE) and the txn's cacheability flags for the response."""

    key: bytes | None
    ignore: bool
    cacheable: bool
    cookie_ok: bool
    method: bytes = b"GET"
    version_11: bool = True


def request_facts(
    method: bytes, version_11: bool, uri: bytes, fields: Sequence[Field]
) -> RequestFacts:
    safe = method in _SAFE
    cacheable = cookie_ok = safe  # http_process_request: TX_CACHEABLE | TX_CACHE_COOK
    ignore = not version_11 or method not in (b"GET", b"HEAD")
    if not (ignore and not cacheable):  # http_check_request_for_cacheability
        pragma = first_full(fields, b"pragma")
        if first_full(fields, b"authorization") is not None:
            cacheable = cookie_ok = False
            ignore = True
        cc_found = False
        for v in values(fields, b"cache-control"):
            cc_found = True
            low = v.lower()
            if low.startswith((b"max-age", b"no-cache", b"max-stale", b"min-fresh")):
                ignore = True
            elif low.startswith(b"no-store"):
                cacheable = cookie_ok = False
        if not cc_found and pragma is not None and pragma.lower() == b"no-cache":
            ignore = True
    return RequestFacts(primary_key(uri, fields), ignore, cacheable, cookie_ok, method, version_11)


def primary_key(uri: bytes, fields: Sequence[Field]) -> bytes | None:
    """sha1_hosturi: an origin-form URI is keyed as https://HOST + URI."""
    if not uri:
        return None
    text = uri
    if uri.startswith(b"/") or uri == b"*":
        hosts = values(fields, b"host")
        if not hosts:
            return None
        text = b"https://" + hosts[0] + uri
    return hashlib.sha1(text).digest()


def unsafe_invalidates(method: bytes, status: int) -> bool:
    """RFC 7234 §4.4: a successful unsafe method drops the stored entry of its URI."""
    return method not in _SAFE and 200 <= status < 400


def response_cacheable(
    status: int, fields: Sequence[Field], cacheable: bool, cookie_ok: bool
) -> bool:
    """The txn's flags after http_wait_for_response and http_check_response_for_cacheability
    (proto/http/cookie_response.py's, which `option checkcache` reads too): TX_CACHEABLE
    and TX_CACHE_COOK set, TX_CACHE_IGNORE clear.  (A request that keeps one flag keeps
    both: cache-use sets and clears them together.)"""
    names = tuple((n.lower(), v) for n, v in fields)
    got, cook = cookie_response.response_cacheable(status, names, cacheable and cookie_ok)
    return got and cook


_NUMBER = re.compile(rb"\s*([+-]?\d+)")


def _directive(value: bytes, word: bytes) -> int | bool | None:
    """directive_value + strtol: the number after `word=` (a quote allowed before it);
    None when the value is not that directive, False when its number is bad."""
    if len(value) <= len(word) or value[: len(word)].lower() != word or value[len(word)] != 0x3D:
        return None
    rest = value[len(word) + 1 :]
    if rest[:1] == b'"':
        rest = rest[1:]
    m = _NUMBER.match(rest)
    if m is None or int(m.group(1)) < 0:
        return False
    return int(m.group(1))


def max_age(fields: Sequence[Field], cache_max_age: int, now: int) -> tuple[int, int]:
    """http_calc_maxage: (the entry's life, bounded by the cache's max-age; the response's
    own max age, 0 when it gave none).  A bad number gives (-1, 0): stale at once."""
    smaxage = maxage = -1
    for v in values(fields, b"cache-control"):
        for word in (b"s-maxage", b"max-age"):
            got = _directive(v, word)
            if got is False:
                return -1, 0
            if isinstance(got, int) and not isinstance(got, bool):
                if word == b"s-maxage":
                    smaxage = got
                else:
                    maxage = got
    expires = -1
    if maxage == -1 and smaxage == -1:
        text = first_full(fields, b"expires")
        if text is not None:
            when = http_date(text)
            expires = 0 if when is None else max(0, when - now)
    for own in (smaxage, maxage):
        if own > 0:
            return min(own, cache_max_age), own
    if expires >= 0:
        return min(expires, cache_max_age), expires
    return cache_max_age, 0


def last_modified(fields: Sequence[Field], now: int) -> int:
    """get_last_modified_time: Last-Modified, else Date, else now."""
    for name in (b"last-modified", b"date"):
        text = first_full(fields, name)
        when = http_date(text) if text is not None else None
        if when:
            return when
    return now


_MONTHS = {m.encode(): i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
)}  # fmt: skip
_IMF = re.compile(rb"^[A-Z][a-z]{2}, (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$")
_RFC850 = re.compile(rb"^[A-Z][a-z]+, (\d\d)-([A-Z][a-z]{2})-(\d\d) (\d\d):(\d\d):(\d\d) GMT$")
_ASCTIME = re.compile(rb"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\d{4})$")


def http_date(text: bytes) -> int | None:
    """parse_http_date (RFC 7231 §7.1.1.1: IMF-fixdate, rfc850-date, asctime-date) as seconds
    since the epoch; None when it is none of them."""
    text = text.strip(b" \t")
    m = _IMF.match(text)
    if m:
        day, mon, year, hh, mm, ss = m.groups()
    elif m := _RFC850.match(text):
        day, mon, yy, hh, mm, ss = m.groups()
        year = b"%d" % (1900 + int(yy) if int(yy) >= 70 else 2000 + int(yy))
    elif m := _ASCTIME.match(text):
        mon, day, hh, mm, ss, year = m.groups()
    else:
        return None
    month = _MONTHS.get(mon)
    if month is None or int(hh) > 23 or int(mm) > 59 or int(ss) > 60 or not 1 <= int(day) <= 31:
        return None
    return calendar.timegm((int(year), month, int(day), int(hh), int(mm), int(ss), 0, 0, 0))


def _etag(tag: bytes) -> bytes | None:
    """http_get_etag_type: a strong "x" or weak W/"x" tag, without W/; None if invalid."""
    if tag.startswith(b"W/"):
        tag = tag[2:]
    if len(tag) >= 2 and tag[:1] == b'"' and tag[-1:] == b'"':
        return tag
    return None


def etags_match(stored: bytes, given: bytes) -> bool:
    """http_compare_etags: the weak comparison."""
    a, b = _etag(stored), _etag(given)
    return a is not None and a == b


def not_modified(request: Sequence[Field], etag: bytes | None, modified: int) -> bool:
    """should_send_notmodified_response: a 304 instead of the stored response."""
    found = False
    for v in values(request, b"if-none-match"):
        found = True
        if v == b"*":
            return True
        if etag is None:
            break
        if etags_match(etag, v):
            return True
    if found:
        return False
    text = first_full(request, b"if-modified-since")
    when = http_date(text) if text is not None else None
    return when is not None and modified <= when
