"""The keepalived.conf lexer: words, comments, quotes, blocks and their exact locations.

Expected values follow keepalived's lib/parser.c (`read_line`, `decomment`, `alloc_strvec_r`,
`process_stream`); columns are counted by hand from the input text.
"""

from __future__ import annotations

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.lexer import read_text
from pylvs.config.tree import Statement

F = "k.conf"


def lex(text: str, **kw: object) -> tuple[tuple[Statement, ...], Problems]:
    problems = Problems()
    return read_text(text, F, problems, config_id="node1", **kw), problems  # type: ignore[arg-type]


def words(st: Statement) -> list[tuple[str, int, int]]:
    return [(w.text, w.loc.line, w.loc.col) for w in (st.keyword, *st.args)]


def msgs(problems: Problems) -> list[str]:
    return [str(p) for p in problems]


def test_keyword_and_arguments_with_columns() -> None:
    sts, problems = lex("  priority   100\n\tstate MASTER\n")
    assert msgs(problems) == []
    assert [words(s) for s in sts] == [
        [("priority", 1, 3), ("100", 1, 14)],
        [("state", 2, 2), ("MASTER", 2, 8)],
    ]
    assert sts[0].raw == "100"
    assert sts[0].raw_loc == Location(F, 1, 14)
    assert sts[1].block is None and sts[1].end is None


def test_block_opened_on_keyword_line() -> None:
    sts, problems = lex("vrrp_instance VI_1 {\n    state MASTER\n}\n")
    assert msgs(problems) == []
    (vi,) = sts
    assert words(vi) == [("vrrp_instance", 1, 1), ("VI_1", 1, 15)]
    assert vi.raw == "VI_1"
    assert vi.block is not None
    assert [words(s) for s in vi.block] == [[("state", 2, 5), ("MASTER", 2, 11)]]
    assert vi.end == Location(F, 3, 1)


def test_brace_alone_on_next_line_opens_the_block() -> None:
    sts, problems = lex("global_defs\n  {\n  router_id A\n  }\n")
    assert msgs(problems) == []
    (g,) = sts
    assert g.block is not None and [words(s) for s in g.block] == [
        [("router_id", 3, 3), ("A", 3, 13)]
    ]
    assert g.end == Location(F, 4, 3)


def test_values_and_braces_on_one_line() -> None:
    sts, problems = lex("virtual_ipaddress { 10.0.0.1 10.0.0.2/24 }  x\n")
    assert msgs(problems) == []
    vip, x = sts
    assert vip.block is not None
    assert [words(s) for s in vip.block] == [[("10.0.0.1", 1, 21), ("10.0.0.2/24", 1, 30)]]
    assert vip.end == Location(F, 1, 42)
    # Text after the `}` is a line of its own.
    assert words(x) == [("x", 1, 45)]
    assert vip.raw == "" and vip.raw_loc is None


def test_nested_blocks_on_one_line() -> None:
    sts, problems = lex("a { b { c } d }\n")
    assert msgs(problems) == []
    (a,) = sts
    assert a.block is not None
    b, d = a.block
    assert b.block is not None and [s.name for s in b.block] == ["c"]
    assert b.end == Location(F, 1, 11)
    assert d.name == "d" and d.block is None
    assert a.end == Location(F, 1, 15)


def test_comments_hash_and_bang_anywhere() -> None:
    sts, problems = lex("# full\n! full too\nrouter_id A # tail\nlvs_id B!tail\n   # indented\n")
    assert msgs(problems) == []
    assert [words(s) for s in sts] == [
        [("router_id", 3, 1), ("A", 3, 11)],
        [("lvs_id", 4, 1), ("B", 4, 8)],
    ]


def test_escaped_comment_characters_are_literal_outside_quotes() -> None:
    sts, _ = lex("pass a\\#b\\!c # real comment\n")
    (st,) = sts
    assert words(st) == [("pass", 1, 1), ("a#b!c", 1, 6)]
    # The `#` keeps the column of the `#` itself (the backslash is gone).
    assert st.raw == "a#b!c"


def test_comment_characters_inside_double_quotes_are_kept() -> None:
    sts, _ = lex('script "/bin/x # not ! comment" # comment\n')
    (st,) = sts
    assert words(st) == [("script", 1, 1), ("/bin/x # not ! comment", 1, 8)]
    assert st.raw == '"/bin/x # not ! comment"'


def test_double_quoted_word_is_one_word_without_quotes() -> None:
    sts, _ = lex('notification_email { "My admin <a@b.c>" x@y.z }\n')
    (st,) = sts
    assert st.block is not None
    assert [words(s) for s in st.block] == [[("My admin <a@b.c>", 1, 22), ("x@y.z", 1, 41)]]


def test_quote_inside_a_word_ends_it_and_single_quotes_are_plain() -> None:
    sts, _ = lex("k ab\"c d\"e 'f g'\n")
    (st,) = sts
    assert words(st) == [
        ("k", 1, 1),
        ("ab", 1, 3),
        ("c d", 1, 5),
        ("e", 1, 10),
        ("'f", 1, 12),
        ("g'", 1, 15),
    ]


def test_braces_inside_quotes_do_not_open_blocks() -> None:
    sts, problems = lex('k "a { b }" c\n')
    assert msgs(problems) == []
    (st,) = sts
    assert st.block is None
    assert [w.text for w in st.args] == ["a { b }", "c"]


def test_unterminated_quote_is_an_error_at_the_quote() -> None:
    sts, problems = lex('k a "b c\n')
    assert msgs(problems) == [f"{F}:1:5: error: Unterminated quote"]
    # keepalived stops splitting at the unmatched quote.
    (st,) = sts
    assert [w.text for w in st.args] == ["a"]
    assert st.raw == 'a "b c'


def test_extra_closing_brace() -> None:
    sts, problems = lex("a\n}\nb\n")
    assert msgs(problems) == [f"{F}:2:1: error: Extra '}}' found"]
    assert [s.name for s in sts] == ["a", "b"]


def test_block_not_closed_is_reported_at_its_statement() -> None:
    sts, problems = lex("x\n  vrrp_instance V {\n  state BACKUP\n")
    assert msgs(problems) == [
        f"{F}:2:3: error: block of 'vrrp_instance' is not closed: missing '}}'"
    ]
    _, vi = sts
    assert vi.block is not None and [s.name for s in vi.block] == ["state"]
    assert vi.end is None


def test_unexpected_open_brace_keeps_contents_at_this_level() -> None:
    sts, problems = lex("a { }\n{\n b\n}\nc\n")
    assert msgs(problems) == [f"{F}:2:1: error: Unexpected '{{'"]
    assert [s.name for s in sts] == ["a", "b", "c"]
    assert sts[0].block == ()


def test_crlf_line_ends_and_trailing_blanks() -> None:
    sts, problems = lex("a 1  \r\nb\t2\r\n")
    assert msgs(problems) == []
    assert [words(s) for s in sts] == [[("a", 1, 1), ("1", 1, 3)], [("b", 2, 1), ("2", 2, 3)]]


def test_non_ascii_comments_and_columns_count_characters() -> None:
    sts, problems = lex("global_defs {   #全局定义部分\n  router_id 节点 # 注释\n}\n")
    assert msgs(problems) == []
    (g,) = sts
    assert g.block is not None
    assert words(g.block[0]) == [("router_id", 2, 3), ("节点", 2, 13)]


def test_embedded_nul_line_is_ignored_with_an_error() -> None:
    sts, problems = lex("a\nb\0c\nd\n")
    assert msgs(problems) == [
        f"{F}:2:2: error: configuration appears to have embedded NULs - ignoring line"
    ]
    assert [s.name for s in sts] == ["a", "d"]


def test_backslash_continuation_is_kept_outside_definitions() -> None:
    # Only multiline $DEFINITIONS continue lines; elsewhere decomment() keeps the `\` but
    # removes the blanks before it, so it sticks to the last word.
    sts, _ = lex("a b \\\nc\n")
    assert [[w.text for w in (s.keyword, *s.args)] for s in sts] == [["a", "b\\"], ["c"]]


def test_escaped_quote_is_not_a_quote_for_comments_but_is_for_words() -> None:
    # decomment() skips `\"`, so no "Unterminated quote"; alloc_strvec_r() does not know
    # escapes, so the `"` after the backslash has no partner.
    sts, problems = lex('k \\"a b\n')
    assert msgs(problems) == [f"{F}:1:4: error: Unmatched quote"]
    (st,) = sts
    assert [w.text for w in st.args] == ["\\"]
