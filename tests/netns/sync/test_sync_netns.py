"""The sync daemons on real multicast sockets between network namespaces: a pylvs master's
stream installed by a pylvs backup over IPv4 and IPv6 groups, versions 0 and 1, several
sync threads; TTL, ports and sources on the wire; and the backup's defences (another
syncid, a foreign sender, garbage, oversized messages, a flood that overflows its socket)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from typing import TypedDict

import pytest

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import (
    Address,
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    VirtualService,
)
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.proto.conntrack import ConnState, ConnTable, TcpEvent
from pylvs.proto.sync import (
    Drop,
    Marks,
    Policy,
    SyncConn,
    SyncMessage,
    Sysctls,
    TableTarget,
    decode,
    encode,
)
from pylvs.proto.sync.codec import Decoded
from pylvs.sync import Backup, Master
from tests.netns.sync.sync_netns_helpers import Net, NsLoop

pytestmark = pytest.mark.root

A = ipaddress.ip_address
RS = [A("10.0.1.2"), A("10.0.2.2")]


class DaemonOptions(TypedDict, total=False):
    """A sync daemon's settings beside its state and interface."""

    syncid: int
    sync_maxlen: int
    mcast_group: Address
    mcast_port: int
    mcast_ttl: int


class Director:
    """A director's service table and connection table, used from its loop's thread."""

    def __init__(self, vip: str = "10.0.0.100", persistent: bool = False) -> None:
        self.key = ServiceKey.inet(Protocol.TCP, A(vip), 80)
        flags = ServiceFlags.PERSISTENT if persistent else ServiceFlags.NONE
        self.rt = ServiceRuntime(VirtualService(self.key, "rr", flags, 60 if persistent else 0), 0)
        family = A(vip).version
        for i in (1, 2):
            addr = A(f"10.0.{i}.2") if family == 4 else A(f"fd00:{i}::2")
            self.rt.add_dest(RealServer(addr, 80, method=ForwardMethod.MASQ), 0.0)
        self.table = ConnTable()
        self.marks = Marks()
        self._master: Master | None = None
        self._backup: Backup | None = None

    @property
    def master(self) -> Master:
        assert self._master is not None, "open_master first"
        return self._master

    @property
    def backup(self) -> Backup:
        assert self._backup is not None, "open_backup first"
        return self._backup

    def open_master(self, daemon: SyncDaemon, sysctls: Sysctls) -> None:
        self._master = Master.open(daemon, sysctls, marks=self.marks)

    def open_backup(
        self, daemon: SyncDaemon, policy: Policy, sysctls: Sysctls | None = None
    ) -> None:
        target = TableTarget(self.table, {self.key: self.rt}.get, self.marks)
        self._backup = Backup.open(daemon, policy, target, sysctls=sysctls)

    def traffic(self, clients: list[str], packets: int = 3, close: bool = False) -> None:
        """Each client opens a connection and sends `packets` input packets (then a FIN)."""
        now = time.monotonic()
        for i, client in enumerate(clients):
            conn = self.rt.open_conn(self.table, self.rt.flow(A(client), 40000 + i), now)
            assert conn is not None
            events = [TcpEvent.CLIENT_CONNECTED, TcpEvent.BACKEND_CONNECTED]
            events += [TcpEvent.CLIENT_DATA] * (packets - 2)
            if close:
                events.append(TcpEvent.CLIENT_EOF)
            for event in events:
                self.table.tcp_event(conn, event, now)
                self.master.packet(conn)

    def close(self) -> None:
        if self._master is not None:
            self._master.close()
        if self._backup is not None:
            self._backup.close()

    def rows(self) -> set[tuple[str, str, int, str, str]]:
        now = time.monotonic()
        return {
            (str(e.caddr), e.state.value, e.cport, str(e.daddr), "T" if e.template else "C")
            for e in self.table.entries(now)
        }


def link_local() -> str:
    with open("/proc/thread-self/net/if_inet6") as f:
        for line in f:
            addr = A(bytes.fromhex(line.split()[0]))
            if line.split()[5] == "eth0" and addr.is_link_local:
                return str(addr)
    raise AssertionError("no link-local address")


def start_pair(
    net: Net,
    *,
    vip: str = "10.0.0.100",
    persistent: bool = False,
    master: DaemonOptions | None = None,
    backup: DaemonOptions | None = None,
    sysctls: Sysctls | None = None,
) -> tuple[NsLoop, Director, NsLoop, Director]:
    mns, bns = net.node(1), net.node(2)
    ml, bl = net.loop(mns), net.loop(bns)
    md = ml.call(Director, vip, persistent)
    bd = bl.call(Director, vip, persistent)
    ml.cleanups.append(md.close)
    bl.cleanups.append(bd.close)
    master_options: DaemonOptions = {"syncid": 9, **(master or {})}
    backup_options: DaemonOptions = {"syncid": 9, **(backup or {})}
    backup_daemon = SyncDaemon(SyncState.BACKUP, "eth0", **backup_options)
    bl.call(bd.open_backup, backup_daemon, Policy(), sysctls)
    master_daemon = SyncDaemon(SyncState.MASTER, "eth0", **master_options)
    ml.call(md.open_master, master_daemon, sysctls or Sysctls())
    return ml, md, bl, bd


def test_master_stream_is_installed_by_the_backup(net: Net) -> None:
    ml, md, bl, bd = start_pair(net)
    clients = [f"10.0.0.{10 + i}" for i in range(6)]
    ml.call(md.traffic, clients)
    # partly filled: sent by the master's 2 s timer
    assert bl.until(lambda: len(bd.table) == 6, timeout=8)
    assert bl.call(bd.rows) == ml.call(md.rows)
    counts = bl.call(lambda: [(d.activeconns, d.inactconns) for d in bd.rt.dests])
    assert counts == [(3, 0), (3, 0)]
    stats = bl.call(lambda: bd.backup.receiver.stats)
    assert stats.messages == 1 and stats.installed == 6 and not stats.drops
    ml.call(md.traffic, ["10.0.0.50"], 3, True)
    ml.call(md.master.flush)
    assert bl.until(lambda: len(bd.table) == 7)
    assert ("10.0.0.50", "CLOSE_WAIT") in {r[:2] for r in bl.call(bd.rows)}


def test_persistence_templates_reach_the_backup(net: Net) -> None:
    ml, md, bl, bd = start_pair(net, persistent=True)
    ml.call(md.traffic, ["10.0.0.10", "10.0.0.10", "10.0.0.11"])
    ml.call(md.master.flush)
    assert bl.until(lambda: len(bd.table) == 5)
    rows = bl.call(bd.rows)
    templates = {r for r in rows if r[4] == "T"}
    assert {(r[0], r[1]) for r in templates} == {("10.0.0.10", "ASSURED"), ("10.0.0.11", "ASSURED")}
    assert rows == ml.call(md.rows)


def test_ipv6_group_port_and_hop_limit(net: Net) -> None:
    group = A("ff02::81")
    ml, md, bl, bd = start_pair(
        net,
        vip="fd00::100",
        master={"mcast_group": group, "mcast_port": 8850, "mcast_ttl": 3},
        backup={"mcast_group": group, "mcast_port": 8850},
    )

    def listen() -> socket.socket:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
        index = socket.if_nametoindex("eth0")
        s.bind(("ff02::81", 8850, 0, index))
        s.setsockopt(
            socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group.packed + index.to_bytes(4, "little")
        )
        s.settimeout(10)
        return s

    spy = bl.call(listen)
    ml.call(md.traffic, ["fd00::10", "fd00::11"])
    ml.call(md.master.flush)
    data, anc, _, src = spy.recvmsg(2048, socket.CMSG_SPACE(4))
    spy.close()
    hops = [int.from_bytes(v, "little") for lvl, kind, v in anc if kind == socket.IPV6_HOPLIMIT]
    assert hops == [3]
    assert A(src[0].split("%")[0]) in {A("fd88::1"), A(ml.call(link_local))}  # the master
    decoded = decode(data)
    assert isinstance(decoded, Decoded) and decoded.header.version == 1
    assert {c.af for c in decoded.conns} == {6}
    assert bl.until(lambda: len(bd.table) == 2)


def test_version_0_and_two_sync_threads(net: Net) -> None:
    sysctls = Sysctls(version=0, ports=2)
    ml, md, bl, bd = start_pair(net, sysctls=sysctls)
    clients = [f"10.0.0.{10 + i}" for i in range(20)]
    ml.call(md.traffic, clients)
    ml.call(md.master.flush)
    assert bl.until(lambda: len(bd.table) == 20)
    stats = bl.call(lambda: bd.backup.receiver.stats)
    assert stats.messages == 2  # one per thread, on ports 8848 and 8849
    assert bl.call(bd.rows) == ml.call(md.rows)


def test_backup_refuses_what_it_should_and_its_table_is_unharmed(net: Net) -> None:
    ml, md, bl, bd = start_pair(net)
    xns = net.node(3)
    ml.call(md.traffic, ["10.0.0.10"])
    ml.call(md.master.flush)
    assert bl.until(lambda: len(bd.table) == 1)
    before = bl.call(bd.rows)

    # another syncid from the real master, garbage and a lying size from a third host
    def send_from_x(payloads: list[bytes]) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("10.88.0.3", 0))
            for p in payloads:
                s.sendto(p, ("224.0.0.81", 8848))

    record = SyncConn(
        6, A("10.0.0.99"), 30000, A("10.0.0.100"), 80, RS[0], 80, state=1, timeout=900
    )
    good = encode(SyncMessage(1, 9, (record,)))
    wrong_syncid = good[:1] + b"\x08" + good[2:]
    lying = good[:2] + b"\x00\x40" + good[4:]
    x = net.loop(xns)
    x.call(send_from_x, [wrong_syncid, lying, b"\xff" * 3, good])
    stats = bl.call(lambda: bd.backup.receiver.stats)
    assert bl.until(lambda: stats.datagrams == 5), stats
    assert dict(stats.drops) == {Drop.SYNCID: 1, Drop.BAD_SIZE: 1, Drop.SHORT_HEADER: 1}
    assert stats.messages == 2
    # the good one from the third host was taken: the kernel has no sender filter either
    assert len(bl.call(bd.rows)) == 2
    assert before <= bl.call(bd.rows)


def test_messages_larger_than_the_backups_maxlen_are_refused(net: Net) -> None:
    ml, md, bl, bd = start_pair(net, master={"sync_maxlen": 1400}, backup={"sync_maxlen": 1024})
    ml.call(md.traffic, [f"10.0.0.{10 + i}" for i in range(38)])  # 8 + 38 * 36 = 1376 bytes
    ml.call(md.master.flush)
    assert bl.until(lambda: bd.backup.receiver.stats.datagrams == 1)
    assert bl.call(lambda: dict(bd.backup.receiver.stats.drops)) == {Drop.BAD_SIZE: 1}
    assert len(bl.call(bd.rows)) == 0


def test_a_flood_overflowing_the_socket_is_counted(net: Net) -> None:
    sysctls = Sysctls(sock_size=16384)
    _, _, bl, bd = start_pair(net, sysctls=sysctls)
    xns = net.node(3)

    def flood(count: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("10.88.0.3", 0))
            for _ in range(count):
                s.sendto(b"\x00\x09\x00\x08\x00\x01\x00\x00", ("224.0.0.81", 8848))

    # the backup's loop is kept busy while the flood arrives, so its queue overflows; the
    # kernel tells the count with the next datagram queued after the drops
    x = net.loop(xns)
    held = threading.Event()
    bl.loop.call_soon_threadsafe(held.wait, 30)
    try:
        x.call(flood, 400)
    finally:
        held.set()
    assert bl.until(lambda: bd.backup.receiver.stats.datagrams > 0)
    x.call(flood, 1)  # into the drained queue: it carries the drop count
    assert bl.until(lambda: bd.backup.overflow > 0, timeout=10)
    got = bl.call(lambda: bd.backup.receiver.stats.datagrams)
    assert got + bl.call(lambda: bd.backup.overflow) == 401
    assert len(bl.call(bd.rows)) == 0


def test_the_state_after_the_packets(net: Net) -> None:
    """ESTABLISHED entries sent at the third packet; a CLOSE_WAIT at once after a FIN."""
    ml, md, bl, bd = start_pair(net)
    ml.call(md.traffic, ["10.0.0.10"], 2)  # two packets: nothing to sync yet
    ml.call(md.master.flush)
    time.sleep(0.3)
    assert bl.call(lambda: len(bd.table)) == 0
    ml.call(md.traffic, ["10.0.0.11"], 2, True)  # FIN: CLOSE_WAIT goes at once
    ml.call(md.master.flush)
    assert bl.until(lambda: len(bd.table) == 1)
    (row,) = bl.call(bd.rows)
    assert row[:2] == ("10.0.0.11", ConnState.CLOSE_WAIT.value)
