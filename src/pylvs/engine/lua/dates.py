"""Lua's date parsers (core.http_date, imf_date, rfc850_date, asctime_date: HAProxy 2.6
src/hlua_fcn.c over src/http.c parse_http_date): the exact forms RFC 7231 section 7.1.1.1
names, in GMT, to seconds since the epoch."""

from __future__ import annotations

import calendar
import re

_NAMES = b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_MONTHS = {m: i for i, m in enumerate(_NAMES, 1)}
_DAY = rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_LONG_DAY = rb"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_TIME = rb"(\d{2}):(\d{2}):(\d{2})"
# src/http.c parse_imf_date, parse_rfc850_date, parse_asctime_date: exact forms, GMT only
_FORMS = {
    "imf": re.compile(_DAY + rb", (\d{2}) ([A-Z][a-z]{2}) (\d{4}) " + _TIME + rb" GMT"),
    "rfc850": re.compile(_LONG_DAY + rb", (\d{2})-([A-Z][a-z]{2})-(\d{2}) " + _TIME + rb" GMT"),
    "asctime": re.compile(_DAY + rb" ([A-Z][a-z]{2}) ([ \d]\d) " + _TIME + rb" (\d{4})"),
}


def parse_date(kind: bytes, text: object) -> int | None:
    """core.http_date & co (hlua_http_date...): a date string in the form each names (the
    three for http_date) to seconds since the epoch; nil when it is not one."""
    if not isinstance(text, bytes):
        return None
    forms = ("imf", "rfc850", "asctime") if kind == b"http" else (kind.decode(),)
    for form in forms:
        m = _FORMS[form].fullmatch(text)
        if m is None:
            continue
        g = m.groups()
        if form == "asctime":
            mon, day, hh, mm, ss, year = g[1], int(g[2]), g[3], g[4], g[5], int(g[6])
        else:
            day, mon, year = int(g[1]), g[2], int(g[3])
            hh, mm, ss = g[4], g[5], g[6]
            if form == "rfc850":  # two-digit years: RFC 7231 7.1.1.1, 50 years ahead
                year += 1900 if year >= 70 else 2000
        month = _MONTHS.get(mon)
        if month is None:
            return None
        try:
            return calendar.timegm((year, month, day, int(hh), int(mm), int(ss), 0, 0, 0))
        except (ValueError, OverflowError):
            return None
    return None
