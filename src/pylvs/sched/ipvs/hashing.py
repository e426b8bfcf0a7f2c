"""The hash functions the kernel's IPVS schedulers use, bit for bit.

* `addr_fold`: an IPv4 address as a host-order u32, or the XOR of the four 32-bit words of an
  IPv6 address (`addr_fold` in ip_vs_sh.c, ip_vs_dh.c, ip_vs_lblc.c, ip_vs_lblcr.c, ip_vs_mh.c).
  XOR commutes with ntohl, so folding the big-endian words equals the kernel's
  `ntohl(ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3])`.
* `GOLDEN_PRIME`: the multiplier 2654435761 of the sh / dh bucket hashes; only the low 8 bits
  of the product are kept there, so the width of the C multiplication does not matter.
* `hash_32`: include/linux/hash.h `hash_32()` (multiply by GOLDEN_RATIO_32, keep the top bits),
  used by lblc / lblcr to place cache entries in their 1024 buckets.
* `siphash` / `hsiphash`: lib/siphash.c.  On 64-bit kernels "HalfSipHash" is really
  SipHash-1-3 on 64-bit words truncated to 32 bits; that is the variant implemented here (the
  one every x86_64 / arm64 director runs), so the Maglev table (ip_vs_mh.c) comes out the same
  as the kernel's.  The u32 input is read little-endian, as on those machines.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

GOLDEN_PRIME = 2654435761  # 0x9E3779B1, the sh/dh/old-lblc multiplier
GOLDEN_RATIO_32 = 0x61C88647  # include/linux/hash.h

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def addr_fold(address: Address) -> int:
    """The host-order u32 the kernel hashes for `address`."""
    value = int(address)
    if address.version == 4:
        return value
    return ((value >> 96) ^ (value >> 64) ^ (value >> 32) ^ value) & _M32


def hash_32(value: int, bits: int) -> int:
    """include/linux/hash.h hash_32(): the top `bits` bits of value * GOLDEN_RATIO_32 (u32)."""
    return ((value * GOLDEN_RATIO_32) & _M32) >> (32 - bits)


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def _sipround(v0: int, v1: int, v2: int, v3: int) -> tuple[int, int, int, int]:
    v0 = (v0 + v1) & _M64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & _M64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & _M64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & _M64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash(data: bytes, key: tuple[int, int], c_rounds: int = 2, d_rounds: int = 4) -> int:
    """SipHash-c-d of `data` with the 128-bit key given as two little-endian u64 words."""
    k0, k1 = key
    v0 = 0x736F6D6570736575 ^ k0
    v1 = 0x646F72616E646F6D ^ k1
    v2 = 0x6C7967656E657261 ^ k0
    v3 = 0x7465646279746573 ^ k1
    full = len(data) - len(data) % 8
    for i in range(0, full, 8):
        m = int.from_bytes(data[i : i + 8], "little")
        v3 ^= m
        for _ in range(c_rounds):
            v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        v0 ^= m
    b = ((len(data) & 0xFF) << 56) | int.from_bytes(data[full:], "little")
    v3 ^= b
    for _ in range(c_rounds):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= 0xFF
    for _ in range(d_rounds):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def hsiphash(data: bytes, key: tuple[int, int]) -> int:
    """lib/siphash.c hsiphash() as built for BITS_PER_LONG == 64: SipHash-1-3, low 32 bits."""
    return siphash(data, key, 1, 3) & _M32


@lru_cache(maxsize=1 << 16)
def hsiphash_u32(value: int, key: tuple[int, int]) -> int:
    """hsiphash(&v, sizeof(u32), key) for a u32 `v` (hsiphash_1u32 on 64-bit kernels).

    Unrolled and memoised: mh hashes every new connection's source address with it.
    """
    k0, k1 = key
    v0 = 0x736F6D6570736575 ^ k0
    v1 = 0x646F72616E646F6D ^ k1
    v2 = 0x6C7967656E657261 ^ k0
    v3 = 0x7465646279746573 ^ k1
    b = (4 << 56) | (value & _M32)
    v3 ^= b
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= 0xFF
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    return (v0 ^ v1 ^ v2 ^ v3) & _M32
