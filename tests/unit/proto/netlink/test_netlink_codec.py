"""Netlink attribute tables and message framing: round trips, the kernel's nesting flag,
unknown attributes kept apart, truncated input refused with NetlinkDecodeError."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.proto.netlink.attrs import (
    NLA_F_NESTED,
    Attr,
    AttrTable,
    Kind,
    NetlinkDecodeError,
    decode,
    encode,
)
from pylvs.proto.netlink.message import (
    NLM_F_ACK,
    NLM_F_REQUEST,
    Ack,
    Done,
    Message,
    genl_request,
    parse,
)

INNER = AttrTable("inner", {1: Attr("a", Kind.U32), 2: Attr("name", Kind.STRING)})
OUTER = AttrTable(
    "outer",
    {
        1: Attr("u8", Kind.U8),
        2: Attr("u16", Kind.U16),
        3: Attr("u64", Kind.U64),
        4: Attr("port", Kind.BE16),
        5: Attr("raw", Kind.BINARY),
        6: Attr("flags", Kind.FLAGS),
        7: Attr("inner", Kind.NESTED, INNER),
    },
)


@given(
    u8=st.integers(0, 255),
    u16=st.integers(0, 0xFFFF),
    u64=st.integers(0, 2**64 - 1),
    port=st.integers(0, 0xFFFF),
    raw=st.binary(max_size=19),
    flags=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    a=st.integers(0, 2**32 - 1),
    name=st.text(st.characters(min_codepoint=1, max_codepoint=0x7F), max_size=15),
)
def test_round_trip(
    u8: int, u16: int, u64: int, port: int, raw: bytes, flags: tuple[int, int], a: int, name: str
) -> None:
    items = [("u8", u8), ("u16", u16), ("u64", u64), ("port", port), ("raw", raw),
             ("flags", flags), ("inner", [("a", a), ("name", name)])]  # fmt: skip
    data = encode(OUTER, items)
    assert len(data) % 4 == 0
    got = decode(OUTER, data)
    assert [got.get(k) for k, _ in items[:-1]] == [v for _, v in items[:-1]]
    inner = got.get_nested("inner")
    assert inner is not None and (inner.get_int("a"), inner.get_str("name")) == (a, name)


def test_the_byte_orders_and_the_nesting_flag() -> None:
    data = encode(OUTER, [("port", 80), ("inner", [("a", 1)])])
    assert data[:8] == struct.pack("=HH", 6, 4) + b"\x00\x50\x00\x00"  # network order, padded
    length, number = struct.unpack_from("=HH", data, 8)
    assert (length, number) == (12, 7 | NLA_F_NESTED)
    assert decode(OUTER, data).get_nested("inner") is not None  # the flag is masked off


def test_unknown_attributes_are_kept_by_number() -> None:
    data = encode(OUTER, [("u8", 1)]) + struct.pack("=HH", 8, 99) + b"abcd"
    got = decode(OUTER, data)
    assert got.get_int("u8") == 1 and got.unknown == {99: b"abcd"}


@pytest.mark.parametrize(
    "data", [struct.pack("=HH", 12, 1) + b"\x01", struct.pack("=HH", 2, 1) + b"\x00\x00"]
)
def test_truncated_attributes_are_refused(data: bytes) -> None:
    with pytest.raises(NetlinkDecodeError):
        decode(OUTER, data)


def test_a_missing_or_wrong_attribute_is_a_decode_error() -> None:
    got = decode(OUTER, encode(OUTER, [("u8", 1)]))
    with pytest.raises(NetlinkDecodeError):
        got.get_str("u8")
    with pytest.raises(NetlinkDecodeError):
        got.get_int("u16")


def test_messages_acks_and_dump_ends() -> None:
    request = genl_request(0x20, 4, 1, b"", flags=NLM_F_REQUEST | NLM_F_ACK, seq=7, pid=9)
    assert struct.unpack_from("=IHHII", request) == (20, 0x20, 5, 7, 9)
    ack = struct.pack("=IHHIIi", 36, 2, 0, 7, 9, -3) + request[:16]
    done = struct.pack("=IHHIIi", 20, 3, 2, 7, 9, 0)
    parts = parse(request + ack + done)
    assert parts == [Message(0x20, 5, 7, 9, 4, 1, b""), Ack(-3, 7), Done(0, 7)]
    with pytest.raises(NetlinkDecodeError):
        parse(request[:-1] + b"")  # a length past the end
