"""proto/cache/vary.py: the secondary key of `process-vary on` (src/cache.c)."""

from __future__ import annotations

import struct
import zlib

import pytest

from pylvs.proto.cache import vary


def _ae(*values: bytes) -> int | None:
    return vary.accept_encoding([(b"accept-encoding", v) for v in values])


@pytest.mark.parametrize(
    ("values", "bitmap"),
    [
        ((), vary.ALL),  # no field: anything goes
        ((b"gzip",), vary.IDENTITY | vary.GZIP),
        ((b"GZIP, br",), vary.IDENTITY | vary.GZIP | vary.BR),  # lower-cased first
        ((b"x-gzip",), vary.IDENTITY | vary.GZIP),
        ((b"x-compress",), vary.IDENTITY | vary.COMPRESS),
        ((b"gzip;q=0.5",), vary.IDENTITY | vary.GZIP),
        ((b"gzip;q=0",), vary.IDENTITY),  # refused
        ((b"identity;q=0, gzip",), vary.GZIP),
        ((b"*",), vary.ALL),
        ((b"*, gzip;q=0",), vary.ALL & ~vary.GZIP),
        ((b"foo",), vary.IDENTITY | vary.OTHER),  # an unknown first letter
        ((b"gzipx",), vary.IDENTITY | vary.OTHER),  # something else after the name
        ((b"gz",), vary.IDENTITY),  # a known letter, no name: nothing
        ((b"",), vary.IDENTITY),  # an empty field: counted, nothing accepted
    ],
)
def test_accept_encoding_bitmap(values: tuple[bytes, ...], bitmap: int) -> None:
    assert _ae(*values) == bitmap


def test_sixteen_encodings_are_refused() -> None:
    assert _ae(b", ".join([b"gzip"] * 15)) is not None
    assert _ae(b", ".join([b"gzip"] * 16)) is None


def test_the_secondary_key() -> None:
    fields = [(b"accept-encoding", b"gzip"), (b"referer", b"http://a/")]
    key = vary.secondary_key(fields, vary.ALL)
    assert key is not None
    assert key[:4] == struct.pack("<I", vary.IDENTITY | vary.GZIP)
    assert key[4:] == struct.pack("<I", zlib.crc32(b"http://a/"))
    only_ae = vary.secondary_key(fields, vary.VARY_ACCEPT_ENCODING)
    assert only_ae == key[:4] + b"\0\0\0\0"
    assert vary.reduce(key, vary.VARY_REFERER) == b"\0\0\0\0" + key[4:]
    assert vary.secondary_key([], vary.VARY_REFERER) == b"\0" * 8


def test_the_vary_signature() -> None:
    assert vary.signature([]) == 0
    assert vary.signature([(b"vary", b"Accept-Encoding")]) == vary.VARY_ACCEPT_ENCODING
    both = [(b"vary", b"accept-encoding, referer")]
    assert vary.signature(both) == vary.VARY_ACCEPT_ENCODING | vary.VARY_REFERER
    assert vary.signature([(b"vary", b"accept-encoding, cookie")]) is None
    assert vary.signature([(b"vary", b"*")]) is None


def test_a_stored_encoding_must_be_accepted() -> None:
    key = vary.secondary_key([(b"accept-encoding", b"gzip")], vary.ALL)
    assert key is not None
    stored = vary.with_encoding(vary.reduce(key, 1), [(b"content-encoding", b"gzip")])
    assert stored is not None and stored[:4] == struct.pack("<I", vary.GZIP)
    plain = vary.secondary_key([], vary.VARY_ACCEPT_ENCODING)
    br = vary.secondary_key([(b"accept-encoding", b"br")], vary.VARY_ACCEPT_ENCODING)
    assert plain is not None and br is not None
    assert vary.matches(stored, plain)  # no Accept-Encoding: anything
    assert not vary.matches(stored, br)
    identity = vary.with_encoding(b"\0" * 8, [])
    assert identity is not None and identity[:4] == struct.pack("<I", vary.IDENTITY)
    assert vary.matches(identity, br)  # identity is always accepted
    assert vary.with_encoding(b"\0" * 8, [(b"content-encoding", b"funny")]) is None


def test_a_referer_only_variant_never_matches() -> None:
    """set_secondary_key_encoding writes the identity bitmap into a Referer-only entry's key,
    while a request keyed by that signature has zeros there: HAProxy 2.6 never serves it."""
    fields = [(b"referer", b"r")]
    key = vary.secondary_key(fields, vary.ALL)
    assert key is not None
    stored = vary.with_encoding(vary.reduce(key, vary.VARY_REFERER), [])
    wanted = vary.secondary_key(fields, vary.VARY_REFERER)
    assert stored is not None and wanted is not None
    assert not vary.matches(stored, wanted)
