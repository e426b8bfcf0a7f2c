"""Stick-table fetches and converters: `sc*_*`, `src_*`, `table_*`, `in_table`
(src/stick_table.c, HAProxy 2.6), and the key a sample makes in a table (smp_to_stkey).

`scN_X` / `sc_X(N)` read data X of the entry tracked by stick counter N (the stream's
counter, else the session's); with a table argument, the entry of the same key in that table.
`src_X(table)` reads the entry of the client's address.  No tracked counter: no sample; a
counter or address without an entry: 0; data the table does not store: no sample.
`inc_gpc0`/`inc_gpc1`/`clr_gpc*` change the entry (`src_inc_gpc0` creates it), `kbytes_*`
are byte counts divided by 1024, `trackers` counts the streams tracking the entry.
`table_X(table)` converters look the sample itself up as a key.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import Args, converter, fetch
from pylvs.proto.sample.fetch_l4 import addr_sample
from pylvs.proto.sample.stream import Stream, Tracked
from pylvs.proto.sample.types import Smp
from pylvs.proto.stick.keys import KeyType
from pylvs.proto.stick.table import Entry, StickTable

_CAST_TO = {
    KeyType.IP: ty.IPV4,
    KeyType.IPV6: ty.IPV6,
    KeyType.INTEGER: ty.SINT,
    KeyType.STRING: ty.STR,
    KeyType.BINARY: ty.BIN,
}


def table_key(table: StickTable, smp: Smp) -> bytes | None:
    """stick_table.c smp_to_stkey: the sample cast to the table's type, as key bytes."""
    key_format = table.spec.key
    cast = ty.cast(smp, _CAST_TO[key_format.type])
    if cast is None:
        return None
    if key_format.type is KeyType.INTEGER:
        return struct.pack("<I", cast.num & 0xFFFFFFFF)
    return key_format.fix(cast.text)


def table_of(s: Stream, name: str) -> StickTable | None:
    return s.process.tables.get(name)


def _tracked(s: Stream, num: int) -> Tracked | None:
    if not 0 <= num < len(s.sc):
        return None
    return s.sc[num] or s.sess.sc[num]


_Counter = tuple[StickTable, Entry | None]


def _counter(s: Stream, kind: str, num: int, table: str | None) -> _Counter | None:
    """smp_fetch_sc_stkctr: (table, entry or None), None when there is no counter."""
    if kind == "src":
        t = table_of(s, table or "")
        src = addr_sample(s.src)
        if t is None or src is None:
            return None
        key = table_key(t, src)
        return None if key is None else (t, t.lookup(key, s.now))
    tracked = _tracked(s, num)
    if tracked is None:
        return None
    if table is not None:
        other = table_of(s, table)
        if other is None:
            return None
        return other, other.lookup(tracked.entry.key, s.now)
    return tracked.table, tracked.entry


Reader = Callable[[Stream, StickTable, Entry], int | None]


def _stored(name: str, shift: int = 0) -> Reader:
    def read(s: Stream, t: StickTable, e: Entry) -> int | None:
        if not t.spec.stores(name):
            return None
        value = t.value(e, name, s.now)
        return value >> shift if isinstance(value, int) else None

    return read


def _inc(counter: str, rate: str) -> Reader:
    def read(s: Stream, t: StickTable, e: Entry) -> int | None:
        has_rate, has_ctr = t.spec.stores(rate), t.spec.stores(counter)
        if not (has_rate or has_ctr):
            return 0
        value = 0
        if has_rate:
            value = t.update_rate(e, rate, s.now)
        if has_ctr:
            value = e.add(counter)
        t.touch(e, s.now)
        return value

    return read


def _clr(counter: str) -> Reader:
    def read(s: Stream, t: StickTable, e: Entry) -> int | None:
        if not t.spec.stores(counter):
            return None
        old = e.get(counter)
        e.set(counter, 0)
        t.touch(e, s.now)
        return old if isinstance(old, int) else 0

    return read


_DATA: dict[str, Reader] = {
    "conn_cnt": _stored("conn_cnt"),
    "conn_cur": _stored("conn_cur"),
    "conn_rate": _stored("conn_rate"),
    "sess_cnt": _stored("sess_cnt"),
    "sess_rate": _stored("sess_rate"),
    "http_req_cnt": _stored("http_req_cnt"),
    "http_req_rate": _stored("http_req_rate"),
    "http_err_cnt": _stored("http_err_cnt"),
    "http_err_rate": _stored("http_err_rate"),
    "http_fail_cnt": _stored("http_fail_cnt"),
    "http_fail_rate": _stored("http_fail_rate"),
    "bytes_in_rate": _stored("bytes_in_rate"),
    "bytes_out_rate": _stored("bytes_out_rate"),
    "kbytes_in": _stored("bytes_in_cnt", 10),
    "kbytes_out": _stored("bytes_out_cnt", 10),
    "get_gpc0": _stored("gpc0"),
    "get_gpc1": _stored("gpc1"),
    "get_gpt0": _stored("gpt0"),
    "gpc0_rate": _stored("gpc0_rate"),
    "gpc1_rate": _stored("gpc1_rate"),
    "inc_gpc0": _inc("gpc0", "gpc0_rate"),
    "inc_gpc1": _inc("gpc1", "gpc1_rate"),
    "clr_gpc0": _clr("gpc0"),
    "clr_gpc1": _clr("gpc1"),
}
_CREATES = frozenset({"inc_gpc0", "inc_gpc1", "clr_gpc0", "clr_gpc1"})


def _sc_fetch(kind: str, num: int, data: str) -> Callable[[Stream, Args], Smp | None]:
    reader = _DATA[data]

    def fn(s: Stream, a: Args) -> Smp | None:
        n, rest = (a[0], a[1:]) if kind == "sc_" else (num, a)
        table = rest[0] if rest else None
        counter = _counter(s, kind, n, table)
        if counter is None:
            return None
        t, entry = counter
        if entry is None and kind == "src" and data in _CREATES:
            src = addr_sample(s.src)
            key = None if src is None else table_key(t, src)
            entry = None if key is None else t.get_entry(key, s.now)
        if entry is None:
            return Smp(ty.SINT, 0)
        value = reader(s, t, entry)
        return None if value is None else Smp(ty.SINT, value)

    return fn


for _data in _DATA:
    fetch(f"sc_{_data}")(_sc_fetch("sc_", 0, _data))
    fetch(f"src_{_data}")(_sc_fetch("src", 0, _data))
    for _n in range(3):
        fetch(f"sc{_n}_{_data}")(_sc_fetch("sc", _n, _data))


def _tracked_fetch(kind: str, num: int) -> Callable[[Stream, Args], Smp | None]:
    def fn(s: Stream, a: Args) -> Smp | None:
        n, rest = (a[0], a[1:]) if kind == "sc_" else (num, a)
        counter = _counter(s, kind, n, rest[0] if rest else None)
        return Smp(ty.BOOL, 0 if counter is None else 1)

    return fn


def _trackers_fetch(kind: str, num: int) -> Callable[[Stream, Args], Smp | None]:
    def fn(s: Stream, a: Args) -> Smp | None:
        n, rest = (a[0], a[1:]) if kind == "sc_" else (num, a)
        counter = _counter(s, kind, n, rest[0] if rest else None)
        if counter is None:
            return None
        entry = counter[1]
        return Smp(ty.SINT, 0 if entry is None else entry.ref_cnt)

    return fn


fetch("sc_tracked")(_tracked_fetch("sc_", 0))
fetch("sc_trackers")(_trackers_fetch("sc_", 0))
for _n in range(3):
    fetch(f"sc{_n}_tracked")(_tracked_fetch("sc", _n))
    fetch(f"sc{_n}_trackers")(_trackers_fetch("sc", _n))


@fetch("src_updt_conn_cnt")
def _src_updt_conn_cnt(s: Stream, a: Args) -> Smp | None:
    t = table_of(s, a[0])
    src = addr_sample(s.src)
    if t is None or src is None:
        return None
    key = table_key(t, src)
    entry = None if key is None else t.get_entry(key, s.now)
    if entry is None or not t.spec.stores("conn_cnt"):
        return None
    value = entry.add("conn_cnt")
    t.touch(entry, s.now)
    return Smp(ty.SINT, value)


@fetch("table_avl")
def _table_avl(s: Stream, a: Args) -> Smp | None:
    t = table_of(s, a[0])
    return None if t is None else Smp(ty.SINT, t.spec.size - t.current)


@fetch("table_cnt")
def _table_cnt(s: Stream, a: Args) -> Smp | None:
    t = table_of(s, a[0])
    return None if t is None else Smp(ty.SINT, t.current)


# -- table_* converters: the sample is the key ---------------------------------------------


def _lookup(s: Stream, smp: Smp, name: str) -> tuple[StickTable, Entry | None] | None:
    t = table_of(s, name)
    if t is None:
        return None
    key = table_key(t, smp)
    if key is None:
        return None
    return t, t.lookup(key, s.now)


@converter("in_table")
def _in_table(s: Stream, smp: Smp, a: Args) -> Smp | None:
    found = _lookup(s, smp, a[0])
    if found is None:
        return None
    return Smp(ty.BOOL, 0 if found[1] is None else 1)


def _table_conv(reader: Reader) -> Callable[[Stream, Smp, Args], Smp | None]:
    def fn(s: Stream, smp: Smp, a: Args) -> Smp | None:
        found = _lookup(s, smp, a[0])
        if found is None:
            return None
        t, entry = found
        if entry is None:
            return Smp(ty.SINT, 0)
        value = reader(s, t, entry)
        return None if value is None else Smp(ty.SINT, value)

    return fn


_TABLE_CONVERTERS = {name: _DATA[name] for name in _DATA if not name.startswith(("inc", "clr"))}
_TABLE_CONVERTERS |= {"gpc0": _DATA["get_gpc0"], "gpc1": _DATA["get_gpc1"]}
_TABLE_CONVERTERS |= {"gpt0": _DATA["get_gpt0"], "server_id": _stored("server_id")}
for _name, _reader in _TABLE_CONVERTERS.items():
    if not _name.startswith("get_"):
        converter(f"table_{_name}")(_table_conv(_reader))


@converter("table_trackers")
def _table_trackers(s: Stream, smp: Smp, a: Args) -> Smp | None:
    found = _lookup(s, smp, a[0])
    if found is None:
        return None
    entry = found[1]
    return Smp(ty.SINT, 0 if entry is None else entry.ref_cnt)
