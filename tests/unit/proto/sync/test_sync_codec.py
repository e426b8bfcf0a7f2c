"""The sync codec against the kernel's own messages (tests/data/sync/*.pcap, see its README)
and against hand-made framing errors; decoding is fuzzed never to raise."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.model.service import Address
from pylvs.proto.sync import codec
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Builder, Drop, decode, encode
from tests.unit.proto.sync.sync_pcap import DATA, datagrams

PCAPS = sorted(p.name for p in DATA.glob("*.pcap"))
CAPTURED = [(name, i, d.payload) for name in PCAPS for i, d in enumerate(datagrams(name))]


def records(name: str) -> list[w.SyncConn]:
    out: list[w.SyncConn] = []
    for d in datagrams(name):
        decoded = decode(d.payload)
        assert isinstance(decoded, codec.Decoded)
        out.extend(decoded.conns)
    return out


def test_every_scenario_was_captured() -> None:
    assert len(PCAPS) == 16
    assert all(datagrams(name) for name in PCAPS)


@pytest.mark.parametrize(("name", "index", "payload"), CAPTURED, ids=lambda v: str(v)[:20])
def test_kernel_messages_decode_and_encode_back_byte_for_byte(
    name: str, index: int, payload: bytes
) -> None:
    decoded = decode(payload)
    assert isinstance(decoded, codec.Decoded)
    assert decoded.problems == ()
    assert decoded.header.syncid == 9
    assert len(decoded.conns) == decoded.header.nr_conns
    assert decoded.header.version == (0 if name.startswith("v0") else 1)
    message = w.SyncMessage(decoded.header.version, decoded.header.syncid, decoded.conns)
    assert encode(message) == payload


def test_datagrams_go_to_the_group_with_ttl_1() -> None:
    for name in PCAPS:
        for d in datagrams(name):
            assert d.ttl == 1
            if name == "v1-tcp6-group6.pcap":
                assert (str(d.dst), d.dport) == ("ff02::81", 8850)
            else:
                assert (str(d.dst), d.dport) == ("224.0.0.81", 8848)


def test_v1_ipv4_connection_record() -> None:
    first = records("v1-tcp4-nat.pcap")[0]
    assert (first.protocol, str(first.caddr), str(first.vaddr), first.vport) == (
        6,
        "10.0.0.2",
        "10.0.0.100",
        80,
    )
    assert (first.flags, first.state, first.timeout, first.fwmark) == (0, 1, 900, 0)
    # ESTABLISHED (active, 900 s), then CLOSE_WAIT and TIME_WAIT (inactive, 60 s / 120 s)
    states = {(c.state, c.flags, c.timeout) for c in records("v1-tcp4-nat.pcap")}
    assert states == {(1, 0, 900), (7, w.F_INACTIVE, 60), (5, w.F_INACTIVE, 120)}


def test_v1_ipv6_records_are_72_bytes() -> None:
    payload = datagrams("v1-tcp6-nat.pcap")[0].payload
    conns = records("v1-tcp6-nat.pcap")
    assert all(c.af == 6 and str(c.vaddr) == "fd00::100" for c in conns)
    assert len(payload) == w.V1_HEADER + 72 * len(conns)
    assert payload[w.V1_HEADER] == w.STYPE_F_INET6


def test_v0_records_carry_no_timeout_and_16_bit_flags() -> None:
    payload = datagrams("v0-tcp4-nat.pcap")[0].payload
    conns = records("v0-tcp4-nat.pcap")
    assert len(payload) == w.V0_HEADER + 24 * len(conns)
    assert payload[0] == len(conns)  # v0: the first byte is nr_conns
    assert {c.timeout for c in conns} == {0}


def test_templates_of_a_persistent_service() -> None:
    conns = records("v1-persist.pcap")
    templates = [c for c in conns if c.template]
    assert {(c.cport, c.flags, c.timeout) for c in templates} == {
        (0, w.F_TEMPLATE | w.F_INACTIVE, 60)
    }
    # the first packet of a client syncs its template before it is ASSURED
    assert conns[0].template and conns[0].state == 0
    assert conns[1].template and conns[1].state == 1


def test_fwmark_template_has_protocol_0_and_the_mark_as_vaddr() -> None:
    template = records("v1-fwmark-persist.pcap")[0]
    assert template.template
    assert (template.protocol, str(template.vaddr), template.vport, template.dport) == (
        0,
        "0.0.0.1",
        0,
        0,
    )
    assert template.fwmark == 1
    assert {c.fwmark for c in records("v1-fwmark-persist.pcap")} == {1}


def test_dr_records_carry_the_forwarding_method() -> None:
    assert {c.flags & w.F_FWD_MASK for c in records("v1-dr.pcap")} == {w.F_DROUTE}


def test_one_packet_scheduling_syncs_only_templates() -> None:
    conns = records("v1-ops.pcap")
    assert conns and all(c.template and c.cport == 0 for c in conns)


def test_persist_mode_syncs_only_templates() -> None:
    conns = records("v1-persist-mode.pcap")
    assert conns and all(c.template for c in conns)


def test_sip_templates_carry_pe_data_and_name_with_padding() -> None:
    payload = datagrams("v1-sip-pe.pcap")[0].payload
    conns = records("v1-sip-pe.pcap")
    calls = {c.pe_data for c in conns if c.template}
    assert calls == {b"a84b4c76e66710@pc33.example.com", b"x1"}
    assert {c.pe_name for c in conns if c.template} == {b"sip"}
    # 36 + 2 + 31 + 2 + 3 = 74 bytes: the next record starts 2 zero bytes later
    first = codec.record_v1(conns[0])
    assert len(first) == 74
    assert payload[8 + 74 : 8 + 76] == b"\x00\x00"
    assert struct.unpack_from("!H", payload, 8 + 2)[0] == 74


def test_udp_connections_are_synced_once_at_the_third_packet() -> None:
    conns = records("v1-udp.pcap")
    assert len(conns) == 3  # three flows of 4 datagrams; the flow of 2 never reached 3
    assert {(c.protocol, c.state, c.timeout, c.flags) for c in conns} == {
        (17, 0, 300, w.F_INACTIVE)
    }


def test_sync_period_10_resends_at_packets_13_and_23() -> None:
    established = [c for c in records("v1-period.pcap") if c.state == w.TCP_S_ESTABLISHED]
    assert len(established) == 3


@pytest.mark.parametrize(
    ("name", "maxlen", "per_message"),
    [("v1-maxlen.pcap", 200, 5), ("v1-many.pcap", 1472, 40), ("v0-many.pcap", 1472, 61)],
)
def test_builder_fills_messages_as_the_kernel(name: str, maxlen: int, per_message: int) -> None:
    """From the first full message on (the ones before were sent by the 2 s flush while the
    VM opened connections slowly), re-packing the records with the same maxlen gives the
    kernel's datagrams."""
    record = 24 if name.startswith("v0") else 36
    payloads = [d.payload for d in datagrams(name)]
    first = next(i for i, p in enumerate(payloads) if len(p) + record > maxlen)
    sent = payloads[first:]
    assert len(sent) >= 2
    version = 0 if name.startswith("v0") else 1
    conns: list[w.SyncConn] = []
    for payload in sent:
        decoded = decode(payload)
        assert isinstance(decoded, codec.Decoded)
        conns.extend(decoded.conns)
    rebuilt: list[bytes] = []
    builder = Builder(version, 9, maxlen)
    for conn in conns:
        data = builder.record(conn)
        if not builder.fits(data):
            rebuilt.append(builder.message())
            builder = Builder(version, 9, maxlen)
        builder.add(data)
    rebuilt.append(builder.message())
    assert rebuilt == sent
    message = decode(sent[0])
    assert isinstance(message, codec.Decoded) and message.header.nr_conns == per_message


# -- hand-made messages ----------------------------------------------------------------

A = ipaddress.ip_address


def conn(**kw: object) -> w.SyncConn:
    base: dict[str, object] = {
        "protocol": 6,
        "caddr": A("10.0.0.7"),
        "cport": 4000,
        "vaddr": A("10.0.0.100"),
        "vport": 80,
        "daddr": A("10.0.1.2"),
        "dport": 80,
        "state": 1,
        "timeout": 900,
    }
    base.update(kw)
    return w.SyncConn(**base)  # type: ignore[arg-type]


def test_v0_sequence_options_are_in_host_order_after_the_record() -> None:
    seq = (w.Seq(1, 2, 3), w.Seq(4, 5, 6))
    data = encode(w.SyncMessage(0, 1, (conn(flags=w.F_IN_SEQ, seq=seq, timeout=0),)))
    assert len(data) == 4 + 48
    assert data[4 + 24 :] == struct.pack("<6I", 1, 2, 3, 4, 5, 6)
    decoded = decode(data)
    assert isinstance(decoded, codec.Decoded)
    assert decoded.conns[0].seq == seq


def test_v1_sequence_option_is_network_order() -> None:
    seq = (w.Seq(1, 2, 3), w.Seq(4, 5, 0xFFFFFFFF))
    record = codec.record_v1(conn(flags=w.F_OUT_SEQ, seq=seq))
    assert record[36:38] == bytes((w.OPT_SEQ_DATA, 24))
    assert record[38:] == struct.pack("!6I", 1, 2, 3, 4, 5, 0xFFFFFFFF)
    assert struct.unpack_from("!H", record, 2)[0] == 36 + 26


def test_a_record_larger_than_maxlen_goes_alone() -> None:
    builder = Builder(1, 0, 20)
    data = builder.record(conn())
    assert builder.fits(data)
    builder.add(data)
    assert not builder.fits(data)
    assert len(builder.message()) == 44


def test_builder_closes_at_255_records() -> None:
    builder = Builder(1, 0, 65507)
    data = builder.record(conn())
    for _ in range(255):
        assert builder.fits(data)
        builder.add(data)
    assert not builder.fits(data)
    assert builder.message()[4] == 255


def test_header_refusals() -> None:
    assert decode(b"\x00\x01") is Drop.SHORT_HEADER
    good = encode(w.SyncMessage(1, 3, (conn(),)))
    assert decode(good + b"\x00") is Drop.BAD_SIZE
    assert decode(good[:-1]) is Drop.BAD_SIZE


@pytest.mark.parametrize(
    ("mutate", "kept", "problems"),
    [
        (lambda r: r[:2] + struct.pack("!H", 0x1000 | 36) + r[4:], 1, [Drop.RECORD_VERSION]),
        (lambda r: b"\x04" + r[1:], 1, [Drop.RECORD_TYPE]),
        (lambda r: b"\x01" + r[1:], 1, [Drop.RECORD_SHORT]),
        (lambda r: r[:1] + b"\x63" + r[2:], 2, [Drop.PROTOCOL]),
        (lambda r: r[:8] + b"\x00\x0b" + r[10:], 2, [Drop.STATE]),
    ],
)
def test_record_refusals(mutate: object, kept: int, problems: list[Drop]) -> None:
    records_ = [codec.record_v1(conn(cport=p)) for p in (1, 2, 3)]
    records_[1] = mutate(records_[1])  # type: ignore[operator]
    body = b"".join(records_)
    data = struct.pack("!BBHBbH", 0, 0, 8 + len(body), 3, 1, 0) + body
    decoded = decode(data)
    assert isinstance(decoded, codec.Decoded)
    assert len(decoded.conns) == kept
    assert list(decoded.problems) == problems


def test_a_template_with_an_unknown_state_is_skipped() -> None:
    """crafted.json "template": kernel 6.1.192 drops a template whose state is >= 2."""
    data = encode(w.SyncMessage(1, 0, (conn(cport=0, flags=w.F_TEMPLATE, state=2), conn())))
    decoded = decode(data)
    assert isinstance(decoded, codec.Decoded)
    assert decoded.problems == (Drop.STATE,) and len(decoded.conns) == 1


def test_version_0_refuses_ipv6_and_wide_flags() -> None:
    with pytest.raises(w.SyncError):
        codec.record_v0(conn(caddr=A("::1"), vaddr=A("::2"), daddr=A("::3")))
    with pytest.raises(w.SyncError):
        codec.record_v0(conn(flags=w.F_NFCT))


def test_invalid_records_cannot_be_built() -> None:
    with pytest.raises(w.SyncError):
        conn(caddr=A("::1"))
    with pytest.raises(w.SyncError):
        conn(cport=70000)
    with pytest.raises(w.SyncError):
        conn(pe_name=b"sip")
    with pytest.raises(w.SyncError):
        w.SyncMessage(2, 0, ())


# -- fuzz ---------------------------------------------------------------------------------

addresses4 = st.builds(ipaddress.IPv4Address, st.integers(0, 2**32 - 1))
addresses6 = st.builds(ipaddress.IPv6Address, st.integers(0, 2**128 - 1))
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
seqs = st.builds(w.Seq, u32, u32, u32)


@st.composite
def sync_conns(draw: st.DrawFn, version: int) -> w.SyncConn:
    addrs: st.SearchStrategy[Address] = (
        addresses4 if version == 0 or draw(st.booleans()) else addresses6
    )
    protocol = draw(st.sampled_from([6, 17, 132]))
    flags = draw(u16 if version == 0 else u32)
    template = bool(flags & w.F_TEMPLATE)
    states = w.NUM_STATES[protocol]
    seq = None
    if version == 0:
        if flags & w.F_SEQ_MASK:
            seq = (draw(seqs), draw(seqs))
    elif draw(st.booleans()):
        seq = (draw(seqs), draw(seqs))
    pe_data = b"" if version == 0 else draw(st.binary(max_size=255))
    return w.SyncConn(
        protocol=protocol,
        caddr=draw(addrs),
        cport=draw(u16),
        vaddr=draw(addrs),
        vport=draw(u16),
        daddr=draw(addrs),
        dport=draw(u16),
        flags=flags,
        state=draw(st.integers(0, 1) if template else st.integers(0, states - 1)),
        timeout=0 if version == 0 else draw(u32),
        fwmark=0 if version == 0 else draw(u32),
        seq=seq,
        pe_data=pe_data,
        pe_name=draw(st.binary(min_size=1, max_size=16)) if pe_data else b"",
    )


@st.composite
def messages(draw: st.DrawFn) -> w.SyncMessage:
    version = draw(st.sampled_from([0, 1]))
    conns = draw(st.lists(sync_conns(version), max_size=6))
    return w.SyncMessage(version, draw(st.integers(0, 255)), tuple(conns))


@given(messages())
@settings(max_examples=300, deadline=None)
def test_encode_decode_round_trip(message: w.SyncMessage) -> None:
    data = encode(message)
    decoded = decode(data)
    assert isinstance(decoded, codec.Decoded)
    if message.version == 0 and message.conns:
        # v0: the first byte is nr_conns; a v1 reader would see a v1 header only if it were 0
        assert data[0] == len(message.conns)
    assert decoded.problems == ()
    assert decoded.conns == message.conns


@given(st.binary(max_size=600))
@settings(max_examples=500, deadline=None)
def test_decoding_arbitrary_bytes_never_raises(data: bytes) -> None:
    result = decode(data)
    assert isinstance(result, Drop | codec.Decoded)


@given(st.sampled_from(CAPTURED), st.data())
@settings(max_examples=400, deadline=None)
def test_decoding_damaged_kernel_messages_never_raises(
    captured: object, data: st.DataObject
) -> None:
    payload = bytearray(captured[2])  # type: ignore[index]
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(payload) - 1))
        payload[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    fixed_size = data.draw(st.booleans())
    raw = bytes(payload[:cut] if data.draw(st.booleans()) else payload)
    if fixed_size and len(raw) >= 4:
        raw = raw[:2] + struct.pack("!H", len(raw)) + raw[4:]
    result = decode(raw)
    if isinstance(result, codec.Decoded):
        for c in result.conns:  # whatever was taken can be sent again
            assert codec.record_v1(c)
