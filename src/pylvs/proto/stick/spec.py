"""A `stick-table` line as one value, and its parser (src/stick_table.c parse_stick_table).

`stick-table type {ip|ipv6|integer|string [len N]|binary [len N]} size <n>[k|m|g]
[expire <time>] [nopurge] [peers <name>] [srvkey name|addr] [store <type>[(<arg>)],...]`.
`parse_stick_table` reads the words after the keyword and raises `SpecError` with HAProxy's
message (the text `haproxy -c` prints after `parsing [FILE:LINE] : `).  A table that stick
rules use also stores `server_id` and `server_key` (cfgparse.c adds them): `with_data`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from pylvs.proto.stick.data import ARRAY_TYPES, ORDER, data_type
from pylvs.proto.stick.keys import KeyFormat, KeyType, parse_size
from pylvs.sched.haproxy.cnum import atoi, leading_digits

MAX_TIMER_MS = 0x7FFFFFFF


class SpecError(ValueError):
    """A `stick-table` line HAProxy refuses; the text is HAProxy's."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    key: KeyFormat
    size: int
    expire_ms: int = 0  # 0: entries never expire (the oldest go when the table is full)
    nopurge: bool = False  # full table: refuse new entries instead of dropping old ones
    peers: str | None = None  # `peers` section to replicate with (pylvs does not replicate)
    srvkey: str = "name"  # what `server_key` holds: the server's name or address
    store: tuple[tuple[str, int], ...] = ()  # (data type, period in ms or 0), enum order

    def stores(self, name: str) -> bool:
        return any(n == name for n, _ in self.store)

    def period(self, name: str) -> int:
        return next((p for n, p in self.store if n == name), 0)

    def with_data(self, *names: str) -> TableSpec:
        """The same table also storing `names` (no period), as stick rules need."""
        have = dict(self.store)
        for n in names:
            have.setdefault(n, 0)
        return dataclasses.replace(self, store=tuple(sorted(have.items(), key=_order)))


def _order(item: tuple[str, int]) -> int:
    return ORDER[item[0]]


_TIME_UNITS = {"": (1, 1), "ms": (1, 1), "s": (1000, 1), "m": (60_000, 1), "h": (3_600_000, 1),
               "d": (86_400_000, 1), "us": (1, 1000)}  # fmt: skip


def parse_time_ms(text: str) -> int | str:
    """tools.c parse_time_err in milliseconds (a bare number is milliseconds, rounded up):
    the value, or an error word: "overflow", "underflow", or the bad rest of the text."""
    value, unit = leading_digits(text)
    if value is None:
        return text
    scale = _TIME_UNITS.get(unit[:2] if unit[:2] in ("ms", "us") else unit[:1])
    if scale is None:
        return unit
    mult, div = scale
    result = (value * mult + div - 1) // div
    if result > MAX_TIMER_MS:
        return "overflow"
    if not result and value:
        return "underflow"
    return result


def parse_stick_table(
    name: str, words: Sequence[str], warnings: list[str] | None = None
) -> TableSpec:
    """The words after `stick-table`, for the table of proxy `name`; HAProxy's warnings
    (a data type stored twice) are appended to `warnings`."""
    key: KeyFormat | None = None
    size = expire = 0
    nopurge, peers, srvkey = False, None, "name"
    store: dict[str, int] = {}
    i = 0
    while i < len(words):
        word = words[i]
        arg = words[i + 1] if i + 1 < len(words) else ""
        if word in ("size", "peers", "expire") and not arg:
            raise SpecError(f"stick-table: missing argument after '{word}'.")
        if word == "size":
            parsed = parse_size(arg)
            if isinstance(parsed, str):
                raise SpecError(
                    f"stick-table: unexpected character '{parsed[:1]}' in argument of 'size'."
                )
            size, i = parsed, i + 2
        elif word == "peers":
            peers, i = arg, i + 2
        elif word == "expire":
            expire, i = _expire(arg), i + 2
        elif word == "nopurge":
            nopurge, i = True, i + 1
        elif word == "type":
            key, i = _key_type(words, i + 1)
        elif word == "store":
            _store(arg, store, warnings if warnings is not None else [])
            i += 2
        elif word == "srvkey":
            if arg not in ("name", "addr"):
                raise SpecError(f"stick-table : unknown server key type '{arg}'.")
            srvkey, i = arg, i + 2
        else:
            raise SpecError(f"stick-table: unknown argument '{word}'.")
    if not size:
        raise SpecError("stick-table: missing size.")
    if key is None:
        raise SpecError("stick-table: missing type.")
    ordered = tuple(sorted(store.items(), key=_order))
    return TableSpec(name, key, size, expire, nopurge, peers, srvkey, ordered)


def _expire(text: str) -> int:
    parsed = parse_time_ms(text)
    if parsed == "overflow":
        raise SpecError(
            f"stick-table: timer overflow in argument <{text}> to <expire>, maximum value is "
            "2147483647 ms (~24.8 days)."
        )
    if parsed == "underflow":
        raise SpecError(
            f"stick-table: timer underflow in argument <{text}> to <expire>, minimum non-null "
            "value is 1 ms."
        )
    if isinstance(parsed, str):
        raise SpecError(
            f"stick-table: unexpected character '{parsed[:1]}' in argument of 'expire'."
        )
    return parsed


def _key_type(words: Sequence[str], i: int) -> tuple[KeyFormat, int]:
    word = words[i] if i < len(words) else ""
    try:
        key_type = KeyType(word)
    except ValueError:
        raise SpecError(f"stick-table: unknown type '{word}'.") from None
    i += 1
    if key_type.custom_len and i < len(words) and words[i] == "len":
        value = words[i + 1] if i + 1 < len(words) else ""
        length = atoi(value)
        if not length:
            raise SpecError(f"stick-table: unknown type '{value}'.")
        return KeyFormat.of(key_type, length), i + 2
    return KeyFormat.of(key_type), i


def _store(arg: str, store: dict[str, int], warnings: list[str]) -> None:
    """`store type[(arg)],...` (stktable_alloc_data_type)."""
    for item in _split_store(arg):
        name, _, rest = item.partition("(")
        if rest and not rest.endswith(")"):
            raise SpecError(
                f"stick-table: missing closing parenthesis after store option '{name}'."
            )
        value = rest[:-1] if rest else None
        dtype = data_type(name)
        if name in ARRAY_TYPES:
            raise SpecError(f"stick-table: store option '{name}' (an array) is not supported.")
        if dtype is None:
            raise SpecError(f"stick-table: unknown store option '{name}'.")
        if dtype.name in store:
            warnings.append(f"stick-table: store option '{name}' already enabled, ignored.")
            continue
        if dtype.takes_period:
            if value is None:
                raise SpecError(f"stick-table: missing argument to store option '{name}'.")
            period = parse_time_ms(value)
            if isinstance(period, str):
                raise SpecError(f"stick-table: error when processing store option '{name}'.")
            store[dtype.name] = period
        elif value is not None:
            raise SpecError(f"stick-table: unexpected argument to store option '{name}'.")
        else:
            store[dtype.name] = 0


def _split_store(arg: str) -> list[str]:
    """Split `a,b(1s),c` on the commas outside parentheses."""
    items, depth, cur = [], 0, ""
    for c in arg:
        if c == "," and not depth:
            items.append(cur)
            cur = ""
            continue
        depth += c == "("
        depth -= c == ")" and depth > 0
        cur += c
    if cur:
        items.append(cur)
    return items
