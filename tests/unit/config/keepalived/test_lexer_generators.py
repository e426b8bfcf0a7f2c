"""`~SEQ`, `~SEQx` and `~LST` generators (lib/parser.c `add_seq`, `add_lst`; the expected
sequences were also checked against keepalived 2.2.7 `-t`)."""

from __future__ import annotations

import pytest

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.lexer import read_text
from pylvs.config.tree import Statement

F = "g.conf"


def lex(text: str) -> tuple[tuple[Statement, ...], Problems]:
    problems = Problems()
    return read_text(text, F, problems, config_id="n"), problems


def names(text: str) -> list[str]:
    sts, problems = lex(text)
    assert [str(p) for p in problems] == []
    return [" ".join(w.text for w in (s.keyword, *s.args)) for s in sts]


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("(i, 3)", ["1", "2", "3"]),
        ("(i, 0)", ["1", "0"]),
        ("(i, -2)", ["-1", "-2"]),
        ("(i, 4, 6)", ["4", "5", "6"]),
        ("(i, 6, 4)", ["6", "5", "4"]),
        ("(i, 1, 3, 8)", ["1", "4", "7"]),
        ("(i, 8, -3, 1)", ["8", "5", "2"]),
        ("(i, 0x10, 0x11)", ["16", "17"]),
        ("(i,010,9)", ["8", "9"]),
        ("x(i, 9, 12)", ["9", "a", "b", "c"]),
        ("x(i, 254, 2, 258)", ["fe", "100", "102"]),
    ],
)
def test_seq_values(spec: str, values: list[str]) -> None:
    assert names(f"~SEQ{spec} k_${{i}}\n") == [f"k_{v}" for v in values]


def test_seq_with_parameters_in_its_numbers() -> None:
    assert names("$N=3\n$S=2\n~SEQ(i, $S, $N) k $i\n") == ["k 2", "k 3"]


def test_generated_lines_keep_the_source_location() -> None:
    sts, _ = lex("\n  ~SEQ(n, 2)   real_server 10.0.0.$n 80\n")
    assert [s.keyword.loc for s in sts] == [Location(F, 2, 16)] * 2
    assert [s.args[0].loc for s in sts] == [Location(F, 2, 28)] * 2
    assert [s.args[0].text for s in sts] == ["10.0.0.1", "10.0.0.2"]


def test_nested_generators_on_one_line() -> None:
    assert names("~SEQ(i,3) ~SEQ(j,1,2) bog_${i}_${j}\n") == [
        "bog_1_1",
        "bog_1_2",
        "bog_2_1",
        "bog_2_2",
        "bog_3_1",
        "bog_3_2",
    ]


def test_lst_single_variable() -> None:
    assert names("~LST(ip, 10.0.0.1, 10.0.0.2) peer $ip\n") == ["peer 10.0.0.1", "peer 10.0.0.2"]


def test_lst_several_variables_missing_values_are_empty() -> None:
    assert names("~LST({a,b}, {1,2}, {3}) bog_${a}_${b}\n") == ["bog_1_2", "bog_3_"]


def test_lst_values_are_substituted_when_used() -> None:
    assert names("$X=42\n~LST(v, $X, y) k $v\n") == ["k 42", "k y"]


def test_generator_lines_can_open_blocks() -> None:
    sts, problems = lex("~SEQ(i, 2) vrrp_instance VI_$i { priority 10$i }\n")
    assert [str(p) for p in problems] == []
    assert [(s.name, s.args[0].text) for s in sts] == [
        ("vrrp_instance", "VI_1"),
        ("vrrp_instance", "VI_2"),
    ]
    assert [[(b.name, b.args[0].text) for b in (s.block or ())] for s in sts] == [
        [("priority", "101")],
        [("priority", "102")],
    ]


def test_generator_variable_is_a_definition_afterwards() -> None:
    assert names("~SEQ(i, 2) k\nlast $i\n") == ["k", "k", "last 2"]


def test_parameter_expanding_to_a_generator() -> None:
    assert names("$G=~SEQ(i,1,3) bogus_$i\n$G\n") == ["bogus_1", "bogus_2", "bogus_3"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("~SEQ(i)", "Invalid ~SEQ definition '~SEQ(i)'"),
        ("~SEQ(i, 1, 2", "~SEQ missing terminating ')' '~SEQ(i, 1, 2'"),
        ("~SEQ(i, 1, -1, 5)", "Invalid ~SEQ values '~SEQ(i, 1, -1, 5)'"),
        ("~SEQ(i, 1, 0, 5)", "Invalid ~SEQ values '~SEQ(i, 1, 0, 5)'"),
        ("~SEQ(i, 1, 2, 3, 4)", "Invalid ~SEQ definition '~SEQ(i, 1, 2, 3, 4)'"),
        ("~SEQ(i, x)", "Invalid ~SEQ definition '~SEQ(i, x)'"),
        ("~SEQx(i, -3)", "~SEQx is only valid for positive numbers '~SEQx(i, -3)'"),
        ("~SEQ i 3", "Invalid ~SEQ specification '~SEQ i 3'"),
        ("~LST(a)", "Invalid ~LST specification '~LST(a)'"),
        (
            "~LST({a,b}, {1,2,3}) k",
            "~LST specification has too many values '~LST({a,b}, {1,2,3}) k'",
        ),
        ("~SEQ(i, 1, 1000000) k", "~SEQ would generate 1000000 lines (at most 100000)"),
    ],
)
def test_invalid_generators(line: str, message: str) -> None:
    sts, problems = lex(f"ok\n {line}\n")
    assert [s.name for s in sts] == ["ok"]
    assert [str(p) for p in problems] == [f"{F}:2:2: error: {message}"]
