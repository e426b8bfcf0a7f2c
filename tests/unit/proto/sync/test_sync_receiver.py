"""The backup's receiver and its table target: bad input is dropped and counted, the table
is never harmed, unbound entries bind later, and what was installed serves the backup once
it takes over (persistence, counters, the next sync)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import (
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    VirtualService,
)
from pylvs.proto.conntrack import Conn, ConnState, ConnTable, TcpEvent, schedule_persistent
from pylvs.proto.sync import Drop, Marks, Policy, Receiver, Sender, Sysctls, TableTarget, encode
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.marks import record

A = ipaddress.ip_address
VIP = A("10.0.0.100")
RS1, RS2 = A("10.0.1.2"), A("10.0.2.2")
MASTER = A("10.0.20.1")
KEY = ServiceKey.inet(Protocol.TCP, VIP, 80)


class Backup:
    def __init__(self, policy: Policy | None = None, *, persistent: bool = False) -> None:
        flags = ServiceFlags.PERSISTENT if persistent else ServiceFlags.NONE
        service = VirtualService(KEY, "rr", flags, 60 if persistent else 0)
        self.rt = ServiceRuntime(service, 0.0)
        self.rs1 = self.rt.add_dest(RealServer(RS1, 80, method=ForwardMethod.MASQ), 0.0)
        self.services = {KEY: self.rt}
        self.table = ConnTable()
        self.marks = Marks()
        self.target = TableTarget(self.table, self.services.get, self.marks)
        self.receiver = Receiver(policy or Policy(syncid=9), self.target)

    def send(
        self, *conns: w.SyncConn, now: float = 0.0, src: object = MASTER, version: int = 1
    ) -> None:
        data = encode(w.SyncMessage(version, 9, conns))
        self.receiver.datagram(data, src, now)  # type: ignore[arg-type]

    def drops(self) -> dict[Drop, int]:
        return {k: v for k, v in self.receiver.stats.drops.items() if v}


def conn(cport: int, **kw: object) -> w.SyncConn:
    base = w.SyncConn(6, A("10.0.0.7"), cport, VIP, 80, RS1, 80, flags=0, state=1, timeout=900)
    return replace(base, **kw)  # type: ignore[arg-type]


def template(**kw: object) -> w.SyncConn:
    return conn(0, **{"flags": w.F_TEMPLATE | w.F_INACTIVE, "state": 1, "timeout": 60, **kw})


def test_messages_from_the_backup_itself_are_foreign() -> None:
    b = Backup(Policy(syncid=9, own=frozenset({A("10.0.20.2")})))
    b.send(conn(1), src=A("10.0.20.2"))
    b.send(conn(2))
    assert b.drops() == {Drop.FOREIGN: 1}
    assert b.table.get((6, A("10.0.0.7"), 2, VIP, 80)) is not None


def test_only_the_given_peers_are_heard() -> None:
    b = Backup(Policy(syncid=9, peers=frozenset({MASTER})))
    b.send(conn(1), src=A("10.0.20.66"))
    assert len(b.table) == 0 and b.drops() == {Drop.FOREIGN: 1}
    b.send(conn(1))
    assert len(b.table) == 1


def test_syncid_0_takes_every_syncid() -> None:
    b = Backup(Policy(syncid=0))
    b.receiver.datagram(encode(w.SyncMessage(1, 200, (conn(1),))), MASTER, 0.0)
    assert len(b.table) == 1


def test_a_flood_fills_the_ceiling_and_no_more() -> None:
    b = Backup(Policy(syncid=9, max_entries=5))
    local = b.rt.open_conn(b.table, b.rt.flow(A("10.0.0.9"), 5555), 0.0)
    assert local is not None
    for start in range(0, 100, 10):
        b.send(*(conn(10000 + i) for i in range(start, start + 10)))
    assert b.receiver.stats.installed == 5
    assert b.drops() == {Drop.TABLE_FULL: 95}
    assert len(b.table) == 6 and b.table.get(local.key) is local
    b.send(conn(10000, state=w.TCP_S_TIME_WAIT, flags=w.F_INACTIVE, timeout=120))
    assert b.receiver.stats.updated == 1  # updates still go through
    b.table.drop(b.table.get((6, A("10.0.0.7"), 10001, VIP, 80)))  # type: ignore[arg-type]
    b.send(conn(20000))
    assert b.receiver.stats.installed == 6  # room again


def test_entries_this_table_cannot_hold_are_refused() -> None:
    b = Backup()
    b.send(conn(1, protocol=w.IPPROTO_SCTP, state=7))
    assert b.drops() == {Drop.UNSUPPORTED: 1} and len(b.table) == 0


def test_installed_connection_takes_state_timeout_and_activity() -> None:
    b = Backup()
    b.send(conn(1), conn(2, state=w.TCP_S_TIME_WAIT, flags=w.F_INACTIVE, timeout=120), now=5.0)
    c1 = b.table.get((6, A("10.0.0.7"), 1, VIP, 80))
    c2 = b.table.get((6, A("10.0.0.7"), 2, VIP, 80))
    assert c1 is not None and c2 is not None
    assert (c1.state, c1.timeout, c1.expires, c1.inactive) == (
        ConnState.ESTABLISHED,
        900,
        905,
        False,
    )
    assert (c2.state, c2.expires, c2.inactive) == (ConnState.TIME_WAIT, 125, True)
    assert (b.rs1.activeconns, b.rs1.inactconns) == (1, 1)
    assert b.table.expire(125.0) == [c2]
    assert (b.rs1.activeconns, b.rs1.inactconns) == (1, 0)


def test_a_timeout_past_2_to_the_32_milliseconds_wraps_as_in_the_kernel() -> None:
    b = Backup()
    b.send(conn(1, timeout=5_000_000), conn(2, timeout=4_000_000))
    c1 = b.table.get((6, A("10.0.0.7"), 1, VIP, 80))
    c2 = b.table.get((6, A("10.0.0.7"), 2, VIP, 80))
    assert c1 is not None and c1.timeout == pytest.approx(705_032.704)
    assert c2 is not None and c2.timeout == 4_000_000


def test_unbound_entry_binds_when_its_real_server_appears() -> None:
    b = Backup()
    b.send(conn(1, daddr=RS2))
    entry = b.table.get((6, A("10.0.0.7"), 1, VIP, 80))
    assert entry is not None and (entry.daddr, entry.dport) == (RS2, 80)
    assert not entry.dest.available  # a stand-in: counted nowhere
    rs2 = b.rt.add_dest(RealServer(RS2, 80, method=ForwardMethod.MASQ), 1.0)
    b.send(conn(1, daddr=RS2), now=2.0)
    assert entry.dest is rs2 and rs2.activeconns == 1
    # and the next sync from here names the real server's method again
    assert record(entry, b.marks.get(entry, 2.0)).flags & w.F_FWD_MASK == w.F_MASQ


def test_synced_template_pins_new_connections_after_a_takeover() -> None:
    b = Backup(persistent=True)
    rs2 = b.rt.add_dest(RealServer(RS2, 80, method=ForwardMethod.MASQ), 0.0)
    b.send(template(daddr=RS2))
    assert rs2.persistconns == 1
    picks = []
    for i in range(4):  # without the template rr would alternate
        got = schedule_persistent(
            b.table,
            b.rt.service,
            protocol=6,
            client=A("10.0.0.7"),
            vaddr=VIP,
            vport=80,
            pick=lambda i=i: b.rt.pick(b.rt.flow(A("10.0.0.7"), 7000 + i), 1.0),  # type: ignore[misc]
            now=1.0,
        )
        assert got is not None
        picks.append(got[0])
    assert picks == [rs2] * 4


def test_unbound_template_is_not_used_for_persistence() -> None:
    b = Backup(persistent=True)
    b.send(template(daddr=RS2))
    assert b.table.template((6, A("10.0.0.7"), 0, VIP, 80), 1.0) is None


def test_version_0_template_lives_180_seconds_and_connection_its_state_timeout() -> None:
    b = Backup()
    b.table.timeouts = b.table.timeouts.with_set(500, 0, 0)
    b.send(template(timeout=0), conn(1, timeout=0), version=0)
    tpl = b.table.find_template((6, A("10.0.0.7"), 0, VIP, 80))
    c = b.table.get((6, A("10.0.0.7"), 1, VIP, 80))
    assert tpl is not None and tpl.timeout == 180
    assert c is not None and c.timeout == 500


def test_replacing_a_local_connection_ends_it() -> None:
    b = Backup()
    b.rt.add_dest(RealServer(RS2, 80, method=ForwardMethod.MASQ), 0.0)
    local = b.rt.open_conn(b.table, b.rt.flow(A("10.0.0.7"), 1), 0.0)
    assert local is not None
    ended: list[Conn] = []
    local.on_expire = ended.append
    other = RS2 if local.daddr == RS1 else RS1
    b.send(conn(1, daddr=other))
    assert ended == [local] and local.dead
    replaced = b.table.get(local.key)
    assert replaced is not None and replaced.daddr == other
    assert b.receiver.stats.replaced == 1


def test_installed_entries_are_marked_for_the_next_sync() -> None:
    b = Backup()
    b.send(conn(1))
    c = b.table.get((6, A("10.0.0.7"), 1, VIP, 80))
    assert c is not None
    mark = b.marks.get(c, 0.0)
    assert (mark.in_pkts, mark.old_state) == (3, w.TCP_S_ESTABLISHED)
    assert record(c, mark).flags == w.F_SYNC  # synced entries say so when sent on
    # taking over: the next input packet is number 4, not a sync point
    sender = Sender(Sysctls(), syncid=9, maxlen=1472, marks=b.marks)
    b.table.tcp_event(c, TcpEvent.CLIENT_DATA, 1.0)
    assert sender.packet(c, 1.0) == [] and sender.records == 0


# -- fuzz: whatever arrives, the table stays consistent ------------------------------------

addrs = st.sampled_from([A("10.0.0.7"), A("10.0.0.8"), VIP, RS1, RS2, A("10.0.3.2")])
records = st.builds(
    w.SyncConn,
    protocol=st.sampled_from([0, 6, 17, 132, 99]),
    caddr=addrs,
    cport=st.integers(0, 3),
    vaddr=addrs,
    vport=st.sampled_from([0, 80, 81]),
    daddr=addrs,
    dport=st.sampled_from([0, 80]),
    flags=st.integers(0, 0x3FFF),
    state=st.integers(0, 12),
    timeout=st.integers(0, 2000),
    fwmark=st.sampled_from([0, 7]),
)


def consistent(b: Backup, now: float) -> None:
    """Every real server's counters are what the table's live entries say."""
    for dest in b.rt.dests:
        conns = [c for c in b.table.conns() if c.dest is dest]
        templates = [t for t in b.table.templates() if t.dest is dest]
        assert dest.activeconns == sum(not c.inactive for c in conns)
        assert dest.inactconns == sum(c.inactive for c in conns)
        assert dest.persistconns == len(templates)


@given(
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from([0, 1]), st.lists(records, max_size=5)),
            st.binary(max_size=120),
        ),
        max_size=12,
    )
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_streams_never_raise_and_never_corrupt_the_table(
    stream: list[tuple[int, list[w.SyncConn]] | bytes],
) -> None:
    b = Backup(Policy(syncid=9, max_entries=20))
    b.rt.add_dest(RealServer(RS2, 80, method=ForwardMethod.MASQ), 0.0)
    local = b.rt.open_conn(b.table, b.rt.flow(A("10.0.0.99"), 9), 0.0)
    assert local is not None
    now = 0.0
    for item in stream:
        now += 1.0
        if isinstance(item, bytes):
            data = item
        else:
            version, conns = item
            if version == 0:
                conns = [
                    replace(c, timeout=0, fwmark=0, flags=c.flags & 0xFFFF)
                    for c in conns
                    if c.af == 4
                ]
            data = encode(w.SyncMessage(version, 9, tuple(conns)))
        b.receiver.datagram(data, MASTER, now)
        consistent(b, now)
    stats = b.receiver.stats
    assert stats.datagrams == len(stream)
    assert b.target.synced() <= 20
    assert local.dead or b.table.get(local.key) is local
    b.table.expire(now + 10_000)
    consistent(b, now + 10_000)
    assert all(d.activeconns == d.inactconns == d.persistconns == 0 for d in b.rt.dests)
