"""Interop with the kernel's IPVS sync daemon, both ways, at the wire (issue 24, point 4).

* A kernel master with real traffic through its services; a pylvs backup daemon (this
  process, a thread in the backup's namespace) installs the stream into a pylvs connection
  table: the table must show what the kernel master's `ipvsadm -Lnc` shows.
* A pylvs master daemon over a pylvs table (connections opened and driven through the
  pylvs scheduler and state machine); a kernel backup daemon installs the stream: its
  `ipvsadm -Lnc` must show the pylvs table, its `-Ln` the same connection counters.

Both for sync version 1 and 0 (v0 carries no IPv6), the IPv4 group and an IPv6 group.
"""

from __future__ import annotations

import ipaddress
import time

import pytest

from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.proto.conntrack import TcpEvent, Timeouts
from pylvs.proto.sync import Policy, Sysctls
from pylvs.sync import Backup, Master
from tests.netns.sync.sync_netns_helpers import NsLoop
from tests.unit.proto.sync.sync_oracle import Backup as OracleTable
from tests.unit.proto.sync.sync_oracle import kernel_counts, kernel_rows, table_rows
from tests.vm.sync import sync_vm_helpers as h

A = ipaddress.ip_address

SERVICES = [
    ["-A", "-t", f"{h.VIP}:80", "-s", "rr"],
    ["-a", "-t", f"{h.VIP}:80", "-r", "10.0.1.2:80", "-m"],
    ["-a", "-t", f"{h.VIP}:80", "-r", "10.0.2.2:80", "-m"],
    ["-A", "-u", f"{h.VIP}:53", "-s", "rr"],
    ["-a", "-u", f"{h.VIP}:53", "-r", "10.0.1.2:53", "-m"],
    ["-a", "-u", f"{h.VIP}:53", "-r", "10.0.2.2:53", "-m"],
    ["-A", "-t", f"[{h.VIP6}]:80", "-s", "rr", "-p", "60"],
    ["-a", "-t", f"[{h.VIP6}]:80", "-r", "[fd00:1::2]:80", "-m"],
    ["-a", "-t", f"[{h.VIP6}]:80", "-r", "[fd00:2::2]:80", "-m"],
]
GROUPS = {
    "group4": [],
    "group6": ["--mcast-group", "ff02::81", "--mcast-port", "8850"],
}
CASES = [(1, "group4"), (0, "group4"), (1, "group6")]


def daemon_of(role: SyncState, interface: str, group: str) -> SyncDaemon:
    if group == "group6":
        return SyncDaemon(role, interface, syncid=9, mcast_group=A("ff02::81"), mcast_port=8850)
    return SyncDaemon(role, interface, syncid=9)


def ipv6(rows: set[tuple[str, str, str, str, str]]) -> set[tuple[str, str, str, str, str]]:
    return {r for r in rows if r[2].startswith("[")}


@pytest.mark.parametrize(("version", "group"), CASES)
def test_kernel_master_stream_installs_into_a_pylvs_table(
    world: None, version: int, group: str
) -> None:
    h.directors()
    for cmd in SERVICES:
        h.ipvsadm(*cmd, ns="m")
    h.sysctl("m", sync_version=version)
    loop = NsLoop("bk")
    try:
        ours = loop.call(OracleTable, h.ipvsadm("-Ln", ns="m"), Timeouts(), Policy())
        backup: Backup = loop.call(
            lambda: Backup.open(
                daemon_of(SyncState.BACKUP, h.BACKUP_IF, group), Policy(), ours.target
            )
        )
        loop.cleanups.append(backup.close)
        h.ipvsadm(
            "--start-daemon", "master", "--mcast-interface", h.SYNC_IF, "--syncid", "9",
            *GROUPS[group], ns="m",
        )  # fmt: skip
        h.tcp_sessions(h.VIP, 80, 4)
        h.tcp_sessions(h.VIP6, 80, 2)
        h.udp_flows(h.VIP, 53, 2, 4)
        h.flush_wait()
        kernel = kernel_rows(h.ipvsadm("-Lnc", ns="m"))
        got = loop.call(lambda: table_rows(ours.table, time.monotonic()))
        stats = loop.call(lambda: backup.receiver.stats)
    finally:
        loop.stop()
    assert len(kernel) == 4 + 2 + 1 + 2  # TCP, IPv6 TCP and its template, UDP
    if version == 0:  # version 0 carries IPv4 entries only
        assert got == kernel - ipv6(kernel)
    else:
        assert got == kernel
    assert not stats.drops and stats.messages >= 1


def drive(table: OracleTable, clients: int) -> None:
    """Connections through every service of the pylvs master, opened by its schedulers and
    moved by its TCP state machine (3 input packets each; every third one then closed by
    its client), each packet told to the master daemon.  IPv4 clients differ by address,
    the IPv6 ones (a persistent service) share one: one template."""
    master = table.master  # type: ignore[attr-defined]
    now = time.monotonic()
    for key, rt in table.runtimes.items():
        for i in range(clients):
            client = A("fd00::20") if key.af == 10 else A(f"10.0.0.{20 + i}")
            conn = rt.open_conn(table.table, rt.flow(client, 41000 + i), now)
            assert conn is not None
            if conn.protocol == 17:
                for _ in range(3):
                    table.table.udp_packet(conn, now)
                    master.packet(conn)
                continue
            events = [TcpEvent.CLIENT_CONNECTED, TcpEvent.BACKEND_CONNECTED, TcpEvent.CLIENT_DATA]
            if i % 3 == 2:
                events.append(TcpEvent.CLIENT_EOF)
            for event in events:
                table.table.tcp_event(conn, event, now)
                master.packet(conn)
    master.flush()


@pytest.mark.parametrize(("version", "group"), CASES)
def test_pylvs_master_stream_is_installed_by_a_kernel_backup(
    world: None, version: int, group: str
) -> None:
    h.directors()
    for cmd in SERVICES:
        h.ipvsadm(*cmd, ns="bk")
    h.ipvsadm(
        "--start-daemon", "backup", "--mcast-interface", h.BACKUP_IF, "--syncid", "9",
        *GROUPS[group], ns="bk",
    )  # fmt: skip
    loop = NsLoop("m")
    try:
        ours = loop.call(OracleTable, h.ipvsadm("-Ln", ns="bk"), Timeouts(), Policy())
        master: Master = loop.call(
            lambda: Master.open(
                daemon_of(SyncState.MASTER, h.SYNC_IF, group),
                Sysctls(version=version),
                marks=ours.marks,
            )
        )
        loop.cleanups.append(master.close)
        ours.master = master
        loop.call(drive, ours, 6)
        time.sleep(1.0)
        got = loop.call(lambda: table_rows(ours.table, time.monotonic()))
        our_counts = loop.call(ours.counts)
        sent = loop.call(lambda: master.stats.sent)
    finally:
        loop.stop()
    kernel = kernel_rows(h.ipvsadm("-Lnc", ns="bk"))
    listing = h.ipvsadm("-Ln", ns="bk")
    counts = kernel_counts(listing, h.ipvsadm("-Ln", "--persistent-conn", ns="bk"))
    assert sent >= 1
    assert len(got) == 6 * 3 + 1  # TCP, UDP, IPv6 TCP and its template
    if version == 0:
        assert kernel == got - ipv6(got)
        assert {k: v for k, v in counts.items() if not k[1].startswith("[")} == {
            k: v for k, v in our_counts.items() if not k[1].startswith("[")
        }
    else:
        assert kernel == got
        assert counts == our_counts
