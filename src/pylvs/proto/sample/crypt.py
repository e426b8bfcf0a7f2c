"""crypt(3) for userlist passwords: `$1$` (MD5-crypt), `$5$` (SHA-256-crypt), `$6$`
(SHA-512-crypt), as glibc computes them (src/auth.c check_user calls crypt(3); the
algorithms are Poul-Henning Kamp's MD5-crypt and Ulrich Drepper's SHA-crypt
specification).  Other schemes (DES, yescrypt) are not recognised: `verify` is False.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

_B64 = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _b64(value: int, n: int) -> bytes:
    out = bytearray()
    for _ in range(n):
        out.append(_B64[value & 0x3F])
        value >>= 6
    return bytes(out)


def _encode(digest: bytes, order: Sequence[tuple[int, ...]]) -> bytes:
    out = bytearray()
    for group in order:
        value = 0
        for idx in group:
            value = (value << 8) | digest[idx]
        out += _b64(value, len(group) + 1)
    return bytes(out)


def md5_crypt(password: bytes, salt: bytes) -> bytes:
    salt = salt[:8]
    alt = hashlib.md5(password + salt + password).digest()
    ctx = hashlib.md5(password + b"$1$" + salt)
    for i in range(len(password), 0, -16):
        ctx.update(alt[: min(i, 16)])
    i = len(password)
    while i:
        ctx.update(b"\0" if i & 1 else password[:1])
        i >>= 1
    final = ctx.digest()
    for r in range(1000):
        c = hashlib.md5()
        c.update(password if r & 1 else final)
        if r % 3:
            c.update(salt)
        if r % 7:
            c.update(password)
        c.update(final if r & 1 else password)
        final = c.digest()
    order = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)]
    return b"$1$" + salt + b"$" + _encode(final, order) + _b64(final[11], 2)


def _sha_order(size: int) -> list[tuple[int, ...]]:
    seq: list[tuple[int, ...]]
    if size == 32:
        seq = [(0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14)]
        seq += [(15, 25, 5), (6, 16, 26), (27, 7, 17), (18, 28, 8), (9, 19, 29)]
        return seq
    seq = []
    a, b, c = 0, 21, 42  # the SHA-512 digest is written in rotating triples
    for _ in range(21):
        seq.append((a, b, c))
        a, b, c = b + 1, c + 1, a + 1
        a, b, c = (a % 63, b % 63, c % 63)
    return seq


def sha_crypt(password: bytes, setting: bytes, variant: int) -> bytes:
    """`$5$` or `$6$` with an optional `rounds=N$`."""
    algo = hashlib.sha256 if variant == 5 else hashlib.sha512
    size = 32 if variant == 5 else 64
    rest = setting[3:]
    rounds, custom = 5000, False
    if rest.startswith(b"rounds="):
        text, _, rest = rest[7:].partition(b"$")
        rounds, custom = max(1000, min(999_999_999, int(text or b"0"))), True
    salt = rest.split(b"$", 1)[0][:16]
    alt = algo(password + salt + password).digest()
    ctx = algo(password + salt)
    n = len(password)
    while n > size:
        ctx.update(alt)
        n -= size
    ctx.update(alt[:n])
    n = len(password)
    while n:
        ctx.update(alt if n & 1 else password)
        n >>= 1
    final = ctx.digest()
    dp = algo(password * len(password)).digest()
    p = (dp * (len(password) // size + 1))[: len(password)]
    ds = algo(salt * (16 + final[0])).digest()
    s = (ds * (len(salt) // size + 1))[: len(salt)]
    for r in range(rounds):
        c = algo()
        c.update(p if r & 1 else final)
        if r % 3:
            c.update(s)
        if r % 7:
            c.update(p)
        c.update(final if r & 1 else p)
        final = c.digest()
    head = b"$%d$" % variant + (b"rounds=%d$" % rounds if custom else b"") + salt
    if size == 32:
        tail = _encode(final, _sha_order(32)) + _b64((final[31] << 8) | final[30], 3)
    else:
        tail = _encode(final, _sha_order(64)) + _b64(final[63], 2)
    return head + b"$" + tail


def crypt(password: bytes, hashed: bytes) -> bytes | None:
    """crypt(password, hashed) for the schemes above, else None."""
    if hashed.startswith(b"$1$"):
        return md5_crypt(password, hashed[3:].split(b"$", 1)[0])
    if hashed.startswith((b"$5$", b"$6$")):
        return sha_crypt(password, hashed, hashed[1] - 0x30)
    return None


def verify(password: bytes, hashed: bytes) -> bool:
    out = crypt(password, hashed)
    return out is not None and hmac.compare_digest(out, hashed)
