"""What a BACKUP or a MASTER does with a valid advertisement: keepalived's rules as tables.

Each table is an ordered list of (rule, predicate, action); the first rule that holds wins.
BACKUP: vrrp.c `vrrp_state_backup` (reference §4.7).  Equal priority is accepted like higher
priority (RFC 5798 §6.4.2 "greater than or equal"), so equal-priority backups never tie-break.
MASTER: vrrp.c `vrrp_state_master_rx` (§4.8).  Only a master compares addresses: a remote
address numerically higher than ours wins an equal-priority election.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from pylvs.proto.vrrp.packet import IPAddress


class BackupAction(enum.Enum):
    TAKE_OVER_AFTER_SKEW = "priority 0: master down after Skew_Time"
    ACCEPT = "accept: restart the master-down timer"
    DISCARD_LOWER = "discard a lower priority advert: let the timer run out and preempt"


@dataclass(frozen=True, slots=True)
class BackupInput:
    advert_priority: int
    effective_priority: int
    nopreempt: bool = False
    preempt_delay: bool = False
    preempt_delay_running: bool = False  # not started yet, or started and not expired


BACKUP_RULES: tuple[tuple[str, Callable[[BackupInput], bool], BackupAction], ...] = (
    ("priority 0", lambda i: i.advert_priority == 0, BackupAction.TAKE_OVER_AFTER_SKEW),
    ("nopreempt", lambda i: i.nopreempt, BackupAction.ACCEPT),
    (
        "higher or equal priority",
        lambda i: i.advert_priority >= i.effective_priority,
        BackupAction.ACCEPT,
    ),
    (
        "preempt_delay not expired",
        lambda i: i.preempt_delay and i.preempt_delay_running,
        BackupAction.ACCEPT,
    ),
    ("lower priority", lambda i: True, BackupAction.DISCARD_LOWER),
)


def backup_decision(i: BackupInput) -> BackupAction:
    return next(action for _, holds, action in BACKUP_RULES if holds(i))


class MasterAction(enum.Enum):
    ANSWER_PRIORITY_ZERO = "send an advert at once, stay master"
    LOWER = "lower priority: stay master, force a new election"
    HIGHER = "higher priority (or equal and higher address): go backup"
    SAME_ADDRESS = "equal priority from our own address: warn, stay master"


@dataclass(frozen=True, slots=True)
class MasterInput:
    advert_priority: int
    effective_priority: int
    addr_cmp: int  # sign of (remote address - our address)


MASTER_RULES: tuple[tuple[str, Callable[[MasterInput], bool], MasterAction], ...] = (
    ("priority 0", lambda i: i.advert_priority == 0, MasterAction.ANSWER_PRIORITY_ZERO),
    ("lower priority", lambda i: i.advert_priority < i.effective_priority, MasterAction.LOWER),
    (
        "equal priority, lower address",
        lambda i: i.advert_priority == i.effective_priority and i.addr_cmp < 0,
        MasterAction.LOWER,
    ),
    ("higher priority", lambda i: i.advert_priority > i.effective_priority, MasterAction.HIGHER),
    (
        "equal priority, higher address",
        lambda i: i.addr_cmp > 0,
        MasterAction.HIGHER,
    ),
    ("equal priority, same address", lambda i: True, MasterAction.SAME_ADDRESS),
)


def master_decision(i: MasterInput) -> MasterAction:
    return next(action for _, holds, action in MASTER_RULES if holds(i))


def addr_cmp(remote: IPAddress, ours: IPAddress | None) -> int:
    """keepalived `vrrp_saddr_cmp`: numeric comparison; 0 when unknown or of another family."""
    if ours is None or remote.version != ours.version:
        return 0
    return (int(remote) > int(ours)) - (int(remote) < int(ours))
