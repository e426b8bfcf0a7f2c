"""HAProxy's "did you mean" (config/haproxy/best_match.py), with haproxy 2.6.12 -c's answers."""

from __future__ import annotations

from pylvs.config.haproxy.best_match import option_hint, section_hint
from pylvs.config.keywords.fingerprint import closest


def test_section_keywords_are_guessed_among_haproxys_own() -> None:
    assert section_hint("bnd", "frontend") == "; did you mean 'bind' maybe ?"
    assert section_hint("fronted", "defaults") == "; did you mean 'frontend' maybe ?"
    assert section_hint("maxcon", "global") == "; did you mean 'maxconn' maybe ?"
    assert section_hint("daemn", "global") == "; did you mean 'daemon' maybe ?"
    # nothing near enough, and no guess outside global and the proxies
    assert section_hint("zzzzzzzz", "backend") == ""
    assert section_hint("bnd", "userlist") == ""


def test_options_are_guessed_among_the_option_lists() -> None:
    assert option_hint("httplogs") == "; did you mean 'httplog' maybe ?"
    assert option_hint("forwardfor-header") == "; did you mean 'forwardfor' maybe ?"


def test_one_fingerprint_per_word() -> None:
    """haproxy 2.6.12 suggests 'set-dst' for `http-request set-status` (12 away, within twice
    its 7 letters); fingerprinting each word twice would put it 21 away and guess nothing."""
    assert closest("set-status", ["set-uri", "set-dst", "deny"]) == "set-dst"
    assert closest("", ["deny"]) is None
