"""`capture cookie NAME len N`: which cookie HAProxy keeps for %CC (request) and %CS
(response).  The expected values are haproxy 2.6.12's, read from its log lines
(`log-format "CC=[%CC] CS=[%CS]"`) for the same headers."""

from __future__ import annotations

import pytest

from pylvs.proto.http.cookie_response import captured

CASES = [
    # name, len, request Cookie headers, response Set-Cookie headers, (%CC, %CS)
    ("SID", 20, ["a=1; SID=abc; SID=def"], ["SID=srv1; path=/"], ("SID=abc", "SID=srv1")),
    ("SID", 5, ["SID = 0123456789"], ["x=1", "SIDX=zz; SID=no"], ("SID=0", "SIDX=")),
    ("SID=", 30, ["SIDX=1, SID=2"], ["Other=1; SID=2"], ("SID=2", None)),
    ("S", 30, ["$Version=1; S=9", "T=1"], ["S2 = v ; Max-Age=3"], ("S=9", "S2=v")),
    ("ID", 10, ["noequal; ID=q"], [], ("ID=q", None)),
]


@pytest.mark.parametrize(("name", "length", "sent", "answered", "want"), CASES)
def test_the_cookie_haproxy_captures(
    name: str,
    length: int,
    sent: list[str],
    answered: list[str],
    want: tuple[str | None, str | None],
) -> None:
    req = tuple((b"cookie", v.encode()) for v in sent)
    res = tuple((b"set-cookie", v.encode()) for v in answered)
    got = (
        captured(req, name.encode(), length, response=False),
        captured(res, name.encode(), length, response=True),
    )
    assert got == tuple(None if e is None else e.encode() for e in want)
