"""What a scripted server does, shared by the recording harness (check_harness.py, real sockets)
and the replay on pylvs's check machine (tests/unit/proto/check/check_simnet.py, simulated)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Closed:
    """The port refuses connections."""


@dataclass(frozen=True)
class Serve:
    """Accept and send `greeting`; once `wait_for` is read (bytes: a marker, int: a count,
    None: at once) or `read_timeout` passed, wait `delay` then send `reply`; then close
    (`close`: "fin" after reading up to half a second more, "rst" at once, or "hold" until
    the peer closes)."""

    reply: bytes = b""
    wait_for: bytes | int | None = None
    delay: float = 0.0
    close: str = "fin"
    read_timeout: float = 0.3
    greeting: bytes = b""


Behaviour = Closed | Serve


@dataclass
class Scenario:
    config: str  # {NAME} is server NAME's address:port, {syslog} the log target
    servers: dict[str, list[tuple[float, Behaviour]]]
    duration: float
    cli: list[tuple[float, str]] = field(default_factory=list)
    notes: str = ""
    # client connections held open through a frontend: (when, NAME) where {NAME} in the
    # config is the frontend's address:port (the harness picks the port)
    clients: list[tuple[float, str]] = field(default_factory=list)


def behaviour_at(timeline: list[tuple[float, Behaviour]], t: float) -> Behaviour:
    current: Behaviour = Closed()
    for start, b in timeline:
        if t >= start:
            current = b
    return current


def satisfied(data: bytes, wait_for: bytes | int | None) -> bool:
    if wait_for is None:
        return True
    if isinstance(wait_for, int):
        return len(data) >= wait_for
    return wait_for in data
