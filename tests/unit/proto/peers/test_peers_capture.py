"""proto/peers against two real haproxy 2.6.12 processes talking the peers protocol.

tests/data/haproxy/peers/haproxy-2.6.12.json was captured by capture.py beside it: peers A and
B share three tables (a proxy's `stick-table type ip ... peers mesh`, a section's `table names
type string len 20 ... srvkey addr` and `table numbers type integer ... store
gpc0,http_req_cnt,bytes_in_cnt,server_key`), three requests go through A, and every peers
connection's bytes were logged both ways by a relay, with each process's `show table` at the
end.  Here: the streams split into whole messages; the definitions pylvs builds for the same
tables are HAProxy's bytes; the updates A sent, read by pylvs, give the entries B showed; and
pylvs encodes those entries into the very bytes A sent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pylvs.proto.peers import wire
from pylvs.proto.peers.tables import (
    Definition,
    DictCache,
    apply_update,
    define,
    encode_update,
    read_define,
    read_update,
    wire_name,
)
from pylvs.proto.stick import StickTable, parse_stick_table
from pylvs.proto.stick.cli import Level, table_command

DATA = json.loads(
    (Path(__file__).parents[3] / "data/haproxy/peers/haproxy-2.6.12.json").read_text()
)
STICKY = ("server_id", "server_key")


def _tables() -> dict[str, StickTable]:
    """The capture's three tables as pylvs builds them (stick rules add server_id/key)."""
    specs = {
        "web": parse_stick_table(
            "web", ["type", "ip", "size", "1k", "expire", "10m", "peers", "mesh"]
        ),
        "mesh/names": parse_stick_table(
            "mesh/names",
            ["type", "string", "len", "20", "size", "1k", "srvkey", "addr", "peers", "mesh"],
        ),
        "mesh/numbers": parse_stick_table(
            "mesh/numbers",
            [
                "type",
                "integer",
                "size",
                "1k",
                "expire",
                "1m",
                "peers",
                "mesh",
                "store",
                "gpc0,http_req_cnt,bytes_in_cnt,server_key",
            ],
        ),
    }
    specs["web"] = specs["web"].with_data(*STICKY)
    specs["mesh/names"] = specs["mesh/names"].with_data(*STICKY)
    return {name: StickTable(spec) for name, spec in specs.items()}


def _stream(conn: dict[str, Any], side: str) -> tuple[list[str], list[wire.Message]]:
    buf = bytearray(b"".join(bytes.fromhex(x) for x in conn[side]))
    lines = []
    for _ in range(3 if side == "client" else 1):
        line = wire.take_line(buf)
        assert line is not None
        lines.append(line)
    messages = []
    while (m := wire.take_message(buf)) is not None:
        messages.append(m)
    assert not buf, "a stream ends on a message boundary"
    return lines, messages


def _teaching_stream() -> list[wire.Message]:
    """A's side of the connection B made to it: where A's updates went."""
    for conn in DATA["connections"]:
        _lines, messages = _stream(conn, "server")
        if any(m.type == wire.UPDATE for m in messages):
            return messages
    raise AssertionError("no updates captured")


@pytest.mark.parametrize(
    "value",
    [0, 1, 239, 240, 241, 2287, 2288, 264431, 264432, 33818863, 33818864, 2**32 - 1, 2**64 - 1],
)
def test_integers_round_trip_at_every_length_boundary(value: int) -> None:
    encoded = wire.intencode(value)
    assert wire.intdecode(encoded, 0) == (value, len(encoded))
    with pytest.raises(wire.TruncatedError):
        wire.intdecode(encoded[:-1], 0)


def test_integers_as_haproxy_encodes_them() -> None:
    # the web table's `expire 10m` in its definition, as A sent it
    assert wire.intencode(600000) == bytes.fromhex("f0eda301")
    assert wire.intencode(240) == bytes.fromhex("f000")


def test_handshake_lines_are_haproxys() -> None:
    for conn in DATA["connections"]:
        client, _ = _stream(conn, "client")
        server, _ = _stream(conn, "server")
        remote_name = "A" if conn["to"] == DATA["ports"]["A"]["a"] else "B"
        me = "B" if remote_name == "A" else "A"
        assert client[:2] == ["HAProxyS 2.1", remote_name]
        pid = int(client[2].split()[1])
        assert wire.hello(remote_name, me, pid).decode().splitlines() == client
        assert wire.version_of(client[0]) == (2, 1)
        assert server == ["200"]


def test_pylvs_defines_the_tables_as_haproxy() -> None:
    tables = _tables()
    ids = {"mesh/numbers": 1, "mesh/names": 2, "web": 3}  # registration order, from 1
    sent = {
        read_define(m.payload).name: wire.message(m.cls, m.type, m.payload)
        for m in _teaching_stream()
        if m.type == wire.DEFINE
    }
    assert set(sent) == {"/numbers", "/names", "web"}
    for name, table in tables.items():
        assert define(ids[name], table) == sent[wire_name(name)]


def _learn() -> tuple[dict[str, StickTable], list[tuple[bytes, bytes]]]:
    """A's updates read and applied by pylvs as B: the tables, and for each update the bytes
    A sent beside those pylvs encodes for the entry it became (its own cache, as A's: one per
    session, shared by the tables)."""
    tables = _tables()
    cache, mine = DictCache(), DictCache()
    current: tuple[StickTable, Definition] | None = None
    pairs = []
    for m in _teaching_stream():
        if m.type == wire.DEFINE:
            d = read_define(m.payload)
            name = "web" if d.name == "web" else "mesh" + d.name
            current = (tables[name], d)
        elif m.type == wire.UPDATE:
            assert current is not None
            table, definition = current
            update = read_update(m.type, m.payload, table, definition, cache)
            entry = apply_update(table, update, 1_000_000)
            assert entry is not None and update.update_id is not None
            again = encode_update(
                table, entry, 1_000_000, mine, update_id=update.update_id, timed=False
            )
            pairs.append((wire.message(m.cls, m.type, m.payload), again))
    return tables, pairs


def _shown(text: str) -> list[str]:
    """`show table` lines without the entry addresses and expiries (times differ)."""
    lines = text.strip().splitlines()
    return [re.sub(r"^0x[0-9a-f]+: | exp=\d+", "", line) for line in lines]


def test_updates_read_by_pylvs_give_the_entries_haproxy_b_showed() -> None:
    tables, _updates = _learn()
    for name in tables:
        reply = table_command(list(tables.values()), ["show", "table", name], Level.ADMIN, 1000.0)
        assert _shown(reply) == _shown(DATA["tables"]["B"][name])


def test_pylvs_encodes_those_entries_into_the_bytes_haproxy_a_sent() -> None:
    _tables, pairs = _learn()
    assert len(pairs) == 15  # 3 requests: 5 updates each over the 3 tables
    for sent, mine in pairs:
        assert mine == sent


def test_a_string_key_longer_than_the_table_is_cut_and_skipped_whole() -> None:
    table = _tables()["mesh/names"]
    definition = Definition(1, "/names", 6, 21, 1)  # server_id only
    payload = bytes.fromhex("00000009") + wire.intencode(30) + b"x" * 30 + wire.intencode(5)
    update = read_update(wire.UPDATE, payload, table, definition, DictCache())
    assert update.key == b"x" * 20
    assert update.values == (("server_id", 5),)
