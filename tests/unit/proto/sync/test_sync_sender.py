"""The master's sync rules (ip_vs_sync_conn_needed, ip_vs_sync_conn[_v0]) with explicit times,
and message filling; the packet sequences of the kernel captures where they pin a rule."""

from __future__ import annotations

import ipaddress

import pytest

from pylvs.model.dest import Destination
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey
from pylvs.proto.conntrack import ConnState, ConnTable, TcpEvent
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.sync import Sender, Sysctls, decode
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Decoded
from tests.unit.proto.sync.sync_pcap import datagrams

A = ipaddress.ip_address
VIP = A("10.0.0.100")
SVC = ServiceKey.inet(Protocol.TCP, VIP, 80)


class Director:
    """A connection table with one NAT real server, and a sender over it."""

    def __init__(self, **sysctls: object) -> None:
        self.table = ConnTable()
        self.dest = Destination(RealServer(A("10.0.1.2"), 80, method=ForwardMethod.MASQ))
        self.sender = Sender(Sysctls(**sysctls), syncid=9, maxlen=1472)  # type: ignore[arg-type]
        self.sent: list[bytes] = []

    def conn(self, cport: int, now: float = 0.0, *, proto: int = 6) -> Conn:
        key = (proto, A("10.0.0.2"), cport, VIP, 80)
        return self.table.new_conn(key, SVC, self.dest, now)

    def template(self, conn: Conn, now: float = 0.0, timeout: int = 60) -> Conn:
        key = (conn.protocol, conn.caddr, 0, VIP, 80)
        ct = self.table.new_template(key, SVC, self.dest, timeout, dport=80, now=now)
        conn.control = ct
        ct.n_control += 1
        return ct

    def packet(self, conn: Conn, now: float, event: TcpEvent | None = None, **kw: bool) -> None:
        if event is not None:
            self.table.tcp_event(conn, event, now)
        self.sent += [m.data for m in self.sender.packet(conn, now, **kw)]

    def records(self, now: float = 1e9) -> list[w.SyncConn]:
        """Everything sent so far plus what is still buffered (flushed by a late tick)."""
        self.sent += [m.data for m in self.sender.tick(now)]
        out: list[w.SyncConn] = []
        for data in self.sent:
            decoded = decode(data)
            assert isinstance(decoded, Decoded) and decoded.problems == ()
            out.extend(decoded.conns)
        self.sent = []
        return out


def decoded(data: bytes) -> Decoded:
    """`data` decoded, which must not be refused."""
    got = decode(data)
    assert isinstance(got, Decoded), got
    return got


def open_conn(d: Director, conn: Conn, now: float) -> None:
    """SYN, then the handshake's ACK: 2 input packets, ESTABLISHED."""
    d.packet(conn, now, TcpEvent.CLIENT_CONNECTED)
    d.packet(conn, now, TcpEvent.BACKEND_CONNECTED)


def test_established_connection_is_synced_at_packet_3_then_every_50() -> None:
    d = Director()
    c = d.conn(40000)
    open_conn(d, c, 0.0)
    assert d.records() == []  # ESTABLISHED at packet 2: 2 % 50 != 3
    d.packet(c, 1.0, TcpEvent.CLIENT_DATA)
    (rec,) = d.records()
    assert (rec.state, rec.flags, rec.timeout, rec.cport) == (w.TCP_S_ESTABLISHED, 0, 900, 40000)
    for n in range(4, 53):
        d.packet(c, float(n), TcpEvent.CLIENT_DATA)
    assert d.records() == []
    d.packet(c, 53.0, TcpEvent.CLIENT_DATA)
    assert len(d.records()) == 1


def test_entering_a_closing_state_syncs_at_once_and_once() -> None:
    d = Director()
    c = d.conn(40000)
    open_conn(d, c, 0.0)
    d.packet(c, 1.0, TcpEvent.CLIENT_EOF)  # packet 3, CLOSE_WAIT
    d.packet(c, 2.0, TcpEvent.CLIENT_DATA)  # packet 4, still CLOSE_WAIT
    (rec,) = d.records()
    assert (rec.state, rec.flags, rec.timeout) == (w.TCP_S_CLOSE_WAIT, w.F_INACTIVE, 60)


def test_states_outside_the_synced_set_are_never_sent() -> None:
    d = Director()
    c = d.conn(40000)
    for n in range(5):  # SYN_RECV for 5 packets, packet 3 included
        d.packet(c, float(n), TcpEvent.CLIENT_CONNECTED)
    assert c.state is ConnState.SYN_RECV
    assert d.records() == []


def test_period_0_syncs_only_at_the_threshold_packet() -> None:
    d = Director(period=0, threshold=3)
    c = d.conn(40000)
    open_conn(d, c, 0.0)
    for n in range(3, 200):
        d.packet(c, float(n), TcpEvent.CLIENT_DATA)
    assert len(d.records()) == 1
    d.packet(c, 300.0, TcpEvent.SERVER_EOF)  # FIN_WAIT: a state change still goes
    assert [r.state for r in d.records()] == [w.TCP_S_FIN_WAIT]


def test_udp_is_synced_by_packet_count_only() -> None:
    d = Director()
    c = d.conn(5353, proto=17)
    for n in range(1, 60):
        d.packet(c, float(n))
    recs = d.records()
    assert len(recs) == 2  # packets 3 and 53
    assert {(r.protocol, r.state, r.timeout, r.flags) for r in recs} == {(17, 0, 300, w.F_INACTIVE)}


def test_template_goes_with_every_packet_of_its_connections_v1() -> None:
    """The kernel's own sequence (v1-persist.pcap): T(NONE), T(ASSURED), C(ESTABLISHED)."""
    d = Director()
    c = d.conn(40000)
    d.template(c)
    open_conn(d, c, 0.0)
    d.packet(c, 0.1, TcpEvent.CLIENT_DATA)
    d.packet(c, 0.2, TcpEvent.CLIENT_DATA)
    ours = [(r.template, r.state) for r in d.records()]
    kernel_decoded = decode(datagrams("v1-persist.pcap")[0].payload)
    assert isinstance(kernel_decoded, Decoded)
    kernel = [(r.template, r.state) for r in kernel_decoded.conns[:5]]
    assert ours == kernel == [(True, 0), (True, 1), (False, 1), (True, 1), (True, 1)]


def test_template_record_fields() -> None:
    d = Director()
    c = d.conn(40000)
    d.template(c, timeout=60)
    open_conn(d, c, 0.0)
    tpl = d.records()[0]
    assert (tpl.cport, tpl.vport, tpl.dport, tpl.flags, tpl.timeout) == (
        0,
        80,
        80,
        w.F_TEMPLATE | w.F_INACTIVE,
        60,
    )


def test_v0_sends_the_template_only_after_its_connection() -> None:
    """v0-persist.pcap: C, T, C, T ... (ip_vs_sync_conn_v0 returns before the controller)."""
    d = Director(version=0)
    c = d.conn(40000)
    d.template(c)
    open_conn(d, c, 0.0)
    d.packet(c, 0.1, TcpEvent.CLIENT_DATA)
    d.packet(c, 0.2, TcpEvent.CLIENT_DATA)
    ours = [(r.template, r.state) for r in d.records()]
    assert ours == [(False, 1), (True, 1)]
    kernel_decoded = decode(datagrams("v0-persist.pcap")[0].payload)
    assert isinstance(kernel_decoded, Decoded)
    assert [(r.template, r.state) for r in kernel_decoded.conns[:2]] == ours


def test_persist_mode_syncs_the_template_and_not_the_connection() -> None:
    d = Director(persist_mode=True)
    c = d.conn(40000)
    d.template(c)
    open_conn(d, c, 0.0)
    d.packet(c, 0.1, TcpEvent.CLIENT_DATA)
    d.packet(c, 0.2, TcpEvent.CLIENT_EOF)
    assert all(r.template for r in d.records())


def test_one_packet_connection_is_not_synced_but_counts_for_its_template() -> None:
    d = Director()
    c = d.conn(5353, proto=17)
    ct = d.template(c)
    for n in range(3):
        d.packet(c, float(n), one_packet=True)
    recs = d.records()
    assert recs and all(r.template for r in recs)
    assert d.sender.marks.get(ct, 0.0).in_pkts == 3


def test_v0_one_packet_syncs_nothing() -> None:
    d = Director(version=0)
    c = d.conn(5353, proto=17)
    d.template(c)
    for n in range(5):
        d.packet(c, float(n), one_packet=True)
    assert d.records() == []


def test_v0_skips_ipv6() -> None:
    d = Director(version=0)
    key = (6, A("fd00::2"), 40000, A("fd00::100"), 80)
    dest = Destination(RealServer(A("fd00:1::2"), 80, method=ForwardMethod.MASQ))
    c = d.table.new_conn(key, None, dest, 0.0)
    open_conn(d, c, 0.0)
    d.packet(c, 1.0, TcpEvent.CLIENT_DATA)
    assert d.records() == []


def test_refresh_period_limits_resends_by_time() -> None:
    """period 0, refresh 10 s: every packet is a candidate, one sync per 10 s at most."""
    d = Director(period=0, refresh_period=10.0)
    c = d.conn(40000, 0.0)
    open_conn(d, c, 0.0)  # ESTABLISHED at 0 s: the announced expiry moves by 900 s: synced
    assert len(d.records()) == 1
    d.packet(c, 5.0, TcpEvent.CLIENT_DATA)
    d.packet(c, 9.9, TcpEvent.CLIENT_DATA)
    assert d.records() == []
    d.packet(c, 10.0, TcpEvent.CLIENT_DATA)
    assert len(d.records()) == 1


def test_refresh_retries_every_eighth_of_the_period() -> None:
    d = Director(period=0, refresh_period=80.0, retries=2)
    c = d.conn(40000, 0.0)
    open_conn(d, c, 0.0)
    assert len(d.records()) == 1  # synced at 0 s
    expect = {5.0: 0, 10.0: 1, 15.0: 0, 20.0: 1, 30.0: 0, 79.0: 0, 100.0: 1}
    for at, n in expect.items():
        d.packet(c, at, TcpEvent.CLIENT_DATA)
        assert len(d.records()) == n, at


def test_refresh_with_sync_period_still_needs_the_packet_count() -> None:
    d = Director(refresh_period=10.0)
    c = d.conn(40000, 0.0)
    open_conn(d, c, 0.0)
    d.packet(c, 0.5, TcpEvent.CLIENT_DATA)  # packet 3
    assert len(d.records()) == 1
    for _ in range(4, 53):
        d.packet(c, 20.0, TcpEvent.CLIENT_DATA)
    d.packet(c, 20.0, TcpEvent.CLIENT_DATA)  # packet 53, 19.5 s later: goes
    assert len(d.records()) == 1


def test_messages_fill_to_maxlen_and_flush_after_2_seconds() -> None:
    d = Director()
    conns = [d.conn(30000 + i, 0.0) for i in range(41)]
    for c in conns:
        open_conn(d, c, 0.5)
        d.packet(c, 0.5, TcpEvent.CLIENT_DATA)
    assert len(d.sent) == 1 and len(d.sent[0]) == 8 + 40 * 36  # the 41st did not fit
    assert d.sender.next_deadline() == pytest.approx(2.5)
    assert d.sender.tick(2.4) == []
    (last,) = d.sender.tick(2.5)
    assert decoded(last.data).header.nr_conns == 1
    assert d.sender.next_deadline() is None


def test_small_maxlen_splits_like_the_kernel() -> None:
    d = Director()
    d.sender = Sender(Sysctls(), syncid=9, maxlen=200)
    for i in range(12):
        c = d.conn(30000 + i)
        open_conn(d, c, 0.0)
        d.packet(c, 0.0, TcpEvent.CLIENT_DATA)
    assert [len(m) for m in d.sent] == [188, 188]  # v1-maxlen.pcap: 5 records of 36 + 8


def test_a_version_change_sends_the_buffer() -> None:
    d = Director()
    c1, c2 = d.conn(1), d.conn(2)
    open_conn(d, c1, 0.0)
    d.packet(c1, 0.0, TcpEvent.CLIENT_DATA)
    d.sender.sysctls = Sysctls(version=0)
    open_conn(d, c2, 0.0)
    d.packet(c2, 0.0, TcpEvent.CLIENT_DATA)
    assert len(d.sent) == 1 and decoded(d.sent[0]).header.version == 1
    (v0,) = d.sender.flush()
    assert decoded(v0.data).header.version == 0


def test_stop_drops_what_was_not_sent() -> None:
    d = Director()
    c = d.conn(1)
    open_conn(d, c, 0.0)
    d.packet(c, 0.0, TcpEvent.CLIENT_DATA)
    assert d.sender.stop() == 1
    assert d.sender.tick(10.0) == []


def test_expire_later_resyncs_a_template() -> None:
    d = Director()
    c = d.conn(1)
    ct = d.template(c)
    d.sent += [m.data for m in d.sender.expire_later(ct, 60.0)]
    (rec,) = d.records()
    assert rec.template


def test_sync_ports_spread_connections_over_threads() -> None:
    d = Director(ports=4)
    threads = set()
    for i in range(40):
        c = d.conn(20000 + i)
        open_conn(d, c, 0.0)
        d.packet(c, 0.0, TcpEvent.CLIENT_DATA)
        d.packet(c, 0.0, TcpEvent.CLIENT_EOF)
    for m in d.sender.flush():
        threads.add(m.thread)
        decoded = decode(m.data)
        assert isinstance(decoded, Decoded)
        # both records of a connection travel in the same stream
        ports = [r.cport for r in decoded.conns]
        assert all(ports.count(p) == 2 for p in ports)
    assert threads == {0, 1, 2, 3}


def test_marks_of_expired_connections_are_pruned() -> None:
    d = Director()
    c = d.conn(1)
    open_conn(d, c, 0.0)
    d.table.drop(c)
    assert len(d.sender.marks) == 1
    d.sender.tick(100.0)
    assert len(d.sender.marks) == 0
