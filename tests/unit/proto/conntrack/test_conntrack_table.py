"""Connection entries: binding, active/inactive moves, timers, overload (ip_vs_conn.c)."""

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey
from pylvs.proto.conntrack import ConnKey, ConnState, ConnTable, TcpEvent, Timeouts
from pylvs.proto.conntrack.states import ACTIVE_STATES

A = ipaddress.ip_address
VIP = A("10.0.0.1")
SVC = ServiceKey.inet(Protocol.TCP, VIP, 80)


def overloaded(d: Destination) -> bool:
    """d.overloaded, read afresh: mypy keeps it narrowed by an earlier assert across the
    calls that change it."""
    return d.overloaded


def dest(u: int = 0, lower: int = 0) -> Destination:
    return Destination(RealServer(A("192.168.0.2"), 8080, u_threshold=u, l_threshold=lower))


def key(cport: int, proto: int = 6) -> ConnKey:
    return (proto, A("1.2.3.4"), cport, VIP, 80)


def test_new_tcp_conn_is_inactive_with_the_3s_timer() -> None:
    t = ConnTable()
    d = dest()
    c = t.new_conn(key(1000), SVC, d, now=100.0)
    assert (c.state, c.expires) == (ConnState.NONE, 103.0)
    assert (d.activeconns, d.inactconns) == (0, 1)


def test_tcp_lifecycle_moves_between_counters_and_rearms() -> None:
    t = ConnTable()
    d = dest()
    c = t.new_conn(key(1000), SVC, d, now=0.0)
    t.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 1.0)
    assert (c.state, c.expires) == (ConnState.SYN_RECV, 61.0)
    assert (d.activeconns, d.inactconns) == (1, 0)
    t.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 2.0)
    assert (c.state, c.expires) == (ConnState.ESTABLISHED, 902.0)
    assert (d.activeconns, d.inactconns) == (1, 0)
    t.tcp_event(c, TcpEvent.CLIENT_EOF, 3.0)
    assert (c.state, c.expires) == (ConnState.CLOSE_WAIT, 63.0)
    assert (d.activeconns, d.inactconns) == (0, 1)
    t.tcp_event(c, TcpEvent.SERVER_EOF, 4.0)
    assert (c.state, c.expires) == (ConnState.TIME_WAIT, 124.0)
    assert t.expire(123.9) == []
    assert t.expire(124.0) == [c]
    assert (d.activeconns, d.inactconns) == (0, 0)
    assert len(t) == 0


def test_set_timeouts_apply_from_the_next_transition() -> None:
    t = ConnTable()
    c = t.new_conn(key(1), SVC, dest(), now=0.0)
    t.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    t.timeouts = Timeouts().with_set(30, 7, 0)
    assert c.expires == 60.0
    t.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 1.0)
    assert c.expires == 31.0
    t.tcp_event(c, TcpEvent.SERVER_EOF, 2.0)
    assert (c.state, c.expires) == (ConnState.FIN_WAIT, 9.0)


def test_set_timeouts_reach_live_connections_at_their_next_packet() -> None:
    """set_tcp_state assigns cp->timeout = timeout_table[state] on every packet: after
    `--set` a live ESTABLISHED / FIN_WAIT / UDP entry is re-armed with the new value by its
    next packet even without a state change (the proxy's fast path re-arms with
    `conn.timeout`); the expiry already armed is left alone, as a running timer is."""
    t = ConnTable()
    est = t.new_conn(key(1), SVC, dest(), now=0.0)
    t.tcp_event(est, TcpEvent.CLIENT_CONNECTED, 0.0)
    t.tcp_event(est, TcpEvent.BACKEND_CONNECTED, 0.0)
    fin = t.new_conn(key(2), SVC, dest(), now=0.0)
    t.tcp_event(fin, TcpEvent.CLIENT_CONNECTED, 0.0)
    t.tcp_event(fin, TcpEvent.BACKEND_CONNECTED, 0.0)
    t.tcp_event(fin, TcpEvent.SERVER_EOF, 0.0)
    syn = t.new_conn(key(3), SVC, dest(), now=0.0)
    t.tcp_event(syn, TcpEvent.CLIENT_CONNECTED, 0.0)
    udp = t.new_conn((Protocol.UDP, *key(4)[1:]), SVC, dest(), now=0.0)
    t.timeouts = Timeouts().with_set(30, 7, 5)
    assert (est.timeout, fin.timeout, udp.timeout) == (30, 7, 5)
    assert syn.timeout == 60  # SYN_RECV: --set does not change it
    assert (est.expires, fin.expires) == (900.0, 120.0)  # armed timers keep running
    t.tcp_event(est, TcpEvent.CLIENT_DATA, 10.0)
    assert est.expires == 40.0


def test_rearmed_entry_survives_its_old_deadline() -> None:
    t = ConnTable()
    c = t.new_conn(key(1), SVC, dest(), now=0.0)
    t.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    t.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 0.0)
    t.tcp_event(c, TcpEvent.CLIENT_DATA, 500.0)
    assert t.expire(900.0) == []
    assert t.next_deadline() == 1400.0
    assert t.expire(1400.0) == [c]


def test_overload_set_by_bind_cleared_by_unbind() -> None:
    t = ConnTable()
    d = dest(u=2)
    c1 = t.new_conn(key(1), SVC, d, now=0.0)
    assert not d.overloaded
    t.new_conn(key(2), SVC, d, now=0.0)
    assert overloaded(d)  # total 2 >= u_threshold 2
    t.drop(c1)
    # No l_threshold: cleared when total * 4 < u * 3, i.e. 4 < 6.
    assert not d.overloaded


def test_overload_with_l_threshold() -> None:
    t = ConnTable()
    d = dest(u=3, lower=2)
    conns = [t.new_conn(key(i), SVC, d, now=0.0) for i in range(3)]
    assert d.overloaded
    t.drop(conns[0])
    assert d.overloaded  # total 2 is not < l_threshold 2
    t.drop(conns[1])
    assert not d.overloaded


def test_udp_conn_state_and_timer() -> None:
    t = ConnTable(Timeouts(udp=30))
    d = dest()
    k = key(5353, Protocol.UDP)
    c = t.new_conn(k, SVC, d, now=10.0)
    assert (c.state, c.expires) == (ConnState.UDP, 40.0)
    assert (d.activeconns, d.inactconns) == (0, 1)
    t.udp_packet(c, 20.0)
    t.udp_packet(c, 25.0, reply=True)
    assert t.get(k) is c
    assert t.expire(54.9) == []
    assert t.expire(55.0) == [c]
    assert d.inactconns == 0
    assert t.get(k) is None


def test_reused_client_port_replaces_the_old_entry() -> None:
    t = ConnTable()
    d = dest()
    old = t.new_conn(key(7), SVC, d, now=0.0)
    new = t.new_conn(key(7), SVC, d, now=1.0)
    assert old.dead and not new.dead
    assert t.get(key(7)) is new
    assert d.inactconns == 1


def test_entries_for_ipvsadm_c() -> None:
    t = ConnTable()
    c = t.new_conn(key(1000), SVC, dest(), now=0.0)
    t.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    t.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 0.0)
    (e,) = t.entries(now=0.5)
    assert (e.protocol, e.caddr, e.cport, e.vaddr, e.vport) == (6, A("1.2.3.4"), 1000, VIP, 80)
    assert (e.daddr, e.dport, e.state, e.template) == (
        A("192.168.0.2"),
        8080,
        ConnState.ESTABLISHED,
        False,
    )
    assert e.expires == 899  # 899.5 s left, truncated
    assert e.service == SVC


def test_events_on_a_dead_entry_are_ignored() -> None:
    t = ConnTable()
    d = dest()
    c = t.new_conn(key(1), SVC, d, now=0.0)
    t.drop(c)
    t.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 1.0)
    assert (d.activeconns, d.inactconns) == (0, 0)
    assert c.state is ConnState.NONE


# -- the counters always match the table, and everything expires in the end ------------

_ops = st.lists(
    st.tuples(
        st.sampled_from(["new", "event", "drop", "expire"]),
        st.integers(0, 5),
        st.sampled_from(list(TcpEvent)),
        st.floats(0, 50),
    ),
    max_size=60,
)


@given(_ops)
def test_counters_follow_the_table(ops: list[tuple[str, int, TcpEvent, float]]) -> None:
    t = ConnTable()
    d = dest(u=3)
    now = 0.0
    for op, port, event, step in ops:
        now += step
        conn = t.get(key(port))
        if op == "new":
            t.new_conn(key(port), SVC, d, now)
        elif op == "event" and conn is not None:
            t.tcp_event(conn, event, now)
        elif op == "drop" and conn is not None:
            t.drop(conn)
        elif op == "expire":
            t.expire(now)
        live = list(t.conns())
        assert d.activeconns == sum(c.state in ACTIVE_STATES for c in live)
        assert d.inactconns == sum(c.state not in ACTIVE_STATES for c in live)
        # Nothing live is overdue after an expire pass.
        if op == "expire":
            assert all(c.expires > now for c in live)
    t.expire(now + 10_000)
    assert len(t) == 0
    assert (d.activeconns, d.inactconns, d.overloaded) == (0, 0, False)
