"""Fuzz proto/dns: whatever a nameserver sends (random bytes, or a valid answer cut, flipped
or stretched anywhere), `validate` returns a verdict and a section's resolutions count the
datagram under one of `show resolvers`' counters, never raising."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.model.resolvers import NameserverSpec, ResolveOptions, ResolversSpec
from pylvs.proto.dns import wire
from pylvs.proto.dns.answers import Owner
from pylvs.proto.dns.events import Send, State
from pylvs.proto.dns.resolution import Resolvers

APP = b"\x03app\x04test"
VERDICTS = {
    wire.VALID,
    wire.INVALID,
    wire.NX,
    wire.REFUSED,
    wire.ANCOUNT_ZERO,
    wire.CNAME_ERROR,
    wire.TRUNCATED,
    wire.OTHER,
}


def _valid(qid: int) -> bytes:
    cname = b"\x03web\x04test"
    answers = [(APP, wire.CNAME, cname + b"\0"), (cname, wire.A, b"\x0a\0\0\x01")]
    return wire.response(qid, APP, wire.A, answers)


def _mutated(data: st.DataObject, message: bytes) -> bytes:
    """`message` with 1 to 4 bytes flipped, cut or inserted anywhere."""
    msg = bytearray(message)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(msg) - 1))
        how = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip":
            msg[at] = data.draw(st.integers(0, 255))
        elif how == "cut":
            del msg[at:]
            if not msg:
                break
        else:
            msg[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    return bytes(msg)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    assert wire.validate(data, APP, 84).verdict in VERDICTS


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_answers(data: st.DataObject) -> None:
    msg = _mutated(data, _valid(0x1234))
    got = wire.validate(msg, APP, 84)
    assert got.verdict in VERDICTS
    for r in got.records:
        assert r.address is not None or r.target


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6))
def test_section_counts_every_datagram(datagrams: list[bytes]) -> None:
    spec = ResolversSpec("dns", (NameserverSpec("ns1", "127.0.0.1", 53),))
    engine = Resolvers(spec, lambda owner: State(None, True))
    engine.link(Owner("be", "s1"), "app.test", ResolveOptions("dns", prefer="ipv4"), 0)
    sends = [e for e in engine.tick(0) if isinstance(e, Send)]
    qid = wire.query_id(sends[0].data) or 0
    fates = (
        *("valid", "any_err", "nx", "refused", "other"),
        *("invalid", "too_big", "truncated", "outdated", "cname_error"),
    )
    for n, raw in enumerate(datagrams):
        before = sum(engine.counters[0][k] for k in fates)
        d = struct.pack("!H", qid) + raw[2:] if raw[:1] == b"\0" and len(raw) >= 2 else raw
        engine.receive(0, d, 10 + n)  # some carry the pending id
        assert sum(engine.counters[0][k] for k in fates) == before + 1


SRV_NAME = b"\x05_http\x04_tcp\x03app\x04test"


def _valid_srv(qid: int) -> bytes:
    target = b"\x02a1\x04test"
    data = struct.pack("!HHH", 0, 10, 8080) + target + b"\0"
    msg = bytearray(wire.response(qid, SRV_NAME, wire.SRV, [(SRV_NAME, wire.SRV, data)]))
    struct.pack_into("!HH", msg, 8, 1, 1)  # one authority record, one additional
    msg += target + b"\0" + struct.pack("!HHIH", 2, 1, 1, 3) + b"\x01n\0"
    msg += target + b"\0" + struct.pack("!HHIH", wire.A, 1, 1, 4) + b"\x0a\0\0\x01"
    return bytes(msg)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_srv_answers(data: st.DataObject) -> None:
    """An SRV answer with authority and additional records, cut, flipped or stretched: a
    verdict, SRV records with a target, additional records with an owner and an address."""
    assert wire.validate(_valid_srv(1), SRV_NAME, 84).additional
    msg = _mutated(data, _valid_srv(0x1234))
    got = wire.validate(msg, SRV_NAME, 84)
    assert got.verdict in VERDICTS
    for r in got.records:
        assert r.type != wire.SRV or r.target
    for r in got.additional:
        assert r.name and r.address is not None
