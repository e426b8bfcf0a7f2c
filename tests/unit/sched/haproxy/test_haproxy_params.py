"""`balance` and `hash-type` as HAProxy 2.6 reads them (sched/haproxy/params.py).

The verdicts come from the real `haproxy -c` (tests/data/haproxy/lb/balance-errors.json,
captured by capture_errors.py beside it): accepted lines parse, refused ones raise HAProxy's
message.  The values a line sets are checked against backend.c / cfgparse-listen.c.
"""

import json
from pathlib import Path

import pytest

from pylvs.sched import registry
from pylvs.sched.base import Need
from pylvs.sched.haproxy.params import (
    ALGORITHMS,
    BalanceError,
    HashFunction,
    HashType,
    LbParams,
    parse_balance,
    parse_hash_type,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "lb" / "balance-errors.json"
LINES = json.loads(DATA.read_text())["lines"]


def parse(line: str) -> LbParams:
    keyword, *words = line.split()
    if keyword == "balance":
        return parse_balance(words)
    return parse_hash_type(words)


@pytest.mark.parametrize("line", sorted(LINES))
def test_verdicts_and_messages_match_haproxy(line: str) -> None:
    expected = LINES[line]
    if not expected:
        parse(line)
        return
    assert expected["level"] == "alert"
    with pytest.raises(BalanceError) as err:
        parse(line)
    assert str(err.value) == expected["message"]


def test_every_algorithm_is_registered_with_its_need() -> None:
    for name in ALGORITHMS:
        cls = registry.get(f"haproxy:{name}")
        assert cls.need == LbParams(algorithm=name).need
    assert registry.get("haproxy:source").need is Need.ADDRESS
    assert registry.get("haproxy:uri").need is Need.HTTP
    assert registry.get("haproxy:rdp-cookie").need is Need.PAYLOAD
    assert registry.get("haproxy:roundrobin").need is Need.NONE


def test_arguments() -> None:
    assert parse_balance([]) == LbParams()
    assert parse_balance(["random(0x10)"]).draws == 16
    assert parse_balance(["random()"]).draws == 2
    uri = parse_balance(["uri", "len", "12", "depth", "3", "whole", "path-only"])
    assert (uri.uri_len, uri.uri_depth, uri.uri_whole, uri.uri_path_only) == (12, 3, True, True)
    hdr = parse_balance(["hdr(Host)", "use_domain_only"])
    assert (hdr.algorithm, hdr.name, hdr.use_domain_only) == ("hdr", "Host", True)
    assert parse_balance(["rdp-cookie"]).name == "mstshash"
    assert parse_balance(["rdp-cookie(user)"]).name == "user"
    assert parse_balance(["hash", "req.cook(sid)"]).expression == "req.cook(sid)"
    assert parse_balance(["url_param", "id", "check_post"]).check_post


def test_hash_type_defaults() -> None:
    assert LbParams().hash_type is HashType.MAP_BASED and not LbParams().avalanche
    consistent = parse_hash_type(["consistent"])
    assert consistent.hash_function is HashFunction.SDBM and consistent.avalanche
    djb2 = parse_hash_type(["consistent", "djb2"])
    assert djb2.hash_function is HashFunction.DJB2 and not djb2.avalanche
    assert parse_hash_type(["map-based", "wt6", "avalanche"]).avalanche


def test_balance_keeps_what_other_lines_set() -> None:
    base = parse_hash_type(["consistent", "crc32"], LbParams(allbackups=True))
    params = parse_balance(["source"], base)
    assert params.algorithm == "source" and params.allbackups
    assert params.hash_type is HashType.CONSISTENT and params.hash_function is HashFunction.CRC32


def test_dynamic_and_lookup() -> None:
    assert LbParams(algorithm="roundrobin").dynamic
    assert not LbParams(algorithm="static-rr").dynamic
    assert not LbParams(algorithm="source").dynamic
    assert LbParams(algorithm="source", hash_type=HashType.CONSISTENT).dynamic
    assert LbParams(algorithm="random").consistent
    assert not LbParams(algorithm="leastconn", hash_type=HashType.CONSISTENT).consistent
