"""vrrp_sync_group coordination (reference §4.16) and notification formats (§4.17)."""

from __future__ import annotations

from ipaddress import IPv4Interface

from pylvs.proto.vrrp.commands import Log, RunNotify, SendAdvert, State, Vip, WriteFifo
from pylvs.proto.vrrp.events import InterfaceCameUp, InterfaceWentDown
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.notify import fifo_line, notify_argv
from pylvs.proto.vrrp.settings import Notifies
from pylvs.proto.vrrp.sync import SyncGroup
from tests.unit.proto.vrrp.vrrp_fsm_helpers import OURS, S, advert, params

DOWN_100 = 3 * S + 609_375


def pair() -> tuple[SyncGroup, VrrpMachine, VrrpMachine]:
    a = VrrpMachine(params(name="VI_1"), source_address=OURS)
    b = VrrpMachine(
        params(name="VI_2", vrid=52, vips=(Vip(IPv4Interface("10.0.0.16/24")),)),
        source_address=OURS,
    )
    g = SyncGroup("G", [a, b], Notifies(generic=("/bin/g",), fifo=True))
    return g, a, b


def test_group_starts_backup_and_notifies() -> None:
    g, a, b = pair()
    out = g.start(0)
    assert (a.state, b.state, g.state) == (State.BACKUP, State.BACKUP, State.BACKUP)
    assert (None, WriteFifo('GROUP "G" BACKUP 0\n')) in out
    assert (None, RunNotify(("/bin/g", "GROUP", "G", "BACKUP", "0"))) in out


def test_a_member_becomes_master_only_when_all_want_it() -> None:
    g, a, b = pair()
    g.start(0)
    # b keeps hearing its master; a's timer runs out
    g.handle(b, advert(150, vrid=52, vips=("10.0.0.16",)), 2 * S)
    g.tick(DOWN_100)
    assert a.state is State.BACKUP and a.wantstate is State.MASTER
    assert a.next_deadline() == 2 * DOWN_100  # re-armed with a full down interval
    # b's timer runs out: every member wants MASTER, both go
    out = g.tick(2 * S + DOWN_100)
    assert (a.state, b.state, g.state) == (State.MASTER, State.MASTER, State.MASTER)
    assert (None, Log("VRRP_Group(G) Syncing instances to MASTER state")) in out


def test_fault_of_one_member_takes_the_group_down_and_back() -> None:
    g, a, b = pair()
    g.start(0)
    g.tick(DOWN_100)
    assert g.state is State.MASTER
    out = g.handle(a, InterfaceWentDown(), 10 * S)
    assert (a.state, b.state, g.state) == (State.FAULT, State.FAULT, State.FAULT)
    assert (None, WriteFifo('GROUP "G" FAULT 0\n')) in out
    # b was MASTER: forced to FAULT it sends priority 0 once (leave_master without advF)
    assert [c for n, c in out if n == "VI_2" and isinstance(c, SendAdvert)] == [SendAdvert(0)]
    g.handle(a, InterfaceCameUp(), 20 * S)
    assert (a.state, b.state, g.state) == (State.BACKUP, State.BACKUP, State.BACKUP)


def test_master_yielding_brings_the_group_to_backup() -> None:
    g, a, b = pair()
    g.start(0)
    g.tick(DOWN_100)
    g.handle(a, advert(200), DOWN_100 + S // 2)
    assert (a.state, b.state, g.state) == (State.BACKUP, State.BACKUP, State.BACKUP)


def test_notify_formats() -> None:
    assert notify_argv(("/x.sh", "a b"), "INSTANCE", "VI_1", State.MASTER, 100) == (
        "/x.sh",
        "a b",
        "INSTANCE",
        "VI_1",
        "MASTER",
        "100",
    )
    assert fifo_line("GROUP", "VG_1", "BACKUP", 0) == 'GROUP "VG_1" BACKUP 0\n'
    assert (
        fifo_line("INSTANCE", "VI_1", "BACKUP_PRIORITY", 90)
        == 'INSTANCE "VI_1" BACKUP_PRIORITY 90\n'
    )
