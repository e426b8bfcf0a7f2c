"""proto/cache/rules.py: what HAProxy 2.6's cache looks up and stores, for how long, and
when it answers 304 (src/cache.c, src/http_ana.c's cacheability checks)."""

from __future__ import annotations

import hashlib

import pytest

from pylvs.proto.cache import rules

NOW = 1_765_065_600  # Sun, 07 Dec 2025 00:00:00 GMT
HOST = [(b"host", b"example.com")]


def test_the_key_is_https_host_and_uri() -> None:
    got = rules.request_facts(b"GET", True, b"/a?b", HOST)
    assert got.key == hashlib.sha1(b"https://example.com/a?b").digest()
    assert not got.ignore and got.cacheable and got.cookie_ok
    # an absolute URI is keyed alone; no Host, no key
    absolute = rules.request_facts(b"GET", True, b"http://h/x", [])
    assert absolute.key == hashlib.sha1(b"http://h/x").digest()
    assert rules.request_facts(b"GET", True, b"/a", []).key is None
    # the first value of the first Host field
    two = rules.request_facts(b"GET", True, b"/", [(b"Host", b"a, b"), (b"host", b"c")])
    assert two.key == hashlib.sha1(b"https://a/").digest()


@pytest.mark.parametrize(
    ("method", "v11", "fields", "ignore", "cacheable"),
    [
        (b"GET", True, [], False, True),
        (b"HEAD", True, [], False, True),
        (b"GET", False, [], True, True),  # HTTP/1.0: not looked up
        (b"POST", True, [], True, False),  # unsafe: neither
        (b"OPTIONS", True, [], True, True),  # safe, not looked up
        (b"GET", True, [(b"authorization", b"Basic x")], True, False),
        (b"GET", True, [(b"cache-control", b"no-cache")], True, True),
        (b"GET", True, [(b"cache-control", b"Max-Age=0")], True, True),
        (b"GET", True, [(b"cache-control", b"max-stale, min-fresh=1")], True, True),
        (b"GET", True, [(b"cache-control", b"no-store")], False, False),
        (b"GET", True, [(b"pragma", b"no-cache")], True, True),
        # Cache-Control present: Pragma is not read (RFC 7234 5.4)
        (b"GET", True, [(b"pragma", b"no-cache"), (b"cache-control", b"x")], False, True),
    ],
)
def test_what_a_request_allows(
    method: bytes, v11: bool, fields: list[tuple[bytes, bytes]], ignore: bool, cacheable: bool
) -> None:
    got = rules.request_facts(method, v11, b"/", HOST + fields)
    assert (got.ignore, got.cacheable) == (ignore, cacheable)


@pytest.mark.parametrize(
    ("status", "fields", "stored"),
    [
        (200, [(b"cache-control", b"max-age=10")], True),
        (200, [(b"expires", b"Sun, 07 Dec 2025 00:01:00 GMT")], True),
        (200, [(b"etag", b'"x"')], True),  # a validator is enough
        (200, [(b"last-modified", b"Sun, 07 Dec 2025 00:00:00 GMT")], True),
        (200, [], False),  # neither freshness nor a validator
        (200, [(b"cache-control", b"max-age=10, private")], False),
        (200, [(b"cache-control", b"no-store"), (b"etag", b'"x"')], False),
        (200, [(b"cache-control", b"max-age=0")], False),
        (200, [(b"cache-control", b"s-maxage=0, max-age=5")], False),
        (200, [(b"cache-control", b'no-cache="set-cookie", max-age=5')], False),
        (200, [(b"pragma", b"no-cache"), (b"cache-control", b"max-age=5")], False),
        (200, [(b"cache-control", b"private, public, max-age=5")], True),  # the last word wins
        (302, [(b"cache-control", b"max-age=5")], False),  # not cacheable by default
        (404, [(b"cache-control", b"max-age=5")], True),
    ],
)
def test_what_a_response_allows(
    status: int, fields: list[tuple[bytes, bytes]], stored: bool
) -> None:
    assert rules.response_cacheable(status, fields, True, True) is stored


def test_an_unsafe_request_makes_nothing_cacheable() -> None:
    assert not rules.response_cacheable(200, [(b"cache-control", b"max-age=5")], False, False)
    # `public` makes it so again (http_check_response_for_cacheability sets both flags)
    assert rules.response_cacheable(200, [(b"cache-control", b"public, max-age=5")], False, False)


@pytest.mark.parametrize(
    ("fields", "life", "own"),
    [
        ([], 60, 0),  # the cache's max-age; the response gave none
        ([(b"cache-control", b"max-age=10")], 10, 10),
        ([(b"cache-control", b"max-age=600")], 60, 600),  # bounded by the cache
        ([(b"cache-control", b"max-age=10, s-maxage=20")], 20, 20),  # s-maxage first
        ([(b"cache-control", b'max-age="30"')], 30, 30),  # a quoted number
        ([(b"cache-control", b"max-age=abc")], -1, 0),  # stale at once
        ([(b"expires", b"Sun, 07 Dec 2025 00:00:30 GMT")], 30, 30),
        ([(b"expires", b"Sat, 06 Dec 2025 00:00:30 GMT")], 0, 0),  # in the past
        ([(b"expires", b"tomorrow")], 0, 0),  # invalid: in the past (RFC 7234 5.3)
        # max-age wins over Expires
        ([(b"expires", b"Sun, 07 Dec 2025 00:00:30 GMT"), (b"cache-control", b"max-age=5")], 5, 5),
    ],
)
def test_max_age(fields: list[tuple[bytes, bytes]], life: int, own: int) -> None:
    assert rules.max_age(fields, 60, NOW) == (life, own)


@pytest.mark.parametrize(
    "text",
    [
        b"Sun, 07 Dec 2025 00:00:00 GMT",
        b"Sunday, 07-Dec-25 00:00:00 GMT",
        b"Sun Dec  7 00:00:00 2025",
    ],
)
def test_the_three_date_formats(text: bytes) -> None:
    assert rules.http_date(text) == NOW


@pytest.mark.parametrize(
    "text", [b"", b"Sun, 07 Dec 2025 00:00:00", b"Sun, 32 Dec 2025 00:00:00 GMT"]
)
def test_bad_dates(text: bytes) -> None:
    assert rules.http_date(text) is None


def test_last_modified_then_date_then_now() -> None:
    lm = (b"last-modified", b"Sun, 07 Dec 2025 00:00:10 GMT")
    date = (b"date", b"Sun, 07 Dec 2025 00:00:20 GMT")
    assert rules.last_modified([date, lm], NOW + 99) == NOW + 10
    assert rules.last_modified([date], NOW + 99) == NOW + 20
    assert rules.last_modified([], NOW + 99) == NOW + 99


@pytest.mark.parametrize(
    ("request_fields", "etag", "answer"),
    [
        ([(b"if-none-match", b'"a"')], b'"a"', True),
        ([(b"if-none-match", b'"b", "a"')], b'"a"', True),  # each value
        ([(b"if-none-match", b'W/"a"')], b'"a"', True),  # the weak comparison
        ([(b"if-none-match", b'"b"')], b'"a"', False),
        ([(b"if-none-match", b"*")], None, True),
        ([(b"if-none-match", b'"a"')], None, False),
        ([(b"if-none-match", b"a")], b"a", False),  # not a valid tag
        # If-None-Match present: If-Modified-Since is not read
        ([(b"if-none-match", b'"b"'), (b"if-modified-since", b"Sun, 07 Dec 2025 00:00:00 GMT")],
         b'"a"', False),
        ([(b"if-modified-since", b"Sun, 07 Dec 2025 00:00:00 GMT")], None, True),
        ([(b"if-modified-since", b"Sat, 06 Dec 2025 23:59:59 GMT")], None, False),
        ([(b"if-modified-since", b"garbage")], None, False),
        ([], b'"a"', False),
    ],
)  # fmt: skip
def test_not_modified(
    request_fields: list[tuple[bytes, bytes]], etag: bytes | None, answer: bool
) -> None:
    assert rules.not_modified(request_fields, etag, NOW) is answer


def test_unsafe_methods_invalidate_on_success() -> None:
    assert rules.unsafe_invalidates(b"POST", 200)
    assert rules.unsafe_invalidates(b"DELETE", 302)
    assert not rules.unsafe_invalidates(b"POST", 404)
    assert not rules.unsafe_invalidates(b"OPTIONS", 200)
