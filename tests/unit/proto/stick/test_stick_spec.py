"""`stick-table` lines as HAProxy 2.6 reads them (proto/stick/spec.py).

The verdicts come from the real `haproxy -c` (tests/data/haproxy/stick/table-errors.json,
captured by capture_errors.py beside it): refused lines raise HAProxy's message, warned ones
parse and report its warning, the others parse silently.  The values they set are checked
against stick_table.c.
"""

import json
from pathlib import Path

import pytest

from pylvs.proto.stick import KeyType, SpecError, parse_stick_table

DATA = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "stick" / "table-errors.json"
LINES = json.loads(DATA.read_text())["lines"]


@pytest.mark.parametrize("line", sorted(LINES))
def test_verdicts_and_messages_match_haproxy(line: str) -> None:
    expected = LINES[line]
    words = line.split()[1:]
    warnings: list[str] = []
    if expected.get("level") == "alert":
        with pytest.raises(SpecError) as err:
            parse_stick_table("b", words, warnings)
        assert str(err.value) == expected["message"]
        return
    parse_stick_table("b", words, warnings)
    assert warnings == ([expected["message"]] if expected else [])


def test_values() -> None:
    words = (
        "type string len 16 size 10k expire 30m nopurge srvkey addr peers p "
        "store conn_rate(10s),gpc0,server_name,conn_cnt"
    )
    spec = parse_stick_table("be", words.split())
    assert (spec.key.type, spec.key.size) == (KeyType.STRING, 17)
    assert (spec.size, spec.expire_ms, spec.nopurge) == (10240, 1_800_000, True)
    assert (spec.srvkey, spec.peers) == ("addr", "p")
    # Data are kept in HAProxy's enum order, whatever order `store` lists them in.
    assert spec.store == (("gpc0", 0), ("conn_cnt", 0), ("conn_rate", 10000), ("server_key", 0))
    assert parse_stick_table("x", ["type", "string", "size", "1"]).key.size == 32
    assert parse_stick_table("x", ["type", "binary", "size", "1"]).key.size == 32
    assert parse_stick_table("x", ["type", "ip", "size", "1", "expire", "100us"]).expire_ms == 1


def test_stick_rules_add_the_server_data() -> None:
    spec = parse_stick_table("x", ["type", "ip", "size", "1", "store", "gpc0"])
    with_server = spec.with_data("server_id", "server_key")
    assert [n for n, _ in with_server.store] == ["server_id", "gpc0", "server_key"]
    assert with_server.with_data("server_id") == with_server
