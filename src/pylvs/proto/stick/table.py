"""A stick table: entries by key, their data, expiry and the eviction of the oldest when full.

The rules are HAProxy 2.6's src/stick_table.c, with time in milliseconds taken from the `now`
(seconds) every call is given:

* An entry's `expire` is set to `now + expire` when it is created and whenever it is touched
  (stktable_touch_local: a stick match, a store, `set table`, a tracked counter update).
  Entries also sit in an expiry tree keyed by the `expire` they had when they were queued;
  a touch does not move them there.
* Expiry (process_table_expire), for tables with an `expire`: walking the tree from its
  oldest key up to `now`, an entry whose `expire` moved on is queued again at its new time;
  one really expired goes, unless it is referenced (`ref_cnt`, held by tracked sessions, the
  stats socket...).
* A new entry in a full table (`current == size`) first makes room: unless `nopurge`, the
  oldest `size / 256 + 1` entries of the tree go (__stktable_trash_oldest), with the same
  walk, and at most twice that many nodes looked at; if nothing could go, no entry is made.
  So the least recently touched entry goes first -- at the millisecond: entries touched in
  the millisecond they were queued keep their place, and among equal times the first queued
  goes first.
* `new_entry` allocates an entry that counts in `current` but is not in the table yet (what
  `stick store-request` prepares); `set_entry` puts it in, or returns the entry already there
  with that key and drops the new one (stktable_set_entry); `free` drops an unstored one.
* A table shared with peers (`sync` set: proto/peers) keeps its updates in order
  (__stktable_touch_with_exp): a local touch gives the entry the next update id (unless it
  still waits to be pushed), one learnt from a peer (`touch_remote`) an id in the far half
  of the 32-bit space, so that pushing local updates never sends it back.

The entries' data are the `store` types of the table's spec (`data.py`): numbers, rates and
the server's name.  The runtime that tracks counters updates them through `Entry`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from pylvs.proto.stick.data import DATA_TYPES, FreqCtr, Kind, wrap
from pylvs.proto.stick.keys import Sample
from pylvs.proto.stick.spec import TableSpec
from pylvs.sched.haproxy.tree import M32, EbTree, Node


def _s32(value: int) -> int:
    """(int)(a - b) in C: a 32-bit difference read as signed."""
    value &= M32
    return value - (1 << 32) if value & 0x80000000 else value


def ms(now: float) -> int:
    """The millisecond tick of a time in seconds (HAProxy's now_ms)."""
    return math.floor(now * 1000 + 1e-6)


class Entry:
    """struct stksess: a key, its expiry, references and stored data."""

    __slots__ = ("data", "exp_node", "expire", "key", "ref_cnt", "serial", "stored", "upd")

    def __init__(self, key: bytes, serial: int, spec: TableSpec) -> None:
        self.key = key
        self.serial = serial  # creation order, for a stable `show table` pointer
        self.ref_cnt = 0
        self.expire = 0
        self.stored = False
        self.exp_node = Node(self)
        self.upd = Node(self)  # its place among the updates to push (a shared table's)
        self.data: dict[str, int | FreqCtr | str | None] = {}
        for name, _ in spec.store:
            kind = DATA_TYPES[name].kind
            self.data[name] = FreqCtr() if kind is Kind.FRQP else None if kind is Kind.DICT else 0

    def get(self, name: str) -> int | str | None:
        """A stored number or the server name (rates: use `StickTable.rate`)."""
        value = self.data[name]
        return None if isinstance(value, FreqCtr) else value

    def set(self, name: str, value: int | str | None) -> None:
        kind = DATA_TYPES[name].kind
        if kind is Kind.DICT:
            self.data[name] = None if value is None else str(value)
        elif isinstance(value, int):
            self.data[name] = wrap(kind, value)

    def add(self, name: str, n: int = 1) -> int:
        """Add to a counter (`conn_cnt`, `gpc0`, ...); `conn_cur` never goes below 0."""
        kind = DATA_TYPES[name].kind
        value = self.data[name]
        assert isinstance(value, int)
        new = value + n
        if new < 0 and kind is not Kind.SINT:
            new = 0
        self.data[name] = wrap(kind, new)
        return int(self.data[name])  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Entry({self.key.hex()} ref={self.ref_cnt} exp={self.expire})"


class StickTable:
    """One stick table (see the module doc)."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self._keys: dict[bytes, Entry] = {}
        self._exps = EbTree()
        self.current = 0  # entries allocated, stored or pending
        self._serial = 0
        # Peers (proto/peers): updates by id, the last id given, the last local one, the
        # last one pushed to every peer; `sync` is told of each local update.
        self.updates = EbTree()
        self.update = self.localupdate = self.commitupdate = 0
        self.sync: Callable[[], None] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def __len__(self) -> int:
        return len(self._keys)

    def key_of(self, value: Sample) -> bytes | None:
        """The table's key for a sample value (None if it cannot be converted)."""
        return self.spec.key.key_of(value)

    # -- lookups -------------------------------------------------------------------------

    def lookup(self, key: bytes, now: float) -> Entry | None:
        """stktable_lookup_key (no touch)."""
        self.expire_entries(now)
        return self._keys.get(self.spec.key.fix(key))

    def entries(self, now: float) -> Iterator[Entry]:
        """The stored entries in key order (the order `show table` dumps them)."""
        self.expire_entries(now)
        sort_key = self.spec.key.sort_key
        for key in sorted(self._keys, key=sort_key):
            yield self._keys[key]

    # -- creation ------------------------------------------------------------------------

    def new_entry(self, key: bytes, now: float) -> Entry | None:
        """__stksess_new: an entry counted in the table but not stored, None if full."""
        self.expire_entries(now)
        full = self.current >= self.spec.size
        if full and (self.spec.nopurge or not self._trash_oldest((self.spec.size >> 8) + 1)):
            return None
        self._serial += 1
        entry = Entry(self.spec.key.fix(key), self._serial, self.spec)
        entry.expire = ms(now) + self.spec.expire_ms
        self.current += 1
        return entry

    def free(self, entry: Entry) -> None:
        """stksess_free: drop an entry `new_entry` made and nothing stored."""
        if not entry.stored:
            self.current -= 1

    def set_entry(self, entry: Entry, now: float) -> Entry:
        """stktable_set_entry: store `entry`, or return the one already there (dropping
        `entry`)."""
        existing = self.lookup(entry.key, now)
        if existing is not None:
            self.free(entry)
            return existing
        self._store(entry)
        return entry

    def get_entry(self, key: bytes, now: float) -> Entry | None:
        """stktable_get_entry: the entry for `key`, created (and stored) if missing; None if
        the table is full and nothing could make room."""
        entry = self.lookup(key, now)
        if entry is None:
            entry = self.new_entry(key, now)
            if entry is None:
                return None
            self._store(entry)
        return entry

    def _store(self, entry: Entry) -> None:
        entry.stored = True
        self._keys[entry.key] = entry
        self._exps.insert(entry.exp_node, entry.expire)

    # -- updates -------------------------------------------------------------------------

    def touch(self, entry: Entry, now: float) -> None:
        """stktable_touch_local: the entry's expiry starts again from now (and a shared
        table schedules the entry to be pushed)."""
        entry.expire = ms(now) + self.spec.expire_ms
        if self.sync is None:
            return
        upd = entry.upd
        if (
            upd.tree is None
            or _s32(self.commitupdate - upd.key) >= 0
            or _s32(upd.key - self.localupdate) >= 0
        ):
            self.update = (self.update + 1) & M32
            self.localupdate = self.update
            self._queue_update(entry, self.update)
        self.sync()

    def touch_remote(self, entry: Entry, expire_ms: int) -> None:
        """stktable_touch_remote: an entry learnt from a peer expires at `expire_ms`; it is
        queued among the updates (to be taught to others in a full resync) if it was not."""
        entry.expire = expire_ms
        if entry.stored and entry.exp_node.tree is not None and entry.exp_node.key > expire_ms:
            self._exps.delete(entry.exp_node)  # a sooner expiry: queued at it
            self._exps.insert(entry.exp_node, expire_ms)
        if self.sync is not None and entry.upd.tree is None:
            self.update = (self.update + 1) & M32
            self._queue_update(entry, (self.update + 0x80000000) & M32)

    def _queue_update(self, entry: Entry, key: int) -> None:
        """An update id in the tree, unique (eb32 with EB_ROOT_UNIQUE: a node already there
        with the key leaves)."""
        if entry.upd.tree is not None:
            self.updates.delete(entry.upd)
        same = self.updates.lookup_ge(key)
        if same is not None and same.key == key:
            self.updates.delete(same)
        self.updates.insert(entry.upd, key)

    def acquire(self, entry: Entry) -> None:
        """Hold a reference (an entry referenced is neither expired nor evicted)."""
        entry.ref_cnt += 1

    def release(self, entry: Entry, now: float) -> None:
        """Drop a reference; the entry goes if it expired meanwhile (stksess_kill_if_expired)."""
        entry.ref_cnt -= 1
        if self.spec.expire_ms and entry.ref_cnt <= 0 and entry.expire <= ms(now):
            self.kill(entry)

    def kill(self, entry: Entry) -> bool:
        """stksess_kill: remove an unreferenced entry (False if referenced)."""
        if entry.ref_cnt:
            return False
        if entry.stored:
            del self._keys[entry.key]
            if entry.exp_node.tree is not None:
                entry.exp_node.tree.delete(entry.exp_node)
            if entry.upd.tree is not None:
                entry.upd.tree.delete(entry.upd)
            entry.stored = False
        self.current -= 1
        return True

    def update_rate(self, entry: Entry, name: str, now: float, inc: int = 1) -> int:
        """Count `inc` events in a rate (`conn_rate`, `http_req_rate`, ...)."""
        ctr = entry.data[name]
        assert isinstance(ctr, FreqCtr)
        return ctr.update(self.spec.period(name), inc, ms(now))

    def set_rate(self, entry: Entry, name: str, value: int, now: float) -> None:
        ctr = entry.data[name]
        assert isinstance(ctr, FreqCtr)
        ctr.set(value, ms(now))

    def rate(self, entry: Entry, name: str, now: float) -> int:
        """A rate's events over its period, now."""
        ctr = entry.data[name]
        assert isinstance(ctr, FreqCtr)
        return ctr.read(self.spec.period(name), ms(now))

    def value(self, entry: Entry, name: str, now: float) -> int | str | None:
        """Any stored data as a number (rates read now) or the server name."""
        data = entry.data[name]
        if isinstance(data, FreqCtr):
            return data.read(self.spec.period(name), ms(now))
        return data

    def clear(self) -> int:
        """Remove every unreferenced entry; how many went."""
        gone = 0
        for entry in list(self._keys.values()):
            gone += self.kill(entry)
        return gone

    # -- expiry and eviction -------------------------------------------------------------

    def _requeue(self, entry: Entry, following: Node | None) -> Node:
        """Queue an entry whose expiry moved at its new time; where the walk goes on."""
        node = entry.exp_node
        self._exps.delete(node)
        self._exps.insert(node, entry.expire)
        return node if following is None or following.key > node.key else following

    def expire_entries(self, now: float) -> None:
        """stktable_trash_expired: remove what expired by `now` (tables with `expire`)."""
        if not self.spec.expire_ms or not self._keys:
            return
        now_ms = ms(now)
        node = self._exps.first()
        while node is not None and node.key <= now_ms:
            entry: Entry = node.item
            following = self._exps.next(node)
            if entry.ref_cnt:
                node = following
            elif entry.expire > now_ms:
                node = self._requeue(entry, following)
            else:
                self.kill(entry)
                node = following

    def _trash_oldest(self, batch: int) -> int:
        """__stktable_trash_oldest: drop up to `batch` of the oldest entries."""
        max_search = batch * 2
        trashed = 0
        node = self._exps.first()
        looped = False
        while trashed < batch:
            if node is None:
                if looped:
                    break
                looped = True
                node = self._exps.first()
                if node is None:
                    break
            max_search -= 1
            if max_search < 0:
                break
            entry: Entry = node.item
            node = self._exps.next(node)
            if entry.ref_cnt:
                continue
            if entry.expire != entry.exp_node.key:
                node = self._requeue(entry, node)
                continue
            self.kill(entry)
            trashed += 1
        return trashed
