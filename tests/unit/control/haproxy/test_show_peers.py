"""`show peers` as haproxy 2.6.12 prints it (src/peers.c peers_dump_head / peers_dump_peer),
over proto/peers's objects: the section's header, each peer's status line, timers, counters,
its session and shared tables, the dictionary caches with `dict`, and the error for an unknown
section.  The layout was compared with haproxy's own dump of the same situation (peer B of a
section whose peer A connected to it); addresses are the objects' identities."""

from __future__ import annotations

import random
import re
import time

from pylvs.control.haproxy.peers import PeersView, human_time, show_peers
from pylvs.proto.peers.session import PeerSession
from pylvs.proto.peers.state import Peer
from pylvs.proto.peers.sync import PeersSection
from pylvs.proto.stick import StickTable, parse_stick_table


def _section() -> PeersSection:
    spec = parse_stick_table("web", ["type", "string", "size", "10", "peers", "mesh"])
    table = StickTable(spec.with_data("server_id", "server_key"))
    peers = [Peer("B", True, "127.0.0.1", 21002), Peer("A", False, "127.0.0.1", 21001)]
    section = PeersSection("mesh", "B", peers, [table], pid=1, rng=random.Random(0))
    section.tick(1000)
    section.new_sessions.clear()
    accepted = PeerSession(section)
    accepted.src, accepted.dst = "127.0.0.1:57160", "127.0.0.1:21002"
    accepted.received(b"HAProxyS 2.1\nB\nA 99 1\n", 1000)
    return section


def _masked(text: str) -> str:
    return re.sub(r"0x[0-9a-f]{9,}", "0xP", text)


def test_the_dump_has_haproxys_lines() -> None:
    section = _section()
    view = PeersView(section, time.mktime((2026, 12, 6, 14, 26, 7, 0, 0, -1)), 2200)
    ok, text = show_peers([view], ["show", "peers"])
    assert ok
    lines = _masked(text).splitlines()
    assert lines[0] == (
        f"0xP: [06/Dec/2026:14:26:07] id=mesh disabled=0 flags=0x{section.flags:x}"
        f" resync_timeout=3s task_calls=1"
    )
    assert lines[1] == (
        "  0xP: id=B(local,inactive) addr=127.0.0.1:21002 last_status=NONE last_hdshk=<NEVER>"
    )
    assert (
        lines[7] == "              table:0xP id=web update=0 localupdate=0 commitupdate=0 refcnt=1"
    )
    assert lines[8] == '        Dictionary cache not dumped (use "show peers dict")'
    assert lines[9] == (
        "  0xP: id=A(remote,active) addr=127.0.0.1:21001 last_status=ESTA last_hdshk=1s"
    )
    # B's task had started a connection to A when A's came in: a collision, counted
    assert lines[10] == (
        "        reconnect=0s heartbeat=1s confirm=0 tx_hbt=0 rx_hbt=0 no_hbt=0"
        " new_conn=1 proto_err=0 coll=1"
    )
    assert lines[11].startswith("        flags=0x20000100 appctx:0xP st0=7 st1=0 task_calls=1")
    assert lines[11].endswith(" state=EST")
    assert lines[12] == "        xprt=RAW src=127.0.0.1:57160 addr=127.0.0.1:21002"
    assert lines[13] == "        shared tables:"


def test_dict_and_an_unknown_section() -> None:
    section = _section()
    peer = section.peer("A")
    assert peer is not None
    peer.cache.send("srv1")
    peer.cache.rx[0] = "srv9"
    view = PeersView(section, 0.0, 2200)
    ok, text = show_peers([view], ["show", "peers", "dict", "mesh"])
    # "  %3u -> %s", four to a line
    assert ok and "        TX dictionary cache:\n            0 -> srv1\n" in text
    rx = "            0 -> srv9    1 -> -    2 -> -    3 -> -\n"
    assert "        RX dictionary cache:\n" + rx in text
    assert show_peers([view], ["show", "peers", "other"]) == (False, "No such peers\n")
    assert show_peers([view], ["show", "peers", "-", "mesh"])[0]


def test_human_time_is_haproxys() -> None:
    assert [human_time(ms) for ms in (0, 999, 61_000, 3_600_000, 90_061_000)] == [
        "0s", "0s", "1m1s", "1h", "1d1h",
    ]  # fmt: skip
