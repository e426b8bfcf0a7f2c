"""engine/lua/txn.py: txn.http's replace functions as http_replace_hdrs does them — a value
the regex matches becomes the format with its back-references filled in (the whole value,
not the matched part), `rep_value` works on each comma-separated value."""

from __future__ import annotations

import re

from pylvs.engine.lua.txn import _edit, _replace
from pylvs.proto.sample.message import HttpMessage


def test_a_match_replaces_the_whole_value_with_back_references() -> None:
    assert _replace(b"aa bb-cc dd", re.compile(rb"(b+)-(c+)"), rb"\2+\1") == b"cc+bb"


def test_no_match_leaves_the_value() -> None:
    assert _replace(b"x", re.compile(rb"^z"), b"Y") == b"x"


def test_rep_value_and_rep_header_on_a_list() -> None:
    msg = HttpMessage(request=True, fields=[(b"x-v", b"za, zb"), (b"x-w", b"za, zb")])
    _edit(msg, "rep_value", [b"x-v", rb"^z", b"Y"])
    _edit(msg, "rep_header", [b"x-w", rb"^z", b"Y"])
    assert msg.fields == [(b"x-v", b"Y,Y"), (b"x-w", b"Y")]


def test_date_parsers_take_only_their_forms() -> None:
    from pylvs.engine.lua.dates import parse_date

    t = 784111777
    assert parse_date(b"imf", b"Sun, 06 Nov 1994 08:49:37 GMT") == t
    assert parse_date(b"rfc850", b"Sunday, 06-Nov-94 08:49:37 GMT") == t
    assert parse_date(b"asctime", b"Sun Nov  6 08:49:37 1994") == t
    assert parse_date(b"http", b"Sunday, 06-Nov-94 08:49:37 GMT") == t
    for kind, text in [
        (b"imf", b"Sunday, 06-Nov-94 08:49:37 GMT"),
        (b"http", b"Sun, 06 Nov 1994 08:49:37"),
        (b"http", b"Sun, 6 Nov 1994 08:49:37 GMT"),
        (b"imf", b"Sun, 06 Nov 1994 08:49:37 +0000"),
    ]:
        assert parse_date(kind, text) is None
