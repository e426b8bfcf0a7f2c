"""ServiceRuntime: kernel list order, dest delete/revive, scheduler edits, conn accounting."""

import ipaddress

import pytest

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import (
    ModelError,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    VirtualService,
)
from pylvs.proto.conntrack import ConnTable, TcpEvent

A = ipaddress.ip_address
KEY = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)


def rs(last: int, weight: int = 1) -> RealServer:
    return RealServer(A(f"192.168.0.{last}"), 80, weight=weight)


def runtime(sched: str = "rr", **kw: object) -> ServiceRuntime:
    return ServiceRuntime(VirtualService(KEY, scheduler=sched, **kw), now=0.0)  # type: ignore[arg-type]


def picks(rt: ServiceRuntime, n: int) -> list[int]:
    flow = rt.flow(A("1.2.3.4"), 1000)
    out = []
    for _ in range(n):
        d = rt.pick(flow, 0.0)
        assert d is not None
        out.append(int(str(d.address).rsplit(".", 1)[1]))
    return out


def test_new_dests_go_to_the_head() -> None:
    rt = runtime()
    for i in (2, 3, 4):
        rt.add_dest(rs(i), 0.0)
    assert [d.config for d in rt.dests] == [rs(4), rs(3), rs(2)]
    # rr walks the list from the head: newest first.
    assert picks(rt, 4) == [4, 3, 2, 4]


def test_duplicate_dest_is_refused() -> None:
    rt = runtime()
    rt.add_dest(rs(2), 0.0)
    with pytest.raises(ModelError, match="Destination already exists"):
        rt.add_dest(rs(2), 0.0)


def test_deleted_dest_gets_nothing_new_but_keeps_its_conns_and_revives() -> None:
    rt = runtime()
    table = ConnTable()
    for i in (2, 3):
        rt.add_dest(rs(i), 0.0)
    conn = rt.open_conn(table, rt.flow(A("1.2.3.4"), 1000), 0.0)
    assert conn is not None and conn.daddr == A("192.168.0.3")
    gone = rt.delete_dest(conn.dest.key)
    assert not gone.available
    assert gone in rt.trash and gone not in rt.dests
    assert picks(rt, 3) == [2, 2, 2]
    # Its connection still counts on it, and its stats are still reachable.
    assert gone.inactconns == 1
    assert rt.stats_of(gone).values().conns == 1
    rt.purge_trash()
    assert gone in rt.trash
    # Adding the same address:port again revives the very same object, at the head.
    back = rt.add_dest(rs(3, weight=5), 0.0)
    assert back is gone and back.available and back.weight == 5
    assert rt.dests[0] is back


def test_trash_is_purged_once_nothing_is_bound() -> None:
    rt = runtime()
    table = ConnTable()
    rt.add_dest(rs(2), 0.0)
    conn = rt.open_conn(table, rt.flow(A("1.2.3.4"), 1000), 0.0)
    assert conn is not None
    d = rt.delete_dest(conn.dest.key)
    table.expire(10.0)  # NONE: 3 s
    rt.purge_trash()
    assert rt.trash == []
    with pytest.raises(KeyError):
        rt.stats_of(d)
    assert rt.add_dest(rs(2), 0.0) is not d


def test_scheduler_edit_replaces_other_edits_update() -> None:
    rt = runtime()
    rt.add_dest(rs(2), 0.0)
    first = rt.scheduler
    rt.edit(VirtualService(KEY, scheduler="rr", flags=ServiceFlags.PERSISTENT, timeout=30))
    assert rt.scheduler is first
    assert rt.service.persistent
    rt.edit(VirtualService(KEY, scheduler="wlc"))
    assert rt.scheduler is not first and rt.scheduler.name == "wlc"


def test_unknown_scheduler() -> None:
    with pytest.raises(ModelError, match="Scheduler not found"):
        runtime("nope")


def test_open_conn_counts_and_binds() -> None:
    rt = runtime()
    table = ConnTable()
    rt.add_dest(rs(2), 0.0)
    conn = rt.open_conn(table, rt.flow(A("1.2.3.4"), 1000), 0.0)
    assert conn is not None
    assert rt.stats.values().conns == 1
    assert rt.stats_of(conn.dest).values().conns == 1
    table.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, 0.0)
    assert conn.dest.activeconns == 1


def test_open_conn_without_dest() -> None:
    rt = runtime()
    assert rt.open_conn(ConnTable(), rt.flow(A("1.2.3.4"), 1000), 0.0) is None
    rt.add_dest(rs(2, weight=0), 0.0)  # quiesced: rr skips it
    assert rt.open_conn(ConnTable(), rt.flow(A("1.2.3.4"), 1000), 0.0) is None
    assert rt.stats.values().conns == 0


def test_persistent_service_pins_through_a_template() -> None:
    rt = runtime(flags=ServiceFlags.PERSISTENT, timeout=60)
    table = ConnTable()
    for i in (2, 3):
        rt.add_dest(rs(i), 0.0)
    got = []
    for port in (1000, 1001, 1002):
        conn = rt.open_conn(table, rt.flow(A("1.2.3.4"), port), 0.0)
        assert conn is not None
        got.append(conn.daddr)
    assert got == [A("192.168.0.3")] * 3
    assert rt.dests[0].persistconns == 1


def test_a_reused_client_port_keeps_the_template_it_was_given() -> None:
    """A refused first connection (CLOSE, template not ASSURED) retried from the same client
    port: ip_vs_sched_persist finds the template and the new connection attaches to it before
    the old one's expiry releases it (ip_vs_conn_expire drops a non-assured template only when
    the expiring connection had timeout 0).  Replacing the old entry dropped the template, so
    the new connection hung on a dead one and the client's next connection went anywhere."""
    rt = runtime(flags=ServiceFlags.PERSISTENT, timeout=300)
    t = ConnTable()
    for last in (2, 3):
        rt.add_dest(rs(last), 0.0)
    first = rt.open_conn(t, rt.flow(A("1.2.3.4"), 1000), 0.0)
    assert first is not None and first.control is not None
    template = first.control
    t.tcp_event(first, TcpEvent.CLIENT_CONNECTED, 0.0)
    t.tcp_event(first, TcpEvent.SERVER_RESET, 0.0)
    retry = rt.open_conn(t, rt.flow(A("1.2.3.4"), 1000), 1.0)
    assert retry is not None and retry.control is template and first.dead
    assert not template.dead and template.n_control == 1
    assert [e.daddr for e in t.entries(1.0) if e.template] == [first.dest.address]
    other = rt.open_conn(t, rt.flow(A("1.2.3.4"), 1001), 2.0)
    assert other is not None and other.dest is first.dest


def test_zero_and_tick() -> None:
    rt = runtime()
    table = ConnTable()
    rt.add_dest(rs(2), 0.0)
    for port in range(100):
        rt.open_conn(table, rt.flow(A("1.2.3.4"), port), 0.0)
    rt.tick(2.0)
    d = rt.dests[0]
    assert rt.stats.rates().cps == 12  # (100 << 9 >> 2) + 511 >> 10
    assert rt.stats_of(d).rates().cps == 12
    rt.zero(3.0)
    assert rt.stats.values().conns == 0
    assert rt.stats_of(d).values().conns == 0
    assert rt.stats.rates().cps == 0
