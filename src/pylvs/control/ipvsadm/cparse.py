"""The C library parsing and printing rules ipvsadm leans on, as pure functions.

ipvsadm.c reads numbers with strtol() (`string_to_number`, `parse_fwmark`), IPv4 addresses
with inet_aton() (which accepts `1.2`, `0x7f.1`, octal parts) and prints addresses with
inet_ntop().  A byte-compatible clone has to accept and print exactly what glibc does, so
these follow glibc's inet_aton (resolv/inet_addr.c), inet_ntop (resolv/inet_ntop.c) and
strtol (stdlib/strtol_l.c) rather than Python's stricter `ipaddress` and `int()`.
"""

from __future__ import annotations

import ipaddress

LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)
_C_SPACE = " \t\n\v\f\r"
# More significant digits than this is out of range for any C type ipvsadm reads into.
_MAX_DIGITS = {10: 20, 8: 23, 16: 17}


def bounded_int(digits: str, base: int = 10) -> int:
    """int(digits, base) for a run of valid digits, without Python's conversion limit.

    A value with more significant digits than any C `unsigned long` holds comes back as
    2**64: out of range for every caller (negated too), which is all C's strtol would tell
    (ERANGE) and all ipvsadm ever asks.  No length of input can raise here.
    """
    significant = digits.lstrip("0")
    if len(significant) > _MAX_DIGITS[base]:
        return 1 << 64
    return int(significant or "0", base)


def strtol10(s: str) -> tuple[int, int, bool] | None:
    """strtol(s, &end, 10): (value, index of end, overflowed) or None when no digits."""
    i = 0
    while i < len(s) and s[i] in _C_SPACE:
        i += 1
    neg = False
    if i < len(s) and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    start = i
    while i < len(s) and "0" <= s[i] <= "9":
        i += 1
    if i == start:
        return None
    value = bounded_int(s[start:i])
    value = -value if neg else value
    if value > LONG_MAX:
        return (LONG_MAX, i, True)
    if value < LONG_MIN:
        return (LONG_MIN, i, True)
    return (value, i, False)


def string_to_number(s: str, lo: int, hi: int) -> int:
    """ipvsadm.c `string_to_number`: the number if all of `s` is one in [lo, hi], else -1."""
    r = strtol10(s)
    if r is None:
        return -1
    value, end, overflow = r
    if end != len(s) or overflow or not lo <= value <= hi:
        return -1
    return value


def str_is_digit(s: str) -> bool:
    """ipvsadm.c `str_is_digit`: every character is a digit (true for the empty string)."""
    return all("0" <= c <= "9" for c in s)


def atoi(s: str) -> int:
    """atoi(): strtol without error reporting (0 when there are no digits)."""
    r = strtol10(s)
    if r is None:
        return 0
    return max(-(2**31), min(2**31 - 1, r[0]))


def _aton_part(s: str) -> tuple[int, int] | None:
    """One inet_aton part as C's strtoul(.., 0): (value, chars used) or None."""
    if s[:2] in ("0x", "0X"):
        j = 2
        while j < len(s) and s[j] in "0123456789abcdefABCDEF":
            j += 1
        # strtoul reads "0x" without hex digits as "0" followed by junk.
        return (bounded_int(s[2:j], 16), j) if j > 2 else (0, 1)
    if s[:1] == "0":
        j = 1
        while j < len(s) and s[j] in "01234567":
            j += 1
        if j < len(s) and s[j] in "89":
            return None
        return (bounded_int(s[:j], 8), j)
    j = 0
    while j < len(s) and "0" <= s[j] <= "9":
        j += 1
    if j == 0:
        return None
    return (bounded_int(s[:j]), j)


def inet_aton(s: str) -> ipaddress.IPv4Address | None:
    """glibc inet_aton: `a`, `a.b`, `a.b.c`, `a.b.c.d`, parts decimal/octal/hex.

    Like glibc, anything after a whitespace character is ignored.
    """
    parts: list[int] = []
    i = 0
    while True:
        if i >= len(s) or not ("0" <= s[i] <= "9"):
            return None
        r = _aton_part(s[i:])
        if r is None:
            return None
        value, used = r
        i += used
        if value > 0xFFFFFFFF:
            return None
        parts.append(value)
        if i < len(s) and s[i] == ".":
            if len(parts) == 4:
                return None
            i += 1
            continue
        break
    if i < len(s) and s[i] not in _C_SPACE:
        return None
    limits = {1: (), 2: (0xFF,), 3: (0xFF, 0xFF), 4: (0xFF, 0xFF, 0xFF)}[len(parts)]
    head = parts[:-1]
    if any(p > lim for p, lim in zip(head, limits, strict=True)):
        return None
    last_max = 0xFFFFFFFF >> (8 * len(head))
    if parts[-1] > last_max:
        return None
    value = 0
    for p in head:
        value = (value << 8) | p
    value = (value << (8 * (4 - len(head)))) | parts[-1]
    return ipaddress.IPv4Address(value)


def inet_pton6(s: str) -> ipaddress.IPv6Address | None:
    """inet_pton(AF_INET6): Python's parser minus the scope ids glibc does not accept."""
    if "%" in s or not s:
        return None
    try:
        return ipaddress.IPv6Address(s)
    except ValueError:
        return None


def inet_pton4(s: str) -> ipaddress.IPv4Address | None:
    """inet_pton(AF_INET): exactly four decimal parts, no leading-zero parts."""
    bits = s.split(".")
    if len(bits) != 4:
        return None
    for b in bits:
        if not b or not b.isascii() or not b.isdigit() or len(b) > 3:
            return None
        if len(b) > 1 and b[0] == "0":
            return None
        if int(b) > 255:
            return None
    return ipaddress.IPv4Address(s)


def inet_ntop6(addr: ipaddress.IPv6Address) -> str:
    """glibc inet_ntop6: longest run (>= 2) of zero words as `::`, embedded IPv4 forms."""
    words = [int.from_bytes(addr.packed[i : i + 2], "big") for i in range(0, 16, 2)]
    best_base, best_len = -1, 0
    cur_base, cur_len = -1, 0
    for i, w in enumerate(words):
        if w == 0:
            if cur_base == -1:
                cur_base, cur_len = i, 1
            else:
                cur_len += 1
        elif cur_base != -1:
            if best_base == -1 or cur_len > best_len:
                best_base, best_len = cur_base, cur_len
            cur_base = -1
    if cur_base != -1 and (best_base == -1 or cur_len > best_len):
        best_base, best_len = cur_base, cur_len
    if best_base != -1 and best_len < 2:
        best_base = -1
    out = ""
    i = 0
    while i < 8:
        if best_base != -1 and best_base <= i < best_base + best_len:
            if i == best_base:
                out += ":"
            i += 1
            continue
        if i != 0:
            out += ":"
        if i == 6 and best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
            out += str(ipaddress.IPv4Address(addr.packed[12:]))
            break
        out += f"{words[i]:x}"
        i += 1
    if best_base != -1 and best_base + best_len == 8:
        out += ":"
    return out


def inet_ntop(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(addr, ipaddress.IPv6Address):
        return inet_ntop6(addr)
    return str(addr)
