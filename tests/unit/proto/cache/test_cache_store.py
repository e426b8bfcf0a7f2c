"""proto/cache/store.py: entries, their blocks, eviction, expiry and secondary entries."""

from __future__ import annotations

import hashlib

from pylvs.model.cache import CacheSpec
from pylvs.proto.cache import vary
from pylvs.proto.cache.store import ENTRY_STRUCT, Entry, HttpCache, head_size

NOW = 1_000_000


def _entry(
    path: bytes, *, secondary: bytes = b"\0" * 8, signature: int = 0, life: int = 60
) -> Entry:
    return Entry(
        key=hashlib.sha1(b"https://x" + path).digest(),
        secondary=secondary,
        signature=signature,
        version=b"HTTP/1.1",
        status=200,
        reason=b"OK",
        fields=((b"content-length", b"3"),),
        expire=NOW + life,
        validated=NOW,
        age=0,
        modified=NOW,
        etag=None,
    )


def _store(cache: HttpCache, path: bytes, body: int, **kw: int) -> Entry | None:
    e = _entry(path, **kw)  # type: ignore[arg-type]
    if not cache.begin(e, NOW) or not cache.append(e, 100):
        return None
    if body and not cache.append(e, 4 + body, b"x" * body):
        return None
    cache.finish(e)
    return e


def test_an_entry_is_found_once_complete_and_until_it_expires() -> None:
    cache = HttpCache(CacheSpec("c", 1024, 4096))
    e = _entry(b"/a", life=10)
    assert cache.begin(e, NOW)
    assert cache.find(e.key, None, NOW) is None  # not complete yet
    cache.finish(e)
    assert cache.find(e.key, None, NOW + 9) is e
    assert cache.find(e.key, None, NOW + 10) is None  # expired: dropped
    assert cache.entries == {} and cache.used == 0


def test_sizes_and_blocks_as_haproxy_counts_them() -> None:
    cache = HttpCache(CacheSpec("c", 1024, 524288))
    e = _store(cache, b"/a", 2000)
    assert e is not None
    assert e.size == ENTRY_STRUCT + 100 + 4 + 2000
    assert e.blocks == 3 and cache.used == 3
    # start line (20 + strings), each field (name + value), end of headers: 4 bytes of info each
    assert head_size(b"HTTP/1.1", b"200", b"OK", ((b"a", b"bc"),)) == 4 + 20 + 13 + 4 + 3 + 5
    assert head_size(b"HTTP/1.1", b"200", b"OK", (), removed=1) == 4 + 20 + 13 + 4 + 5


def test_max_object_size_drops_the_entry() -> None:
    cache = HttpCache(CacheSpec("c", 1024, 1000))
    assert _store(cache, b"/big", 1000) is None
    assert cache.entries == {} and cache.used == 0
    assert _store(cache, b"/small", 500) is not None


def test_the_least_recently_used_goes_first() -> None:
    cache = HttpCache(CacheSpec("c", 10, 5000))  # 10 blocks of 1 KB
    a = _store(cache, b"/a", 3000)
    b = _store(cache, b"/b", 3000)
    c = _store(cache, b"/c", 1000)
    assert a and b and c and cache.used == 10
    cache.used_now(a)  # a hit: /b is now the oldest
    d = _store(cache, b"/d", 2500)
    assert d is not None
    assert cache.find(b.key, None, NOW) is None
    assert cache.find(a.key, None, NOW) is a and cache.find(c.key, None, NOW) is c
    assert cache.used == a.blocks + c.blocks + d.blocks


def test_a_new_response_replaces_the_old_one() -> None:
    cache = HttpCache(CacheSpec("c", 1024, 4096))
    old = _store(cache, b"/a", 10)
    new = _store(cache, b"/a", 20)
    assert old and new and cache.find(new.key, None, NOW) is new
    assert cache.used == new.blocks
    # an entry being stored is not replaced
    pending = _entry(b"/p")
    assert cache.begin(pending, NOW)
    assert not cache.begin(_entry(b"/p"), NOW)


def test_secondary_entries() -> None:
    cache = HttpCache(CacheSpec("c", 1024, 4096, max_secondary_entries=2))
    sig = vary.VARY_ACCEPT_ENCODING
    gz = b"\x01\x00\x00\x00" + b"\0" * 4
    br = b"\x04\x00\x00\x00" + b"\0" * 4
    ident = b"\x00\x01\x00\x00" + b"\0" * 4
    assert _store(cache, b"/v", 10, secondary=gz, signature=sig)  # type: ignore[arg-type]
    assert _store(cache, b"/v", 10, secondary=br, signature=sig)  # type: ignore[arg-type]
    assert _store(cache, b"/v", 10, secondary=ident, signature=sig) is None  # type: ignore[arg-type]
    key = _entry(b"/v").key
    assert len(cache.show(NOW)) == 1  # show cache lists a hash once
    accepts_br = vary.secondary_key([(b"accept-encoding", b"br")], sig)
    got = cache.find(key, accepts_br, NOW)
    assert got is not None and got.secondary == br
    assert cache.find(key, vary.secondary_key([(b"accept-encoding", b"deflate")], sig), NOW) is None


def test_drop_key_and_show() -> None:
    cache = HttpCache(CacheSpec("c", 1024, 4096), offset=5.0)
    assert cache.seconds(10.9) == 15
    a = _store(cache, b"/a", 10)
    b = _store(cache, b"/b", 10)
    assert a and b
    assert cache.show(NOW) == sorted([a, b], key=lambda e: e.hash)
    cache.drop_key(a.key, NOW)
    assert cache.show(NOW) == [b]
    assert cache.show(NOW + 60) == []  # expired entries go as they are listed
