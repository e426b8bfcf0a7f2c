"""The plain-line path of the preprocessor (no quote, escape, `$`, `@`, `~`, include) must give
the very statements the general path gives: words, raw rest, every location, blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.config.errors import Problems
from pylvs.config.keepalived import plain, preprocess
from pylvs.config.keepalived.includes import parse_include
from pylvs.config.keepalived.lexer import read_text
from pylvs.config.keepalived.parser import load_text

DATA = Path(__file__).parents[3] / "data" / "keepalived"
SAMPLES = sorted(DATA.rglob("*.conf"))


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast_problems, slow_problems = Problems(), Problems()
    fast = read_text(text, "t.conf", fast_problems, config_id="node")
    with monkeypatch.context() as m:
        m.setattr(preprocess, "PLAIN_LINES", False)  # every line: general path
        slow = read_text(text, "t.conf", slow_problems, config_id="node")
    return (fast, sorted(map(str, fast_problems))), (slow, sorted(map(str, slow_problems)))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_plain_path_equals_general_path_on_the_test_configs(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = both(path.read_text(errors="replace"), monkeypatch)
    assert fast == slow


LINE = st.lists(
    st.sampled_from(["a", "bb", "{", "}", " ", "\t", "#", "!", "x1", "\r", "  {  ", "}}"]),
    max_size=12,
).map("".join)


@given(st.lists(LINE, max_size=15).map("\n".join))
@settings(max_examples=300, deadline=None)
def test_plain_path_equals_general_path_on_random_lines(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = both(text, monkeypatch)
    assert fast == slow


RICH_LINE = st.lists(
    st.sampled_from(
        [
            "a",
            "é",
            "\u3000",  # a blank to Python's str.split, a word character to keepalived
            "\U0001f600",
            "{",
            "}",
            " ",
            "\t",
            "\f",
            "\v",
            "\r",
            "#",
            "!",
            "include",
            "include_check x",
            "global_defs",
            "\0",
            '"',
        ]
    ),
    max_size=10,
).map("".join)


@given(st.lists(RICH_LINE, max_size=12).map("\n".join))
@settings(max_examples=300, deadline=None)
def test_c_reader_equals_python_reader(text: str) -> None:
    """The C plain-line reader and plain.py give the same statements, locations and problems,
    whatever the characters' width (columns count characters)."""
    if plain._plain is None:
        pytest.skip("the C plain-line reader is not built")
    results = []
    for use_c in (True, False):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(plain, "USE_C", use_c)
            problems = Problems()
            tree = read_text(text, "t.conf", problems, config_id="node")
            results.append((tree, [str(p) for p in problems]))
    assert results[0] == results[1]


PARSED_LINE = st.sampled_from(
    [
        "virtual_server 10.0.0.1 80 {",
        "virtual_server 10.0.0.2 80 {",
        "real_server 10.0.1.1 80 {",
        "weight x",
        "lb_algo wrr",
        "protocol TCP",
        "TCP_CHECK {",
        "global_defs {",
        "include_check /nonexistent",
        "router_id r1",
        "bogus_keyword 1",
        "{",
        "}",
        "} {",
        "}}",
        "$UNDEFINED",
        "$P=7",
        "@other lb_kind DR",
        "weight $P",
        '"quoted" 1',
        "",
        "# comment",
    ]
)


@given(st.lists(PARSED_LINE, max_size=40).map("\n".join))
@settings(max_examples=300, deadline=None)
def test_plain_path_reports_in_the_general_paths_order(text: str) -> None:
    """Statements handed on in batches are parsed in the same order relative to the lexer's
    and the preprocessor's own problems: the whole problem list is the same, in order."""
    results = []
    for plain_lines in (True, False):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(preprocess, "PLAIN_LINES", plain_lines)
            result = load_text(text, "t.conf", config_id="node")
        results.append((result.config, [str(p) for p in result.problems]))
    assert results[0] == results[1]


@given(
    st.text(alphabet="includermwbax \t\f\v\r\n_", max_size=12).map(lambda t: "include" + t)
    | st.text(max_size=12)
)
@settings(max_examples=500, deadline=None)
def test_plain_reader_tells_an_include_line_as_includes_py_does(line: str) -> None:
    assert plain.is_include(line) == (parse_include(line) is not None)
