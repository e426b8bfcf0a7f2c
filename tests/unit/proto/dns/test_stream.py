"""proto/dns/stream.py: a TCP nameserver's sessions as HAProxy 2.6's DNS stream server runs
them: 2-byte framing, ids of the session's own, 4 queries pipelined per connection, idle
sessions reused, answers with unknown ids dropped, reconnection for the queries not yet
written, forgotten queries after 5 s, idle sessions closed by the 5 s check."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.proto.dns.stream import Close, Connect, DnsStream, Write


def _query(qid: int, body: bytes = b"\x01\x00\x00\x01") -> bytes:
    return struct.pack("!H", qid) + body


def _frames(data: bytes) -> list[bytes]:
    out = []
    while data:
        n = int.from_bytes(data[:2], "big")
        out.append(data[2 : 2 + n])
        data = data[2 + n :]
    return out


def _written(s: DnsStream, now: int) -> bytes:
    """The one write the stream has to do now."""
    (a,) = s.writes(now)
    assert isinstance(a, Write)
    return a.data


def _answer(msg: bytes, body: bytes = b"answer") -> bytes:
    """The server's answer to the written message `msg` (its id), framed."""
    reply = msg[:2] + body
    return len(reply).to_bytes(2, "big") + reply


def test_queries_wait_for_the_connection_then_go_with_new_ids() -> None:
    s = DnsStream(0)
    assert s.submit(_query(0xBEEF)) == [Connect(1)]
    assert s.submit(_query(0x1234)) == []  # same session: room for 4
    assert s.writes(0) == []  # not connected yet
    s.connected(1)
    (a,) = s.writes(10)
    assert isinstance(a, Write) and a.session == 1
    msgs = _frames(a.data)
    assert [m[:2] for m in msgs] == [b"\0\x01", b"\0\x02"]  # the session's ids, in order
    assert [m[2:] for m in msgs] == [b"\x01\x00\x00\x01"] * 2
    # answers come back under the resolver's ids, in whatever order, even cut anywhere
    data = _answer(msgs[1], b"two") + _answer(msgs[0], b"one")
    got = s.received(1, data[:3]) + s.received(1, data[3:9]) + s.received(1, data[9:])
    assert got == [b"\x12\x34two", b"\xbe\xefone"]
    assert s.idle == [s.sessions[1]] and s.idle_conns == 1


def test_unknown_ids_are_dropped_and_a_fifth_query_opens_a_session() -> None:
    s = DnsStream(0)
    for n in range(4):
        s.submit(_query(n))
    assert s.submit(_query(9)) == [Connect(2)]  # 4 pipelined: full
    s.connected(1)
    w = _written(s, 0)
    assert s.received(1, _answer(b"\x00\x63")) == []  # id 99: nobody's
    first = _frames(w)[0]
    assert s.received(1, _answer(first)) == [b"\0\0answer"]
    # the session just answered goes first in line (LIST_INSERT): it takes the next
    assert s.submit(_query(10)) == []
    assert s.sessions[1].nb_queries == 4 and s.sessions[2].nb_queries == 1


def test_idle_session_is_reused() -> None:
    s = DnsStream(0)
    s.submit(_query(1))
    s.connected(1)
    w = _written(s, 0)
    s.received(1, _answer(_frames(w)[0]))
    assert s.submit(_query(2)) == []  # the idle session takes it
    w = _written(s, 0)
    assert _frames(w)[0][:2] == b"\0\x02"


def test_server_close_reconnects_for_what_was_not_written() -> None:
    s = DnsStream(0)
    s.submit(_query(1))
    s.connected(1)
    s.writes(0)  # query 1 written
    s.submit(_query(2))  # query 2 waits: pretend the write is not done yet
    s.sessions[1].connected = False
    assert s.closed(1) == [Connect(1)]  # query 1 will never be answered; 2 goes again
    assert s.sessions[1].nb_queries == 1
    s.connected(1)
    w = _written(s, 0)
    assert _frames(w)[0][2:] == b"\x01\x00\x00\x01"
    # every query written: the session is simply dropped; so is an idle one
    assert s.closed(1) == [] and not s.sessions
    s.submit(_query(3))
    s.connected(2)
    w = _written(s, 0)
    s.received(2, _answer(_frames(w)[0]))
    assert s.closed(2) == [] and s.idle_conns == 0 and not s.idle


def test_unanswered_queries_are_forgotten_after_5s() -> None:
    s = DnsStream(0)
    s.submit(_query(1))
    s.connected(1)
    w = _written(s, 100)
    assert s.next_wakeup() == 5000  # the idle check comes first
    s.tick(5000)
    assert s.sessions[1].onfly  # written at 100: until 5100
    s.tick(5100)
    assert not s.sessions[1].onfly
    assert s.received(1, _answer(_frames(w)[0])) == []  # too late
    assert s.sessions[1].nb_queries == 1  # the slot stays taken, as HAProxy's does


def test_idle_check_closes_idle_sessions_when_activity_fell() -> None:
    s = DnsStream(0)
    for n in range(5):
        s.submit(_query(n))  # two sessions
    for sid in (1, 2):
        s.connected(sid)
    writes = {a.session: a.data for a in s.writes(0) if isinstance(a, Write)}
    for sid, data in writes.items():
        for msg in _frames(data):
            s.received(sid, _answer(msg))
    assert s.idle_conns == 2
    s.max_active = 2  # as the previous check saw it
    assert sorted(a.session for a in s.tick(5000) if isinstance(a, Close)) == [1, 2]
    # a single idle session stays: (1 - 0) / 2 is 0
    s2 = DnsStream(0)
    s2.submit(_query(1))
    s2.connected(1)
    w = _written(s2, 0)
    s2.received(1, _answer(_frames(w)[0]))
    s2.submit(_query(2))
    w = _written(s2, 0)
    s2.received(1, _answer(_frames(w)[0]))
    assert s2.tick(5000) == [] and s2.tick(10000) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_any_bytes_from_the_server(chunks: list[bytes]) -> None:
    """Whatever the server sends, cut anywhere: only answers to written queries come out,
    each once, under the resolver's id."""
    s = DnsStream(0)
    for n in range(3):
        s.submit(_query(0x100 + n))
    s.connected(1)
    s.writes(0)
    seen: list[bytes] = []
    for c in chunks:
        seen += s.received(1, c)
    assert len(seen) <= 3
    assert all(len(m) >= 2 and int.from_bytes(m[:2], "big") in (0x100, 0x101, 0x102) for m in seen)


def test_maxconn_sessions_busy_the_query_fails() -> None:
    s = DnsStream(0, maxconn=1)
    for n in range(4):
        assert s.submit(_query(n)) is not None
    assert s.submit(_query(9)) is None  # 4 pipelined on the only session allowed: snd_error
