"""_plain.ipv4 and _plain.addr_port: the C reader's dotted quads are the addresses ipaddress
reads, and nothing else; its `IP [PORT]` is read_addr_port's when that reports nothing.

`read_addr_port` (lvs/common.py) asks it first and falls back to values.address for anything
it refuses, so it must accept exactly the dotted quads ipaddress accepts (four octets 0-255, no
leading zero, nothing around them) and give the same IPv4Address (equal, same hash, same text).
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.config.errors import Location, Problems
from pylvs.config.keepalived.plain import _plain
from pylvs.config.keywords import Context, HostFacts
from pylvs.config.tree import Statement, Word


def reference(text: str) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        return None


def check(text: str) -> None:
    if _plain is None:
        pytest.skip("the C reader is not built (no compiler when installed)")
    got = _plain.ipv4(text)
    want = reference(text)
    assert got == want, text
    if want is not None:
        assert type(got) is ipaddress.IPv4Address
        assert (hash(got), str(got), int(got)) == (hash(want), str(want), int(want))


@pytest.mark.parametrize(
    "text",
    [
        "10.1.2.3",
        "0.0.0.0",
        "255.255.255.255",
        "192.168.0.1",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3",
        "1.2.3.4.5",
        "1..2.3",
        ".1.2.3",
        "1.2.3.",
        "1.2.3.4 ",
        " 1.2.3.4",
        "+1.2.3.4",
        "-1.2.3.4",
        "1.2.3.4%eth0",
        "1.2.3.4/32",
        "١.٢.٣.٤",  # other scripts' digits: str.isdigit() says yes, ipaddress no
        "1.2.3.1000",
        "1000.2.3.4",
        "::1",
        "",
        "a.b.c.d",
    ],
)
def test_examples(text: str) -> None:
    check(text)


octet = st.one_of(
    st.integers(0, 300).map(str),
    st.text("0123456789", min_size=1, max_size=4),
    st.text(min_size=0, max_size=3),
)


@given(st.lists(octet, min_size=1, max_size=6).map(".".join))
def test_any_text_of_dotted_parts(text: str) -> None:
    check(text)


@given(st.integers(0, 2**32 - 1))
def test_every_address_round_trips(n: int) -> None:
    check(str(ipaddress.IPv4Address(n)))


def test_read_addr_port_uses_them_when_built() -> None:
    from pylvs.config.keepalived.lvs import common

    assert common._ipv4 is (None if _plain is None else _plain.ipv4)
    assert common._addr_port is (None if _plain is None else _plain.addr_port)


# ---- _plain.addr_port: read_addr_port's common case -------------------------------------------


def general(words: tuple[str, ...]) -> tuple[object, list[str]]:
    """read_addr_port without the C reader's help: its value and its problems."""
    from pylvs.config.keepalived.lvs import common

    args = tuple(Word(w, Location("k.conf", 1, 10 + i)) for i, w in enumerate(words))
    st = Statement(Word("real_server", Location("k.conf", 1, 1)), args)
    ctx = Context(problems=Problems(), host=HostFacts())
    saved = common._addr_port, common._ipv4
    common._addr_port = common._ipv4 = None
    try:
        value = common.read_addr_port(st, ctx, "real server")
    finally:
        common._addr_port, common._ipv4 = saved
    return value, [str(p) for p in ctx.problems]


def check_addr_port(words: tuple[str, ...]) -> None:
    if _plain is None:
        pytest.skip("the C reader is not built (no compiler when installed)")
    args = tuple(Word(w, Location("k.conf", 1, 10 + i)) for i, w in enumerate(words))
    got = _plain.addr_port(args)
    value, problems = general(words)
    if got is not None:  # only what the general path reads without a problem, the same
        assert (got, []) == (value, problems), words
        assert type(got[0]) is ipaddress.IPv4Address and type(got[1]) is int


COMMON_FORMS = [
    ("10.0.0.1",),
    ("10.0.0.1", "80"),
    ("10.0.0.1", "0"),
    ("10.0.0.1", "000"),
    ("10.0.0.1", "65535"),
    ("10.0.0.1", "80", "extra"),
]


@pytest.mark.parametrize(
    "words",
    [
        *COMMON_FORMS,
        ("10.0.0.1", "65536"),
        ("10.0.0.1", "080"),
        ("10.0.0.1", "00080"),
        ("10.0.0.1", "+80"),
        ("10.0.0.1", "-1"),
        ("10.0.0.1", ""),
        ("10.0.0.1", "8O"),
        ("10.0.0.1", "1234567890"),
        ("10.0.0.1", "٨٠"),
        ("010.0.0.1", "80"),
        ("::1", "80"),
        ("fe80::1%eth0", "80"),
        ("host.example", "80"),
    ],
)
def test_addr_port_examples(words: tuple[str, ...]) -> None:
    check_addr_port(words)


@pytest.mark.parametrize("words", COMMON_FORMS)
def test_addr_port_takes_the_common_forms(words: tuple[str, ...]) -> None:
    if _plain is None:
        pytest.skip("the C reader is not built (no compiler when installed)")
    args = tuple(Word(w, Location("k.conf", 1, 10 + i)) for i, w in enumerate(words))
    assert _plain.addr_port(args) == general(words)[0]


@given(
    st.one_of(st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))), st.text()),
    st.one_of(st.none(), st.integers(0, 70000).map(str), st.text("0123456789+- ", max_size=11)),
)
def test_addr_port_agrees_with_the_general_reader(address: str, port: str | None) -> None:
    check_addr_port((address,) if port is None else (address, port))
