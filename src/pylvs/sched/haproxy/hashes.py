"""HAProxy's hash functions, bit for bit (src/hash.c, include/haproxy/intops.h).

* `sdbm`: h = c + (h << 6) + (h << 16) - h, from 0 (the default `hash-type` function);
* `djb2`: h = h * 33 + c, from 5381;
* `wt6`: Willy Tarreau's rotating mix of two words seeded 0xa53c965a / 0x5ca6953a;
* `crc32`: the reflected CRC-32 (poly 0xedb88320, initial and final XOR ~0), as zlib's;
* `full_hash`: Bob Jenkins' 32-bit integer avalanche, then * 3221225473 -- the `avalanche`
  modifier, and what places consistent-hash ring nodes (`full_hash(puid * 4096 + n)`).

All arithmetic is unsigned 32-bit, as in C.  `gen_hash` is backend.c's dispatch by name.
"""

from __future__ import annotations

import zlib

from pylvs.sched.haproxy.params import HashFunction

M32 = 0xFFFFFFFF


def sdbm(data: bytes) -> int:
    h = 0
    for c in data:
        h = (c + (h << 6) + (h << 16) - h) & M32
    return h


def djb2(data: bytes) -> int:
    h = 5381
    for c in data:
        h = (h * 33 + c) & M32
    return h


def wt6(data: bytes) -> int:
    h0, h1 = 0xA53C965A, 0x5CA6953A
    step0, step1 = 6, 18
    for c in data:
        h0 = ~(h0 ^ c) & M32
        h1 = ~(h1 + c) & M32
        t = ((h1 << step0) | (h1 >> (32 - step0))) & M32
        h1 = ((h0 << step1) | (h0 >> (32 - step1))) & M32
        h0 = t
        t = ((h0 >> 16) ^ h1) & 0xFFFF
        step0 = t & 0x1F
        step1 = t >> 11
    return h0 ^ h1


def crc32(data: bytes) -> int:
    # hash_crc32 is the standard reflected CRC-32, which zlib computes the same way.
    return zlib.crc32(data) & M32


def full_hash(a: int) -> int:
    """intops.h __full_hash."""
    a = ((a + 0x7ED55D16) + (a << 12)) & M32
    a = ((a ^ 0xC761C23C) ^ (a >> 19)) & M32
    a = ((a + 0x165667B1) + (a << 5)) & M32
    a = ((a + 0xD3A2646C) ^ (a << 9)) & M32
    a = ((a + 0xFD7046C5) + (a << 3)) & M32
    a = ((a ^ 0xB55A4F09) ^ (a >> 16)) & M32
    return (a * 3221225473) & M32


_FUNCTIONS = {
    HashFunction.SDBM: sdbm,
    HashFunction.DJB2: djb2,
    HashFunction.WT6: wt6,
    HashFunction.CRC32: crc32,
}


def gen_hash(function: HashFunction, data: bytes) -> int:
    """backend.c gen_hash: `data` hashed with the backend's function."""
    return _FUNCTIONS[function](data)
