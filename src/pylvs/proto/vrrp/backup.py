"""A BACKUP receiving an advertisement: keepalived vrrp.c `vrrp_state_backup` (reference §4.7).

The decision itself is the table decisions.BACKUP_RULES; this applies it: accepting restarts
the master-down timer (a v3 backup first adopts the master's advert interval, RFC 5798 §6.4.2),
a priority-0 advert shortens it to Skew_Time, and an ignored advert (refused by the checks or a
lower priority one a preemptive backup discards) keeps the time left, so it never extends it.
preempt_delay: the first lower-priority advert starts the delay, adverts are accepted until it
expires, and an advert of our priority or higher stops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.proto.vrrp.commands import State
from pylvs.proto.vrrp.decisions import BackupAction, BackupInput, backup_decision
from pylvs.proto.vrrp.validate import Received, Verdict

if TYPE_CHECKING:
    from pylvs.proto.vrrp.fsm import VrrpMachine


def backup_rx(m: VrrpMachine, rx: Received, now: int) -> None:
    """vrrp_state_backup (table: decisions.BACKUP_RULES)."""
    p = m.params
    master_change = rx.src != m.master_address
    res = m.check(rx, master_change or not p.skip_check_adv_addr)
    ignore = res.verdict is not Verdict.OK or res.advert is None
    if res.advert is not None and not ignore:
        adv = res.advert
        if master_change:
            m.reset_rate_limits()
        if p.owner and m.effective_priority == 254 and (master_change or adv.priority != 255):
            m.log(
                f"({m.name}) Restoring our priority to 255 since received advert "
                "with lower priority"
            )
            m.effective_priority = m.total_priority = 255
        action = backup_decision(
            BackupInput(
                adv.priority,
                m.effective_priority,
                p.nopreempt,
                bool(p.preempt_delay_us),
                m.preempt_time is None or m.preempt_time > now,
            )
        )
        if action is BackupAction.TAKE_OVER_AFTER_SKEW:
            m.ms_down_timer = m.skew()
        elif action is BackupAction.ACCEPT:
            if p.version == 3:
                m.master_adver_int = adv.interval_us
            m.ms_down_timer = m.ms_down_interval()
            m.master_address, m.master_priority = rx.src, adv.priority
            if p.preempt_delay_us:
                if adv.priority >= m.effective_priority:
                    m.preempt_time = None
                elif m.preempt_time is None:
                    m.preempt_time = now + p.preempt_delay_us
            m.wantstate = State.BACKUP
        else:
            m.log(
                f"({m.name}) received lower priority ({adv.priority}) advert "
                f"from {rx.src} - discarding"
            )
            ignore = True
            m.master_address = rx.src
    if ignore and m.sands is not None:
        m.ms_down_timer = max(0, m.sands - now)
