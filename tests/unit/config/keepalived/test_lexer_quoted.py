"""`split_quoted`: keepalived's `alloc_strvec_quoted_escaped()` for script/notify/misc_path
values (lib/parser.c; keepalived.conf(5) "Quoted strings")."""

from __future__ import annotations

import pytest

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.lexer import read_text, split_quoted

AT = Location("q.conf", 3, 10)


def split(raw: str) -> tuple[list[tuple[str, int]], list[str]]:
    problems = Problems()
    got = split_quoted(raw, AT, problems)
    assert all(w.loc.file == "q.conf" and w.loc.line == 3 for w in got)
    return [(w.text, w.loc.col) for w in got], [str(p) for p in problems]


def test_quotes_join_and_are_removed() -> None:
    assert split('abcd" efg h jkl "mnop x') == ([("abcd efg h jkl mnop", 10), ("x", 32)], [])


def test_single_quotes_keep_a_parameter_with_spaces() -> None:
    assert split("/bin/notify 'a b' \"c 'd'\"") == (
        [("/bin/notify", 10), ("a b", 22), ("c 'd'", 28)],
        [],
    )


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (r"\a\b\E\f\n\r\t\v", "\a\b\x1b\f\n\r\t\v"),
        (r"\101\60\0", "A0\0"),
        (r"\1012", "A2"),
        (r"\777", "\xff"),
        (r"\x41\x4a\x4G", "AJ\x04G"),
        (r"\xZ", "xZ"),
        (r"\cA\cz", "\x01\x1a"),
        (r"\q\"\'\\\ ", "q\"'\\ "),
        (r'"in \"quotes\" \t"', 'in "quotes" \t'),
        (r"'\x41'", "A"),
    ],
)
def test_escapes(raw: str, text: str) -> None:
    assert split(raw) == ([(text, 10)], [])


def test_escaped_blank_does_not_split() -> None:
    assert split(r"a\ b c") == ([("a b", 10), ("c", 15)], [])


def test_empty_quotes_make_an_empty_word() -> None:
    assert split("'' x") == ([("", 10), ("x", 13)], [])


def test_unterminated_quote_is_an_error_and_no_words() -> None:
    assert split("ok 'never closed") == (
        [],
        ["q.conf:3:13: error: String 'ok 'never closed': missing terminating '"],
    )


def test_trailing_backslash_is_an_error() -> None:
    assert split("ok \\") == ([], ["q.conf:3:13: error: Missing escape char at end"])


def test_raw_of_a_statement_feeds_split_quoted() -> None:
    problems = Problems()
    (st,) = read_text("  notify_master '/bin/x y' \"a b\"  # c\n", "q.conf", problems)
    assert st.raw == "'/bin/x y' \"a b\""
    assert st.raw_loc == Location("q.conf", 1, 17)
    words = split_quoted(st.raw, st.raw_loc, problems)
    assert [(w.text, w.loc.col) for w in words] == [("/bin/x y", 17), ("a b", 28)]
    assert list(problems) == []
