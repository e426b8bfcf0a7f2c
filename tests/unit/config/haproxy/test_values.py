"""Ports as str2sa_range reads them and numbers read with atol (config/haproxy/values.py)."""

from __future__ import annotations

from pylvs.config.errors import Location
from pylvs.config.haproxy.values import lenient, sa_port, time_problem
from pylvs.config.keywords import Context
from pylvs.config.tree import Word


def test_ports_as_str2sa_range_reads_them() -> None:
    assert sa_port("80", "a:80", mand=True) == (80, 80)
    assert sa_port("80x", "a:80x", mand=True) == (80, 80)  # atoi
    assert sa_port("80-90", "a:80-90", mand=True, ranges=True) == (80, 90)
    assert sa_port("80-90", "a:80-90", mand=False) == "port range not permitted here in 'a:80-90'"
    assert sa_port("", "a", mand=True) == "missing port specification in 'a'"
    assert sa_port(None, "a", mand=False) == (0, 0)
    assert sa_port("99999", "a:99999", mand=False) == "invalid port '99999'"
    assert sa_port("0", "a:0", mand=True) == "invalid port '0'"
    assert sa_port("+5", "a:+5", mand=False, offsets=True) == 5
    # the newline is HAProxy's own: an empty line follows the alert
    assert sa_port("abc", "a:abc", mand=False) == (
        "invalid character 'a' in port number 'abc' in 'a:abc'\n"
    )


def test_atol_numbers_are_taken_with_a_remark() -> None:
    ctx = Context()
    here = Location("t.cfg", 1, 1)
    assert lenient(Word("10abc", here), ctx, "maxconn") == 10
    assert lenient(Word("lots", here), ctx, "maxconn") == 0
    assert lenient(Word("-5", here), ctx, "maxconn") == -5
    assert lenient(Word("4294967297", here), ctx, "maxconn") == 1  # an int's 32 bits
    notes = [p.message for p in ctx.problems]
    assert notes[0] == "'maxconn' reads '10abc' as 10, as HAProxy's atol does."
    assert len(notes) == 2  # "-5" and the big one are numbers: nothing to say


def test_time_problems_in_parse_time_errs_terms() -> None:
    assert time_problem("10s") is None
    assert time_problem("abc") == "unexpected character 'a'"
    assert time_problem("10x") == "unexpected character 'x'"
    assert time_problem("30d") == "overflow"
