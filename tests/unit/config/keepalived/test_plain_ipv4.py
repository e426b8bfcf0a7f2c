"""_plain.ipv4: the C reader's dotted quads are the addresses ipaddress reads, and nothing else.

`read_addr_port` (lvs/common.py) asks it first and falls back to values.address for anything
it refuses, so it must accept exactly the dotted quads ipaddress accepts (four octets 0-255, no
leading zero, nothing around them) and give the same IPv4Address (equal, same hash, same text).
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.config.keepalived.plain import _plain


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


def test_read_addr_port_uses_it_when_built() -> None:
    from pylvs.config.keepalived.lvs import common

    assert common._ipv4 is (None if _plain is None else _plain.ipv4)
