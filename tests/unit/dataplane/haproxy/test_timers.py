"""The HAProxy mode's stream timers (dataplane/haproxy/timers.py): deadlines in order, re-armed
in place, and a deadline due before the runtime's next sweep told to it (`wake`), so that a
millisecond timeout (`timeout client 1`, log/wrong_ip_port_logging.vtc) ends its stream on time."""

from __future__ import annotations

from typing import Any

from pylvs.dataplane.haproxy.timers import StreamTimers
from pylvs.proto.conntrack.states import TcpEvent

KEY: Any = None
DEST: Any = None


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
