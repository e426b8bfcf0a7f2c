"""crt-list files (proto/crtlist.py, src/ssl_crtlist.c): entries, options, filters, and
HAProxy's messages for a bad line."""

from __future__ import annotations

from pylvs.model.tls import CrtListEntry
from pylvs.proto.crtlist import parse_crt_list


def test_entries_with_options_and_filters() -> None:
    text = (
        "# comment\n\n/a.pem\n/b.pem [alpn h2,http/1.1 verify required ca-file /ca.pem]"
        " www.example !bad.example\n/c.pem *.wild.example\n"
    )
    assert parse_crt_list(text, "l.txt") == (
        CrtListEntry("/a.pem"),
        CrtListEntry(
            "/b.pem", ("www.example", "!bad.example"), ("h2", "http/1.1"), "required", "/ca.pem"
        ),
        CrtListEntry("/c.pem", ("*.wild.example",)),
    )


def test_bad_lines_are_named() -> None:
    assert parse_crt_list("/a.pem [alpn h2\n", "l.txt") == "parsing [l.txt:1]: missing ']'"
    assert parse_crt_list("/a.pem\n/b.pem [npn x]\n", "l.txt") == (
        "parsing [l.txt:2]: unknown ssl keyword npn"
    )
    assert parse_crt_list("[alpn h2] x\n", "l.txt") == (
        "parsing [l.txt:1]: file must start with a cert"
    )
