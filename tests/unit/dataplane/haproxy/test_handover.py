"""What a reload hands from the old runtime's stick tables to the new one's (handover.py):
the same table when nothing changed, its entries (with their expiry and data) when only
what does not change the keys did, nothing when the name, key type or size changed."""

from __future__ import annotations

from pylvs.dataplane.haproxy.handover import keep_tables
from pylvs.proto.stick import StickTable, parse_stick_table


def table(line: str, name: str = "t") -> StickTable:
    return StickTable(parse_stick_table(name, line.split()).with_data("server_id"))


def filled(line: str) -> StickTable:
    t = table(line)
    for i in range(3):
        e = t.get_entry(bytes([10, 0, 0, i]), 1.0 + i)
        assert e is not None
        e.set("server_id", i + 1)
    return t


def test_the_entries_go_over_with_their_expiry_and_data() -> None:
    old = filled("type ip size 10 expire 60s")
    for line in ("type ip size 10 expire 60s", "type ip size 10 expire 5s"):
        new = table(line)
        keep_tables({"t": new}, {"t": old}, 5.0)
        got = [(e.key, e.expire, e.get("server_id")) for e in new.entries(5.0)]
        want = [(e.key, e.expire, e.get("server_id")) for e in old.entries(5.0)]
        assert got == want and len(got) == 3


def test_other_tables_start_empty() -> None:
    old = filled("type ip size 10 expire 60s")
    for line, name in (("type ip size 20 expire 60s", "t"), ("type integer size 10", "t"),
                       ("type ip size 10 expire 60s", "u")):  # fmt: skip
        new = table(line, name)
        keep_tables({name: new}, {"t": old}, 5.0)
        assert len(new) == 0
