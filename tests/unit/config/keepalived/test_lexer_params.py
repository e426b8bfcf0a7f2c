"""`@ID` conditional lines and `$PARAM` definitions/substitution (keepalived.conf(5),
lib/parser.c `check_definition`, `find_definition`, `replace_param`, 2.2.7 `read_line`)."""

from __future__ import annotations

import os
import random

import pytest

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.lexer import read_text
from pylvs.config.tree import Statement

F = "p.conf"


def lex(text: str, config_id: str = "main", **kw: object) -> tuple[tuple[Statement, ...], Problems]:
    problems = Problems()
    sts = read_text(text, F, problems, config_id=config_id, **kw)  # type: ignore[arg-type]
    return sts, problems


def texts(sts: tuple[Statement, ...]) -> list[list[str]]:
    return [[w.text for w in (s.keyword, *s.args)] for s in sts]


def msgs(problems: Problems) -> list[str]:
    return [str(p) for p in problems]


# -- conditionals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config_id", "expected"),
    [
        ("main", [["router_id", "main_router"], ["peer", "1.2.3.5"], ["peer", "1.2.3.6"]]),
        ("backup", [["router_id", "backup_router"], ["peer", "1.2.3.4"], ["peer", "1.2.3.6"]]),
        ("other", [["peer", "1.2.3.4"], ["peer", "1.2.3.5"], ["peer", "1.2.3.6"]]),
    ],
)
def test_conditional_lines_man_page_example(config_id: str, expected: list[list[str]]) -> None:
    text = (
        "@main   router_id main_router\n"
        "@backup router_id backup_router\n"
        "@^main    peer 1.2.3.4\n"
        "@^backup  peer 1.2.3.5\n"
        "@^backup2 peer 1.2.3.6\n"
    )
    sts, problems = lex(text, config_id)
    assert msgs(problems) == []
    assert texts(sts) == expected


def test_conditional_prefix_is_stripped_and_columns_kept() -> None:
    sts, _ = lex("  @main\tpriority 100\n")
    (st,) = sts
    assert st.keyword.loc == Location(F, 1, 9)
    assert st.args[0].loc == Location(F, 1, 18)


def test_conditional_needs_text_after_the_id_and_an_exact_match() -> None:
    sts, _ = lex("@main\n@mai x\n@mainx y\n@main z\n")
    assert texts(sts) == [["z"]]


def test_default_config_id_is_the_short_host_name() -> None:
    short = os.uname().nodename.split(".")[0]
    problems = Problems()
    sts = read_text(f"@{short} yes\n@^{short} no\n", F, problems)
    assert texts(sts) == [["yes"]]


# -- definitions and substitution -----------------------------------------------------------


def test_simple_definition_and_use_with_locations() -> None:
    sts, problems = lex("$PRIO=150\npriority $PRIO\nweight ${PRIO}0\n")
    assert msgs(problems) == []
    assert texts(sts) == [["priority", "150"], ["weight", "1500"]]
    # Substituted text points at the `$` it replaced.
    assert sts[0].args[0].loc == Location(F, 2, 10)
    assert sts[1].args[0].loc == Location(F, 3, 8)
    assert sts[0].raw == "150" and sts[0].raw_loc == Location(F, 2, 10)


def test_dollar_name_needs_a_word_end_unless_braced() -> None:
    sts, _ = lex("$A=x\nk $A, $A) $Ab ${A}b a$A\n")
    # `$A` followed by `,` or `)` is replaced too (find_definition); `$Ab` is another name.
    assert texts(sts) == [["k", "x,", "x)", "$Ab", "xb", "ax"]]


def test_undefined_parameters_stay() -> None:
    sts, problems = lex('$A=1\nk $UNDEF "${UNDEF}" $ $1\n')
    assert msgs(problems) == []
    assert texts(sts) == [["k", "$UNDEF", "${UNDEF}", "$", "$1"]]


def test_undefined_braced_parameter_braces_open_a_block_like_keepalived() -> None:
    sts, _ = lex("k ${UNDEF}\n")
    (st,) = sts
    assert texts(sts) == [["k", "$"]]
    assert st.block is not None and texts(st.block) == [["UNDEF"]]


def test_not_definitions() -> None:
    # A blank before `=` or a bad name makes an ordinary line.
    sts, _ = lex("$A =1\n$1A=2\n$A-B=3\n")
    assert texts(sts) == [["$A", "=1"], ["$1A=2"], ["$A-B=3"]]


def test_empty_value_and_blanks_after_equals() -> None:
    sts, _ = lex("$E=\n$B=   v w\nk x${E}y $B\n")
    assert texts(sts) == [["k", "xy", "v", "w"]]


def test_substitution_is_recursive_and_done_at_use_time() -> None:
    text = (
        "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n"
        "$ADDRESS_BASE_SUB=0\n"
        "${ADDRESS_BASE}.100/32\n"
        "$ADDRESS_BASE_SUB=10\n"
        "${ADDRESS_BASE}.100/32\n"
    )
    sts, problems = lex(text)
    assert msgs(problems) == []
    assert texts(sts) == [["10.2.0.100/32"], ["10.2.10.100/32"]]


def test_parameter_with_conditional_definitions() -> None:
    text = (
        "@main $PRIORITY=240\n@backup $PRIORITY=200\nvrrp_instance VI_0 {\n priority $PRIORITY\n}\n"
    )
    for cid, prio in (("main", "240"), ("backup", "200")):
        sts, _ = lex(text, cid)
        assert sts[0].block is not None
        assert texts(sts[0].block) == [["priority", prio]]


def test_parameter_expanding_to_a_conditional() -> None:
    text = "$IF_MAIN=@main\n$IF_MAIN priority 240\n"
    assert texts(lex(text, "main")[0]) == [["priority", "240"]]
    assert texts(lex(text, "backup")[0]) == []


def test_recursive_definition_is_reported_not_looped() -> None:
    sts, problems = lex("$A=${A}\nk ${A}\nnext\n")
    assert [s.name for s in sts] == ["next"]
    (p,) = problems.errors
    assert p.loc == Location(F, 2, 3)
    assert "does not end" in p.message


def test_growing_recursive_definition_is_reported() -> None:
    sts, problems = lex("$A=x $A\nk $A\n")
    assert sts == ()
    assert len(problems.errors) == 1
    assert problems.errors[0].loc == Location(F, 2, 3)


def test_reserved_name_is_a_warning_and_still_defined() -> None:
    sts, problems = lex("$_MINE=1\nk ${_MINE}\n")
    assert msgs(problems) == [
        f"{F}:1:2: warning: parameter names starting with '_' are reserved: $_MINE"
    ]
    assert texts(sts) == [["k", "1"]]


def test_comment_in_a_value_is_removed_at_definition() -> None:
    sts, _ = lex("$A=1 # one\nk $A\n")
    assert texts(sts) == [["k", "1"]]


def test_value_with_braces_opens_a_block() -> None:
    sts, problems = lex("$OPEN=vrrp_instance X {\n$OPEN\n state MASTER\n}\n")
    assert msgs(problems) == []
    (vi,) = sts
    assert vi.block is not None and texts(vi.block) == [["state", "MASTER"]]
    assert vi.keyword.loc == Location(F, 2, 1)


# -- multiline definitions ------------------------------------------------------------------


MULTI = """$INSTANCE= \\
vrrp_instance VI_${NUM} { \\
    interface eth0.${NUM} \\
    @high priority 130 \\
    @low priority 120 \\
    virtual_ipaddress { \\
        10.0.${NUM}.254/24 \\
    } \\
}

$NUM=0
$INSTANCE

$NUM=1
 $INSTANCE
"""


def test_multiline_definition_man_page_example() -> None:
    sts, problems = lex(MULTI, "high")
    assert msgs(problems) == []
    assert texts(sts) == [["vrrp_instance", "VI_0"], ["vrrp_instance", "VI_1"]]
    for st, num in zip(sts, "01", strict=True):
        assert st.block is not None
        assert texts(st.block) == [
            ["interface", f"eth0.{num}"],
            ["priority", "130"],
            ["virtual_ipaddress"],
        ]
        vip = st.block[2]
        assert vip.block is not None and texts(vip.block) == [[f"10.0.{num}.254/24"]]
    # Every expanded line is located at the `$INSTANCE` that produced it.
    assert sts[0].keyword.loc == Location(F, 12, 1)
    assert sts[0].block is not None and sts[0].block[0].keyword.loc == Location(F, 12, 1)
    assert sts[1].keyword.loc == Location(F, 15, 2)
    assert sts[1].end == Location(F, 15, 2)


def test_multiline_definition_is_only_used_at_line_end() -> None:
    sts, _ = lex("$M= \\\na \\\nb\nx $M y\nx $M\n")
    assert texts(sts) == [["x", "$M", "y"], ["x", "a"], ["b"]]


def test_multiline_definition_ends_at_an_empty_line() -> None:
    sts, _ = lex("$M= \\\na \\\n\nb\nk $M\n")
    # The empty line ends the definition; `b` is an ordinary line; `a` alone is a one-line value.
    assert texts(sts) == [["b"], ["k", "a"]]


def test_multiline_definitions_nest() -> None:
    text = (
        "$RS= \\\n"
        "real_server 192.168.${VS}.${RSN} 80 { \\\n"
        "    weight 1 \\\n"
        "}\n"
        "$VSD= \\\n"
        "virtual_server 10.0.${VS}.4 80 { \\\n"
        "    $RSN=1 \\\n"
        "    $RS \\\n"
        "    $RSN=2 \\\n"
        "    $RS \\\n"
        "}\n"
        "$VS=7\n"
        "$VSD\n"
    )
    sts, problems = lex(text)
    assert msgs(problems) == []
    (vs,) = sts
    assert texts(sts) == [["virtual_server", "10.0.7.4", "80"]]
    assert vs.block is not None
    assert texts(vs.block) == [
        ["real_server", "192.168.7.1", "80"],
        ["real_server", "192.168.7.2", "80"],
    ]
    assert all(rs.block is not None and texts(rs.block) == [["weight", "1"]] for rs in vs.block)


# -- predefined definitions -----------------------------------------------------------------


def test_predefined_instance_pwd_hash_bang(tmp_path: object) -> None:
    sts, problems = lex(
        'k ${_INSTANCE} "${_HASH}" "${_BANG}" ${_PWD}\n', "n1", base_dir="/etc/keepalived"
    )
    assert msgs(problems) == []
    assert texts(sts) == [["k", "n1", "#", "!", "/etc/keepalived"]]


def test_hash_outside_quotes_starts_a_comment_like_keepalived() -> None:
    # replace_param() is followed by decomment(), so an unquoted ${_HASH} cuts the line.
    sts, _ = lex("bogus${_HASH}x y\n")
    assert texts(sts) == [["bogus"]]


def test_random_uses_the_given_rng_and_bounds() -> None:
    rng = random.Random(42)
    expected = random.Random(42)
    want = [expected.randint(0, 32767), expected.randint(5, 32767), expected.randint(3, 4)]
    sts, problems = lex("k ${_RANDOM} ${_RANDOM 5} ${_RANDOM 3 4}\n", rng=rng)
    assert msgs(problems) == []
    assert texts(sts) == [["k", *map(str, want)]]


def test_random_parameter_errors() -> None:
    sts, problems = lex("k ${_RANDOM a} ${_RANDOM 1 2 3} ${_RANDOM 9 2}\n", rng=random.Random(1))
    assert msgs(problems) == [
        f"{F}:1:3: error: Definition _RANDOM requires numeric parameters only.",
        f"{F}:1:16: error: Definition _RANDOM requires between 0 and 2 parameters, 3 specified.",
        f"{F}:1:33: error: ${{_RANDOM}}: min 9 exceeds max 2, using 9",
    ]
    # The refused references stay (and their braces split the line like any other).
    assert texts(sts)[0] == ["k", "$"]


def test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYLVS_LEXER_TEST", "from-env")
    monkeypatch.delenv("PYLVS_LEXER_UNSET", raising=False)
    sts, _ = lex("k ${_ENV PYLVS_LEXER_TEST} x${_ENV PYLVS_LEXER_UNSET}y\n")
    assert texts(sts) == [["k", "from-env", "xy"]]
