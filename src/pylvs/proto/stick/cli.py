"""The stats socket's `show table`, `clear table` and `set table`, as HAProxy 2.6 answers them.

src/stick_table.c cli_parse_table_req, table_process_entry_per_key, table_prepare_data_request
and cli_io_handler_table, with their texts:

* `show table` lists every table (`# table: NAME, type: T, size:N, used:N`), last declared
  first; `show table NAME` adds its entries in key order, `... key K` only that entry,
  `... data.TYPE OP VALUE` (up to 4 filters, `eq ne le ge lt gt`) the entries whose data
  match.  An entry is `0xADDR: key=K use=REFS exp=MS_LEFT` then its data in table order
  (`server_id=1 conn_rate(10000)=2 server_key=s1`).  pylvs prints a stable made-up address.
* `clear table NAME [key K | data filters]` removes unreferenced entries (all of them without a
  filter); `set table NAME key K [data.TYPE VALUE]*` creates or updates one.
* Below the operator level, contents are not dumped ("# contents not dumped due to insufficient
  privileges"), a `key` command answers "Permission denied", and a `clear` does nothing.
* HAProxy 2.6's quirks are kept: `set table NAME` with no key clears the table; `clear`
  spares an entry when the next one in key order is referenced; filters after the first are
  read 5 characters into their word whatever its prefix.

`table_command(tables, words, level, now)` takes the command's words (already split and
unescaped as the CLI does) and the tables in configuration order, and returns the answer
without the CLI's closing empty line.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from pylvs.proto.stick.data import DATA_TYPES, Kind, data_type
from pylvs.proto.stick.keys import KeyType
from pylvs.proto.stick.table import Entry, StickTable, ms
from pylvs.sched.haproxy.cnum import strl2llrc

FILTER_LEN = 4  # STKTABLE_FILTER_LEN
POINTER_BASE = 0x55D0C0DE0000  # what `%p` prints for entry 0; entries are 0x100 apart
PERMISSION_DENIED = "Permission denied\n"
_OPS = ("eq", "ne", "le", "ge", "lt", "gt")


class Level(enum.IntEnum):
    """ACCESS_LVL_*: a stats socket's `level`."""

    USER = 1
    OPERATOR = 2
    ADMIN = 3


_ARG_ERRORS = {
    "show": 'Optional argument only supports "data.<store_data_type>" <operator> <value> and '
    "key <key>\n",
    "clear": 'Required arguments: <table> "data.<store_data_type>" <operator> <value> or '
    "<table> key <key>\n",
    "set": "Required arguments: <table> key <key> [data.<store_data_type> <value>]*\n",
}
_BINARY_ERRORS = {
    "show": "Showing keys from tables of type other than ip, ipv6, string and integer is not "
    "supported\n",
    "clear": "Removing keys from tables of type other than ip, ipv6, string and integer is not "
    "supported\n",
    "set": "Inserting keys into tables of type other than ip, ipv6, string and integer is not "
    "supported\n",
}


def header(table: StickTable) -> str:
    spec = table.spec
    return (
        f"# table: {spec.name}, type: {spec.key.type.value}, size:{spec.size}, "
        f"used:{table.current}\n"
    )


def entry_line(table: StickTable, entry: Entry, now: float) -> str:
    """table_dump_entry_to_buffer."""
    remain = max(0, entry.expire - ms(now))
    parts = [
        f"0x{POINTER_BASE + entry.serial * 0x100:x}: key={table.spec.key.render(entry.key)}",
        f"use={entry.ref_cnt} exp={remain}",
    ]
    for name, period in table.spec.store:
        value = table.value(entry, name, now)
        label = f"{name}({period})" if DATA_TYPES[name].kind is Kind.FRQP else name
        parts.append(f"{label}={'-' if value is None else value}")
    return " ".join(parts) + "\n"


def table_command(
    tables: Sequence[StickTable], words: Sequence[str], level: Level, now: float
) -> str:
    """`show|clear|set table ...` (words[0] is the action, words[1] "table")."""
    action = words[0]
    args = list(words[2:])
    if not args or not args[0]:
        if action != "show":
            return _ARG_ERRORS[action]
        return "".join(header(t) for t in reversed(tables) if t.spec.size)
    table = next((t for t in tables if t.name == args[0]), None)
    if table is None:
        return "No such table\n"
    table.expire_entries(now)
    rest = args[1:]
    if rest and rest[0] == "key":
        return _per_key(table, action, rest[1:], level, now)
    if rest and rest[0].startswith("data."):
        filters = _filters(table, action, rest)
        if isinstance(filters, str):
            return filters
        return _walk(table, action, filters, level, now)
    if rest and rest[0]:
        return _ARG_ERRORS[action]
    return _walk(table, action, [], level, now)


Filter = tuple[str, str, int]


def _filters(table: StickTable, action: str, rest: list[str]) -> list[Filter] | str:
    """table_prepare_data_request."""
    if action not in ("show", "clear"):
        return 'content-based lookup is only supported with the "show" and "clear" actions\n'
    words = [*rest, *[""] * (3 * FILTER_LEN + 1)]
    filters: list[Filter] = []
    i = 0
    while i < FILTER_LEN:
        if i > 0 and not words[3 * i]:
            break
        n = i + 1
        dtype = data_type(words[3 * i][5:])
        if dtype is None:
            return f"Filter entry #{n}: Unknown data type\n"
        if not table.spec.stores(dtype.name):
            return f"Filter entry #{n}: Data type not stored in this table\n"
        op = words[3 * i + 1]
        if op not in _OPS:
            return (
                f'Filter entry #{n}: Require and operator among "eq", "ne", "le", "ge", '
                '"lt", "gt"\n'
            )
        value = strl2llrc(words[3 * i + 2])
        if value is None:
            return f"Filter entry #{n}: Require a valid integer value to compare against\n"
        filters.append((dtype.name, op, value))
        i += 1
    if words[3 * i]:
        return (
            f"Detected extra data in filter, {3 * i + 3 + 1}th word of input, after "
            f"'{words[3 * i - 1]}'\n"
        )
    return filters


def _matches(table: StickTable, entry: Entry, filters: list[Filter], now: float) -> bool:
    for name, op, value in filters:
        data = table.value(entry, name, now)
        number = data if isinstance(data, int) else 0  # the server name compares as 0
        if not {
            "eq": number == value,
            "ne": number != value,
            "le": number <= value,
            "ge": number >= value,
            "lt": number < value,
            "gt": number > value,
        }[op]:
            return False
    return True


def _walk(table: StickTable, action: str, filters: list[Filter], level: Level, now: float) -> str:
    """cli_io_handler_table for one table: dump (show) or remove (clear; set without key)."""
    show = action == "show"
    out = header(table) if show else ""
    if level < Level.OPERATOR:
        return out + "# contents not dumped due to insufficient privileges\n" if show else ""
    entries = list(table.entries(now))
    for i, entry in enumerate(entries):
        matched = _matches(table, entry, filters, now)
        if show:
            if matched:
                out += entry_line(table, entry, now)
            continue
        # The dump checks the references of the entry it moves on to (the last one: its own).
        following = entries[i + 1] if i + 1 < len(entries) else entry
        if matched and not following.ref_cnt:
            table.kill(entry)
    return out


def _per_key(table: StickTable, action: str, words: list[str], level: Level, now: float) -> str:
    """table_process_entry_per_key."""
    if not words or not words[0]:
        return "Key value expected\n"
    if table.spec.key.type is KeyType.BINARY:
        return _BINARY_ERRORS[action]
    key = table.spec.key.cli_key(words[0])
    if key is None:
        return "Invalid key\n"
    if level < Level.OPERATOR:
        return PERMISSION_DENIED
    if action == "show":
        entry = table.lookup(key, now)
        return "" if entry is None else header(table) + entry_line(table, entry, now)
    if action == "clear":
        entry = table.lookup(key, now)
        if entry is not None and not table.kill(entry):
            return "Entry currently in use, cannot remove\n"
        return ""
    entry = table.get_entry(key, now)
    if entry is None:
        return "Unable to allocate a new entry\n"
    error = _set_data(table, entry, words[1:], now)
    table.touch(entry, now)
    return error


def _set_data(table: StickTable, entry: Entry, words: list[str], now: float) -> str:
    """The `data.TYPE VALUE` pairs of `set table`; the first bad one stops with its message."""
    for i in range(0, len(words), 2):
        word = words[i]
        if not word:
            break
        if not word.startswith("data."):
            return '"data.<type>" followed by a value expected\n'
        dtype = data_type(word[5:])
        if dtype is None:
            return "Unknown data type\n"
        if not table.spec.stores(dtype.name):
            return "Data type not stored in this table\n"
        value = strl2llrc(words[i + 1] if i + 1 < len(words) else "")
        if value is None:
            return "Require a valid integer value to store\n"
        if dtype.kind is Kind.FRQP:
            table.set_rate(entry, dtype.name, value, now)
        elif dtype.kind is not Kind.DICT:
            entry.set(dtype.name, value)
    return ""
