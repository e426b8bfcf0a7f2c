"""A body handed over to the relay's C path and back (Framer.handover / Framer.passed): when
the framer lets a body go, and how it goes on from what the C path reports."""

from __future__ import annotations

from pylvs.proto.http.events import (
    MESSAGE_ENDED,
    MESSAGE_TRUNCATED,
    HeadReceived,
    MessageRejected,
    TrailersReceived,
)
from pylvs.proto.http.framer import Framer, Phase
from pylvs.proto.relay.body import BodyCut, ChunkRefused, ChunksRelayed, Relayed
from pylvs.proto.relay.events import Side

POST = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
CHUNKED = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"


def test_a_length_body_goes_once_nothing_is_held_and_ends_with_its_budget() -> None:
    f = Framer(request=True)
    assert f.handover() is None  # no head yet
    events = f.feed(POST + b"abc")
    assert isinstance(events[0], HeadReceived)
    assert f.handover() == (Phase.LENGTH, 7)
    assert f.passed(Relayed(Side.CLIENT, 7)) == [MESSAGE_ENDED]
    assert f.handover() is None
    # what follows is the next message, framed again by Python
    f.feed(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    events = f.next_message()
    assert isinstance(events[0], HeadReceived)


def test_a_partial_budget_leaves_the_rest_to_count() -> None:
    f = Framer(request=True)
    f.feed(POST)
    assert f.passed(Relayed(Side.CLIENT, 4)) == []
    assert f.handover() == (Phase.LENGTH, 6)


def test_a_chunked_body_goes_at_a_size_line_or_inside_a_chunk_not_before_its_crlf() -> None:
    f = Framer(request=True)
    f.feed(CHUNKED)
    assert f.handover() == (Phase.CHUNKED, 0)
    f.feed(b"a\r\n0123")
    assert f.handover() == (Phase.CHUNKED, 6)  # 6 data bytes of this chunk to come
    f.feed(b"456789")
    assert f.handover() is None  # its CRLF is Python's to read: the chunk was written whole
    f.feed(b"\r")
    assert f.handover() is None  # the CR is held until its LF
    f.feed(b"\n")
    assert f.handover() == (Phase.CHUNKED, 0)


def test_the_trailer_block_comes_back_for_the_field_rules() -> None:
    f = Framer(request=True)
    f.feed(CHUNKED)
    events = f.passed(ChunksRelayed(Side.CLIENT, 30, 10, b"X-Sum: 10\r\n\r\n"))
    assert events == [TrailersReceived(((b"x-sum", b"10"),)), MESSAGE_ENDED]
    f = Framer(request=True)
    f.feed(CHUNKED)
    assert f.passed(ChunksRelayed(Side.CLIENT, 5, 0, b"\r\n")) == [MESSAGE_ENDED]


def test_a_trailer_block_the_rules_refuse_or_cut_at_the_cap_is_a_400() -> None:
    for block in (b"bad field\r\n\r\n", b"x-a: " + b"b" * 20000):
        f = Framer(request=True)
        f.feed(CHUNKED)
        events = f.passed(ChunksRelayed(Side.CLIENT, 30, 10, block))
        assert len(events) == 1 and isinstance(events[0], MessageRejected), block
        assert events[0].refusal.status == 400


def test_a_refused_chunk_is_a_400_for_a_request_a_502_for_a_response() -> None:
    f = Framer(request=True)
    f.feed(CHUNKED)
    events = f.passed(ChunkRefused(Side.CLIENT, 12, 12))
    assert isinstance(events[0], MessageRejected) and events[0].refusal.status == 400
    r = Framer(request=False)
    r.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    events = r.passed(ChunkRefused(Side.SERVER, 3, 3))
    assert isinstance(events[0], MessageRejected) and events[0].refusal.status == 502


def test_a_body_cut_by_the_peer_is_truncated() -> None:
    f = Framer(request=True)
    f.feed(POST)
    assert f.passed(BodyCut(Side.CLIENT, 3, 3)) == [MESSAGE_TRUNCATED]
    assert f.phase is Phase.DEAD


def test_a_response_until_close_goes_as_it_comes() -> None:
    r = Framer(request=False)
    r.feed(b"HTTP/1.0 200 OK\r\n\r\n")
    assert r.handover() == (Phase.UNTIL_CLOSE, 0)
    assert r.feed_eof() == [MESSAGE_ENDED]
