"""PROXY protocol v1/v2: byte for byte what haproxy 2.6.12 sends, and reading headers back."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.proto import proxyproto
from pylvs.proto.proxyproto import NEED_MORE, ProxiedAddresses, ProxyHeaderError

RECORDED = json.loads(
    (Path(__file__).parents[2] / "data/haproxy/proxyproto/haproxy-2.6.12.json").read_text()
)
# capture.py's listeners: (version, client address, listener address, listener port)
LISTENERS = {
    "v1": (1, "127.0.0.1", "127.0.0.1", 17101),
    "v2": (2, "127.0.0.1", "127.0.0.1", 17102),
    "v2six": (2, "::1", "::1", 17103),
    "v1six": (1, "::1", "::1", 17104),
}
ip = ipaddress.ip_address


@pytest.mark.parametrize("name", sorted(LISTENERS))
def test_headers_are_haproxys(name: str) -> None:
    version, client, addr, port = LISTENERS[name]
    rec = RECORDED[name]
    got = bytes.fromhex(rec["bytes_hex"])
    assert got.endswith(b"hello")
    header = proxyproto.header(version, ip(client), rec["client_port"], ip(addr), port)
    assert header == got[: -len(b"hello")]
    assert proxyproto.parse(got) == (
        len(header),
        ProxiedAddresses(ip(client), rec["client_port"], ip(addr), port),
    )


def test_mixed_families_are_sent_as_ipv6() -> None:
    line = proxyproto.v1(ip("10.0.0.1"), 1, ip("::1"), 2)
    assert line == b"PROXY TCP6 ::ffff:a00:1 ::1 1 2\r\n"


def test_incomplete_headers_ask_for_more() -> None:
    full = proxyproto.v2(ip("10.0.0.1"), 1, ip("10.0.0.2"), 2)
    for n in range(len(full)):
        assert proxyproto.parse(full[:n]) == (NEED_MORE, None)
    assert proxyproto.parse(b"PROXY TCP4 1.2.3.4") == (NEED_MORE, None)


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.0\r\n",
        b"PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\n",
        b"PROXY TCP4 1.2.3.4\r\n",
        b"PROXY " + b"x" * 120,
        b"\r\n\r\n\x00\r\nQUIX\n",
        proxyproto.SIGNATURE + b"\x31\x11\x00\x0c" + b"\0" * 12,
    ],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        proxyproto.parse(data)


def test_unknown_and_local_keep_the_connections_addresses() -> None:
    assert proxyproto.parse(b"PROXY UNKNOWN\r\nrest") == (15, None)
    local = proxyproto.SIGNATURE + b"\x20\x00\x00\x00"
    assert proxyproto.parse(local + b"rest") == (16, None)


TLV = json.loads(
    (Path(__file__).parents[2] / "data/haproxy/proxyproto/haproxy-2.6.12-tlv.json").read_text()
)


UNIQUE = b"0A000001:03E8-example.com"


def test_crc32c_is_castagnolis() -> None:
    assert proxyproto.crc32c(b"123456789") == 0xE3069283  # the CRC catalogue's check value
    assert proxyproto.crc32c(b"") == 0


@pytest.mark.parametrize(
    ("name", "options", "unique"),
    [
        ("tcp", frozenset({"crc32c", "authority", "unique-id", "ssl"}), UNIQUE),
        ("http", frozenset({"authority", "unique-id"}), UNIQUE),
    ],
)
def test_tlv_headers_are_haproxys(name: str, options: frozenset[str], unique: bytes) -> None:
    """capture_tlv.py: haproxy's header for a client whose own header carried an authority,
    with the stream's unique id (`%{+X}o%ci:%cp-%[fc_pp_authority]`)."""
    rec = TLV[name]
    got = bytes.fromhex(rec["bytes_hex"])
    payload = bytes.fromhex(rec["payload_hex"])
    header = proxyproto.header(
        2, ip("10.0.0.1"), 1000, ip("10.0.0.2"), 2000,
        options=options, authority=b"example.com", unique_id=unique,
    )  # fmt: skip
    assert header + payload == got
    used, addresses = proxyproto.parse(got)
    assert used == len(header)
    assert addresses == ProxiedAddresses(
        ip("10.0.0.1"), 1000, ip("10.0.0.2"), 2000, b"example.com", unique
    )


def test_the_client_header_recorded_parses() -> None:
    client = bytes.fromhex(TLV["client_header_hex"])
    assert proxyproto.parse(client + b"GET") == (
        len(client),
        ProxiedAddresses(ip("10.0.0.1"), 1000, ip("10.0.0.2"), 2000, b"example.com"),
    )


def test_an_empty_unique_id_is_sent_and_options_without_v2_are_v1() -> None:
    v2 = proxyproto.header(2, ip("1.1.1.1"), 1, ip("2.2.2.2"), 2, options=frozenset({"unique-id"}))
    assert v2.endswith(b"\x05\x00\x00")
    v1 = proxyproto.header(1, ip("1.1.1.1"), 1, ip("2.2.2.2"), 2, options=frozenset({"crc32c"}))
    assert v1 == b"PROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\n"


ADDRS = bytes([127, 0, 0, 1, 127, 0, 0, 1, 0, 42, 5, 57])


def _v2(body: bytes, fam: int = 0x11, cmd: int = 0x21) -> bytes:
    return proxyproto.SIGNATURE + bytes([cmd, fam]) + len(body).to_bytes(2, "big") + body


@pytest.mark.parametrize(
    "header",
    [
        _v2(ADDRS + b"\x02\x00\x0a12345"),  # a TLV past the header's end (the vtc's c3)
        _v2(ADDRS + b"\x02\x00\x04123"),  # not ending on a TLV boundary (c4)
        _v2(ADDRS + b"\x02\x00"),  # a TLV head cut
        _v2(ADDRS + b"\x03\x00\x03abc"),  # a CRC32C of 3 bytes
        _v2(ADDRS + b"\x03\x00\x04abcd"),  # a wrong CRC32C
        _v2(ADDRS + b"\x02\x01\x00" + b"a" * 256),  # authority > 255
        _v2(ADDRS + b"\x05\x00\x81" + b"a" * 129),  # unique id > 128
        _v2(ADDRS, fam=0x12),  # UDP: the PROXY command with another family
        _v2(b"", fam=0x00),
    ],
)
def test_bad_tlvs_and_other_families_are_refused(header: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        proxyproto.parse(header + b"GET")


def test_tlvs_after_the_header_are_the_clients_data() -> None:
    """The vtc's c2: bytes after the announced length are not read as TLVs."""
    header = _v2(ADDRS + b"\x02\x00\x0512345")
    used, addresses = proxyproto.parse(header + b"\x02\x00\x0554321")
    assert used == len(header)
    assert addresses is not None and addresses.authority == b"12345"


def test_unknown_tlvs_are_skipped_and_local_reads_none() -> None:
    _used, addresses = proxyproto.parse(_v2(ADDRS + b"\x04\x00\x02xy\xee\x00\x00"))
    assert addresses is not None and (addresses.authority, addresses.unique_id) == (None, None)
    local = _v2(ADDRS + b"\x03\x00\x03bad", cmd=0x20)  # LOCAL: TLVs are not even looked at
    assert proxyproto.parse(local) == (len(local), None)


@given(
    cmd=st.sampled_from([0x20, 0x21, 0x22, 0x31]),
    fam=st.sampled_from([0x00, 0x11, 0x12, 0x21, 0x31]),
    length=st.integers(0, 120),
    body=st.binary(max_size=120),
)
def test_any_v2_header_parses_or_is_refused(cmd: int, fam: int, length: int, body: bytes) -> None:
    """Network input: whatever follows the signature is a header, a wait for more, or a
    ProxyHeaderError (the connection is closed), never another exception."""
    data = proxyproto.SIGNATURE + bytes([cmd, fam]) + length.to_bytes(2, "big") + body
    try:
        used, _addresses = proxyproto.parse(data)
    except ProxyHeaderError:
        return
    assert used == NEED_MORE or used == 16 + length <= len(data)
