"""The master's rule for planes that see their table, not packets (Sender.observed), and the
connection table's hook for a template re-armed by expire_later; explicit times."""

from __future__ import annotations

import ipaddress

from pylvs.model.dest import Destination
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey
from pylvs.proto.conntrack import ConnTable, TcpEvent
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.sync import Sender, Sysctls, decode
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Decoded

A = ipaddress.ip_address
VIP = A("10.0.0.100")
SVC = ServiceKey.inet(Protocol.TCP, VIP, 80)


class Plane:
    def __init__(self, **sysctls: object) -> None:
        self.table = ConnTable()
        self.dest = Destination(RealServer(A("10.0.1.2"), 80, method=ForwardMethod.ROUTE))
        self.sender = Sender(Sysctls(**sysctls), syncid=1, maxlen=1472)  # type: ignore[arg-type]

    def conn(self, cport: int, now: float) -> Conn:
        return self.table.new_conn((6, A("10.0.0.2"), cport, VIP, 80), SVC, self.dest, now)

    def round(self, now: float) -> list[w.SyncConn]:
        """One housekeeping round: every entry observed, the messages flushed."""
        data = []
        for conn in self.table.rows():
            data += [m.data for m in self.sender.observed(conn, now)]
        data += [m.data for m in self.sender.flush()]
        out: list[w.SyncConn] = []
        for d in data:
            decoded = decode(d)
            assert isinstance(decoded, Decoded)
            out += decoded.conns
        return out


def test_sent_when_established_then_on_state_change_only() -> None:
    p = Plane()
    c = p.conn(40000, 0.0)
    assert p.round(0.0) == []  # NONE: not a synced TCP state
    p.table.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    p.table.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 0.0)
    (rec,) = p.round(1.0)
    assert (rec.state, rec.flags & w.F_FWD_MASK, rec.timeout) == (
        w.TCP_S_ESTABLISHED,
        w.F_DROUTE,
        900,
    )
    assert p.round(2.0) == []  # nothing moved
    p.table.tcp_event(c, TcpEvent.CLIENT_EOF, 3.0)
    (rec,) = p.round(3.0)
    assert rec.state == w.TCP_S_CLOSE_WAIT and rec.flags & w.F_INACTIVE
    assert p.round(4.0) == []


def test_refreshed_once_its_expiry_moved_by_half_the_timeout() -> None:
    """A live connection is sent again before the backup's copy (`timeout` from the last
    record) can run out: once its expiry moved max(timeout/2, 10 s) past the announced one."""
    p = Plane()
    c = p.conn(40000, 0.0)
    p.table.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    p.table.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 0.0)
    assert len(p.round(0.0)) == 1  # announced: expires at 900
    p.table.tcp_event(c, TcpEvent.CLIENT_DATA, 449.0)  # expires at 1349: moved 449 s
    assert p.round(449.0) == []
    p.table.tcp_event(c, TcpEvent.CLIENT_DATA, 450.0)  # moved 450 s = timeout / 2
    (rec,) = p.round(450.0)
    assert rec.timeout == 900
    assert p.round(451.0) == []
    # an idle connection is not resent: its expiry stays where it was announced
    assert p.round(1000.0) == []


def test_refresh_period_shortens_the_margin() -> None:
    p = Plane(refresh_period=60.0)
    c = p.conn(40000, 0.0)
    p.table.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    p.table.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 0.0)
    assert len(p.round(0.0)) == 1
    p.table.tcp_event(c, TcpEvent.CLIENT_DATA, 59.0)
    assert p.round(59.0) == []
    p.table.tcp_event(c, TcpEvent.CLIENT_DATA, 60.0)
    assert len(p.round(60.0)) == 1


def test_templates_are_observed_on_their_own() -> None:
    p = Plane()
    ct = p.table.new_template((6, A("10.0.0.2"), 0, VIP, 80), SVC, p.dest, 300, dport=80, now=0.0)
    (rec,) = p.round(0.0)
    assert rec.flags & w.F_TEMPLATE and rec.cport == 0 and rec.timeout == 300
    assert p.round(1.0) == []
    ct.expires = 150.0 + 300  # re-armed by a new connection at 150: moved 150 s = 300 / 2
    assert len(p.round(150.0)) == 1


def test_version_0_observes_ipv4_only() -> None:
    p = Plane(version=0)
    c = p.table.new_conn((17, A("fd00::2"), 5000, A("fd00::100"), 53), None, p.dest, 0.0)
    assert not c.dead and p.round(0.0) == []


def test_expire_calls_the_rearm_hook_for_a_controlling_template() -> None:
    """ip_vs_conn_expire -> expire_later: the template lives 60 s more and the sync hears of
    it; one that controls nothing is removed without a word."""
    table = ConnTable()
    dest = Destination(RealServer(A("10.0.1.2"), 80))
    seen: list[Conn] = []
    table.rearmed = seen.append
    ct = table.new_template((6, A("10.0.0.2"), 0, VIP, 80), SVC, dest, 10, dport=80, now=0.0)
    lone = table.new_template((6, A("10.0.0.3"), 0, VIP, 80), SVC, dest, 10, dport=80, now=0.0)
    c = table.new_conn((6, A("10.0.0.2"), 40000, VIP, 80), SVC, dest, 0.0, control=ct)
    table.tcp_event(c, TcpEvent.CLIENT_CONNECTED, 0.0)
    table.tcp_event(c, TcpEvent.BACKEND_CONNECTED, 0.0)
    assert table.expire(10.0) == [lone]
    assert seen == [ct] and ct.expires == 70.0 and ct.timeout == 60
