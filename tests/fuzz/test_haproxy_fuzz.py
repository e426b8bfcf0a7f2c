"""Fuzz the haproxy.cfg reader (issue 20 #1, #6): every keyword of every section, every server
and bind option, every fetch and converter, with hostile values; the reader must answer with
located problems, never an exception ("internal error")."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.config.haproxy.fetches import CONVERTERS, FETCHES
from pylvs.config.haproxy.global_ import GLOBAL_TABLE
from pylvs.config.haproxy.proxy import TABLES
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.server import KNOWN as SERVER_OPTIONS
from pylvs.config.haproxy.unsupported import BIND

D = "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
WHERE: list[tuple[Iterable[str], str]] = [
    (GLOBAL_TABLE.keywords, "global\n @\n"),
    *((TABLES[k].keywords, f"{D}{k} {'' if k == 'defaults' else 'p'}\n @\n") for k in TABLES),
    (dict.fromkeys(SERVER_OPTIONS), f"{D}backend b\n server s 127.0.0.1:80 @\n"),
    (
        dict.fromkeys([*BIND, "name", "maxconn", "id", "mode", "level"]),
        f"{D}frontend f\n bind :80 @\n",
    ),
    (dict.fromkeys(["peer", "server", "table", "bind", "disabled"]), "peers p\n @\n"),
    (dict.fromkeys(["errorfile"]), "http-errors e\n @\n"),
]
KEYWORDS = [(wrap, name) for keywords, wrap in WHERE for name in keywords]
SAMPLES = sorted(FETCHES) + [f"src,{c}" for c in sorted(CONVERTERS)]

WORDS = [
    "1e308", "9" * 400, "-1", "0", "+", "0x10", "²", "١٢", "300.1.1.1", "::1%eth0", ":", ":-1",
    "[::1]", "a:b:c", "1-", "-", "{", "}", "if", "unless", "!", "||", "(", ")", "x(", "x)",
    "'", '"', "\\", "${X}", "%[src]", "unix@", "abns@x", "fd@${X}", "ipv4@", "10.0.0.1:65536",
    "10.0.0.1:0-70000", "1d", "25d", "1us", "status", "200", "999", "content-type", "string",
    "len", "type", "size", "store",
]  # fmt: skip
NASTY = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(SAMPLES),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet="0123456789.-+:/%@[](),abcdefx", min_size=1, max_size=14),
)


def _quote(word: str) -> str:
    return "'" + word.replace("'", "") + "'" if any(c in word for c in " #\"\\'") else word


@given(st.sampled_from(KEYWORDS), st.lists(NASTY, max_size=5))
@settings(max_examples=2000, deadline=None)
def test_no_value_makes_the_reader_fail(where: tuple[str, str], args: list[str]) -> None:
    wrap, name = where
    line = " ".join([name, *map(_quote, args)])
    r = load_text(wrap.replace("@", line), "f.cfg", env={"X": "7"})
    internal = [str(p) for p in r.problems if "internal error" in p.message]
    assert not internal, internal


@given(st.lists(st.sampled_from(["acl a", "http-request deny if", "use_backend b if"]), max_size=1),
       st.lists(NASTY, min_size=1, max_size=6))  # fmt: skip
@settings(max_examples=1000, deadline=None)
def test_no_condition_makes_the_reader_fail(head: list[str], words: list[str]) -> None:
    line = " ".join([*(head or ["acl a"]), *map(_quote, words)])
    r = load_text(f"{D}frontend f\n bind :80\n {line}\n", "f.cfg")
    internal = [str(p) for p in r.problems if "internal error" in p.message]
    assert not internal, internal
