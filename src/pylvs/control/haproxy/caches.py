"""`show cache`: the `cache` sections and their live entries as HAProxy 2.6 prints them
(src/cache.c cli_io_handler_show_cache).

One line per cache, `PTR: NAME (shctx:PTR, available blocks:N)` (the blocks not held by a
response being stored or sent: between requests, all of them), then one line per live
entry in the order of its hash, `PTR hash:H vary:0xKEY size:S (B blocks), refcount:R,
expire:SECONDS-LEFT`; an entry whose life ended is dropped instead.  The pointers are
pylvs's own numbers, shaped as HAProxy prints them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.proto.cache.store import HttpCache

_BASE = 0x7F0000000000  # where the made-up pointers start


def show_cache(caches: Sequence[HttpCache], now: int) -> str:
    out: list[str] = []
    for n, cache in enumerate(caches):
        here = _BASE + (n << 24)
        out.append(
            f"{here + 0x3A:#x}: {cache.spec.name} (shctx:{here:#x},"
            f" available blocks:{cache.spec.max_blocks})\n"
        )
        for e in cache.show(now):
            out.append(
                f"{here + 0x1000 + 0x10 * e.id:#x} hash:{e.hash} vary:0x{e.secondary.hex()}"
                f" size:{e.size} ({e.blocks} blocks), refcount:0, expire:{e.expire - now}\n"
            )
    return "".join(out)
