"""The whole state of one relay as one interned value.

A relay's state is small and finite: its two halves (half.py), whether the real server's
socket exists and is up, whether the client's socket is open, whether the relay is held,
over, or waiting on its connect deadline, and what each socket was last told (its epoll mask,
its C fast-path mode).  Each distinct state exists once (`intern`), so it compares and hashes
by identity: the machine's table (machine.py) is keyed by (state, input) at the cost of a
pointer.
"""

from __future__ import annotations

from .commands import Command
from .half import Half

UNWATCHED = -1  # a socket not in the epoll set

_Fields = tuple[Half, Half, bool, bool, bool, bool, bool, bool, int, int, int, int, bool]


class RelayState:
    """One relay's state (read-only; made by `intern`)."""

    __slots__ = (
        "answers",
        "c2s",
        "client_open",
        "connected",
        "done",
        "fast",
        "held",
        "mask_c",
        "mask_s",
        "mode_c",
        "mode_s",
        "s2c",
        "server_open",
        "timer",
    )

    c2s: Half  # the client -> server half
    s2c: Half  # the server -> client half
    connected: bool  # the real server's socket is up
    server_open: bool  # ... exists (the connect was started)
    client_open: bool  # the client's socket is open
    held: bool  # the real server is deleted: the client's side waits
    done: bool  # both sockets were closed
    timer: bool  # the connect deadline is armed
    mask_c: int  # the client's epoll mask as last commanded (UNWATCHED: not in the set)
    mask_s: int  # the server's
    mode_c: int  # the client's C fast-path mode as last commanded (0: none)
    mode_s: int  # the server's
    fast: bool  # the C fast path exists: sockets are handed over
    # The machine's table, this state's row: input -> (next state, commands) (machine.py).
    answers: dict[object, tuple[RelayState, tuple[Command, ...]]]

    def __init__(self, fields: _Fields) -> None:
        """Use `intern`: states are shared."""
        self.answers = {}
        (
            self.c2s,
            self.s2c,
            self.connected,
            self.server_open,
            self.client_open,
            self.held,
            self.done,
            self.timer,
            self.mask_c,
            self.mask_s,
            self.mode_c,
            self.mode_s,
            self.fast,
        ) = fields

    def fields(self) -> _Fields:
        return (
            self.c2s,
            self.s2c,
            self.connected,
            self.server_open,
            self.client_open,
            self.held,
            self.done,
            self.timer,
            self.mask_c,
            self.mask_s,
            self.mode_c,
            self.mode_s,
            self.fast,
        )

    def __repr__(self) -> str:
        flags = [
            name
            for name in ("connected", "server_open", "client_open", "held", "done", "timer")
            if getattr(self, name)
        ]
        return (
            f"RelayState(c2s={self.c2s.name} s2c={self.s2c.name} {' '.join(flags)} "
            f"masks={self.mask_c:#x},{self.mask_s:#x} modes={self.mode_c},{self.mode_s})"
        )


_INTERNED: dict[_Fields, RelayState] = {}


def intern(fields: _Fields) -> RelayState:
    """The one state with these fields (finite: the product of the fields' few values)."""
    state = _INTERNED.get(fields)
    if state is None:
        state = _INTERNED[fields] = RelayState(fields)
    return state


def initial(fast: bool) -> RelayState:
    """A relay just made: nothing connected to the server yet, nothing watched."""
    halves = (Half.WAITING, Half.WAITING)
    return intern(
        (*halves, False, False, True, False, False, False, UNWATCHED, UNWATCHED, 0, 0, fast)
    )
