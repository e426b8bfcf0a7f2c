"""The master side of the VRRP machine: elections heard as master, becoming and leaving master.

Sources: keepalived vrrp.c `vrrp_state_master_rx` (table: decisions.MASTER_RULES, reference
§4.8), `vrrp_state_master_tx`, `vrrp_state_goto_master`, `vrrp_state_become_master`,
`vrrp_state_leave_master`, `vrrp_restore_interface` (§4.10), vrrp_scheduler.c
`try_up_instance` and the GARP threads (§4.11).

Becoming master sends an advert first (so the old master drops the VIPs before our GARPs), adds
the addresses, sends `garp_master_repeat` GARP/NA rounds, then another burst after
`garp_master_delay` and every `garp_master_refresh`.  Unlike keepalived, whose delayed GARP
threads outlive a master that steps down (they then find no VIPs set and send nothing), the
timers here are cancelled on leaving master; what goes on the wire is the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.proto.vrrp.commands import (
    AddAddresses,
    RemoveAddresses,
    RunNotify,
    SendGratuitousArp,
    SendNeighbourAdvert,
    State,
)
from pylvs.proto.vrrp.decisions import MasterAction, MasterInput, addr_cmp, master_decision
from pylvs.proto.vrrp.notify import EVENT_MASTER_RX_LOWER_PRI, INSTANCE, entering_state, fifo_line
from pylvs.proto.vrrp.stats import Counter
from pylvs.proto.vrrp.validate import Received, Verdict

if TYPE_CHECKING:
    from pylvs.proto.vrrp.fsm import VrrpMachine

GARP_DELAYED = "garp_delayed"
GARP_REFRESH = "garp_refresh"
GARP_LOWER_PRIO = "garp_lower_prio"


def link_update(m: VrrpMachine, repeat: int) -> None:
    """vrrp_send_link_update: `repeat` rounds of GARP (IPv4) / NA (IPv6) for VIPs and eVIPs."""
    if not m.vipset or repeat <= 0:
        return
    addrs = m.params.vips + m.params.evips
    v4 = tuple(v for v in addrs if v.address.version == 4)
    v6 = tuple(v for v in addrs if v.address.version == 6)
    if v4:
        m.emit(SendGratuitousArp(v4, repeat))
    if v6:
        m.emit(SendNeighbourAdvert(v6, repeat))


def run_garp_timers(m: VrrpMachine, now: int) -> None:
    p = m.params
    due = sorted((t, k) for k, t in m.garp_timers.items() if t <= now)
    for when, kind in due:
        del m.garp_timers[kind]
        if kind == GARP_DELAYED:
            link_update(m, p.garp_master_repeat)
        elif kind == GARP_LOWER_PRIO:
            link_update(m, p.garp_lower_prio_repeat)
        else:
            link_update(m, p.garp_master_refresh_repeat)
            m.garp_timers[GARP_REFRESH] = when + p.garp_master_refresh_us


def goto_master(m: VrrpMachine, now: int) -> None:
    """vrrp_state_goto_master: a sync group may hold us in BACKUP wanting MASTER."""
    if m.group is not None and not m.group.can_goto_master(m):
        m.wantstate = State.MASTER
        m.ms_down_timer = m.ms_down_interval()
        m.init_sands(now)
        return
    m.reset_rate_limits()
    m.state = State.MASTER
    m.init_sands(now)
    if not m.delay_running():
        master_tx(m, now)


def master_tx(m: VrrpMachine, now: int) -> None:
    """vrrp_state_master_tx: advert first; the first one of a new master installs the VIPs."""
    m.send_advert(m.effective_priority)
    if not m.vipset:
        m.log(entering_state(m.name, State.MASTER))
        become_master(m, now)
    elif m.params.owner and m.rogue_counter:
        m.rogue_counter -= 1
        if not m.rogue_counter:
            # Two of our adverts went out; a well-behaved rogue owner should have stopped.
            interval = max(m.rogue_adver_int, m.params.adver_int_us)
            m.rogue_deadline = now + interval * 12 // 10


def become_master(m: VrrpMachine, now: int) -> None:
    p = m.params
    m.stats[Counter.BECOME_MASTER] += 1
    if p.owner and m.effective_priority != 255:
        m.log(f"({m.name}) Restoring our priority to 255 since other address owner has disappeared")
        m.effective_priority = m.total_priority = 255
    # RFC 5798 §6.4.1: a new master advertises its own interval.
    m.master_adver_int = p.adver_int_us
    m.emit(AddAddresses(p.vips + p.evips))
    m.vipset = True
    link_update(m, p.garp_master_repeat)
    if p.garp_master_delay_us:
        m.garp_timers[GARP_DELAYED] = now + p.garp_master_delay_us
    if p.garp_master_refresh_us:
        m.garp_timers[GARP_REFRESH] = now + p.garp_master_delay_us + p.garp_master_refresh_us
    m.notify_state()


def restore_interface(m: VrrpMachine, *, send_stop_advert: bool) -> None:
    """vrrp_restore_interface: optional priority-0 advert, then release the addresses."""
    if send_stop_advert:
        m.send_advert(0)
    m.garp_timers.clear()
    if m.vipset:
        m.emit(RemoveAddresses(m.params.vips + m.params.evips))
        m.vipset = False


def leave_master(m: VrrpMachine, now: int, *, send_stop_advert: bool) -> None:
    """vrrp_state_leave_master to wantstate BACKUP or FAULT.

    Going to FAULT sends a priority-0 advert, and a fault detected by a tracker asks for
    another one through `send_stop_advert`: keepalived sends both.
    """
    m.reset_rate_limits()
    if m.wantstate is State.BACKUP:
        m.log(entering_state(m.name, State.BACKUP))
        m.preempt_time = None
    elif m.wantstate is State.FAULT:
        m.log(entering_state(m.name, State.FAULT))
        m.send_advert(0)
    else:
        return
    restore_interface(m, send_stop_advert=send_stop_advert)
    m.state = m.wantstate
    m.notify_state()
    m.ms_down_timer = m.ms_down_interval()
    m.init_sands(now)
    m.stats[Counter.RELEASE_MASTER] += 1
    if m.rogue_deadline is not None:
        m.rogue_deadline = None
    else:
        m.rogue_counter = 0


def master_rx(m: VrrpMachine, rx: Received, now: int) -> bool:
    """vrrp_state_master_rx: True when the master must step down to BACKUP."""
    p = m.params
    res = m.check(rx, True)
    adv = res.advert
    if res.verdict is not Verdict.OK or adv is None:
        return False
    cmp = addr_cmp(rx.src, m.source_address)
    eff = m.effective_priority
    action = master_decision(MasterInput(adv.priority, eff, cmp))
    if action is MasterAction.ANSWER_PRIORITY_ZERO:
        m.send_advert(eff)
        return False
    if action is MasterAction.HIGHER and p.higher_prio_send_advert:
        m.send_advert(eff)
    if adv.priority == eff:
        _equal_priority(m, rx, adv.interval_us, cmp)
        eff = m.effective_priority
        action = master_decision(MasterInput(adv.priority, eff, cmp))
    if action is MasterAction.LOWER:
        _lower_priority(m, rx, adv.priority, now)
        return False
    if action is MasterAction.SAME_ADDRESS:
        return False
    if adv.priority > eff and not p.owner:
        m.log(
            f"({m.name}) Master received advert from {rx.src} with higher priority "
            f"{adv.priority}, ours {eff}"
        )
    else:
        m.log(
            f"({m.name}) Master received advert from {rx.src} with same priority "
            f"{adv.priority} but higher IP address than ours"
        )
    if p.version == 3:
        m.master_adver_int = adv.interval_us
    m.ms_down_timer = m.ms_down_interval()
    m.master_address, m.master_priority = rx.src, adv.priority
    m.wantstate = State.BACKUP
    return True


def _equal_priority(m: VrrpMachine, rx: Received, interval_us: int, cmp: int) -> None:
    """Equal priority: same address warning, or two address owners (keepalived's rogue logic)."""
    if cmp == 0:
        m.log(
            f"({m.name}) WARNING - equal priority advert received from remote host "
            "with our IP address."
        )
    elif m.effective_priority == 255:
        conflict = (
            f"({m.name}) CONFIGURATION ERROR: local instance and {rx.src} are both "
            "configured as address owner, please resolve"
        )
        if cmp > 0:
            m.log(conflict)
        elif m.rogue_deadline is not None:
            m.log(
                f"({m.name}) {rx.src} is still advertising as address owner, please resolve "
                "- reducing our priority"
            )
            m.rogue_deadline = None
            m.effective_priority = m.total_priority = 254
        else:
            m.rogue_adver_int = interval_us
            if not m.rogue_counter:
                m.log(conflict)
                m.rogue_counter = 2


def _lower_priority(m: VrrpMachine, rx: Received, priority: int, now: int) -> None:
    """A lower priority master exists: advert and GARPs to heal the split brain."""
    p = m.params
    suffix = "" if p.lower_prio_no_advert else ", forcing new election"
    m.log(
        f"({m.name}) Received advert from {rx.src} with lower priority {priority}, "
        f"ours {m.effective_priority}{suffix}"
    )
    if not p.lower_prio_no_advert:
        m.send_advert(m.effective_priority)
    if p.garp_lower_prio_repeat:
        link_update(m, p.garp_lower_prio_repeat)
        if p.garp_lower_prio_delay_us:
            m.garp_timers[GARP_LOWER_PRIO] = now + p.garp_lower_prio_delay_us
    if p.notifies.master_rx_lower_pri is not None:
        m.emit(RunNotify(p.notifies.master_rx_lower_pri))
    if p.notifies.fifo:
        m.emit_fifo(fifo_line(INSTANCE, m.name, EVENT_MASTER_RX_LOWER_PRI, m.effective_priority))


def try_up(m: VrrpMachine, now: int, *, waiting: bool) -> None:
    """try_up_instance: every fault flag is clear; go BACKUP (or MASTER, owner wanting it)."""
    if waiting:
        m.wantstate = State.BACKUP
        return
    if not (m.wantstate is State.MASTER and m.params.owner):
        m.wantstate = State.BACKUP
    m.master_adver_int = m.params.adver_int_us
    if m.wantstate is State.MASTER:
        m.ms_down_timer = m.master_adver_int + m.skew()
    else:
        m.ms_down_timer = m.ms_down_interval()
    if m.group is not None and m.group.blocks_up(m):
        return
    wanted = m.wantstate
    if m.group is not None and wanted is State.MASTER and not m.group.can_goto_master(m):
        m.wantstate = State.BACKUP
    m.leave_fault(now)
    m.init_sands(now)
    m.wantstate = wanted
