"""The HAProxy mode's stream timers (dataplane/haproxy/timers.py): deadlines in order, re-armed
in place, `established` as the two connect events in one call, and a deadline due before the
runtime's next sweep told to it (`wake`), so that a millisecond timeout (`timeout client 1`,
log/wrong_ip_port_logging.vtc) ends its stream on time."""

from __future__ import annotations

import ipaddress

from pylvs.dataplane.haproxy.timers import StreamTimers
from pylvs.model.dest import Destination
from pylvs.model.service import RealServer
from pylvs.proto.conntrack.states import ConnState, TcpEvent
from pylvs.proto.conntrack.table import Conn

LO = ipaddress.ip_address("127.0.0.1")
DEST = Destination(RealServer(LO, 80, 1))
KEY = (6, LO, 40000, LO, 80)


def new(table: StreamTimers, now: float) -> Conn:
    return table.new_conn((6, LO, 40000, LO, 80), None, DEST, now)


def test_established_is_both_connect_events_with_the_idle_timeout() -> None:
    one, two = StreamTimers(), StreamTimers()
    a, b = new(one, 10.0), new(two, 10.0)
    one.established(a, 60.0, 10.5)
    two.tcp_event(b, TcpEvent.CLIENT_CONNECTED, 10.5)
    two.tcp_event(b, TcpEvent.BACKEND_CONNECTED, 10.5)
    b.timeout, b.expires = 60.0, 10.5 + 60.0
    two.moved(b)
    assert (a.state, a.timeout, a.expires) == (ConnState.ESTABLISHED, 60.0, 70.5)
    assert (a.state, a.timeout, a.expires) == (b.state, b.timeout, b.expires)
    # the first slot (3 s after birth) finds it alive and files it at its real deadline
    assert one.expire(13.5) == [] and one.expire(70.4) == []
    assert one.expire(70.5) == [a] and len(one) == 0


def test_an_idle_timeout_shorter_than_the_first_slot_fires_on_time() -> None:
    table = StreamTimers()
    conn = new(table, 0.0)
    table.established(conn, 1.0, 0.2)
    assert table.expire(1.1) == []
    assert table.expire(1.2) == [conn]


def test_a_dropped_stream_is_left_alone() -> None:
    table = StreamTimers()
    conn = new(table, 0.0)
    table.drop(conn)
    table.established(conn, 1.0, 0.2)
    assert conn.state is ConnState.NONE
    assert table.expire(100.0) == [] and len(table) == 0


def test_timers_expire_in_deadline_order_each_once() -> None:
    timers = StreamTimers()
    a = timers.new_conn(KEY, None, DEST, 0.0)
    b = timers.new_conn(KEY, None, DEST, 1.0)
    assert timers.expire(2.9) == []
    assert timers.expire(4.5) == [a, b]
    assert timers.expire(10.0) == []
    assert len(timers) == 0


def test_a_re_armed_timer_expires_at_its_new_deadline() -> None:
    timers = StreamTimers()
    conn = timers.new_conn(KEY, None, DEST, 0.0)
    conn.timeout = 0.001
    timers.tcp_event(conn, TcpEvent.BACKEND_CONNECTED, 0.5)
    assert timers.next_deadline() == 0.501
    assert timers.expire(0.501) == [conn]


def test_a_deadline_before_the_next_sweep_wakes_the_runtime() -> None:
    timers = StreamTimers()
    woken: list[float] = []
    timers.wake = woken.append
    timers.wake_at = 0.1  # the next periodic sweep
    conn = timers.new_conn(KEY, None, DEST, 0.0)  # 3 s: the sweep will see it
    assert woken == []
    conn.timeout = 0.001  # `timeout client 1`
    timers.tcp_event(conn, TcpEvent.BACKEND_CONNECTED, 0.01)
    assert woken == [0.011]
    timers.wake_at = 0.011
    other = timers.new_conn(KEY, None, DEST, 0.02)
    other.timeout = 0.5
    timers.tcp_event(other, TcpEvent.BACKEND_CONNECTED, 0.02)  # 0.52: later, no wake
    assert woken == [0.011]
