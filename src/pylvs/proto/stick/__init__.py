"""Stick tables (HAProxy 2.6's src/stick_table.c and the sticking rules of src/stream.c), pure.

What a runtime calls:

* `spec.parse_stick_table(proxy, words)` -> `TableSpec` (HAProxy's messages in `SpecError`);
  `spec.with_data("server_id", "server_key")` for a table stick rules use;
  `table.StickTable(spec)` makes the table.
* Per stream: `rules.process_sticking_rules(rules, evaluate, servers, now, persist=...)`
  before load balancing -> `Sticking` (`.server`: use it and skip the balancer); then
  `rules.process_store_rules(sticking, server, servers, now)` once connected, or
  `rules.discard(sticking)` if it never connects.
* Counters a later engineer feeds (`track-sc`): `StickTable.get_entry` / `acquire` /
  `release`, `Entry.add("conn_cnt")`, `StickTable.update_rate(entry, "conn_rate", now)`,
  `StickTable.touch`.
* The stats socket: `cli.table_command(tables, words, level, now)` for `show|clear|set table`.

Time is an argument everywhere (seconds; the tables count in milliseconds as HAProxy does).
"""

from pylvs.proto.stick.cli import Level, table_command
from pylvs.proto.stick.keys import KeyFormat, KeyType
from pylvs.proto.stick.rules import (
    Sticking,
    StickRule,
    discard,
    process_sticking_rules,
    process_store_rules,
)
from pylvs.proto.stick.spec import SpecError, TableSpec, parse_stick_table
from pylvs.proto.stick.table import Entry, StickTable

__all__ = [
    "Entry",
    "KeyFormat",
    "KeyType",
    "Level",
    "SpecError",
    "StickRule",
    "StickTable",
    "Sticking",
    "TableSpec",
    "discard",
    "parse_stick_table",
    "process_sticking_rules",
    "process_store_rules",
    "table_command",
]
