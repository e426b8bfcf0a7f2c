"""Sample expressions, ACLs and conditions read as HAProxy 2.6 reads them (sample.c
sample_parse_expr, arg.c make_arg_list, acl.c parse_acl_expr / build_acl_cond): fetch and
converter names and argument counts from HAProxy's own registrations (fetches.py), quotes in
arguments, type compatibility, match methods, patterns."""

from __future__ import annotations

import pytest

from pylvs.config.errors import Location
from pylvs.config.haproxy.fetches import CONVERTERS, FETCHES
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.samples import SampleError, parse_acl, parse_sample
from pylvs.config.tree import Word

L = Location("t.cfg", 1, 1)
D = "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"


def test_the_tables_come_from_haproxy() -> None:
    assert len(FETCHES) > 400 and len(CONVERTERS) > 120
    assert FETCHES["src"].out == "IPV4" and FETCHES["src"].use == ("L4CLI",)
    assert (FETCHES["req.payload"].mandatory, FETCHES["req.payload"].args) == (2, ("SINT", "SINT"))
    assert CONVERTERS["set-var"].mandatory == 1


@pytest.mark.parametrize(
    ("text", "fetch", "args", "converters", "type_"),
    [
        ("src", "src", (), (), "IPV4"),
        ("hdr(host),lower", "hdr", ("host",), (("lower", ()),), "STR"),
        ("src,ipmask(24)", "src", (), (("ipmask", ("24",)),), "IPV4"),
        ('url_param(a,"b,c")', "url_param", ("a", "b,c"), (), "STR"),
        ("req.hdr(x-a,1)", "req.hdr", ("x-a", "1"), (), "STR"),
        ("src,,lower", "src", (), (("lower", ()),), "STR"),  # extra commas are skipped
    ],
)
def test_samples(
    text: str, fetch: str, args: tuple[str, ...], converters: tuple[object, ...], type_: str
) -> None:
    s = parse_sample(text)
    assert (s.fetch, s.args, s.converters, s.type) == (fetch, args, converters, type_)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nosuch", "unknown fetch method 'nosuch'"),
        ("src,nosuch", "unknown converter 'nosuch'"),
        ("hdr(host", "fetch method 'hdr' : expected ')'"),
        (
            "req.payload(0)",
            "fetch method 'req.payload' : missing arguments (got 1/2), type 'integer' expected",
        ),
        (
            "req.payload(0,x)",
            "fetch method 'req.payload' : failed to parse 'x' as type 'integer' at position 2",
        ),
        ("hdr(host),lower(x)", "invalid arg 1 in converter 'lower' : expected ')' before 'x)'"),
        ("src x", "missing comma after fetch keyword 'src'"),
        ("", "missing fetch method"),
        ("always_true,ipmask(24)", "converter 'ipmask' cannot be applied"),
    ],
)
def test_sample_errors(text: str, message: str) -> None:
    with pytest.raises(SampleError) as e:
        parse_sample(text)
    assert str(e.value) == message


def acl(*words: str) -> tuple[str, str, tuple[str, ...], list[str]]:
    warnings: list[str] = []
    a = parse_acl([Word(w, L) for w in words], "x", warnings)
    return a.sample.fetch, a.method, a.patterns, warnings


def test_acl_keywords_and_methods() -> None:
    assert acl("path_beg", "/a", "/b")[:3] == ("path", "beg", ("/a", "/b"))
    assert acl("hdr_sub(host)", "-i", "x")[:3] == ("req.hdr", "sub", ("x",))
    assert acl("src", "10.0.0.0/8")[:3] == ("src", "ip", ("10.0.0.0/8",))
    assert acl("dst_port", "80:90", "ge", "1000")[:3] == (
        "dst_port",
        "int",
        ("80:90", "ge", "1000"),
    )
    assert acl("hdr(x)", "-m", "found")[:3] == ("req.hdr", "found", ())
    assert acl("always_true")[:3] == ("always_true", "bool", ())
    assert acl("dst_port", "--", "-1")[:3] == ("dst_port", "int", ("-1",))


def test_an_acl_without_pattern_warns_as_haproxy_does() -> None:
    assert acl("path_beg")[3][0].startswith("parsing acl keyword 'path_beg' :\n  no pattern")
    assert acl("path_beg", "--")[3] == []
    assert acl("always_true")[3] == []  # a boolean needs none


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (
            ("req.payload(0,4)", "x"),
            "matching method must be specified first (using '-m') when using a sample fetch of"
            " this type ('req.payload')",
        ),
        (("dst_port", "abc"), "'abc' is not a number"),
        (("dst_port", "9:8"), "'9:8' is not a valid number range"),
        (
            ("hdr(x)", "-x"),
            "'-x' is not a valid ACL option. Please use '--' before any pattern beginning"
            " with a '-'",
        ),
        (("src", "-m", "nope"), "unknown matching method 'nope' when parsing ACL expression"),
        (
            ("always_true", "-m", "ip"),
            "matching method 'ip' cannot be used with fetch keyword 'always_true'",
        ),
        (("src", "-u", "x"), "the argument of -u must be an integer"),
        (("src", "-n", "300.1.1.1"), "'300.1.1.1' is not a valid IPv4 or IPv6 address"),
    ],
)
def test_acl_errors(words: tuple[str, ...], message: str) -> None:
    with pytest.raises(SampleError) as e:
        parse_acl([Word(w, L) for w in words], "x")
    assert str(e.value) == message


def test_conditions_and_their_errors() -> None:
    text = (
        f"{D}frontend f\n bind :80\n acl api path_beg /api\n acl static path_end .css\n"
        " http-request deny if api !static || { src 10.0.0.0/8 } METH_POST\n"
        " http-request deny if nope\n"
        " http-request deny unless\n"  # no term: accepted (`unless` nothing: always)
        " use_backend b if { hdr(host) -i x\n"
        " default_backend b\nbackend b\n server s 127.0.0.1:1\n"
    )
    r = load_text(text, "t.cfg")
    rule = r.config.proxies[0].http_request[0]
    assert rule.condition is not None and not rule.condition.unless
    first, second = rule.condition.alternatives
    assert [(t.negate, t.acl) for t in first] == [(False, "api"), (True, "static")]
    assert second[0].anonymous is not None and second[0].anonymous.sample.fetch == "src"
    assert second[1].acl == "METH_POST"
    always = r.config.proxies[0].http_request[1].condition
    assert always is not None and (always.unless, always.alternatives) == (True, ())
    assert [(p.loc.line, p.message) for p in r.problems] == [
        (
            11,
            "error detected while parsing an 'http-request deny' condition : no such ACL : 'nope'.",
        ),
        (13, "error detected while parsing switching rule : missing closing '}' in condition."),
    ]
