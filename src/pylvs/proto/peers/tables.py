"""Stick tables on the peers wire: table definitions and entry updates, both ways.

HAProxy 2.6's src/peers.c (peer_prepare_switchmsg -- which builds the *definition* --,
peer_prepare_updatemsg, peer_treat_definemsg, peer_treat_updatemsg) and src/stick_table.c
(the data types' order and encodings):

* A definition names the sender's table id, the table's name (a `peers` section's table is
  known by its own name, a proxy's by the proxy's), the key type (2 integer, 4 ipv4, 6 ipv6,
  6 string, 7 binary), the key size, a bit field of the stored data types (bit = 2.6's data
  type number), the table's `expire`, then `type period` for every rate.  A receiver takes
  it only for a table of the same name, key type and key size.
* An update is `[update id (4 bytes)] [remaining expiry in ms (4 bytes, *_TIMED)] key
  values...`: the key as its type writes it (a string: length + bytes; an integer: 4 bytes
  big-endian; others: the key size's bytes), then each stored data type in order: numbers
  encoded, a rate as (ms since its period started, current count, previous count), the server
  key (a dictionary entry) as `0` for none, or a length then the sender's cache id (from 1)
  and, the first time the id is used for the value, the value's length and bytes.
* `conn_cur` is never learnt (is_local); array types (gpt, gpc, gpc_rate), which pylvs does
  not store, are read past with their element count from the definition.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pylvs.proto.peers.wire import (
    CLASS_STICKTABLE,
    DEFINE,
    INCUPDATE,
    INCUPDATE_TIMED,
    UPDATE,
    UPDATE_TIMED,
    TruncatedError,
    intdecode,
    intencode,
    message,
)
from pylvs.proto.stick.data import ORDER, FreqCtr, Kind, data_type
from pylvs.proto.stick.keys import KeyType
from pylvs.proto.stick.table import Entry, StickTable

NET_KEY_TYPES = {
    KeyType.INTEGER: 2,
    KeyType.IP: 4,
    KeyType.IPV6: 5,
    KeyType.STRING: 6,
    KeyType.BINARY: 7,
}
# 2.6's data types past the ones pylvs stores: arrays of numbers or rates (read past).
_ARRAYS = {22: Kind.UINT, 23: Kind.UINT, 24: Kind.FRQP}
_NUMBERED = {i: data_type(name) for name, i in ORDER.items()}
DATA_TYPE_COUNT = 25  # STKTABLE_DATA_TYPES in 2.6
CACHE_ENTRIES = 128  # PEER_STKT_CACHE_MAX_ENTRIES
_U32 = struct.Struct(">I")


class MalformedError(ValueError):
    """A stick-table message that does not parse (the session ends with a protocol error)."""


def wire_name(table_name: str) -> str:
    """The table's name on the wire (its `nid`): a proxy's table is its proxy's name; a
    `peers` section's `SECTION/NAME` is sent as `/NAME` (cfgparse.c points `nid` at the
    section name's length into the full name: the slash stays, as haproxy 2.6.12 sends)."""
    section, slash, name = table_name.rpartition("/")
    return slash + name if section else name


def define(local_id: int, table: StickTable) -> bytes:
    """The definition of `table` as the sender's table `local_id`."""
    spec = table.spec
    name = wire_name(spec.name).encode()
    bits, params = 0, b""
    for dname, period in spec.store:
        number = ORDER[dname]
        bits |= 1 << number
        dtype = data_type(dname)
        if dtype is not None and dtype.kind is Kind.FRQP:
            params += intencode(number) + intencode(period)
    body = (
        intencode(local_id)
        + intencode(len(name))
        + name
        + intencode(NET_KEY_TYPES[spec.key.type])
        + intencode(spec.key.size)
        + intencode(bits)
        + intencode(spec.expire_ms)
        + params
    )
    return message(CLASS_STICKTABLE, DEFINE, body)


@dataclass(frozen=True, slots=True)
class Definition:
    """A remote table definition as received."""

    table_id: int
    name: str
    key_type: int
    key_size: int
    data: int  # bit field of data types
    array_sizes: tuple[tuple[int, int], ...] = ()  # (data type, element count)


def read_define(payload: bytes) -> Definition:
    """peer_treat_definemsg's parse; MalformedError where HAProxy ends the session, and a
    Definition with `data = -1` where it ignores the table (an array without its size)."""
    try:
        table_id, pos = intdecode(payload, 0)
        name_len, pos = intdecode(payload, pos)
        if not name_len or pos + name_len >= len(payload):
            raise MalformedError("table name")
        name = payload[pos : pos + name_len].decode("latin-1")
        pos += name_len
        key_type, pos = intdecode(payload, pos)
        key_size, pos = intdecode(payload, pos)
        bits, pos = intdecode(payload, pos)
    except TruncatedError:
        raise MalformedError("definition") from None
    sizes: list[tuple[int, int]] = []
    try:
        _expire, pos = intdecode(payload, pos)
        has_params = True
    except TruncatedError:
        has_params = False
    for number in range(DATA_TYPE_COUNT):
        if not bits & (1 << number):
            continue
        kind = _ARRAYS.get(number)
        dtype = _NUMBERED.get(number)
        rate = dtype is not None and dtype.kind is Kind.FRQP
        if not has_params:
            if kind is not None:
                return Definition(table_id, name, key_type, key_size, -1)
            continue
        if kind is None and not rate:
            continue
        try:
            got, pos = intdecode(payload, pos)
            if got != number:
                return Definition(table_id, name, key_type, key_size, -1)
            if kind is not None:
                count, pos = intdecode(payload, pos)
                sizes.append((number, count))
            if rate or kind is Kind.FRQP:
                _period, pos = intdecode(payload, pos)
        except TruncatedError:
            return Definition(table_id, name, key_type, key_size, -1)
    return Definition(table_id, name, key_type, key_size, bits, tuple(sizes))


@dataclass(slots=True)
class DictCache:
    """struct dcache: the server keys sent (value -> id, ids reused in turn) and received."""

    tx: dict[str, int] = field(default_factory=dict)
    tx_ids: list[str | None] = field(default_factory=lambda: [None] * CACHE_ENTRIES)
    lru: int = 0
    rx: list[str | None] = field(default_factory=lambda: [None] * CACHE_ENTRIES)

    def flush(self) -> None:
        """flush_dcache: a new session starts with empty caches on both sides."""
        self.tx.clear()
        self.tx_ids = [None] * CACHE_ENTRIES
        self.lru = 0
        self.rx = [None] * CACHE_ENTRIES

    def send(self, value: str) -> tuple[int, bool]:
        """dcache_tx_insert: the id for `value` and whether it was already sent."""
        known = self.tx.get(value)
        if known is not None:
            return known, True
        slot = self.lru
        old = self.tx_ids[slot]
        if old is not None:
            del self.tx[old]
        self.tx_ids[slot] = value
        self.tx[value] = slot
        self.lru = (slot + 1) & (CACHE_ENTRIES - 1)
        return slot, False


def encode_update(
    table: StickTable,
    entry: Entry,
    now_ms: int,
    cache: DictCache,
    *,
    update_id: int | None,
    timed: bool,
) -> bytes:
    """peer_prepare_updatemsg: `update_id` None sends an incremental update (the receiver
    counts it as the previous id plus one); `timed` adds the entry's remaining expiry."""
    body = bytearray()
    if update_id is not None:
        body += _U32.pack(update_id & 0xFFFFFFFF)
    if timed:
        body += _U32.pack(max(entry.expire - now_ms, 0) & 0xFFFFFFFF)
    body += _key_bytes(table, entry.key)
    for dname, _period in table.spec.store:
        body += _value_bytes(entry.data[dname], now_ms, cache)
    if update_id is None:
        typ = INCUPDATE_TIMED if timed else INCUPDATE
    else:
        typ = UPDATE_TIMED if timed else UPDATE
    return message(CLASS_STICKTABLE, typ, bytes(body))


def _key_bytes(table: StickTable, key: bytes) -> bytes:
    fmt = table.spec.key
    if fmt.type is KeyType.STRING:
        return intencode(len(key)) + key
    if fmt.type is KeyType.INTEGER:  # host (little-endian) order in the table, network here
        return _U32.pack(int.from_bytes(key[:4], "little"))
    return key[: fmt.size].ljust(fmt.size, b"\0")


def _value_bytes(value: int | FreqCtr | str | None, now_ms: int, cache: DictCache) -> bytes:
    if isinstance(value, FreqCtr):
        since = (now_ms - value.curr_tick) & 0xFFFFFFFF
        return intencode(since) + intencode(value.curr_ctr) + intencode(value.prev_ctr)
    if isinstance(value, int):
        return intencode(value)
    if value is None:
        return intencode(0)
    slot, known = cache.send(value)
    if known:
        return intencode(1) + intencode(slot + 1)
    raw = value.encode("latin-1", "replace")
    data = intencode(slot + 1) + intencode(len(raw)) + raw
    return intencode(len(data)) + data


@dataclass(frozen=True, slots=True)
class Update:
    """An update received: its id (None: the previous one plus one), the expiry it carries
    (ms, None: the table's), the key as the table stores it, and the values by data type."""

    update_id: int | None
    expire_ms: int | None
    key: bytes
    values: tuple[tuple[str, int | tuple[int, int, int] | str | None], ...]


def read_update(
    typ: int, payload: bytes, table: StickTable, remote: Definition, cache: DictCache
) -> Update:
    """peer_treat_updatemsg's parse (MalformedError where it ends the session)."""
    try:
        return _read_update(typ, payload, table, remote, cache)
    except TruncatedError:
        raise MalformedError("update") from None


def _read_update(
    typ: int, payload: bytes, table: StickTable, remote: Definition, cache: DictCache
) -> Update:
    pos = 0
    update_id = expire = None
    if typ in (UPDATE, UPDATE_TIMED):
        if len(payload) < 4:
            raise MalformedError("update id")
        update_id = _U32.unpack_from(payload, 0)[0]
        pos = 4
    if typ in (UPDATE_TIMED, INCUPDATE_TIMED):
        if pos + 4 > len(payload):
            raise MalformedError("expiry")
        expire = _U32.unpack_from(payload, pos)[0]
        pos += 4
    key, pos = _read_key(payload, pos, table)
    values: list[tuple[str, int | tuple[int, int, int] | str | None]] = []
    sizes = dict(remote.array_sizes)
    for number in range(DATA_TYPE_COUNT):
        if not remote.data & (1 << number):
            continue
        if number in _ARRAYS:
            pos = _skip_array(payload, pos, _ARRAYS[number], sizes.get(number, 0))
            continue
        dtype = _NUMBERED[number]
        assert dtype is not None
        value, pos = _read_value(payload, pos, dtype.kind, cache)
        values.append((dtype.name, value))
    return Update(update_id, expire, key, tuple(values))


def _read_key(payload: bytes, pos: int, table: StickTable) -> tuple[bytes, int]:
    fmt = table.spec.key
    if fmt.type is KeyType.STRING:
        length, pos = intdecode(payload, pos)
        keep = min(length, fmt.size - 1)
        if pos + keep > len(payload):
            raise MalformedError("key")
        return payload[pos : pos + keep], pos + length
    if fmt.type is KeyType.INTEGER:
        if pos + 4 > len(payload):
            raise MalformedError("key")
        value = _U32.unpack_from(payload, pos)[0]
        return value.to_bytes(4, "little"), pos + 4
    if pos + fmt.size > len(payload):
        raise MalformedError("key")
    return payload[pos : pos + fmt.size], pos + fmt.size


def _skip_array(payload: bytes, pos: int, kind: Kind, count: int) -> int:
    per = 3 if kind is Kind.FRQP else 1
    for _ in range(count * per):
        _v, pos = intdecode(payload, pos)
    return pos


def _read_value(
    payload: bytes, pos: int, kind: Kind, cache: DictCache
) -> tuple[int | tuple[int, int, int] | str | None, int]:
    first, pos = intdecode(payload, pos)
    if kind is Kind.FRQP:
        curr, pos = intdecode(payload, pos)
        prev, pos = intdecode(payload, pos)
        return (first, curr, prev), pos
    if kind is not Kind.DICT:
        return first, pos
    if not first:
        return None, pos
    end = pos + first
    if end > len(payload):
        raise MalformedError("server key")
    ident, pos = intdecode(payload, pos, end)
    if not ident or ident > CACHE_ENTRIES:
        raise MalformedError("server key id")
    if pos == end:
        return cache.rx[ident - 1], end
    length, pos = intdecode(payload, pos, end)
    if pos + length > end:
        raise MalformedError("server key value")
    value = payload[pos : pos + length].decode("latin-1")
    cache.rx[ident - 1] = value
    return value, end


def apply_update(table: StickTable, update: Update, now_ms: int) -> Entry | None:
    """The received values into the table (stktable_set_entry, then each value the table
    stores and does not keep local; the expiry sent or the table's): the entry, or None when
    the table is full and nothing can make room (the update is then ignored)."""
    now = now_ms / 1000
    entry = table.new_entry(update.key, now)
    if entry is None:
        return None
    entry = table.set_entry(entry, now)
    for name, value in update.values:
        if name not in entry.data or name == "conn_cur":
            continue
        if isinstance(value, tuple):
            ctr = entry.data[name]
            if isinstance(ctr, FreqCtr):
                ctr.curr_tick = (now_ms - value[0]) & ~1
                ctr.curr_ctr, ctr.prev_ctr = value[1] & 0xFFFFFFFF, value[2] & 0xFFFFFFFF
        else:
            entry.set(name, value)
    expire = table.spec.expire_ms if update.expire_ms is None else update.expire_ms
    table.touch_remote(entry, now_ms + expire)
    return entry
