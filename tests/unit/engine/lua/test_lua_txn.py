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
