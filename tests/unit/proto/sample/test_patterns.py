"""Match methods and maps (src/pattern.c), and ACLs/conditions built from a configuration."""

from __future__ import annotations

import ipaddress

import pytest

from pylvs.config.errors import Location
from pylvs.config.haproxy.compile_samples import compile_acl, compile_condition, context
from pylvs.config.haproxy.model import Condition, Term
from pylvs.config.haproxy.samples import parse_acl
from pylvs.config.tree import Word
from pylvs.proto.rules.acl import FAIL, MISS, PASS
from pylvs.proto.sample.pattern import Matcher, PatternError, parse_ip, parse_range
from pylvs.proto.sample.pattern_ref import PatternStore
from pylvs.proto.sample.types import IPV4, IPV6, SINT, STR, Smp
from tests.unit.proto.sample.sample_helpers import make_stream

LOC = Location("t.cfg", 1, 1)


def matcher(method: str, *keys: str, icase: bool = False) -> Matcher:
    ref = PatternStore().inline([k.encode() for k in keys], "test")
    return Matcher(method, [ref], icase=icase)


def hit(m: Matcher, value: bytes | int) -> bool:
    smp = Smp(SINT, value) if isinstance(value, int) else Smp(STR, value)
    return m.match(smp) is not None


@pytest.mark.parametrize(
    ("method", "keys", "value", "expected"),
    [
        ("str", ["abc"], b"abc", True),
        ("str", ["abc"], b"abcd", False),
        ("beg", ["/api"], b"/api/v1", True),
        ("end", [".jpg"], b"/a.jpg", True),
        ("sub", ["dmin"], b"/admin/", True),
        ("dir", ["img"], b"/static/img/a.png", True),
        ("dir", ["img"], b"/static/imgs/a.png", False),
        ("dom", ["example.com"], b"www.example.com:80", True),
        ("dom", ["example.com"], b"example.community", False),
        ("reg", ["^/a.c$"], b"/abc", True),
        ("len", ["3:5"], b"abcd", True),
        ("len", ["3:5"], b"abcdef", False),
        ("int", ["10:"], 12, True),
        ("int", [":10"], 12, False),
        ("int", ["-5"], 3, True),  # pat_parse_int: a leading '-' is the range separator
        ("int", ["-5"], 6, False),
        ("bin", ["616263"], b"abc", True),
    ],
)
def test_methods(method: str, keys: list[str], value: bytes | int, expected: bool) -> None:
    assert hit(matcher(method, *keys), value) is expected


def test_icase() -> None:
    assert hit(matcher("str", "abc", icase=True), b"ABC")
    assert not hit(matcher("str", "abc"), b"ABC")
    assert hit(matcher("reg", "^a", icase=True), b"ABC")
    assert hit(matcher("dom", "Example.COM", icase=True), b"www.example.com")


def test_beg_without_icase_is_the_longest_prefix() -> None:
    ref = PatternStore().inline([b"/a", b"/a/b"], "test")
    ref.entries = [e.__class__(e.key, e.key.upper()) for e in ref.entries]
    found = Matcher("beg", [ref]).match(Smp(STR, b"/a/b/c"))
    assert found is not None and found.entry is not None and found.entry.key == b"/a/b"
    found = Matcher("beg", [ref], icase=True).match(Smp(STR, b"/a/b/c"))
    assert found is not None and found.entry is not None and found.entry.key == b"/a"


def test_ip_longest_prefix_and_mapped_addresses() -> None:
    ref = PatternStore().inline([b"10.0.0.0/8", b"10.1.0.0/16", b"::ffff:192.0.2.0/120"], "t")
    m = Matcher("ip", [ref])
    found = m.match(Smp(IPV4, ipaddress.IPv4Address("10.1.2.3").packed))
    assert found is not None and found.entry is not None and found.entry.key == b"10.1.0.0/16"
    assert m.match(Smp(IPV4, ipaddress.IPv4Address("192.0.2.9").packed)) is not None
    mapped = ipaddress.IPv6Address("::ffff:10.9.9.9").packed
    assert m.match(Smp(IPV6, mapped)) is not None
    assert m.match(Smp(STR, b"10.2.3.4")) is not None  # a string is cast to an address
    assert m.match(Smp(STR, b"nope")) is None


def test_pattern_errors_have_haproxy_words() -> None:
    with pytest.raises(PatternError, match="'x' is not a number"):
        parse_range(b"x")
    with pytest.raises(PatternError, match="'5:1' is not a valid number range"):
        parse_range(b"5:1")
    with pytest.raises(PatternError, match="is not a valid IPv4 or IPv6 address"):
        parse_ip(b"300.1.1.1")


def test_map_files_are_shared_and_editable() -> None:
    files = {"m.map": b"# comment\n\nexample.org https://www.example.org  \n/old   /new\n"}
    store = PatternStore(files.get)
    ref = store.file("m.map", is_map=True)
    assert [(e.key, e.value) for e in ref] == [
        (b"example.org", b"https://www.example.org"),
        (b"/old", b"/new"),
    ]
    assert store.file("m.map", is_map=True) is ref
    m = Matcher("str", [ref])
    assert m.match(Smp(STR, b"/old")) is not None
    ref.delete(b"/old")
    assert m.match(Smp(STR, b"/old")) is None  # rebuilt after the edit
    ref.add(b"/x", b"/y")
    assert m.match(Smp(STR, b"/x")) is not None


def words(*texts: str) -> list[Word]:
    return [Word(t, LOC) for t in texts]


def acl_result(s_words: list[str], stream_kwargs: dict[str, object]) -> int:
    acl = parse_acl(words(*s_words), "a")
    compiled = compile_acl(acl, context(proxy="fe"))
    s = make_stream(**stream_kwargs)  # type: ignore[arg-type]
    return compiled.result(s)


def test_acls_iterate_over_every_header_value() -> None:
    headers = [(b"x-tag", b"a, b"), (b"x-tag", b"c")]
    assert acl_result(["hdr(x-tag)", "b"], {"headers": headers}) == PASS
    assert acl_result(["hdr(x-tag)", "d"], {"headers": headers}) == FAIL
    assert acl_result(["hdr_cnt(x-tag)", "gt", "2"], {"headers": headers}) == PASS
    assert acl_result(["hdr_cnt(x-tag)", "lt", "3"], {"headers": headers}) == FAIL
    assert acl_result(["hdr(x-none)", "-m", "found"], {"headers": headers}) == FAIL
    assert acl_result(["hdr(x-tag)", "-m", "found"], {"headers": headers}) == PASS


def test_acl_keywords_and_flags() -> None:
    assert acl_result(["path_beg", "/api"], {"uri": b"/api/x"}) == PASS
    assert acl_result(["path_end", "-i", ".JPG"], {"uri": b"/a.jpg"}) == PASS
    assert acl_result(["src", "192.168.0.0/16"], {}) == PASS
    assert acl_result(["method", "GET", "HEAD"], {"method": b"HEAD"}) == PASS
    assert acl_result(["url_param(a)", "-m", "len", "3"], {"uri": b"/?a=xyz"}) == PASS


def test_payload_acls_can_miss_until_the_data_is_final() -> None:
    acl = parse_acl(words("req.len", "gt", "3"), "a")
    compiled = compile_acl(acl, context(proxy="fe"))
    s = make_stream()
    s.request = None
    s.req_payload = b"ab"
    s.final = False
    assert compiled.result(s) == MISS
    s.final = True
    assert compiled.result(s) == FAIL
    s.req_payload = b"abcd"
    assert compiled.result(s) == PASS


def test_conditions_and_or_not_unless() -> None:
    ctx = context(proxy="fe")
    a = parse_acl(words("path_beg", "/a"), None)
    b = parse_acl(words("method", "POST"), None)
    # if { path_beg /a } !{ method POST } || TRUE
    cond = Condition(False, ((Term(False, anonymous=a), Term(True, anonymous=b)),))
    compiled = compile_condition(cond, {}, ctx)
    assert compiled.test(make_stream(b"/a")) is True
    assert compiled.test(make_stream(b"/a", method=b"POST")) is False
    unless = compile_condition(Condition(True, cond.alternatives), {}, ctx)
    assert unless.test(make_stream(b"/a")) is False
    either = Condition(False, ((Term(False, anonymous=b),), (Term(False, acl="METH_GET"),)))
    assert compile_condition(either, {}, ctx).test(make_stream(b"/x", method=b"HEAD")) is True
    local = Condition(False, ((Term(False, acl="LOCALHOST"),),))
    assert compile_condition(local, {}, ctx).test(make_stream(src="127.0.0.9")) is True
    assert compile_condition(local, {}, ctx).test(make_stream()) is False
