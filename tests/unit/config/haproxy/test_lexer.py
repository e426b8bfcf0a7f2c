"""Lines split into words as HAProxy 2.6's parse_line does: quotes, escapes, environment
expansion (the environment is an argument), `setenv` and its siblings applied in order, and
`.if` blocks; what `haproxy -c` alerts on is an error at its column."""

from __future__ import annotations

import pytest

from pylvs.config.errors import Problems
from pylvs.config.haproxy.lexer import LineSplitter, Place
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.sections import read_sections


def words(line: str, env: dict[str, str] | None = None) -> list[str] | None:
    problems = Problems()
    got = LineSplitter(dict(env or {}), problems).split(line, Place("t.cfg", 1))
    return None if got is None else [w.text for w in got]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("bind :80   name  x", ["bind", ":80", "name", "x"]),
        (
            "acl a hdr(x) -m str 'a b' \"c d\" e\\ f",
            ["acl", "a", "hdr(x)", "-m", "str", "a b", "c d", "e f"],
        ),
        ("x '#not' # comment", ["x", "#not"]),
        ('x "it\'s" \'say "hi"\'', ["x", "it's", 'say "hi"']),
        ("x \\x41\\x42", ["x", "AB"]),
        ("x a\\tb", ["x", "a\tb"]),
        ("x \\z", ["x", "\\z"]),  # a backslash before anything else is kept
        ("x 'a'\"b\"c", ["x", "abc"]),  # one word made of three quoted parts
        ("   ", []),
    ],
)
def test_quoting_and_escapes(line: str, expected: list[str]) -> None:
    assert words(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('x "${A}"', ["x", "one two"]),
        ("x ${A}", ["x", "${A}"]),  # only inside double quotes
        ("x '${A}'", ["x", "${A}"]),
        ('x "${NOPE-dflt}:${B}"', ["x", "dflt:80"]),
        ('x "$B"', ["x", "80"]),
        ('x "${A[*]}"', ["x", "one", "two"]),  # one word per part
        ('x "\\${A}"', ["x", "${A}"]),
    ],
)
def test_environment_expansion(line: str, expected: list[str]) -> None:
    assert words(line, {"A": "one two", "B": "80"}) == expected


def test_an_unmatched_quote_is_an_error_at_its_column() -> None:
    r = load_text('global\n  maxconn "10\n', "t.cfg")
    assert [(p.loc.line, p.loc.col, p.message) for p in r.problems] == [
        (2, 11, 'unmatched quote at position 11:\n  maxconn "10\n          ^')
    ]


def test_a_long_line_is_shown_around_the_fault_as_haproxy_shows_it() -> None:
    """cfgparse.c: the line cut to 80 characters centred on the fault, "..." on both sides,
    what does not print as '?' (tools.c sanitize_for_printing)."""
    line = "description " + "a" * 100 + "\x01" + "b" * 20 + ' "x'
    r = load_text(f"global\n{line}\n", "t.cfg")
    (p,) = r.problems
    at = line.index('"')
    shown = "..." + line[at - 40 + 3 :][:74].replace("\x01", "?") + "..."
    assert p.message == f"unmatched quote at position {at + 1}:\n  {shown}\n  {' ' * 40}^"


def test_more_than_64_words_is_an_error() -> None:
    r = load_text("global\n  description " + " ".join(["w"] * 70) + "\n", "t.cfg")
    assert any("too many words" in p.message for p in r.problems), r.problems


def test_setenv_and_presetenv_apply_to_the_lines_after_them() -> None:
    text = (
        "global\n"
        "  setenv PORT 81\n"
        "  presetenv PORT 99\n"  # already set: kept
        "  presetenv HOST 127.0.0.2\n"
        "  unsetenv GONE\n"
        "defaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"
        'listen l\n  bind "${HOST}:${PORT}"\n  server s "${GONE-127.0.0.3}:80"\n'
    )
    r = load_text(text, "t.cfg", env={"GONE": "10.9.9.9"})
    assert r.ok, r.problems
    p = r.config.proxies[0]
    assert [(e.host, e.port) for e in p.binds[0].endpoints] == [("127.0.0.2", 81)]
    assert p.servers[0].target.host == "127.0.0.3"
    assert dict(r.config.environment) == {"PORT": "81", "HOST": "127.0.0.2"}


def test_the_environment_given_is_not_changed() -> None:
    env = {"A": "1"}
    load_text("global\n  setenv A 2\n  setenv B 3\n", "t.cfg", env=env)
    assert env == {"A": "1"}


def test_if_blocks_choose_lines() -> None:
    text = (
        ".if version_atleast(2.5)\n"
        "global\n  maxconn 100\n"
        ".elif defined(X)\n"
        "global\n  maxconn 200\n"
        ".else\n"
        "global\n  maxconn 300\n"
        ".endif\n"
        ".if defined(X) && !streq(a,b)\n"
        "global\n  nbproc 2\n"  # skipped: no error
        ".endif\n"
    )
    r = load_text(text, "t.cfg")
    assert r.ok, r.problems
    assert r.config.global_.maxconn == 100


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (".if 1\nglobal\n", 2, "non-terminated '.if' block."),
        (".endif\n", 1, "lone '.endif' with no matching '.if'."),
        (".if 1\n.else\n.else\n.endif\n", 3, "'.else' after '.else' is not permitted."),
    ],
)
def test_if_block_errors(text: str, line: int, message: str) -> None:
    r = load_text(text, "t.cfg")
    assert [(p.loc.line, p.message) for p in r.problems if p.severity.value == "error"] == [
        (line, message)
    ]


def test_warning_and_alert_directives() -> None:
    r = load_text('.warning "careful"\n.alert "stop"\n', "t.cfg")
    assert [(p.severity.value, p.loc.line, p.message) for p in r.problems] == [
        ("warning", 1, "'careful'."),
        ("error", 2, "'stop'."),
    ]


def test_sections_start_at_their_keyword() -> None:
    problems = Problems()
    sections = read_sections("global\n daemon\nfrontend f\n bind :80\n", "t.cfg", {}, problems)
    assert [(s.name, [w.text for w in s.args], len(s.block or ())) for s in sections] == [
        ("global", [], 1),
        ("frontend", ["f"], 1),
    ]


def test_a_keyword_outside_any_section_is_an_error() -> None:
    r = load_text("daemon\n", "t.cfg")
    assert [(p.loc.line, p.message) for p in r.problems] == [
        (1, "unknown keyword 'daemon' out of section.")
    ]
