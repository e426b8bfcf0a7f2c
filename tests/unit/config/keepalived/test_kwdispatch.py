"""kwdispatch.py: the C keyword dispatch (_plain.c) does what pylvs.config.keywords.table's
does, call for call, in the same order, with the same exceptions.

A table whose handlers and syntax callbacks record what they are called with runs the same
statements through both; every case of the dispatch is there (a direct call, a deprecated
spelling, too few arguments, each block rule, an unsupported keyword, a sub-table, an unknown
keyword), and a handler that raises stops both at the same statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pylvs.config.errors import Kind, Location, Problems
from pylvs.config.keepalived import kwdispatch
from pylvs.config.keepalived.plain import _plain
from pylvs.config.keywords import Block, Context, HostFacts, Keyword, Syntax, Table
from pylvs.config.tree import Statement, Word

Log = list[tuple[object, ...]]
Dispatch = Callable[..., None]


def both() -> list[Any]:
    if _plain is None:
        pytest.skip("the C reader is not built (no compiler when installed)")
    return [kwdispatch.dispatch_py, _plain.dispatch]


def recording_table(log: Log) -> Table[Log]:
    def handler(name: str) -> Callable[[Statement, Context, Log], None]:
        def handle(st: Statement, _ctx: Context, draft: Log) -> None:
            assert draft is log
            log.append((name, st.name, tuple(w.text for w in st.args)))
            if st.args and st.args[0].text == "boom":
                raise RuntimeError(f"boom at {st.loc.line}")

        return handle

    def syntax(what: str) -> Callable[..., None]:
        return lambda st, _ctx, *rest: log.append((what, st.name, *rest))

    sub = Table(
        "sub",
        {"one": Keyword(handler("sub-one"), 1)},
        Syntax(*(syntax(w) for w in ("unknown", "missing", "needs", "noblock", "dep", "uns"))),
    )
    return Table(
        "section",
        {
            "plain": Keyword(handler("plain")),
            "two": Keyword(handler("two"), 2),
            "old": Keyword(handler("old"), 1, use_instead="new", deprecation=Kind.CONFIG),
            "needs": Keyword(handler("needs"), block=Block.REQUIRED),
            "maybe": Keyword(handler("maybe"), block=Block.OPTIONAL),
            "snmp": Keyword(handler("snmp"), unsupported="SNMP"),
            "opt": Keyword(handler("opt"), sub=sub),
        },
        Syntax(*(syntax(w) for w in ("unknown", "missing", "needs", "noblock", "dep", "uns"))),
    )


def st(line: int, *words: str, block: tuple[Statement, ...] | None = None) -> Statement:
    ws = tuple(Word(w, Location("k.conf", line, 1 + 5 * i)) for i, w in enumerate(words))
    return Statement(ws[0], ws[1:], " ".join(words[1:]), None, block)


INNER = (st(9, "plain"),)
STATEMENTS = [
    st(1, "plain"),
    st(2, "plain", "extra", "words"),
    st(3, "plain", block=INNER),  # a block it does not take: reported, then read
    st(4, "two", "a"),  # too few arguments
    st(5, "two", "a", "b"),
    st(6, "old", "x"),  # deprecated: the warning, then the handler
    st(7, "old"),  # deprecated and too few arguments
    st(8, "needs"),  # no block
    st(10, "needs", block=INNER),
    st(11, "maybe"),
    st(12, "maybe", block=INNER),
    st(13, "snmp"),
    st(14, "opt", "one", "v"),
    st(15, "opt"),
    st(16, "nosuch", "x"),
]


def run(dispatch: Dispatch, statements: Any) -> tuple[Log, str | None]:
    log: Log = []
    ctx = Context(problems=Problems(), host=HostFacts())
    try:
        dispatch(statements, ctx, recording_table(log), log)
    except RuntimeError as exc:
        return log, str(exc)
    return log, None


def test_the_same_calls_in_the_same_order() -> None:
    py, c = both()
    expected, raised = run(py, STATEMENTS)
    assert raised is None
    assert ("dep", "old", "new", Kind.CONFIG) in expected  # the cases are all there
    assert ("missing", "two", 2) in expected and ("needs", "needs") in expected
    assert ("uns", "snmp", "SNMP") in expected and ("sub-one", "opt one", ("v",)) in expected
    assert run(c, STATEMENTS) == (expected, None)
    assert run(c, iter(STATEMENTS)) == (expected, None)  # any iterable: the top level's


def test_a_handler_that_raises_stops_both_at_the_same_statement() -> None:
    py, c = both()
    statements = [*STATEMENTS[:5], st(20, "plain", "boom"), *STATEMENTS[5:]]
    expected = run(py, statements)
    assert expected[1] == "boom at 20"
    assert run(c, statements) == expected


def test_an_iterator_that_raises_stops_both() -> None:
    py, c = both()

    def failing() -> Iterator[Statement]:
        yield STATEMENTS[0]
        raise RuntimeError("lexer")

    for dispatch in (py, c):
        log, raised = run(dispatch, failing())
        assert (log, raised) == ([("plain", "plain", ())], "lexer")


def test_the_reader_uses_the_c_dispatch_when_built() -> None:
    assert kwdispatch.dispatch is (kwdispatch.dispatch_py if _plain is None else _plain.dispatch)
    assert _plain is None or kwdispatch.dispatch is not kwdispatch.dispatch_py
