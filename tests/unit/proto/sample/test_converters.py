"""Converters against the values HAProxy 2.6's own regression tests expect (reg-tests/converter
and sample_fetches, which the real haproxy passes here): each vector is what a client saw in
a response header built with `%[...]`."""

from __future__ import annotations

import pytest

from pylvs.config.haproxy.compile_samples import compile_expr, context
from pylvs.config.haproxy.samples import parse_sample
from pylvs.proto.sample.conv_string import b64decode, field, regsub, ub64decode, word
from pylvs.proto.sample.expr import CompileError
from pylvs.proto.sample.types import STR, Smp
from tests.unit.proto.sample.sample_helpers import make_stream, run

# reg-tests/sample_fetches/hashes.vtc: the bytes 0x00..0xff, base64-encoded
KEY = (
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB"
    "QkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKD"
    "hIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TF"
    "xsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w=="
)
HASHES = {
    "length": "0",
    "bytes(1),length": "255",
    "sha1,hex": "4916D6BDB7F78E6803698CAB32D1586EA457DFC8",
    "crc32": "688229491",
    "crc32(1)": "4230317029",
    "crc32c": "2621708363",
    "crc32c(1)": "2242979626",
    "djb2": "2589693061",
    "djb2(1)": "600622701",
    "sdbm": "905707648",
    "sdbm(1)": "3103804144",
    "wt6": "4090277559",
    "wt6(1)": "1192658767",
    "xxh3": "-7779787747613135503",
    "xxh3(1)": "5930632130106562027",
    "xxh32": "1497633363",
    "xxh32(1)": "1070421674",
    "xxh64": "2282408585429094475",
    "xxh64(1)": "-4689339368900765961",
}


@pytest.mark.parametrize(("conv", "expected"), HASHES.items())
def test_hashes_of_every_byte(conv: str, expected: str) -> None:
    s = make_stream()
    out = run(f"str({KEY}),b64dec,{conv}", s)
    # the length test in hashes.vtc reads the variable before it is set: 0 bytes
    if conv == "length":
        out = run("str(),length", s)
    assert out == expected.encode()


def test_hex_and_base64_round_trip_every_byte() -> None:
    s = make_stream()
    assert run(f"str({KEY}),b64dec,hex", s) == bytes(range(256)).hex().upper().encode()
    assert run(f"str({KEY}),b64dec,base64", s) == KEY.encode()


# reg-tests/converter/digest.vtc, sha2.vtc, hmac.vtc
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("str(1),digest(sha1),hex,lower", "356a192b7913b04c54574d18c28d46e6395428ab"),
        ("str(1),digest(sha224),hex,lower",
         "e25388fde8290dc286a6164fa2d97e551b53498dcbf7bc378eb1f178"),
        ("str(2),sha2,hex,lower",
         "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"),
        ("str(1),sha2(224),hex,lower", "e25388fde8290dc286a6164fa2d97e551b53498dcbf7bc378eb1f178"),
        ("str(1),hmac(sha1,a2V5),hex,lower", "e23feb105f9622241bf23db1638cd2b4208b1f53"),
        ("str(2),hmac(sha256,a2V5),hex,lower",
         "ae7b3ee87b8c9214f714df1c2042c7a985b9d711e9938a063937ad1636775a88"),
    ],
)  # fmt: skip
def test_digests(expr: str, expected: str) -> None:
    assert run(expr, make_stream()) == expected.encode()


def test_hmac_key_from_a_variable_is_base64() -> None:
    s = make_stream()
    run("str(my_super_secret_long_key),base64,set-var(txn.key)", s)
    out = run("str(1),hmac(sha1,txn.key),hex,lower", s)
    assert out == b"87b10ddcf39e26f6bd7c3b0e38e0125997b255be"


def test_hmac_key_must_be_base64_or_a_variable() -> None:
    with pytest.raises(CompileError, match="base64 encoded"):
        compile_expr(parse_sample("str(1),hmac(sha1,abc)"), context())


# reg-tests/converter/be2dec.vtc, be2hex.vtc
@pytest.mark.parametrize(
    ("conv", "text", "expected"),
    [
        ("be2dec(:,1)", "0123456789", "48:49:50:51:52:53:54:55:56:57"),
        ("be2dec(-,3)", "0123456789", "3158322-3355701-3553080-57"),
        ("be2dec(::,3,1)", "0123456789", "3158322::3355701::3553080"),
        ("be2dec(-,3)", "abcdefghijklmnopqrstuvwxyz",
         "6382179-6579558-6776937-6974316-7171695-7369074-7566453-7763832-31098"),
        ("be2hex,lower", "0123456789", "30313233343536373839"),
        ("be2hex(--,3),lower", "0123456789", "303132--333435--363738--39"),
        ("be2hex(.,3,1),lower", "abcdefghijklmnopqrstuvwxyz",
         "616263.646566.676869.6a6b6c.6d6e6f.707172.737475.767778"),
        ("be2dec(:,1)", "", ""),
    ],
)  # fmt: skip
def test_be2dec_be2hex(conv: str, text: str, expected: str) -> None:
    assert run(f"str({text}),{conv}", make_stream()) == expected.encode()


# reg-tests/converter/add_item.vtc
@pytest.mark.parametrize(
    ("conv", "value", "expected"),
    [
        ("add_item(',',txn.var,_suff_)", "", "var_content_suff_"),
        ("add_item(',',txn.var)", "", "var_content"),
        ("add_item(',',,_suff_)", "", "_suff_"),
        ("add_item(',',txn.var,_suff_)", "input_string", "input_string,var_content_suff_"),
        ("add_item(',',txn.var)", "input_string", "input_string,var_content"),
        ("add_item(',',,_suff_)", "input_string", "input_string,_suff_"),
    ],
)
def test_add_item(conv: str, value: str, expected: str) -> None:
    s = make_stream()
    run("str(var_content),set-var(txn.var)", s)
    assert run(f"str({value}),{conv}", s) == expected.encode()


def test_add_item_needs_a_variable_or_a_suffix() -> None:
    with pytest.raises(CompileError, match="one of the optional arguments has to be nonempty"):
        compile_expr(parse_sample("str(a),add_item(',',,)"), context())


# reg-tests/http-rules/converters_ipmask_concat_strcmp_field_word.vtc
def test_field_and_word() -> None:
    data = b"f1_f2_f3__f5"
    assert field(data, 5, b"_", 1) == b"f5"
    assert field(data, 2, b"_", 0) == b"f2_f3__f5"
    assert field(b"f1_f2_f3__f5", 2, b"_", 2) == b"f2_f3"
    assert field(b"f1_f2_f3__f5", -2, b"_", 3) == b"f2_f3_"
    assert field(b"f1_f2_f3__f5", -3, b"_", 0) == b"f1_f2_f3"
    assert field(b"/foo", 3, b"/", 1) is None  # converter/field.vtc: <undef>
    assert word(data, 4, b"_", 1) == b"f5"
    assert word(data, 2, b"_", 0) == b"f2_f3__f5"
    assert word(b"f1_f2_f3__f5", 3, b"_", 2) == b"f3__f5"
    assert word(b"f1_f2_f3__f5", -2, b"_", 3) == b"f1_f2_f3"
    assert word(b"f1_f2_f3__f5", -3, b"_", 0) == b"f1_f2"
    assert word(b"a", 5, b"_", 1) == b""


def test_field_refuses_index_zero() -> None:
    with pytest.raises(CompileError, match="Unexpected value 0 for index"):
        compile_expr(parse_sample("str(a),field(0,_)"), context())


def test_concat_and_strcmp_with_variables() -> None:
    s = make_stream(headers=[(b"Field1", b"f1_f2"), (b"Field2", b"f3__f5")])
    run("hdr(Field2),set-var(sess.field2)", s)
    assert run("hdr(Field1),concat(_,sess.field2,)", s) == b"f1_f2_f3__f5"
    run("hdr(Field1),concat(_,sess.field2,),set-var(sess.fc)", s)
    assert run("str(f1_f2_f3__f5),strcmp(sess.fc)", s) == b"0"
    assert run("str(f1_f2_f3__f4),strcmp(sess.fc)", s) == b"-1"
    assert run("str(f1_f2_f3__f5x),strcmp(sess.fc)", s) == b"1"
    assert run("str(a),strcmp(sess.missing)", s) is None


def test_ipmask() -> None:
    s = make_stream(
        headers=[
            (b"Addr1", b"2001:db8::1"),
            (b"Addr2", b"2001:db8::bad:c0f:ffff"),
            (b"Addr3", b"2001:db8:c001:c01a:ffff:ffff:10:ffff"),
            (b"Addr4", b"::FFFF:192.168.1.101"),
            (b"Addr6", b"192.168.1.255"),
        ]
    )
    assert run("src,ipmask(16)", s) == b"192.168.0.0"
    assert run("req.hdr_ip(Addr2),ipmask(24,120)", s) == b"2001:db8::bad:c0f:ff00"
    assert run("req.hdr_ip(Addr2),ipmask(24,ffff:ffff:ffff:ffff:ffff:ffff:ffff:fee0)", s) == (
        b"2001:db8::bad:c0f:fee0"
    )
    assert run("req.hdr_ip(Addr3),ipmask(24,64)", s) == b"2001:db8:c001:c01a::"
    assert run("req.hdr_ip(Addr3),ipmask(24,ffff:ffff:ffff:ffff:0:ffff:ffff:0)", s) == (
        b"2001:db8:c001:c01a:0:ffff:10:0"
    )
    assert run("req.hdr_ip(Addr4),ipmask(32,64)", s) == b"192.168.1.101"
    assert run("req.hdr_ip(Addr6),ipmask(25)", s) == b"192.168.1.128"
    assert run("req.hdr_ip(Addr1),ipmask(24)", s) is None  # an IPv6 needs an IPv6 mask


# reg-tests/converter/json.vtc, url_dec.vtc, url_enc.vtc, iif.vtc, ubase64.vtc
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("str(foo 1/2),json", b"foo 1\\/2"),
        ("str(/bla+%20?foo%3Dbar%2B42+42%20),url_dec", b"/bla+ ?foo=bar+42 42 "),
        ("str(/bla+%20?foo%3Dbar%2B42+42%20),url_dec(1)", b"/bla  ?foo=bar+42 42 "),
        ("str(foo=bar+42 42 ),url_enc", b"foo%3Dbar%2B42%2042%20"),
        ("str(foo=bar+42 42 ),url_enc(query)", b"foo%3Dbar%2B42%2042%20"),
        ("bin(14fb9c03d97f12d97e),ub64enc", b"FPucA9l_Etl-"),
        ("str(FPucA9l_Etl-),ub64dec,hex,lower", b"14fb9c03d97f12d97e"),
        ("str(foob),ub64enc", b"Zm9vYg"),
        ("str(Zm9vYmE),ub64dec", b"fooba"),
        ("str(%zz),url_dec", None),
        ("int(3),iif(ok,ko)", b"ok"),
        ("int(0),iif(ok,ko)", b"ko"),
    ],
)
def test_string_converters(expr: str, expected: bytes | None) -> None:
    assert run(expr, make_stream()) == expected


def test_json_utf8_modes() -> None:
    s = make_stream()
    txn = s.vars["txn"]
    txn.set("x", Smp(STR, b"\xe0"))
    assert run("var(txn.x),json(utf8)", s) is None  # json.vtc: an invalid sequence fails
    txn.set("y", Smp(STR, b"-\xe0-"))
    assert run("var(txn.y),json(utf8s)", s) == b"--"  # ... or is skipped
    txn.set("z", Smp(STR, "\u00e9\n".encode()))
    assert run("var(txn.z),json(utf8)", s) == b"\\u00e9\\n"
    assert run("var(txn.z),json", s) == b"\\u00c3\\u00a9\\n"  # ascii: byte by byte


def test_regsub() -> None:
    import re

    assert regsub(b"example.org:8443", re.compile(rb":\d+$"), b"", False) == b"example.org"
    assert regsub(b"aaa", re.compile(b"a"), b"b", True) == b"bbb"
    assert regsub(b"aaa", re.compile(b"a"), b"b", False) == b"baa"
    assert regsub(b"abc", re.compile(b"x*"), b"-", True) == b"-a-b-c-"
    assert regsub(b"this is a", re.compile(b"is a"), b"is also a", False) == b"this is also a"
    assert regsub(b"foo.bar", re.compile(rb"(\w+)\.(\w+)"), rb"\2_\1", False) == b"bar_foo"


def test_regsub_flags() -> None:
    s = make_stream()
    assert run("str(AbA),regsub(a,x,gi)", s) == b"xbx"
    with pytest.raises(CompileError, match="invalid regex flag 'z'"):
        compile_expr(parse_sample("str(a),regsub(a,x,z)"), context())


def test_base64_strictness() -> None:
    assert b64decode(b"Zm9v") == b"foo"
    assert b64decode(b"Zm9") is None
    assert b64decode(b"Zg==") == b"f"
    assert b64decode(b"Z===") is None
    assert ub64decode(b"Zg") == b"f"
    assert ub64decode(b"Z") is None


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("int(7),add(3)", b"10"),
        ("int(7),sub(10)", b"-3"),
        ("int(7),mul(-3)", b"-21"),
        ("int(-7),div(2)", b"-3"),
        ("int(-7),mod(2)", b"-1"),
        ("int(7),div(0)", b"9223372036854775807"),
        ("int(7),mod(0)", b"0"),
        ("int(9223372036854775807),add(1)", b"9223372036854775807"),
        ("int(-9223372036854775808),mul(-1)", b"9223372036854775807"),
        ("int(6),and(3)", b"2"),
        ("int(6),or(3)", b"7"),
        ("int(6),xor(3)", b"5"),
        ("int(5),neg", b"-5"),
        ("int(0),cpl", b"-1"),
        ("int(3),odd", b"1"),
        ("int(3),even", b"0"),
        ("int(3),not", b"0"),
        ("int(3),bool", b"1"),
        ("str(ff),hex2i", b"255"),
        ("str(zz),hex2i", None),
        ("int(1),htonl,hex", b"00000001"),
    ],
)
def test_arithmetic(expr: str, expected: bytes | None) -> None:
    assert run(expr, make_stream()) == expected


def test_arithmetic_with_a_variable_operand() -> None:
    s = make_stream()
    run("int(12),set-var(proc.int12)", s)
    assert run("int(60),div(proc.int12)", s) == b"5"
    assert run("int(60),div(proc.none)", s) is None
    with pytest.raises(CompileError, match="expects an integer or a variable name"):
        compile_expr(parse_sample("int(1),add(x1)"), context())


# reg-tests/converter/json_query.vtc
@pytest.mark.parametrize(
    ("doc", "query", "expected"),
    [
        ('{"iss":"kubernetes.io/serviceaccount"}', "'$.iss'", b"kubernetes.io/serviceaccount"),
        ('{"integer":4}', "'$.integer',\"int\"", b"4"),
        ('{"negativ-integer":-4}', "'$.negativ-integer',\"int\"", b"-4"),
        ('{"double":4.5}', "'$.double'", b"4.5"),
        ('{"boolean-true":true}', "'$.boolean-true'", b"1"),
        ('{"boolean-false":false}', "'$.boolean-false'", b"0"),
        ('{"my.key":"myvalue"}', "$.my\\\\.key", b"myvalue"),
        ('{"a":[1,{"b":"x"}]}', "'$.a[1].b'", b"x"),
        ('{"a":null}', "'$.a'", None),
        ("not json", "'$.a'", None),
    ],
)
def test_json_query(doc: str, query: str, expected: bytes | None) -> None:
    s = make_stream()
    s.vars["txn"].set("doc", Smp(STR, doc.encode()))
    assert run(f"var(txn.doc),json_query({query})", s) == expected


def test_secure_memcmp() -> None:
    # reg-tests/converter/secure_memcmp.vtc
    s = make_stream(headers=[(b"Raw", b"1"), (b"Hash", b"NWoZK3kTsExUV00Ywo1G5jlUKKs=")])
    run("req.hdr(hash),set-var(txn.hash)", s)
    assert run("req.hdr(raw),sha1,base64,secure_memcmp(txn.hash)", s) == b"1"
    run("str(2kuSN7rMzfGcB2DKt67EqDWQELX=),set-var(txn.hash)", s)
    assert run("req.hdr(raw),sha1,base64,secure_memcmp(txn.hash)", s) == b"0"
