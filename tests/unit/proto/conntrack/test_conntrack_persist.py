"""Persistence templates (ip_vs_core.c ip_vs_sched_persist, ip_vs_conn.c; reference §1.5)."""

import ipaddress

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceFlags, ServiceKey, VirtualService
from pylvs.proto.conntrack import (
    Conn,
    ConnState,
    ConnTable,
    TcpEvent,
    schedule_persistent,
    template_key,
)

A = ipaddress.ip_address
VIP = A("10.0.0.1")


def service(port: int = 80, netmask: int = 24, timeout: int = 100) -> VirtualService:
    return VirtualService(
        ServiceKey.inet(Protocol.TCP, VIP, port),
        scheduler="rr",
        flags=ServiceFlags.PERSISTENT,
        timeout=timeout,
        netmask=netmask,
    )


def dest(last: int, weight: int = 1) -> Destination:
    return Destination(RealServer(A(f"192.168.0.{last}"), 8080, weight=weight))


class Picker:
    def __init__(self, *dests: Destination) -> None:
        self.dests = list(dests)
        self.calls = 0

    def __call__(self) -> Destination | None:
        self.calls += 1
        return self.dests.pop(0) if self.dests else None


def try_sched(
    t: ConnTable, svc: VirtualService, client: str, pick: Picker, now: float, vport: int = 80
) -> tuple[Destination, Conn] | None:
    return schedule_persistent(
        t, svc, protocol=6, client=A(client), vaddr=VIP, vport=vport, pick=pick, now=now
    )


def sched(
    t: ConnTable, svc: VirtualService, client: str, pick: Picker, now: float, vport: int = 80
) -> tuple[Destination, Conn]:
    placed = try_sched(t, svc, client, pick, now, vport)
    assert placed is not None
    return placed


def state(ct: Conn) -> ConnState:
    """ct.state, read afresh: mypy keeps it narrowed by an earlier assert across the
    calls that change it."""
    return ct.state


def test_key_masks_the_client_and_zeroes_cport() -> None:
    key, kept = template_key(service(), 6, A("172.16.5.77"), VIP, 80)
    assert key == (6, A("172.16.5.0"), 0, VIP, 80)
    assert kept


def test_key_host_netmask_by_default() -> None:
    svc = VirtualService(
        ServiceKey.inet(Protocol.TCP, VIP, 80), flags=ServiceFlags.PERSISTENT, timeout=360
    )
    key, _ = template_key(svc, 6, A("172.16.5.77"), VIP, 80)
    assert key[1] == A("172.16.5.77")


def test_ftp_port_is_not_kept() -> None:
    key, kept = template_key(service(port=21), 6, A("172.16.5.77"), VIP, 21)
    assert key == (6, A("172.16.5.0"), 0, VIP, 0)
    assert not kept


def test_port_zero_service_keys_on_vport_zero() -> None:
    key, kept = template_key(service(port=0), 6, A("172.16.5.77"), VIP, 443)
    assert key == (6, A("172.16.5.0"), 0, VIP, 0)
    assert not kept


def test_fwmark_template_key() -> None:
    svc = VirtualService(ServiceKey.mark(7), flags=ServiceFlags.PERSISTENT, timeout=60)
    key, _ = template_key(svc, 6, A("172.16.5.77"), VIP, 443)
    # <IPPROTO_IP, caddr, 0, fwmark as an address, 0>
    assert key == (0, A("172.16.5.77"), 0, A("0.0.0.7"), 0)


def test_ipv6_prefix() -> None:
    svc = VirtualService(
        ServiceKey.inet(Protocol.TCP, "2001:db8::1", 80),
        flags=ServiceFlags.PERSISTENT,
        timeout=60,
        netmask=64,
    )
    key, _ = template_key(svc, 6, A("2001:db8:0:5:aa::9"), A("2001:db8::1"), 80)
    assert key[1] == A("2001:db8:0:5::")


def test_same_subnet_pins_to_the_same_dest() -> None:
    t = ConnTable()
    a, b = dest(2), dest(3)
    pick = Picker(a, b)
    svc = service()
    d1, ct1 = sched(t, svc, "172.16.5.77", pick, 0.0)
    d2, ct2 = sched(t, svc, "172.16.5.200", pick, 1.0)
    d3, _ = sched(t, svc, "172.16.6.1", pick, 2.0)
    assert (d1, d2, d3) == (a, a, b)
    assert ct1 is ct2
    assert pick.calls == 2
    assert (a.persistconns, b.persistconns) == (1, 1)
    # Templates count in persistconns, not in the overload total.
    assert a.total_conns() == 0
    # A hit restarts the template's timer with its own timeout.
    assert ct1.expires == 1.0 + 100


def test_template_rearmed_while_it_controls_connections() -> None:
    t = ConnTable()
    a = dest(2)
    svc = service(timeout=10)
    _, ct = sched(t, svc, "172.16.5.77", Picker(a), 0.0)
    conn = t.new_conn((6, A("172.16.5.77"), 4000, VIP, 80), svc.key, a, 0.0, control=ct)
    t.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, 0.0)
    t.tcp_event(conn, TcpEvent.BACKEND_CONNECTED, 0.0)
    assert ct.n_control == 1
    assert t.expire(10.0) == []
    assert ct.expires == 70.0  # expire_later: 60 s more
    # The connection closes but its TIME_WAIT entry (20 + 120 = 140) still holds the
    # template, which is re-armed again at 70 and 130, and goes at 190.
    t.tcp_event(conn, TcpEvent.CLOSED, 20.0)
    assert t.expire(130.0) == []
    assert ct.expires == 190.0
    assert t.expire(140.0) == [conn]
    assert a.persistconns == 1
    assert t.expire(190.0) == [ct]
    assert (a.persistconns, a.inactconns) == (0, 0)


def test_template_expiry_lets_the_client_be_rescheduled() -> None:
    t = ConnTable()
    a, b = dest(2), dest(3)
    pick = Picker(a, b)
    svc = service(timeout=10)
    sched(t, svc, "172.16.5.77", pick, 0.0)
    t.expire(10.0)
    d, _ = sched(t, svc, "172.16.5.77", pick, 11.0)
    assert d is b


def test_template_of_an_unavailable_dest_is_dropped_and_rescheduled() -> None:
    t = ConnTable()
    a, b = dest(2), dest(3)
    pick = Picker(a, b)
    svc = service()
    _, old = sched(t, svc, "172.16.5.77", pick, 0.0)
    a.available = False  # deleted from the service
    d, new = sched(t, svc, "172.16.5.77", pick, 1.0)
    assert d is b and new is not old
    # The old template is unhashed with vport/dport 0xffff and lives on its timer.
    rows = {(e.daddr, e.vport, e.dport) for e in t.entries(1.0) if e.template}
    assert rows == {(A("192.168.0.2"), 0xFFFF, 0xFFFF), (A("192.168.0.3"), 80, 8080)}
    assert t.expire(100.0) == [old]
    assert a.persistconns == 0


def test_quiesced_dest_template_is_still_honoured_by_default() -> None:
    t = ConnTable()
    a, b = dest(2), dest(3)
    pick = Picker(a, b)
    svc = service()
    sched(t, svc, "172.16.5.77", pick, 0.0)
    a.weight = 0
    d, _ = sched(t, svc, "172.16.5.77", pick, 1.0)
    assert d is a
    a.overloaded = True  # persistence wins over thresholds too
    d, _ = sched(t, svc, "172.16.5.77", pick, 2.0)
    assert d is a


def test_expire_quiescent_template() -> None:
    t = ConnTable(expire_quiescent_template=True)
    a, b = dest(2), dest(3)
    pick = Picker(a, b)
    svc = service()
    sched(t, svc, "172.16.5.77", pick, 0.0)
    a.weight = 0
    d, _ = sched(t, svc, "172.16.5.77", pick, 1.0)
    assert d is b


def test_no_destination_creates_no_template() -> None:
    t = ConnTable()
    assert try_sched(t, service(), "172.16.5.77", Picker(), 0.0) is None
    assert len(t) == 0


def test_assured_when_a_controlled_conn_is_established() -> None:
    t = ConnTable()
    a = dest(2)
    svc = service()
    _, ct = sched(t, svc, "172.16.5.77", Picker(a), 0.0)
    conn = t.new_conn((6, A("172.16.5.77"), 4000, VIP, 80), svc.key, a, 0.0, control=ct)
    t.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, 0.0)
    assert ct.state is ConnState.NONE
    t.tcp_event(conn, TcpEvent.BACKEND_CONNECTED, 0.0)
    assert state(ct) is ConnState.ASSURED


def test_forced_drop_takes_a_non_assured_template_along() -> None:
    t = ConnTable()
    a = dest(2)
    svc = service()
    _, ct = sched(t, svc, "172.16.5.77", Picker(a), 0.0)
    conn = t.new_conn((6, A("172.16.5.77"), 4000, VIP, 80), svc.key, a, 0.0, control=ct)
    t.drop(conn)
    assert ct.dead
    assert a.persistconns == 0


def test_one_packet_release_keeps_the_template() -> None:
    t = ConnTable()
    a = dest(2)
    svc = service()
    _, ct = sched(t, svc, "172.16.5.77", Picker(a), 0.0)
    conn = t.new_conn((17, A("172.16.5.77"), 4000, VIP, 80), svc.key, a, 0.0, control=ct)
    assert a.inactconns == 1
    t.release(conn)
    assert a.inactconns == 0
    assert not ct.dead and ct.n_control == 0
    assert [e.template for e in t.entries(0.0)] == [True]
