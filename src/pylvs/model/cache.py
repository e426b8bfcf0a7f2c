"""A `cache NAME` section of haproxy.cfg as the runtime serves it (HAProxy 2.6 src/cache.c
cfg_parse_cache / cfg_post_parse_section_cache; the rules: proto/cache/)."""

from __future__ import annotations

from dataclasses import dataclass

CACHE_BLOCKSIZE = 1024  # src/cache.c: the shared context's block size
DEFAULT_MAX_SECONDARY_ENTRY = 10  # include/haproxy/cache-t.h


@dataclass(frozen=True, slots=True)
class CacheSpec:
    """One cache: its name (32 characters at most), its size in blocks of CACHE_BLOCKSIZE
    (`total-max-size` megabytes), the largest object it stores (`max-object-size`, a 256th
    of the cache by default), `max-age` (seconds, 60 by default), `process-vary` and
    `max-secondary-entries`."""

    name: str
    max_blocks: int
    max_object_size: int
    max_age: int = 60
    process_vary: bool = False
    max_secondary_entries: int = DEFAULT_MAX_SECONDARY_ENTRY
