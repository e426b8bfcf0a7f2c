"""What happened to the director, for its event history (issue 23 point 5).

Four kinds of event, each a frozen value in the past tense: a real server went up or down
(with the checker and its reason, as keepalived logs the transition in check_*.c), a VRRP
instance changed state (with the cause: vrrp.c's transitions), the configuration was reloaded
(with what the reload changed in the table, or why it was refused), an operator changed
something (`pylvs ipvsadm`, the HTTP API, the dashboard).  `EventLog` keeps the last N in
order, numbered from 1 so that a reader can ask for what came after the last one it saw;
`as_record` gives each the one flat shape that `pylvs events`, the API and `--events-log`'s
JSON lines share.  Time is an argument: the wall-clock time comes with each event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

DEFAULT_KEPT = 1000


@dataclass(frozen=True, slots=True)
class ServerHealthChanged:
    at: float  # wall-clock seconds since the epoch
    server: str  # keepalived's FMT_RS: "[10.0.0.2]:tcp:80"
    pool: str  # the pool (keepalived's FMT_VS)
    up: bool
    checker: str  # "TCP_CHECK", ... ("" when no single checker decided: a file, a reload)
    reason: str


@dataclass(frozen=True, slots=True)
class InstanceStateChanged:
    at: float
    instance: str
    old: str  # "INIT", "BACKUP", "MASTER", "FAULT", "STOP"
    new: str
    cause: str  # "higher priority advert from 10.0.0.3", "master down timer", ...


@dataclass(frozen=True, slots=True)
class ConfigReloaded:
    at: float
    ok: bool
    changes: tuple[str, ...]  # the table's changes, one line each (ipvsadm -S style words)
    problems: tuple[str, ...] = ()  # FILE:LINE:COL lines when refused


@dataclass(frozen=True, slots=True)
class OperatorActed:
    at: float
    via: str  # "ipvsadm", "http"
    who: str  # the HTTP user, the control socket's peer ("" when unknown)
    command: str  # what was asked, as the operator would type it
    exit_code: int
    message: str = ""  # what the command answered on error


Event = ServerHealthChanged | InstanceStateChanged | ConfigReloaded | OperatorActed
Record = dict[str, str | int | float | bool | list[str]]


def kind_of(event: Event) -> str:
    match event:
        case ServerHealthChanged():
            return "health"
        case InstanceStateChanged():
            return "vrrp"
        case ConfigReloaded():
            return "reload"
        case OperatorActed():
            return "operator"


def summary(event: Event) -> str:
    """One line for a human (`pylvs events`, the dashboard)."""
    match event:
        case ServerHealthChanged():
            state = "UP" if event.up else "DOWN"
            by = f" by {event.checker}" if event.checker else ""
            return f"{event.server} of {event.pool} {state}{by}: {event.reason}"
        case InstanceStateChanged():
            return f"VRRP {event.instance}: {event.old} -> {event.new} ({event.cause})"
        case ConfigReloaded():
            if not event.ok:
                return f"reload refused ({len(event.problems)} problem(s)); running config kept"
            return f"reloaded: {len(event.changes)} change(s) to the table"
        case OperatorActed():
            who = f" by {event.who}" if event.who else ""
            end = "" if event.exit_code == 0 else f" -> exit {event.exit_code} {event.message}"
            return f"{event.via}{who}: {event.command}{end}"


def as_record(seq: int, event: Event) -> Record:
    """The flat JSON object of one event: seq, at, kind, summary, then its own fields."""
    record: Record = {"seq": seq, "at": event.at, "kind": kind_of(event), "summary": summary(event)}
    for name in event.__slots__:
        if name == "at":
            continue
        value = getattr(event, name)
        record[name] = list(value) if isinstance(value, tuple) else value
    return record


class EventLog:
    """The last `kept` events, numbered from 1 in the order they happened."""

    def __init__(self, kept: int = DEFAULT_KEPT) -> None:
        if kept < 1:
            raise ValueError("an event log keeps at least one event")
        self._events: deque[tuple[int, Event]] = deque(maxlen=kept)
        self.last_seq = 0

    def add(self, event: Event) -> int:
        self.last_seq += 1
        self._events.append((self.last_seq, event))
        return self.last_seq

    def after(self, seq: int = 0, limit: int | None = None) -> list[tuple[int, Event]]:
        """The kept events numbered above `seq`, oldest first; with `limit`, the newest
        `limit` of them."""
        out = [(n, e) for n, e in self._events if n > seq]
        if limit is not None:
            out = out[-limit:] if limit > 0 else []
        return out

    def __iter__(self) -> Iterator[tuple[int, Event]]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)
