"""What one ipvsadm run works on and gives back: the state it may change, its output, its status.

Shared by session.py (one command) and restore.py (the lines of `-R`), so neither imports the
other's running code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.messages import Stream
from pylvs.model import ServiceKey, ServiceTable
from pylvs.model import table as mt
from pylvs.model.conn import Timeouts
from pylvs.model.snapshot import DEFAULT_TIMEOUTS, DaemonView, Snapshot, snapshot_from_table


@dataclass(frozen=True, slots=True)
class State:
    """What ipvsadm can change: the table, the timeouts, the sync daemons."""

    table: ServiceTable = field(default_factory=ServiceTable)
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    daemons: tuple[DaemonView, ...] = ()


@dataclass(frozen=True, slots=True)
class Emit:
    """Text written to stdout or stderr (newlines included)."""

    stream: Stream
    text: str


@dataclass(frozen=True, slots=True)
class Result:
    state: State
    output: tuple[Emit, ...] = ()
    exit_code: int = 0
    aborted: bool = False  # the process exit()ed (ends an -R restore)
    changes: tuple[mt.Change, ...] = ()
    zeros: tuple[ServiceKey | None, ...] = ()  # -Z requests, None = every service
    # --start-daemon / --stop-daemon that passed, as given (a kernel fills in what was not).
    syncs: tuple[c.StartDaemon | c.StopDaemon, ...] = ()


SnapshotFn = Callable[[State], Snapshot]


def default_snapshot(state: State) -> Snapshot:
    """Zero counters: for listing when no daemon supplies live ones."""
    return snapshot_from_table(state.table, state.timeouts, state.daemons)
