"""The secondary key of `process-vary on` (HAProxy 2.6 src/cache.c vary_information[],
accept_encoding_normalizer, default_normalizer, http_request_build_secondary_key,
http_request_reduce_secondary_key, set_secondary_key_encoding, secondary_key_cmp).

The key is 8 bytes, written as HAProxy writes them on x86 (little-endian): the request's
Accept-Encoding as a bitmap of known encodings, then the CRC-32 of its first Referer value.
A part the Vary signature does not name is zeros.  A stored response's Accept-Encoding part is
the bitmap of its own Content-Encoding; a request matches it when it accepts every encoding
of that bitmap (and the bitmap has no unknown encoding).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from .rules import Field, first_full, values

VARY_ACCEPT_ENCODING = 1
VARY_REFERER = 2
ALL = 0xFFFFFFFF
KEY_LEN = 8

GZIP, DEFLATE, BR, COMPRESS = 1 << 0, 1 << 1, 1 << 2, 1 << 3
AES128GCM, EXI, PACK200_GZIP, ZSTD = 1 << 4, 1 << 5, 1 << 6, 1 << 7
IDENTITY, STAR, OTHER = 1 << 8, 1 << 9, 1 << 10

# parse_encoding_value: the first letter, then the rest of the name as a prefix
_ENCODINGS: dict[int, tuple[tuple[bytes, int], ...]] = {
    ord("a"): ((b"aes128gcm", AES128GCM),),
    ord("b"): ((b"br", BR),),
    ord("c"): ((b"compress", COMPRESS),),
    ord("d"): ((b"deflate", DEFLATE),),
    ord("e"): ((b"exi", EXI),),
    ord("g"): ((b"gzip", GZIP),),
    ord("i"): ((b"identity", IDENTITY),),
    ord("p"): ((b"pack200-gzip", PACK200_GZIP),),
    ord("x"): ((b"x-gzip", GZIP), (b"x-compress", COMPRESS)),
    ord("z"): ((b"zstd", ZSTD),),
}
_MAX_ENTRIES = 16  # ACCEPT_ENCODING_MAX_ENTRIES


def encoding_value(text: bytes) -> tuple[int, bool] | None:
    """parse_encoding_value: (the encoding's bit, 0 for an unknown name of a known letter;
    whether its weight is exactly q=0), or None for an error (an unknown first letter,
    something other than a weight after the name)."""
    if not text:
        return None
    first = text[0]
    bit = 0
    rest = text[1:]
    if first == 0x2A:  # '*'
        bit = STAR
    elif first in _ENCODINGS:
        for name, value in _ENCODINGS[first]:
            if rest.startswith(name[1:]):
                bit, rest = value, rest[len(name) - 1 :]
                break
    else:
        return None
    null = False
    if bit:
        rest = rest.lstrip(b" \t")
        if rest:
            if rest[:1] != b";":
                return None
            null = rest[1:].lstrip(b" \t") == b"q=0"
    return bit, null


def accept_encoding(fields: Sequence[Field]) -> int | None:
    """accept_encoding_normalizer: the bitmap of what the request accepts; None when it
    names 16 encodings or more (not used)."""
    bitmap, refused, count = IDENTITY, ALL, 0
    for v in values(fields, b"accept-encoding"):
        if count >= _MAX_ENTRIES:
            break
        count += 1
        if not v:
            continue
        got = encoding_value(v.lower())
        if got is None:
            bitmap |= OTHER
        elif got[1]:
            refused &= ~got[0] & ALL
        else:
            bitmap |= got[0]
    if bitmap & STAR:
        bitmap = ALL
    bitmap &= refused
    if count == 0:
        bitmap = ALL
    if count == _MAX_ENTRIES:
        return None
    return bitmap


def secondary_key(fields: Sequence[Field], signature: int) -> bytes | None:
    """http_request_build_secondary_key for the headers of `signature` (ALL: every one, the
    prebuilt key of a miss); None when Accept-Encoding cannot be used."""
    ae = b"\0\0\0\0"
    if signature & VARY_ACCEPT_ENCODING:
        bitmap = accept_encoding(fields)
        if bitmap is None:
            return None
        ae = struct.pack("<I", bitmap)
    ref = b"\0\0\0\0"
    referer = first_full(fields, b"referer") if signature & VARY_REFERER else None
    if referer is not None:
        ref = struct.pack("<I", zlib.crc32(referer))
    return ae + ref


def reduce(key: bytes, signature: int) -> bytes:
    """http_request_reduce_secondary_key: zeros for the parts the response does not vary on."""
    ae = key[:4] if signature & VARY_ACCEPT_ENCODING else b"\0\0\0\0"
    ref = key[4:] if signature & VARY_REFERER else b"\0\0\0\0"
    return ae + ref


def signature(fields: Sequence[Field]) -> int | None:
    """http_check_vary_header: the Vary signature, None when it names another header."""
    sig = 0
    for v in values(fields, b"vary"):
        low = v.lower()
        if low == b"accept-encoding":
            sig |= VARY_ACCEPT_ENCODING
        elif low == b"referer":
            sig |= VARY_REFERER
        else:
            return None
    return sig


def with_encoding(key: bytes, fields: Sequence[Field]) -> bytes | None:
    """set_secondary_key_encoding: the Accept-Encoding part becomes the response's own
    Content-Encoding bitmap (identity when none); None for an unknown encoding."""
    bitmap = 0
    for v in values(fields, b"content-encoding"):
        got = encoding_value(v)
        if got is None:
            return None
        bitmap |= got[0]
    return struct.pack("<I", bitmap or IDENTITY) + key[4:]


def matches(stored: bytes, new: bytes) -> bool:
    """secondary_key_cmp == 0: every encoding of the stored bitmap accepted, same Referer."""
    ref = struct.unpack("<I", stored[:4])[0]
    got = struct.unpack("<I", new[:4])[0]
    if ref & OTHER or ref & got != ref:
        return False
    return stored[4:] == new[4:]
