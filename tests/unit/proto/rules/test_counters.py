"""Tracked counters at the end of a stream and a session (stream_store_counters,
session_store_counters) and a session's count (session_count_new)."""

from __future__ import annotations

import ipaddress

from pylvs.proto.rules import counters, tcp_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Go
from pylvs.proto.sample import Process, Session, Stream
from tests.unit.proto.rules.rules_helpers import compiled

HEAD = "defaults\n  mode tcp\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\n"
TEXT = (
    "frontend ft\n  bind :9000\n"
    "  stick-table type ip size 10 expire 10s store conn_cur,conn_cnt,sess_cnt,sess_rate(10s)\n"
    "  tcp-request connection track-sc0 src\n"
    "  tcp-request content track-sc1 src\n"
    "  tcp-request content track-sc0 src\n"
    "  default_backend bt\nbackend bt\n  server s1 127.0.0.1:9\n"
)


def test_the_stream_and_the_session_each_give_their_connection_back() -> None:
    r = compiled(TEXT, head=HEAD)
    process = Process()
    process.tables = r.tables
    ft = r.proxies["ft"]
    sess = Session(process, ft.ref, src=ipaddress.ip_address("10.0.0.1"), src_port=5)
    assert tcp_flow.connection(Txn(Stream(sess, now=1.0)), ft) == Go()
    counters.count_session(sess, 1.0)
    stream = Stream(sess, now=1.0)
    assert tcp_flow.content(Txn(stream), ft, final=True) == Go()
    key = r.tables["ft"].key_of(ipaddress.ip_address("10.0.0.1"))
    assert key is not None
    entry = r.tables["ft"].lookup(key, 1.0)
    assert entry is not None
    assert (entry.get("conn_cur"), entry.get("conn_cnt"), entry.get("sess_cnt")) == (2, 2, 1)
    assert r.tables["ft"].rate(entry, "sess_rate", 1.0) == 1
    assert entry.ref_cnt == 2  # sc0 (the session's), sc1 (the stream's)
    stream.now = 2.0
    counters.stop_stream(stream)  # sc1 only: sc0 is the session's
    assert (entry.get("conn_cur"), entry.ref_cnt) == (1, 1)
    assert stream.sc == [None, None, None]
    counters.stop_stream(stream)  # once
    assert entry.get("conn_cur") == 1
    counters.stop_session(sess, 3.0)
    assert (entry.get("conn_cur"), entry.ref_cnt) == (0, 0)
    assert entry.expire == 3000 + 10000  # touched when conn_cur went down
    counters.stop_session(sess, 4.0)
    assert entry.get("conn_cur") == 0
