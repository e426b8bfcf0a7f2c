"""The keyword framework: one table type, one dispatch, value readers that report and never
raise."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from pylvs.config.errors import Kind, Location, Severity
from pylvs.config.keywords import Block, Context, Keyword, Store, Syntax, Table, dispatch
from pylvs.config.keywords.values import (
    address,
    arg,
    boolean,
    integer,
    micros,
    seconds,
    text,
    unsigned,
)
from pylvs.config.tree import Statement, Word


def w(text: str, col: int = 1) -> Word:
    return Word(text, Location("f", 1, col))


def st(*words: str, block: tuple[Statement, ...] | None = None) -> Statement:
    first, *rest = words
    return Statement(w(first), tuple(w(x, 10 + i) for i, x in enumerate(rest)), block=block)


@dataclass
class Draft:
    name: str | None = None
    count: int = 0
    opts: tuple[str, ...] = ()


def _log(kind: str) -> object:
    def report(s: Statement, c: Context, *extra: object) -> None:
        c.warning(s.loc, f"{kind}:{s.name}:{':'.join(map(str, extra))}")

    return report


SYNTAX = Syntax(
    unknown=_log("unknown"),  # type: ignore[arg-type]
    missing_args=_log("missing"),  # type: ignore[arg-type]
    needs_block=_log("needs"),  # type: ignore[arg-type]
    no_block=_log("noblock"),  # type: ignore[arg-type]
    deprecated=_log("deprecated"),  # type: ignore[arg-type]
    unsupported=_log("unsupported"),  # type: ignore[arg-type]
)


def _opt(s: Statement, _c: Context, d: Draft) -> None:
    d.opts = (*d.opts, s.name, *(a.text for a in s.args))


OPTIONS: Table[Draft] = Table("option", {"redispatch": Keyword(_opt)}, SYNTAX)
TABLE: Table[Draft] = Table(
    "section",
    {
        "name": Keyword(Store("name", text), 1),
        "count": Keyword(Store("count", arg(lambda x, c: integer(x, c, 0, 9, "count"))), 1),
        "old": Keyword(Store("count", lambda _s, _c: 7), use_instead="count"),
        "snmp": Keyword(lambda _s, _c, _d: None, unsupported="no SNMP"),
        "group": Keyword(_opt, block=Block.REQUIRED),
        "option": Keyword(lambda _s, _c, _d: None, sub=OPTIONS),
    },
    SYNTAX,
    draft=Draft,
)


def run(*stmts: Statement) -> tuple[Draft, list[str]]:
    ctx = Context()
    d = Draft()
    dispatch(stmts, ctx, TABLE, d)
    return d, [p.message for p in ctx.problems]


def test_handlers_store_into_the_draft() -> None:
    d, msgs = run(st("name", "web"), st("count", "3"))
    assert (d.name, d.count, msgs) == ("web", 3, [])


def test_what_the_dispatch_itself_reports() -> None:
    d, msgs = run(
        st("nosuch"),
        st("name"),
        st("group"),
        st("count", "5", block=()),
        st("old"),
        st("snmp"),
    )
    assert msgs == [
        "unknown:nosuch:section",
        "missing:name:1",
        "needs:group:",
        "noblock:count:",
        "deprecated:old:count:Kind.DEPRECATED",
        "unsupported:snmp:no SNMP",
    ]
    assert d.count == 7  # the block was reported and the keyword still read; `old` ran after


def test_a_bad_value_keeps_the_draft_as_it_was() -> None:
    d, msgs = run(st("count", "2"), st("count", "x"))
    assert d.count == 2 and msgs == ["count: invalid number 'x'"]


def test_two_word_keywords_go_through_a_sub_table() -> None:
    d, msgs = run(st("option", "redispatch", "1"), st("option", "nosuch"), st("option"))
    assert d.opts == ("option redispatch", "1")
    assert msgs == ["unknown:option nosuch:option", "missing:option:1"]


def test_a_store_into_a_missing_field_fails_at_import() -> None:
    with pytest.raises(TypeError, match="no field 'nmae'"):
        Table("t", {"x": Keyword(Store("nmae", text), 1)}, SYNTAX, draft=Draft)


@pytest.mark.parametrize(
    ("word", "value"),
    [("5", 5), ("+5", 5), ("-5", -5), (" 7", 7), ("007", 7), ("5x", None), ("", None)],
)
def test_integer(word: str, value: int | None) -> None:
    assert integer(w(word), Context(), -10, 10, "n") == value


@pytest.mark.parametrize("digits", [4300, 5000, 100_000])
def test_no_number_of_digits_can_raise(digits: int) -> None:
    ctx = Context()
    big = "9" * digits
    assert integer(w(big), ctx, 0, 10, "n") is None
    assert unsigned(w(big), ctx, 0, 10, "n") is None
    assert micros(w(big), ctx, "t") is None
    assert micros(w("1." + big), ctx, "t") == 2_000_000  # rounded up, reported
    assert len(ctx.problems) == 4


@pytest.mark.parametrize(
    ("word", "us"),
    [
        ("1", 1_000_000),
        ("0.5", 500_000),
        (".5", 500_000),
        ("5.", 5_000_000),
        ("+2", 2_000_000),
        ("1.0000004", 1_000_000),
        ("1.0000005", 1_000_001),
        ("1e308", None),
        ("1e3", None),
        ("-1", None),
        ("1.2.3", None),
        ("inf", None),
        ("nan", None),
        (".", None),
        ("١", None),  # an Arabic-Indic digit: Python's int() would take it, C's strtoul not
    ],
)
def test_micros_is_keepalived_decimal_reader(word: str, us: int | None) -> None:
    assert micros(w(word), Context(), "t") == us


def test_seconds_range_and_report_locations() -> None:
    ctx = Context()
    assert seconds(w("300", col=7), ctx, "interval", 1, 255) is None
    (p,) = ctx.problems
    assert p.loc.col == 7 and p.severity is Severity.ERROR and p.kind is Kind.CONFIG
    assert "outside range [1.000000, 255.000000]" in p.message


def test_unsigned_refuses_a_sign() -> None:
    ctx = Context()
    assert unsigned(w("-1"), ctx, 0, 10, "port") is None
    assert unsigned(w("+1"), ctx, 0, 10, "port") == 1
    assert [p.message for p in ctx.problems] == ["port: negative number '-1'"]


def test_boolean_is_case_sensitive_as_check_true_false() -> None:
    ctx = Context()
    assert boolean(st("x"), ctx) is True
    assert boolean(st("x", "off"), ctx) is False
    assert boolean(st("x", "ON"), ctx) is None
    assert len(ctx.problems) == 1


@given(
    hst.lists(
        hst.one_of(hst.integers(0, 999).map(str), hst.sampled_from(["0", "00", "01", "", "x"])),
        min_size=3,
        max_size=5,
    ).map(".".join)
)
@settings(max_examples=400, deadline=None)
def test_address_reads_a_dotted_quad_as_ipaddress_does(text: str) -> None:
    """address()'s own dotted-quad reader accepts exactly what ipaddress accepts."""
    ctx = Context()
    got = address(w(text), ctx)
    try:
        want: object = ipaddress.ip_address(text)
    except ValueError:
        want = None
    assert got == want
    assert (got is None) == bool(list(ctx.problems))
