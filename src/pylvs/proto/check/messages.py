"""The texts HAProxy 2.6 logs when a server changes state (src/server.c srv_append_status,
srv_update_status; src/backend.c set_backend_down), built from values.

    Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused",
    check duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued,
    0 remaining in queue.

The reason part comes from the check that changed the state, unless the backend logs its
health checks itself (`option log-health-checks`): then the line only counts servers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.proto.check.health import LOG_EMERG, LogLine, describe
from pylvs.proto.check.status import Status


@dataclass(frozen=True, slots=True)
class Change:
    """Why a server's operational state changed (struct server op_st_chg): a check's
    result, or a reason given by the caller ("changed from CLI")."""

    status: Status | None = None  # None: no check (-1)
    code: int = 0
    duration: int = 0
    reason: str = ""


NO_CHANGE = Change()


@dataclass(frozen=True, slots=True)
class Counts:
    """What the tail of a state line counts."""

    active: int  # proxy->srv_act
    backup: int  # proxy->srv_bck
    sessions: int  # the server's current sessions
    queued: int  # the server's queue
    xferred: int  # sessions moved by the change (requeued or grabbed)


def append_status(
    change: Change,
    counts: Counts | None,
    *,
    stopped: bool,
    track: str | None = None,
    forced: bool = False,
) -> str:
    """srv_append_status."""
    out = ""
    if change.status is not None:
        out = describe(change.status, change.code, change.reason, change.duration)
    elif change.reason:
        out = f", {change.reason}"
    elif not forced and track is not None:
        out = f" via {track}"
    if counts is not None:
        on_backup = " Running on backup." if counts.backup and not counts.active else ""
        if stopped:
            out += (
                f". {counts.active} active and {counts.backup} backup servers left.{on_backup}"
                f" {counts.sessions} sessions active, {counts.xferred} requeued,"
                f" {counts.queued} remaining in queue"
            )
        else:
            out += (
                f". {counts.active} active and {counts.backup} backup servers online.{on_backup}"
                f" {counts.xferred} sessions requeued, {counts.queued} total in queue"
            )
    return out


def server_name(backup: bool, backend: str, server: str) -> str:
    return f"{'Backup ' if backup else ''}Server {backend}/{server}"


def backend_down(kind: str, backend: str) -> LogLine:
    """set_backend_down: logged at emerg, and as an alert on stderr (quoted there)."""
    return LogLine(
        LOG_EMERG,
        f"{kind} {backend} has no server available!",
        stderr=f"{kind} '{backend}' has no server available!",
        stderr_kind="ALERT",
        proxy=backend,
    )
