"""The VRRP state machine against keepalived's rules (reference §4.4-4.12), times explicit.

Expected deadlines are worked from the §4.4 formulas: v2 skew = (256 - prio) * 1e6 // 256,
master down = 3 * advert + skew.  Priority 100 -> 609 375 us skew, 3 609 375 us down interval.
"""

from __future__ import annotations

from ipaddress import IPv4Address as V4

import pytest

from pylvs.proto.vrrp.commands import (
    AddAddresses,
    RemoveAddresses,
    ReportState,
    RunNotify,
    SendGratuitousArp,
    State,
    WriteFifo,
)
from pylvs.proto.vrrp.events import (
    InterfaceCameUp,
    InterfaceWentDown,
    ShutdownRequested,
    Started,
    TrackerChanged,
)
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.priority import Tracker, TrackerKind
from pylvs.proto.vrrp.settings import Notifies
from pylvs.proto.vrrp.stats import Counter
from tests.unit.proto.vrrp.vrrp_fsm_helpers import OURS, VIPS, S, advert, adverts_sent, logs, params

DOWN_100 = 3 * S + 609_375


def state(m: VrrpMachine) -> State:
    """m.state, read afresh: mypy keeps it narrowed by an earlier assert across the
    calls that change it."""
    return m.state


def started(now: int = 0, /, **kw: object) -> VrrpMachine:
    m = VrrpMachine(params(**kw), source_address=OURS)
    m.handle(Started(), now)
    return m


def master_at(t: int, **kw: object) -> VrrpMachine:
    m = started(**kw)
    m.tick(m.next_deadline() or 0)
    assert m.state is State.MASTER
    return m


def test_backup_takes_over_after_the_master_down_interval() -> None:
    m = VrrpMachine(params(), source_address=OURS)
    out = m.handle(Started(), 0)
    assert m.state is State.BACKUP
    assert logs(out) == ["(VI_1) Entering BACKUP STATE (init)"]
    assert m.next_deadline() == DOWN_100
    assert m.tick(DOWN_100 - 1) == []
    out = m.tick(DOWN_100)
    assert state(m) is State.MASTER
    # advert first, then the VIPs, then 5 GARP rounds (garp_master_repeat), then notifies
    assert adverts_sent(out) == [100]
    assert out.index(next(c for c in out if isinstance(c, AddAddresses))) > 0
    assert SendGratuitousArp(VIPS, 5) in out
    assert "(VI_1) Entering MASTER STATE" in logs(out)
    assert ReportState(State.MASTER, 100) in out
    assert m.next_deadline() == DOWN_100 + S  # next advert


def test_master_advertises_every_interval_and_repeats_garp_after_delay() -> None:
    m = master_at(0)
    t0 = DOWN_100
    assert adverts_sent(m.tick(t0 + S)) == [100]
    m.tick(t0 + 2 * S)
    m.tick(t0 + 3 * S)
    m.tick(t0 + 4 * S)
    out = m.tick(t0 + 5 * S)  # garp_master_delay 5 s: second burst
    assert SendGratuitousArp(VIPS, 5) in out


def test_garp_refresh_repeats_every_refresh_interval() -> None:
    m = master_at(0, garp_master_delay_us=0, garp_master_refresh_us=10 * S)
    t0 = DOWN_100
    for t in range(t0 + S, t0 + 10 * S, S):
        assert not any(isinstance(c, SendGratuitousArp) for c in m.tick(t))
    assert SendGratuitousArp(VIPS, 1) in m.tick(t0 + 10 * S)
    assert SendGratuitousArp(VIPS, 1) in m.tick(t0 + 20 * S)


def test_accepted_adverts_restart_the_timer_ignored_ones_do_not() -> None:
    m = started()
    m.handle(advert(150), 1 * S)
    assert m.next_deadline() == S + DOWN_100
    # an advert with a bad TTL is refused: the deadline stays where it was
    m.handle(advert(150, ttl=64), 2 * S)
    assert m.next_deadline() == S + DOWN_100
    assert m.stats[Counter.IP_TTL_ERR] == 1


@pytest.mark.parametrize(
    ("ours", "theirs", "kw", "deadline"),
    [
        # equal priority is accepted in BACKUP whatever the addresses (no tie-break)
        (100, 100, {}, S + DOWN_100),
        # higher accepted
        (100, 200, {}, S + DOWN_100),
        # lower priority discarded: deadline from startup (prio 200: skew 218 750)
        (200, 100, {}, 3 * S + 218_750),
        # nopreempt accepts a lower priority master
        (200, 100, {"nopreempt": True}, S + 3 * S + 218_750),
    ],
)
def test_backup_receive_rules(ours: int, theirs: int, kw: dict[str, object], deadline: int) -> None:
    m = started(priority=ours, **kw)
    m.handle(advert(theirs, src="192.168.200.1"), S)
    assert m.state is State.BACKUP
    assert m.next_deadline() == deadline


def test_lower_priority_discard_is_logged() -> None:
    m = started(priority=200)
    out = m.handle(advert(100), S)
    assert logs(out) == [
        "(VI_1) received lower priority (100) advert from 192.168.200.9 - discarding"
    ]


def test_priority_zero_in_backup_takes_over_after_skew() -> None:
    m = started()
    m.handle(advert(0), 2 * S)
    assert m.next_deadline() == 2 * S + 609_375
    assert m.stats[Counter.PRI_ZERO_RCVD] == 1
    m.tick(2 * S + 609_375)
    assert m.state is State.MASTER


def test_preempt_delay() -> None:
    # ours 200 (down interval 3 218 750), preempt_delay 10 s
    m = started(priority=200, preempt_delay_us=10 * S)
    m.handle(advert(100), 1 * S)  # starts the preempt timer: 11 s; accepted
    assert m.next_deadline() == 1 * S + 3_218_750
    m.handle(advert(100), 4 * S)
    m.handle(advert(100), 7 * S)
    m.handle(advert(100), 10 * S)
    assert m.next_deadline() == 10 * S + 3_218_750
    out = m.handle(advert(100), 11 * S)  # timer expired: discarded, we preempt at the deadline
    assert "discarding" in logs(out)[0]
    assert m.next_deadline() == 10 * S + 3_218_750
    m.tick(10 * S + 3_218_750)
    assert m.state is State.MASTER


def test_preempt_delay_is_stopped_by_a_higher_priority_advert() -> None:
    m = started(priority=200, preempt_delay_us=10 * S)
    m.handle(advert(100), 1 * S)
    m.handle(advert(250), 5 * S)  # stops the timer
    m.handle(advert(100), 12 * S)  # restarts it: 22 s
    m.handle(advert(100), 14 * S)
    assert m.next_deadline() == 14 * S + 3_218_750


def test_owner_becomes_master_after_one_microsecond() -> None:
    m = VrrpMachine(params(priority=255, initial_state="MASTER"))
    out = m.handle(Started(), 0)
    assert logs(out) == []
    assert m.state is State.BACKUP and m.next_deadline() == 1
    m.tick(1)
    assert state(m) is State.MASTER


def test_non_owner_state_master_still_waits_a_full_down_interval() -> None:
    m = started(initial_state="MASTER")
    assert m.state is State.BACKUP and m.next_deadline() == DOWN_100


@pytest.mark.parametrize(
    ("theirs", "src", "yields"),
    [
        (101, "192.168.200.1", True),
        (100, "192.168.200.9", True),  # equal priority, higher address than ours (.5)
        (100, "192.168.200.1", False),  # equal priority, lower address
        (99, "192.168.200.9", False),
    ],
)
def test_master_receive_rules(theirs: int, src: str, yields: bool) -> None:
    m = master_at(0)
    out = m.handle(advert(theirs, src=src), DOWN_100 + 500_000)
    assert (m.state is State.BACKUP) is yields
    if yields:
        assert RemoveAddresses(VIPS) in out and "(VI_1) Entering BACKUP STATE" in logs(out)
        assert m.next_deadline() == DOWN_100 + 500_000 + DOWN_100
    else:
        # "forcing new election": an advert back and GARPs (garp_lower_prio_repeat 5)
        assert adverts_sent(out) == [100]
        assert SendGratuitousArp(VIPS, 5) in out
        assert logs(out)[0] == (
            f"(VI_1) Received advert from {src} with lower priority {theirs}, ours 100, "
            "forcing new election"
        )


def test_master_answers_priority_zero_with_an_advert() -> None:
    m = master_at(0)
    out = m.handle(advert(0), DOWN_100 + S // 2)
    assert adverts_sent(out) == [100] and m.state is State.MASTER


def test_lower_prio_no_advert_and_higher_prio_send_advert() -> None:
    m = master_at(0, lower_prio_no_advert=True, garp_lower_prio_repeat=0)
    out = m.handle(advert(50), DOWN_100 + S // 2)
    assert adverts_sent(out) == []
    assert logs(out) == [
        "(VI_1) Received advert from 192.168.200.9 with lower priority 50, ours 100"
    ]
    m = master_at(0, higher_prio_send_advert=True)
    out = m.handle(advert(150), DOWN_100 + S // 2)
    assert adverts_sent(out) == [100] and m.state is State.BACKUP


def test_strict_mode_master_stays_quiet_on_lower_priority() -> None:
    m = VrrpMachine(params().strict(), source_address=OURS)
    m.handle(Started(), 0)
    m.tick(DOWN_100)
    out = m.handle(advert(50), DOWN_100 + S // 2)
    assert adverts_sent(out) == [] and not any(isinstance(c, SendGratuitousArp) for c in out)


def test_v3_backup_adopts_the_masters_interval_and_reverts_as_master() -> None:
    m = started(version=3)
    # v3, prio 100, 2 s master interval: skew = 156 * 200 * 625 // 16 = 1 218 750
    m.handle(advert(150, version=3, adver_int=200), S)
    assert m.master_adver_int == 2 * S
    assert m.next_deadline() == S + 6 * S + 1_218_750
    m.tick(S + 6 * S + 1_218_750)
    assert m.state is State.MASTER and m.master_adver_int == S
    assert m.next_deadline() == 9 * S + 218_750  # own 1 s interval


def test_v2_backup_drops_other_intervals() -> None:
    m = started()
    m.handle(advert(150, adver_int=2), S)
    assert m.next_deadline() == DOWN_100 and m.stats[Counter.DROPPED] == 1


def test_down_timer_adverts() -> None:
    m = started(down_timer_adverts=1)
    assert m.next_deadline() == S + 609_375


def test_weight_zero_tracker_puts_master_in_fault_and_back() -> None:
    tr = Tracker(TrackerKind.SCRIPT, "chk", 0)
    m = VrrpMachine(params(trackers=(tr,)), source_address=OURS)
    m.handle(TrackerChanged(TrackerKind.SCRIPT, "chk", True), 0)
    m.handle(Started(), 0)
    m.tick(DOWN_100)
    out = m.handle(TrackerChanged(TrackerKind.SCRIPT, "chk", False), 5 * S)
    assert m.state is State.FAULT and m.next_deadline() is None
    # keepalived sends priority 0 twice here (leave_master for FAULT, then restore_interface)
    assert adverts_sent(out) == [0, 0]
    assert RemoveAddresses(VIPS) in out and "(VI_1) Entering FAULT STATE" in logs(out)
    m.handle(advert(50), 6 * S)  # ignored in FAULT
    assert m.stats[Counter.ADVERT_RCVD] == 0
    out = m.handle(TrackerChanged(TrackerKind.SCRIPT, "chk", True), 7 * S)
    assert state(m) is State.BACKUP and "(VI_1) Entering BACKUP STATE" in logs(out)
    assert m.next_deadline() == 7 * S + DOWN_100


def test_weight_zero_script_without_result_holds_instance_in_fault() -> None:
    tr = Tracker(TrackerKind.SCRIPT, "chk", 0)
    m = VrrpMachine(params(trackers=(tr,)), source_address=OURS)
    out = m.handle(Started(), 0)
    assert m.state is State.FAULT
    assert not any(isinstance(c, RunNotify | WriteFifo) for c in out)
    m.handle(TrackerChanged(TrackerKind.SCRIPT, "chk", True), S)
    assert state(m) is State.BACKUP and m.next_deadline() == S + DOWN_100


def test_interface_down_at_start_and_later() -> None:
    m = VrrpMachine(params(), source_address=OURS)
    m.handle(InterfaceWentDown(), 0)
    m.handle(Started(), 0)
    assert m.state is State.FAULT
    m.handle(InterfaceCameUp(), S)
    assert state(m) is State.BACKUP


def test_weighted_tracker_changes_priority_and_shifts_the_backup_timer() -> None:
    tr = Tracker(TrackerKind.SCRIPT, "chk", -60)
    n = Notifies(fifo=True, priority_changes=True)
    m = VrrpMachine(params(priority=150, trackers=(tr,), notifies=n), source_address=OURS)
    m.handle(TrackerChanged(TrackerKind.SCRIPT, "chk", True), 0)
    m.handle(Started(), 0)
    assert m.next_deadline() == 3 * S + 414_062
    out = m.handle(TrackerChanged(TrackerKind.SCRIPT, "chk", False), S)
    assert m.effective_priority == 90
    assert logs(out) == ["(VI_1) Changing effective priority from 150 to 90"]
    assert WriteFifo('INSTANCE "VI_1" BACKUP_PRIORITY 90\n') in out
    # skew for 90 = 166 * 1e6 // 256 = 648 437: the deadline moves by 648 437 - 414 062
    assert m.next_deadline() == 3 * S + 648_437


def test_shutdown_of_a_master_sends_priority_zero_and_stop_notifies() -> None:
    n = Notifies(stop=("/bin/stop",), generic=("/bin/n",), fifo=True)
    m = master_at(0, notifies=n)
    out = m.handle(ShutdownRequested(), 10 * S)
    assert adverts_sent(out) == [0]
    assert RemoveAddresses(VIPS) in out
    assert RunNotify(("/bin/stop",), 1_000_000) in out
    assert RunNotify(("/bin/n", "INSTANCE", "VI_1", "STOP", "100"), 1_000_000) in out
    assert WriteFifo('INSTANCE "VI_1" STOP 100\n') in out
    assert m.state is State.STOP and m.next_deadline() is None


def test_notifications_on_becoming_master() -> None:
    n = Notifies(master=("/bin/m",), generic=("/bin/n", "x"), fifo=True)
    m = started(notifies=n)
    out = m.tick(DOWN_100)
    assert RunNotify(("/bin/m",)) in out
    assert RunNotify(("/bin/n", "x", "INSTANCE", "VI_1", "MASTER", "100")) in out
    assert WriteFifo('INSTANCE "VI_1" MASTER 100\n') in out


def test_master_rx_lower_pri_fifo_event() -> None:
    m = master_at(0, notifies=Notifies(fifo=True, master_rx_lower_pri=("/bin/l",)))
    out = m.handle(advert(50), DOWN_100 + 1)
    assert RunNotify(("/bin/l",)) in out
    assert WriteFifo('INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100\n') in out


def test_owner_conflict_reduces_our_priority_after_two_adverts() -> None:
    m = VrrpMachine(
        params(priority=255, initial_state="MASTER"), source_address=V4("192.168.200.20")
    )
    m.handle(Started(), 0)
    m.tick(1)
    out = m.handle(advert(255, src="192.168.200.9"), 100)
    assert "CONFIGURATION ERROR" in logs(out)[0] and m.state is State.MASTER
    # receiving restarted the advert timer: our next adverts go at 100 + 1 s and 100 + 2 s
    assert m.next_deadline() == 100 + S
    m.tick(100 + S)
    m.tick(100 + 2 * S)  # the second: rogue timer 1.2 x max(1 s, 1 s)
    assert m.rogue_deadline == 100 + 2 * S + 1_200_000
    m.handle(advert(255, src="192.168.200.9"), 100 + 2 * S + 100)
    assert m.effective_priority == 254
    assert state(m) is State.BACKUP  # 255 now beats our 254


def test_startup_delay_ignores_adverts_and_delays_timers() -> None:
    m = started(startup_delay_us=5 * S)
    assert m.next_deadline() == 5 * S + DOWN_100
    m.handle(advert(150), S)
    assert m.stats[Counter.ADVERT_RCVD] == 0


def test_forged_priority_zero_adverts_with_other_addresses_are_dropped_and_counted() -> None:
    # Issue 18 item 18: 50 forged v3 adverts flipped a backup to MASTER 24 times; keepalived
    # 2.2.7 drops an advert whose address list is not the instance's.
    m = started()
    deadline = m.next_deadline()
    for i, vips in enumerate((("10.9.9.9",), ("192.168.200.16", "10.9.9.9"), ())):
        m.handle(advert(0, src=f"192.168.200.{60 + i}", vips=vips), S)
    assert m.next_deadline() == deadline  # the master-down timer was not cut to Skew_Time
    assert m.stats[Counter.ADDR_LIST_ERR] == 3 and m.stats[Counter.PRI_ZERO_RCVD] == 0
    m.tick(S + 609_375)
    assert m.state is State.BACKUP


def test_skip_check_adv_addr_trusts_the_current_master_only() -> None:
    m = started(skip_check_adv_addr=True)
    m.handle(advert(150), S)  # the master, first heard: its list is checked, and right
    m.handle(advert(150, vips=("10.9.9.9",)), 2 * S)  # same master: not checked
    assert m.stats[Counter.ADDR_LIST_ERR] == 0
    assert m.next_deadline() == 2 * S + 3 * S + 609_375  # accepted: the timer restarted
    m.handle(advert(0, src="192.168.200.77", vips=("10.9.9.9",)), 3 * S)  # a new one: checked
    assert m.stats[Counter.ADDR_LIST_ERR] == 1
    assert m.next_deadline() == 2 * S + 3 * S + 609_375
