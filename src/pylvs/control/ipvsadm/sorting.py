"""The order `ipvsadm -L` / `-S` print services and destinations in.

libipvs/libipvs.c `ipvs_cmp_services` compares fwmark, af, protocol, address, port and
`ipvs_cmp_dests` address then port, each by plain C subtraction stored in an `int`.  For
32-bit quantities (fwmarks, IPv4 addresses, each 32-bit word of an IPv6 address) the
unsigned difference is *converted to int*, so two values 2^31 or more apart compare the
wrong way round: 10.0.0.1 sorts after 192.168.0.1.  The comparator is then not a total
order, so the result depends on the sort algorithm: we reproduce glibc's `qsort`, which
for these small arrays is the top-down merge sort of stdlib/msort.c (`msort_with_tmp`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pylvs.model import AF_INET6, Address, ServiceKey

T = TypeVar("T")


def _as_int32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - 0x100000000 if x & 0x80000000 else x


def _words(addr: Address | None) -> list[int]:
    """The address as 4 host-order 32-bit words (an IPv4 address is the first word)."""
    if addr is None:
        return [0, 0, 0, 0]
    raw = addr.packed.ljust(16, b"\0")
    return [int.from_bytes(raw[i : i + 4], "big") for i in range(0, 16, 4)]


def _cmp_addr(af: int, a: Address | None, b: Address | None) -> int:
    wa, wb = _words(a), _words(b)
    if af == AF_INET6:
        r = 0
        for i in range(4):
            r = _as_int32(wa[i] - wb[i])
            if r:
                break
        return r
    return _as_int32(wa[0] - wb[0])


def cmp_services(s1: ServiceKey, s2: ServiceKey) -> int:
    """libipvs.c `ipvs_cmp_services`."""
    r = _as_int32(s1.fwmark - s2.fwmark)
    if r:
        return r
    r = s1.af - s2.af
    if r:
        return r
    p1 = int(s1.protocol) if s1.protocol is not None else 6  # fwmark entries say TCP
    p2 = int(s2.protocol) if s2.protocol is not None else 6
    r = p1 - p2
    if r:
        return r
    r = _cmp_addr(s1.af, s1.address, s2.address)
    if r:
        return r
    return s1.port - s2.port


def cmp_dests(d1: tuple[int, Address, int], d2: tuple[int, Address, int]) -> int:
    """libipvs.c `ipvs_cmp_dests` on (af, address, port); the first dest's af decides."""
    r = _cmp_addr(d1[0], d1[1], d2[1])
    if r:
        return r
    return d1[2] - d2[2]


def glibc_msort(items: Sequence[T], cmp: Callable[[T, T], int]) -> list[T]:
    """glibc msort_with_tmp: split n/2 | n - n/2, merge taking the left one while <= 0."""
    n = len(items)
    if n <= 1:
        return list(items)
    n1 = n // 2
    left = glibc_msort(items[:n1], cmp)
    right = glibc_msort(items[n1:], cmp)
    out: list[T] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out
