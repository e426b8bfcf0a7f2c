"""normalize-uri against the vectors of HAProxy's own regression test
(reg-tests/http-rules/normalize_uri.vtc, v2.6.0, extracted into
tests/data/haproxy/rules/normalize_uri.json): the target after each normalizer, and the 400
a strict one gives for a bad percent sequence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pylvs.proto.rules.normalize import InvalidInputError, NormalizeUri, strip_dotdot

DATA = Path(__file__).resolve().parents[3] / "data" / "haproxy" / "rules" / "normalize_uri.json"
VECTORS = json.loads(DATA.read_text())["vectors"]


def normalizer(text: str) -> NormalizeUri:
    name, _, option = text.partition(" ")
    return NormalizeUri(name, bool(option))


def run(text: str, uri: bytes) -> bytes:
    return normalizer(text).rewrite(uri) or uri


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['normalizers'][0]}:{v['url']}")
def test_haproxy_vectors(vector: dict[str, object]) -> None:
    norms = vector["normalizers"]
    expect = vector["expect"]
    assert isinstance(norms, list) and isinstance(expect, dict)
    uri = str(vector["url"]).encode()
    if expect.get("status") == "400":
        with pytest.raises(InvalidInputError):
            run(norms[0], uri)
        return
    assert run(norms[0], uri).decode() == expect["http.after"]
    if "http.after-full" in expect:
        assert run(norms[1], uri).decode() == expect["http.after-full"]


def test_dotdot_keeps_what_cannot_be_climbed_unless_full() -> None:
    assert strip_dotdot(b"/../../a", False) == b"/../../a"
    assert strip_dotdot(b"/../../a", True) == b"/a"
