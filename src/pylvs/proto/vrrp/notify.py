"""Notification formats: notify script argv, FIFO lines and keepalived's log texts.

keepalived vrrp/vrrp_notify.c (reference §4.17):
* the state scripts (`notify_master` ...) run as configured; the generic `notify` script gets
  `INSTANCE|GROUP <name> <MASTER|BACKUP|FAULT|STOP|DELETED> <priority>` appended (`notify_
  script_exec`), with priority 0 for a group; STOP scripts are killed after 1 s (TIMER_HZ);
* a FIFO line is `%s "%s" %s %d\\n`: `INSTANCE "VI_1" MASTER 100`, `GROUP "G" BACKUP 0`, and the
  events MASTER_RX_LOWER_PRI, MASTER_PRIORITY and BACKUP_PRIORITY.
"""

from __future__ import annotations

from pylvs.proto.vrrp.commands import Command, RunNotify, State, WriteFifo

STOP_SCRIPT_TIMEOUT_US = 1_000_000
INSTANCE = "INSTANCE"
GROUP = "GROUP"
EVENT_MASTER_RX_LOWER_PRI = "MASTER_RX_LOWER_PRI"
EVENT_MASTER_PRIORITY = "MASTER_PRIORITY"
EVENT_BACKUP_PRIORITY = "BACKUP_PRIORITY"


def state_word(state: State) -> str:
    return state.name if state is not State.INIT else "{UNKNOWN}"


def notify_argv(
    script: tuple[str, ...], kind: str, name: str, state: State, priority: int
) -> tuple[str, ...]:
    """The generic `notify` script's argv: the script, then kind, name, state and priority."""
    return (*script, kind, name, state_word(state), str(priority))


def fifo_line(kind: str, name: str, word: str, priority: int) -> str:
    return f'{kind} "{name}" {word} {priority}\n'


def entering_state(name: str, state: State, suffix: str = "") -> str:
    """'(VI_1) Entering MASTER STATE' and friends (vrrp.c, vrrp_scheduler.c)."""
    return f"({name}) Entering {state.name} STATE{suffix}"


def script_commands(
    *,
    state_script: tuple[str, ...] | None,
    generic: tuple[str, ...] | None,
    kind: str,
    name: str,
    state: State,
    priority: int,
    fifo: bool,
) -> list[Command]:
    """`send_instance_notifies` / `send_group_notifies`: state script, generic script, FIFO."""
    timeout = STOP_SCRIPT_TIMEOUT_US if state is State.STOP else None
    out: list[Command] = []
    if state_script is not None:
        out.append(RunNotify(state_script, timeout))
    if generic is not None:
        out.append(RunNotify(notify_argv(generic, kind, name, state, priority), timeout))
    if fifo:
        out.append(WriteFifo(fifo_line(kind, name, state_word(state), priority)))
    return out
