"""No input makes the keepalived.conf lexer raise (principle 8): random text and random
mutations of a sample config only ever give problems.  The real-world seed configs read clean."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.config.errors import Problems
from pylvs.config.keepalived.lexer import read_file, read_text, split_quoted
from pylvs.config.tree import Statement

ROOT = Path(__file__).resolve().parents[4]
SAMPLE = ROOT / "tests" / "data" / "keepalived" / "lexer" / "sample.conf"
# Copies of the project's real-world seed configs (Chinese comments included).
SEEDS = sorted((SAMPLE.parent / "seeds").glob("*.keepalived.conf"))

# The characters the grammar cares about, so random text often hits a rule.
ALPHABET = st.sampled_from([*"{}\"'#!\\$@~^()=,_ \t\nxyzSEQLST01-9a", "\r", "\0", "é"])
TOKENS = st.sampled_from(
    [
        "{",
        "}",
        '"',
        "'",
        "#",
        "!",
        "\\",
        "\\\n",
        "$A",
        "${A}",
        "$A=",
        "$B=$A",
        "$A=${A}",
        "$M= \\\n",
        "@n ",
        "@^n ",
        "~SEQ(",
        "~SEQx(",
        "~LST(",
        "~LST({a,b},",
        ")",
        ",",
        "{1,2}",
        "include ",
        "includea ",
        "*.conf",
        "${_RANDOM 1 9}",
        "${_ENV HOME}",
        "${_PWD}",
        "\n",
        " ",
        "-5",
        "0x1f",
        "99999999999999999999999",
        "global_defs",
        "include_check",
    ]
)


def _walk(sts: tuple[Statement, ...]) -> int:
    count = 0
    todo = list(sts)
    while todo:
        s = todo.pop()
        count += 1
        assert s.keyword.loc.line >= 1 and s.keyword.loc.col >= 1
        if s.block is not None:
            todo.extend(s.block)
    return count


def _read(text: str, base: str = "/nonexistent-dir") -> Problems:
    problems = Problems()
    sts = read_text(text, "f.conf", problems, config_id="n", rng=random.Random(0), base_dir=base)
    _walk(sts)
    for p in problems:
        assert p.loc.file
    return problems


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(ALPHABET, max_size=200))
def test_random_characters_never_raise(text: str) -> None:
    _read(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOKENS, max_size=40))
def test_random_token_soup_never_raises(tokens: list[str]) -> None:
    _read("".join(tokens))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.text(ALPHABET, max_size=6)),
        min_size=1,
        max_size=8,
    )
)
def test_mutated_sample_never_raises(edits: list[tuple[int, int, str]]) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    for pos, cut, insert in edits:
        at = pos % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    _read(text, str(SAMPLE.parent))


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=60))
def test_split_quoted_never_raises(raw: str) -> None:
    from pylvs.config.errors import Location

    words = split_quoted(raw, Location("f", 1, 1), Problems())
    assert all(w.loc.col >= 1 for w in words)


def test_sample_reads_as_designed() -> None:
    problems = Problems()
    sts = read_file(str(SAMPLE), problems, config_id="main", rng=random.Random(0))
    # `include_check +match` in global_defs makes the missing directory an error.
    assert [str(p) for p in problems] == [
        f"{SAMPLE}:31:13: error: Config files missing 'missing/*.conf'."
    ]
    assert [s.name for s in sts] == ["global_defs", "vrrp_instance", "virtual_server"]
    vi = sts[1].block
    assert vi is not None
    assert [(s.name, [w.text for w in s.args]) for s in vi[:6]] == [
        ("state", ["MASTER"]),
        ("interface", ["eth0"]),
        ("priority", ["100"]),
        ("virtual_router_id", ["51"]),
        ("virtual_router_id", ["52"]),
        ("virtual_router_id", ["53"]),
    ]
    vs = sts[2].block
    assert vs is not None
    assert [(s.name, s.args[0].text if s.args else "") for s in vs] == [
        ("lb_algo", "wrr"),
        ("real_server", "192.168.1.9"),
        ("real_server", "192.168.1.a"),
        ("real_server", "192.168.1.b"),
    ]


def test_deep_nesting_does_not_recurse() -> None:
    problems = _read("a {" * 5000 + "}" * 5000)
    assert list(problems) == []


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_configs_read_without_problems(path: Path) -> None:
    problems = Problems()
    sts = read_file(str(path), problems, config_id="lvs1")
    assert [str(p) for p in problems] == []
    assert _walk(sts) > 5
    assert any(s.name == "vrrp_instance" and s.block for s in sts)


def test_there_are_seed_configs() -> None:
    assert len(SEEDS) >= 5
