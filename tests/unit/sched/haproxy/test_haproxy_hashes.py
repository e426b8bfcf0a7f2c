"""HAProxy's hash functions (sched/haproxy/hashes.py) against the real HAProxy's.

tests/data/haproxy/lb/hash-vectors.json holds what HAProxy 2.6's `sdbm`, `djb2`, `wt6` and
`crc32` converters answered, plain and with the avalanche modifier (full_hash), for fixed
strings, every single byte and pseudo-random byte strings up to 1000 bytes long (captured by
capture_hashes.py beside it).
"""

import json
from pathlib import Path

import pytest

from pylvs.sched.haproxy.hashes import full_hash, gen_hash
from pylvs.sched.haproxy.params import HashFunction

DATA = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "lb" / "hash-vectors.json"
VECTORS = json.loads(DATA.read_text())["vectors"]


def test_the_vectors_cover_every_byte_and_long_inputs() -> None:
    lengths = {len(bytes.fromhex(v["input"])) for v in VECTORS}
    assert {0, 1, 9, 1000} <= lengths
    assert len(VECTORS) > 300


@pytest.mark.parametrize("function", list(HashFunction), ids=lambda f: f.value)
def test_hash_functions_match_haproxy(function: HashFunction) -> None:
    wrong = []
    for v in VECTORS:
        data = bytes.fromhex(v["input"])
        got = gen_hash(function, data)
        if got != v[function.value] or full_hash(got) != v[f"{function.value}_avalanche"]:
            wrong.append(v["input"])
    assert not wrong


def test_crc32_is_the_standard_crc() -> None:
    assert gen_hash(HashFunction.CRC32, b"123456789") == 0xCBF43926
