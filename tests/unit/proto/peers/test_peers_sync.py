"""proto/peers's session and section machines, two or three processes wired in memory.

Each test builds PeersSections as two haproxy processes would have them (a `peers` section
with A and B, a shared `stick-table type string` storing server_id and server_key), passes
the bytes one session writes to the other's `received`, and runs the sections' tasks at
explicit times (ms): no sockets, no sleeps.  What HAProxy 2.6's src/peers.c does is the
expectation: the handshake, a learnt entry's data, acks, the resync at start (a fresh
process asks a connected peer, which answers "partial" when it is fresh too), heartbeats
every 3 s, a silent peer cut after a reconnect period, a connection collision, the lesson
an old process teaches the new one on a reload, and garbage cut off and counted.
"""

from __future__ import annotations

import random

import pytest

from pylvs.proto.peers import state as ps
from pylvs.proto.peers import wire
from pylvs.proto.peers.session import END, WAITMSG, PeerSession
from pylvs.proto.peers.state import Peer
from pylvs.proto.peers.sync import PeersSection
from pylvs.proto.stick import StickTable, parse_stick_table
from pylvs.proto.stick.table import Entry


def _table() -> StickTable:
    spec = parse_stick_table(
        "web", ["type", "string", "size", "100", "expire", "60s", "peers", "mesh"]
    )
    return StickTable(spec.with_data("server_id", "server_key"))


class Host:
    """One process: its section (peers A and B, `me` local) and its table."""

    def __init__(self, me: str, *, old_process: bool = False) -> None:
        self.table = _table()
        peers = [Peer(name, name == me, "127.0.0.1", 1000 + ord(name)) for name in "BA"]
        self.section = PeersSection(
            "mesh", me, peers, [self.table], pid=42, rng=random.Random(1),
            old_process=old_process,
        )  # fmt: skip

    def store(self, key: bytes, server: str, sid: int, now_ms: int) -> Entry:
        entry = self.table.get_entry(key, now_ms / 1000)
        assert entry is not None
        entry.set("server_id", sid)
        entry.set("server_key", server)
        self.table.touch(entry, now_ms / 1000)
        return entry

    def get(self, key: bytes, now_ms: int) -> tuple[object, object] | None:
        entry = self.table.lookup(key, now_ms / 1000)
        if entry is None:
            return None
        return entry.get("server_id"), entry.get("server_key")


def _pump(a: PeerSession, b: PeerSession, now: int) -> None:
    """Carry the bytes both ways until neither has anything to say."""
    for _ in range(50):
        if not a.out and not b.out:
            return
        if a.out:
            data, a.out = bytes(a.out), bytearray()
            b.received(data, now)
        if b.out:
            data, b.out = bytes(b.out), bytearray()
            a.received(data, now)
    raise AssertionError("the sessions never went quiet")


def _connect(client: Host, server: Host, now: int) -> tuple[PeerSession, PeerSession]:
    """`client`'s task connects to `server`: the session it asks for, and the accepted one
    (both tasks have run first, as HAProxy's run at start)."""
    server.section.tick(now)
    server.section.new_sessions.clear()
    client.section.tick(now)
    outgoing = client.section.new_sessions.pop()
    client.section.new_sessions.clear()
    accepted = PeerSession(server.section)
    outgoing.connected(now)
    _pump(outgoing, accepted, now)
    return outgoing, accepted


def _tick(hosts: list[Host], sessions: tuple[PeerSession, PeerSession], now: int) -> None:
    for h in hosts:
        h.section.tick(now)
        h.section.new_sessions.clear()
    _pump(*sessions, now)


def test_a_stored_entry_reaches_the_other_process_with_its_server_and_is_acked() -> None:
    a, b = Host("A"), Host("B")
    out, acc = _connect(a, b, 0)
    assert out.st0 == acc.st0 == WAITMSG
    a.store(b"c1", "srv1", 1, 10)
    _tick([a, b], (out, acc), 10)
    assert b.get(b"c1", 10) == (1, "srv1")
    st_a = a.section.peer("B").tables[0]  # type: ignore[union-attr]
    assert st_a.update == a.table.localupdate  # B acknowledged A's update
    b.store(b"c2", "srv2", 2, 20)
    _tick([a, b], (out, acc), 20)
    assert a.get(b"c2", 20) == (2, "srv2")
    # a learnt entry is not sent back (it sits in the far half of the update ids)
    assert not acc.out and not out.out


def test_a_fresh_process_asks_for_a_resync_and_a_fresh_teacher_says_partial() -> None:
    a, b = Host("A"), Host("B")
    a.store(b"old", "srv1", 1, 0)  # A knew something before B came
    b.section.tick(0)  # no old process: B goes straight to learning from remotes
    assert b.section.flags & ps.STATEMASK == ps.FROMREMOTE
    a.section.tick(0)
    out, acc = _connect(b, a, 1)
    _tick([a, b], (out, acc), 2)
    assert b.get(b"old", 2) == (1, "srv1")  # the full lesson
    # A had not finished its own resync: "partial", so B keeps waiting for a better one
    assert b.section.flags & ps.RESYNC_REMOTEPARTIAL
    assert b.section.peer("A").flags & ps.LEARN_NOTUP2DATE  # type: ignore[union-attr]
    # nobody better comes within 5 s: B takes what it has as complete
    _tick([a, b], (out, acc), 5100)
    assert b.section.flags & ps.STATEMASK == ps.FINISHED


def test_heartbeats_every_three_seconds_and_a_silent_peer_is_cut() -> None:
    a, b = Host("A"), Host("B")
    out, acc = _connect(a, b, 0)
    _tick([a, b], (out, acc), 3000)
    peer_b = a.section.peer("B")
    assert peer_b is not None and peer_b.tx_hbt == 1
    assert b.section.peer("A").rx_hbt == 1  # type: ignore[union-attr]
    # B goes silent (its bytes are lost): after a reconnect period without anything from
    # it, A cuts the session and counts it
    for now in range(3000, 12001, 500):
        a.section.tick(now)
        out.out.clear()
        if peer_b.no_hbt:
            break
    assert peer_b.no_hbt == 1 and now > 8000
    assert out.st0 == END and peer_b.session is None


def test_a_collision_keeps_the_newest_connection_and_counts_it() -> None:
    a, b = Host("A"), Host("B")
    b.section.tick(0)
    b_out = b.section.new_sessions.pop()  # B is connecting to A...
    a_out, b_acc = _connect(a, b, 0)  # ...when A's connection to B is accepted
    peer_a = b.section.peer("A")
    assert peer_a is not None and peer_a.coll == 1 and peer_a.session is b_acc
    b_out.connected(1)  # B's own connect succeeds late: it is not the peer's any more
    assert b_out.st0 == END and not b_out.out
    assert a_out.st0 == b_acc.st0 == WAITMSG


def test_an_old_process_teaches_the_new_one_everything_on_a_reload() -> None:
    old = Host("A")
    for now in (0, 5100):  # long up: its own resync is over (nobody answered in time)
        old.section.tick(now)
    old.section.new_sessions.clear()
    assert old.section.flags & ps.STATEMASK == ps.FINISHED
    for i in range(5):
        old.store(b"k%d" % i, "srv%d" % i, i, 5200)
    new = Host("A", old_process=True)
    new.section.tick(0)
    assert new.section.flags & ps.STATEMASK == ps.FROMLOCAL  # it waits for the old one
    old.section.soft_stop()
    old.section.tick(10)
    [session] = old.section.new_sessions  # the old one connects to its own address
    assert session.peer is old.section.local
    accepted = PeerSession(new.section)
    session.connected(10)
    _pump(session, accepted, 10)
    for i in range(5):
        assert new.get(b"k%d" % i, 10) == (i, "srv%d" % i)
    assert new.section.flags & ps.STATEMASK == ps.FINISHED
    assert new.section.flags & ps.RESYNC_LOCALFINISHED
    old.section.tick(11)
    assert old.section.may_stop  # the new process confirmed: the old one may go


@pytest.mark.parametrize(
    "garbage",
    [
        b"\xff\x00",  # the reserved class
        b"\x0a\x80\xff\xff\xff\xff\xff\xff",  # a length that no varint of 32 bits has
        b"\x0a\x82\x03\x01\x02\x03",  # a definition cut short
        b"\x0a\x83",  # a switch without its length
    ],
)
def test_garbage_cuts_the_connection_off_and_is_counted(garbage: bytes) -> None:
    a, b = Host("A"), Host("B")
    out, acc = _connect(a, b, 0)
    acc.received(garbage + b"\x00\x00", 1)
    if acc.st0 != END:  # a message still incomplete: the rest never comes
        acc.received(b"\x00" * 8, 1)
    assert acc.st0 == END
    assert acc.out.endswith(wire.error(wire.ERR_PROTOCOL)) or acc.st0 == END
    peer_a = b.section.peer("A")
    assert peer_a is not None and peer_a.proto_err + b.section.proto_errors >= 1
    assert out.st0 == WAITMSG  # A's own side is untouched until its connection closes


def test_a_message_past_the_size_limit_is_refused() -> None:
    _a, b = Host("A"), Host("B")
    acc = PeerSession(b.section)
    acc.received(b"HAProxyS 2.1\nB\nA 1 1\n", 0)
    assert acc.out == b"200\n" or acc.out.startswith(b"200\n")
    acc.out.clear()
    acc.received(b"\x0a\x80" + wire.intencode(wire.MAX_MESSAGE + 1), 0)
    assert acc.st0 == END and acc.out.endswith(wire.error(wire.ERR_SIZELIMIT))


@pytest.mark.parametrize(
    ("hello", "status"),
    [
        (b"HTTP/1.1 GET\n", wire.ERR_PROTO),
        (b"HAProxyS 3.0\nB\nA 1 1\n", wire.ERR_VERSION),
        (b"HAProxyS 2.2\nB\nA 1 1\n", wire.ERR_VERSION),
        (b"HAProxyS 2.1\nC\nA 1 1\n", wire.ERR_HOST),
        (b"HAProxyS 2.1\nB\nZ 1 1\n", wire.ERR_PEER),
        (b"HAProxyS 2.1\nB\nA\n", wire.ERR_PROTO),
    ],
)
def test_a_bad_hello_gets_haproxys_status(hello: bytes, status: int) -> None:
    b = Host("B")
    acc = PeerSession(b.section)
    acc.received(hello, 0)
    assert bytes(acc.out) == wire.status(status)
    assert acc.st0 == END


def test_a_downgraded_peer_gets_untimed_lessons() -> None:
    a, b = Host("A"), Host("B")
    a.store(b"x", "srv1", 1, 0)
    acc = PeerSession(a.section)
    acc.received(b"HAProxyS 2.0\nA\nB 7 1\n", 0)
    assert acc.out.startswith(b"200\n")
    acc.out.clear()
    acc.received(wire.control(wire.RESYNC_REQ), 0)
    assert bytes([wire.CLASS_STICKTABLE, wire.UPDATE]) in acc.out  # not UPDATE_TIMED
    assert bytes([wire.CLASS_STICKTABLE, wire.UPDATE_TIMED]) not in acc.out
    assert acc.out.endswith(wire.control(wire.RESYNC_PARTIAL))
    del b
