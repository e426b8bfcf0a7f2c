"""The TCP relay's decisions, sans I/O: events in, commands out.

One `RelayMachine` per proxied connection.  Its driver (pylvs.dataplane.proxy.tcp) owns the
sockets, the queued bytes and the epoll set; it reports what happened (events.py) and does
what the machine answers (commands.py), in order.  The rules are in rules.py, the two
per-direction state tables in half.py, the state in state.py.

A relay's state is one interned value, so the answer to an input in a state is computed by
the rules once and then looked up (each state keeps its row, `RelayState.answers`): an
h11-style table of the whole relay, filled as states are met, and bounded since states and
inputs are few.  Events with a number are
classified first (bytes queued against the high-water mark, bytes left after a flush against
the low one); the two payloads a table cannot hold (the connect deadline, a failure's reason)
are filled into the looked-up answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import commands as c
from . import events as e
from .half import EOF_PENDING, Half, Input
from .rules import (
    ARM_TIMER,
    CONNECT_FAILED,
    CONNECTING,
    COUNT_FAILURE,
    Moved,
    RuleInput,
    transition,
)
from .state import initial


@dataclass(frozen=True, slots=True)
class RelayParams:
    """The relay's knobs: backpressure marks (bytes queued towards one side) and how long a
    connect to a real server may take (seconds)."""

    high_water: int = 256 * 1024
    low_water: int = 64 * 1024
    connect_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.low_water < self.high_water:
            raise ValueError("the low-water mark must be below the high-water mark")
        if not self.connect_timeout > 0:
            raise ValueError("the connect timeout must be positive")


_INITIAL = {fast: initial(fast) for fast in (False, True)}
_PATCHED = {ARM_TIMER, COUNT_FAILURE}

_CONSTANTS: dict[tuple[type, e.Side | None], e.Event] = {
    (type(ev), None): ev
    for ev in (
        e.ACCEPTED,
        e.CONNECTED,
        e.CONNECT_TIMED_OUT,
        e.HELD,
        e.RELEASED,
        e.EXPIRED,
        e.ABORTED,
    )
}
for _family in (e.EOF_READ, e.HUNG_UP, e.FAILED, e.FAST_SHUT, e.FAST_CLOSED):
    for _side, _ev in _family.items():
        _CONSTANTS[(type(_ev), _side)] = _ev
_KNOWN = frozenset(_CONSTANTS.values())

_MOVED = {
    (kind, side, what): Moved(kind, side, what)
    for kind in (e.DataQueued, e.Flushed, e.Spilled)
    for side in e.Side
    for what in Input
}


class RelayMachine:
    """One relay's state (`state`) and its answer to each event (`handle`)."""

    __slots__ = ("params", "state")

    def __init__(self, params: RelayParams, *, fast: bool = False) -> None:
        self.params = params
        self.state = _INITIAL[fast]

    def handle(self, event: e.Event) -> tuple[c.Command, ...]:
        """The commands that carry out `event`, in the order the driver must run them."""
        answer = self.state.answers.get(event)  # the shared constants: one lookup
        if answer is None:
            return self._answer(event)
        self.state, commands = answer
        return commands

    def _answer(self, event: e.Event) -> tuple[c.Command, ...]:
        """`handle` for an event met the first time in this state, or made anew, or with
        a payload: classified, looked up, computed by the rules if need be."""
        inp: RuleInput = event if event in _KNOWN else self._input(event)
        state = self.state
        answer = state.answers.get(inp)
        if answer is None:
            answer = state.answers[inp] = transition(state, inp)
        self.state, commands = answer
        if inp is CONNECTING or inp is CONNECT_FAILED:
            return self._fill(commands, event)
        return commands

    def _input(self, event: e.Event) -> RuleInput:
        """The table's input for an event that is not one of the shared constants."""
        if isinstance(event, e.DataQueued | e.Spilled):
            high = event.queued >= self.params.high_water
            what = Input.QUEUE_HIGH if high else Input.QUEUE_LOW
            return _MOVED[(type(event), event.side, what)]
        if isinstance(event, e.Flushed):
            left = event.queued
            if left == 0:
                what = Input.FLUSH_EMPTY
            elif left <= self.params.low_water:
                what = Input.FLUSH_LOW
            else:
                what = Input.FLUSH_HIGH
            return _MOVED[(e.Flushed, event.side, what)]
        if isinstance(event, e.Connecting):
            return CONNECTING
        if isinstance(event, e.ConnectFailed):
            return CONNECT_FAILED
        return _CONSTANTS[(type(event), getattr(event, "side", None))]

    def _fill(self, commands: tuple[c.Command, ...], event: e.Event) -> tuple[c.Command, ...]:
        if not _PATCHED.intersection(commands):
            return commands
        filled: list[c.Command] = []
        for cmd in commands:
            if cmd is ARM_TIMER:
                assert isinstance(event, e.Connecting)
                filled.append(c.StartTimer(event.now + self.params.connect_timeout))
            elif cmd is COUNT_FAILURE:
                assert isinstance(event, e.ConnectFailed)
                filled.append(c.CountError(event.reason))
            else:
                filled.append(cmd)
        return tuple(filled)

    # -- what the driver may ask -------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state.done

    @property
    def held(self) -> bool:
        return self.state.held

    @property
    def client_open(self) -> bool:
        return self.state.client_open

    def half_to(self, side: e.Side) -> Half:
        """The half whose sink is `side`."""
        return self.state.c2s if side is e.SERVER else self.state.s2c

    def eof_pending(self, side: e.Side) -> bool:
        """An EOF waits to be passed on to `side`."""
        return self.half_to(side) in EOF_PENDING
