"""Fuzz the peers protocol's session (issue 20, the peers protocol): whatever a peer sends --
before, during or after the handshake, whole or cut anywhere, valid messages mixed with
garbage -- the session answers with bytes or ends (a protocol or size error, counted), never
raises, and a session that ended stays ended.  Messages near the real ones (a definition, an
update for it, acks, controls) are mixed in so that the update decoder is reached."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.proto.peers import wire
from pylvs.proto.peers.session import END, PeerSession
from pylvs.proto.peers.state import Peer
from pylvs.proto.peers.sync import PeersSection
from pylvs.proto.peers.tables import define
from pylvs.proto.stick import StickTable, parse_stick_table

_WORDS = ["type", "string", "size", "100", "expire", "1m", "peers", "mesh"]
_STORE = ["store", "gpc0,conn_rate(10s),http_req_cnt,server_key"]


def _section() -> PeersSection:
    table = StickTable(parse_stick_table("web", [*_WORDS, *_STORE]).with_data("server_id"))
    peers = [Peer("B", True, "127.0.0.1", 2), Peer("A", False, "127.0.0.1", 1)]
    return PeersSection("mesh", "B", peers, [table], pid=1, rng=random.Random(0))


_HELLO = b"HAProxyS 2.1\nB\nA 1 1\n"
_TABLE = StickTable(parse_stick_table("web", [*_WORDS, *_STORE]).with_data("server_id"))
_PIECES = [
    _HELLO,
    define(1, _TABLE),
    wire.message(wire.CLASS_STICKTABLE, wire.UPDATE, b"\x00\x00\x00\x07\x03abc\x01\x02"),
    wire.message(wire.CLASS_STICKTABLE, wire.INCUPDATE_TIMED, b"\x00\x00\x01\x00\x01x"),
    wire.ack(1, 5),
    wire.switch(1),
    wire.control(wire.RESYNC_REQ),
    wire.control(wire.RESYNC_FINISHED),
    wire.control(wire.RESYNC_CONFIRM),
    wire.control(wire.HEARTBEAT),
]
_chunks = st.one_of(st.sampled_from(_PIECES), st.binary(max_size=40))


@settings(max_examples=300, deadline=None)
@given(st.lists(_chunks, max_size=12), st.integers(1, 7))
def test_anything_a_peer_sends_is_answered_or_ends_the_session(
    chunks: list[bytes], cut: int
) -> None:
    section = _section()
    session = PeerSession(section)
    data = b"".join(chunks)
    now = 0
    for i in range(0, len(data), cut):
        now += 1
        ended = session.st0 == END
        session.received(data[i : i + cut], now)
        assert not ended or session.st0 == END
        section.tick(now)
    session.closed(now)
    section.tick(now + 10_000)  # the peer may be connected again: no leftovers break it
