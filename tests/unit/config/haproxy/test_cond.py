"""HAProxy's conditions (`.if`, `haproxy -cc`: src/cfgcond.c) as config/haproxy/cond.py reads
them; the answers of the real haproxy 2.6.12 to the same expressions are recorded with the CLI
goldens (tests/data/haproxy/cli) and compared in tests/integration/test_haproxy_cli.py."""

from __future__ import annotations

import pytest

from pylvs.config.haproxy.cond import ConditionError, compare_version, evaluate, split_version


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", False),  # empty is false
        ("1", True),
        ("0", False),
        ("-1000 && 200", True),  # strtol: a sign, any non-zero
        ("0x10", True),  # base 0: hexadecimal
        ("010 && !00", True),  # octal
        ("!!1", True),
        ("! 0", True),  # blanks after '!'
        ("1 || 0 && 0", True),  # && binds tighter than ||
        ("(1 || 0) && 0", False),
        ("streq(a,a) && strneq(a,b)", True),
        ("streq( a ,a)", False),  # arguments are not trimmed
        ("streq(foo bar,foo bar)", True),
        ("streq('a,b',\"a,b\")", True),  # make_arg_list's quotes
        ("defined(HOME)", True),
        ("defined(NOPE)", False),
        ("defined", False),  # an empty mandatory argument: getenv("")
        ("feature(EPOLL) && !feature(QUIC)", True),
        ("feature(OPENSSL)", True),  # TLS with Python's ssl module (dataplane/haproxy/tls.py)
        ("version_atleast(2.4) && version_before(2.6.13)", True),
        ("version_atleast(2.6-dev0)", True),
        ("version_atleast(2.6.12)", True),
        ("version_before(2.6.12)", False),
        ("version_atleast(1024)", False),
    ],
)
def test_values(text: str, value: bool) -> None:
    assert evaluate(text, {"HOME": "/root"}) is value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("200rrr", "unexpected character 'r' at the end of conditional expression '200rrr'"),
        ("!(0))", "unexpected character ')' at the end of conditional expression '!(0))'"),
        ("09", "unexpected character '9' at the end"),
        ("(1", "expected ')' after conditional expression '(1'"),
        ("foo(1)", "unparsable conditional expression 'foo(1)'"),
        ("1 &&", "unparsable conditional sub-expression"),
        (
            "streq(a)",
            "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate"
            " 'streq' used in conditional expression",
        ),
    ],
)
def test_errors_are_haproxys(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as e:
        evaluate(text, {})
    assert message in str(e.value)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [  # haproxy.c split_version's own examples
        ("1.2.1-pre2", (1, 2, 1, 0, 2, 2, 0)),
        ("1.2.1", (1, 2, 1, 0, 3, 0, 0)),
        ("1.2.10.1", (1, 2, 10, 1, 3, 0, 0)),
        ("1.3.16-rc1", (1, 3, 16, 0, 2, 1, 0)),
        ("1.4-dev3", (1, 4, 0, 0, 1, 3, 0)),
        ("1.5-dev18", (1, 5, 0, 0, 1, 18, 0)),
        ("1.5-dev18-43", (1, 5, 0, 0, 1, 18, 43)),
        ("2.4-dev18-f6818d-20", (2, 4, 0, 0, 1, 18, 20)),
        ("2.6.12-1+deb12u4", (2, 6, 12, 0, 3, 0, 0)),
    ],
)
def test_split_version(text: str, numbers: tuple[int, ...]) -> None:
    assert split_version(text) == numbers


def test_an_unparsable_version_is_at_least_anything() -> None:
    # compare_current_version answers -3, which version_atleast takes as "<= 0"
    assert split_version("2.4abc") is None
    assert compare_version("2.4abc") == -3
    assert evaluate("version_atleast(2.4abc) && !version_before(2.4abc)", {})
