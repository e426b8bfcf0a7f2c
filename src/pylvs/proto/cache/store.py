"""One `cache` section's entries (HAProxy 2.6 src/cache.c entry_exist, secondary_entry_exist,
insert_entry, delete_entry, the shared context's blocks of src/shctx.c; `show cache`).

An entry is keyed by the request's SHA-1 (rules.primary_key); HAProxy's tree is indexed by
its first 4 bytes read as a little-endian number (the `hash:` of `show cache`), and entries
of a response that varies share it, told apart by their secondary key (vary.py), at most
`max-secondary-entries` of them.  An entry takes ceil(size / 1024) blocks of the cache's
`total-max-size`; storing takes the blocks of the least recently used entries when no free
ones are left (shctx_row_reserve_hot takes from the head of the available list, where a
row goes back after each use).  An entry whose life ended is dropped when it is met.
The size of an entry is counted as HAProxy's: its struct (112 bytes on x86-64) and the HTX
blocks of its head and body (4 bytes of block info each, the start line's 20 bytes, one byte
for an end of headers or trailers).
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field

from pylvs.model.cache import CACHE_BLOCKSIZE, CacheSpec

from . import vary
from .rules import Field

ENTRY_STRUCT = 112  # sizeof(struct cache_entry), x86-64
_SL = 20  # sizeof(struct htx_sl)
MAX_AGE = 2147483648  # CACHE_ENTRY_MAX_AGE


@dataclass(slots=True)
class Entry:
    """A stored response: its head (without Age), its body, and HAProxy's facts."""

    key: bytes
    secondary: bytes  # zeros without Vary
    signature: int
    version: bytes
    status: int
    reason: bytes
    fields: tuple[Field, ...]
    expire: int
    validated: int  # latest_validation
    age: int  # the origin's Age
    modified: int  # last_modified
    etag: bytes | None
    body: list[bytes] = field(default_factory=list)
    size: int = 0  # the shared row's length
    complete: bool = False
    id: int = 0  # a stable number for `show cache`'s pointer

    @property
    def hash(self) -> int:
        return int(struct.unpack("<I", self.key[:4])[0])

    @property
    def blocks(self) -> int:
        return -(-self.size // CACHE_BLOCKSIZE)

    def age_at(self, now: int) -> int:
        """htx_cache_add_age_hdr: the Age a hit carries."""
        return min(max(0, now - self.validated) + self.age, MAX_AGE)


END_BLOCK = 5  # an end of headers or of trailers: its info and one byte (htx_add_endof)


def head_size(
    version: bytes, code: bytes, reason: bytes, fields: tuple[Field, ...], removed: int = 0
) -> int:
    """The HTX bytes of a stored head: start line, headers (`removed` of them left as
    unused blocks: their info only), end of headers."""
    total = 4 + _SL + len(version) + len(code) + len(reason)
    total += sum(4 + len(n) + len(v) for n, v in fields)
    return total + 4 * removed + END_BLOCK


class HttpCache:
    """One cache (see the module doc)."""

    def __init__(self, spec: CacheSpec, offset: float = 0.0) -> None:
        self.spec = spec
        self.offset = offset  # the epoch's seconds less the streams' clock (HAProxy: now.tv_sec)
        # primary key -> its entries (several with Vary), in least recently used order
        self.entries: OrderedDict[bytes, list[Entry]] = OrderedDict()
        self.used = 0  # blocks
        self._ids = 0

    def seconds(self, clock: float) -> int:
        """The cache's time (seconds since the epoch) at the streams' `clock`."""
        return int(clock + self.offset)

    @property
    def available(self) -> int:
        return self.spec.max_blocks - self.used

    def lookup(self, key: bytes, now: int) -> list[Entry]:
        """entry_exist: the live entries of `key` (dead ones dropped)."""
        got = self.entries.get(key)
        if not got:
            return []
        for e in [e for e in got if e.expire <= now]:
            self._drop(e)
        return self.entries.get(key, [])

    def find(self, key: bytes, secondary: bytes | None, now: int) -> Entry | None:
        """A complete entry for the request: the one of its key, or with Vary the one whose
        secondary key the request's (built for the entry's signature) matches."""
        got = self.lookup(key, now)
        if not got:
            return None
        if not got[0].signature:
            return got[0] if got[0].complete else None
        for e in got:
            if e.complete and secondary is not None and vary.matches(e.secondary, secondary):
                return e
        return None

    def used_now(self, entry: Entry) -> None:
        """A hit: the entry goes to the end of the eviction order."""
        if entry.key in self.entries:
            self.entries.move_to_end(entry.key)

    def drop_key(self, key: bytes, now: int) -> None:
        """A successful unsafe method: the entry of its key goes."""
        got = self.lookup(key, now)
        if got:
            self._drop(got[0])

    def begin(self, entry: Entry, now: int, request: bytes | None = None) -> bool:
        """insert_entry with the head's row reserved: False when it cannot be stored (an
        incomplete entry being stored already, too many variants, no room).  The entry it
        replaces: the first of its key, or with Vary the first variant the request's
        secondary key `request` matches (secondary_entry_exist)."""
        got = self.lookup(entry.key, now)
        old = got[0] if got else None
        if old is not None and entry.signature:
            old = None
            if got[0].signature and request is not None:
                old = next((e for e in got if vary.matches(e.secondary, request)), None)
        if old is not None:
            if not old.complete:
                return False
            self._drop(old)
        got = self.entries.get(entry.key, [])
        if entry.signature and len(got) >= self.spec.max_secondary_entries:
            return False
        self._ids += 1
        entry.id = self._ids
        entry.size = ENTRY_STRUCT
        self.entries.setdefault(entry.key, []).append(entry)
        self.entries.move_to_end(entry.key)
        self.used += entry.blocks
        return True

    def append(self, entry: Entry, size: int, data: bytes | None = None) -> bool:
        """shctx_row_reserve_hot + shctx_row_data_append: `size` more bytes in the entry's
        row (body data too); False (the entry dropped) past max-object-size or the cache."""
        new = entry.size + size
        if new > self.spec.max_object_size:
            self._drop(entry)
            return False
        more = -(-new // CACHE_BLOCKSIZE) - entry.blocks
        if more > self.available and not self._evict(more, entry):
            self._drop(entry)
            return False
        self.used += more
        entry.size = new
        if data:
            entry.body.append(data)
        return True

    def finish(self, entry: Entry) -> None:
        """cache_store_http_end: the whole payload stored, the entry can be used."""
        entry.complete = True

    def abandon(self, entry: Entry) -> None:
        """disable_cache_entry: the response could not be stored whole."""
        self._drop(entry)

    def _evict(self, blocks: int, keep: Entry) -> bool:
        for key in list(self.entries):
            if self.available >= blocks:
                break
            for e in list(self.entries.get(key, ())):
                if e is not keep and e.complete:
                    self._drop(e)
        return self.available >= blocks

    def _drop(self, entry: Entry) -> None:
        got = self.entries.get(entry.key)
        if got is None or entry not in got:
            return
        got.remove(entry)
        if not got:
            del self.entries[entry.key]
        self.used -= entry.blocks

    def show(self, now: int) -> list[Entry]:
        """What `show cache` lists: by hash, the first live entry of each (its walk goes
        from one hash to the next, passing over the other variants), dead ones dropped."""
        live: list[Entry] = []
        for key in list(self.entries):
            live.extend(self.lookup(key, now))
        out: dict[int, Entry] = {}
        for e in sorted(live, key=lambda e: (e.hash, e.id)):
            out.setdefault(e.hash, e)
        return list(out.values())
