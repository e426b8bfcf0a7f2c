"""The relay's rules: what one input does to a relay state (machine.py looks the answers up).

`transition(state, input)` runs the rules on a working copy of `state` and returns the next
state and the commands, in the order the driver must run them.  The rules are a proxy's over
IPVS's connection table:

* half-close and backpressure: each direction is a half (half.py); an EOF is passed on once
  what is queued before it is written, and a half that has high-water bytes queued stops
  reading its source until they drain to the low mark (HAProxy's channel, a socket buffer's
  watermarks);
* the connection-table entry sees each event as the packets IPVS would have seen
  (pylvs.proto.conntrack.states): CLIENT_CONNECTED on accept, BACKEND_CONNECTED when the real
  server's socket is up, an EOF when it is passed on, a reset when a side fails;
* a side that fails is recorded as reset and the other side is reset; a real server that
  cannot be reached (refused, or not within the connect timeout) resets the client and
  counts an error;
* a held relay (its real server was deleted; ip_vs_core.c ip_vs_in_hook with
  expire_nodest_conn = 0): the client's packets, FIN and RST included, are dropped without
  touching the entry, the server's still flow.  The client's socket is not read meanwhile
  but watched for its FIN: a client that closes is drained (its data waits towards the
  server) and its socket closed at once, so a client's close never becomes a descriptor held
  until the entry expires; its data and FIN go on (and are recorded) if the server comes
  back, what the server sends meanwhile is left unread, and its FIN or reset is recorded;
* after each input, what each socket is watched for and which mode the C fast path may have
  for it (_pump.c: DATA while both halves flow and nothing waits for the peer; EOF_SHUT /
  EOF_CLOSE to take the EOF exactly as these rules would) are derived from the two halves,
  and only changes are commanded; once both halves are SHUT the relay closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pylvs.proto.conntrack.states import TcpEvent

from . import commands as c
from . import events as e
from .half import EOF_PENDING, NOT_AT_EOF, QUEUE_TO_WRITE, READABLE, Action, Half, Input, step
from .state import UNWATCHED, RelayState, intern

CLIENT, SERVER = e.CLIENT, e.SERVER
_OPEN, _SHUT, _GONE = Half.OPEN, Half.SHUT, Half.GONE
_FLOWING = frozenset({Half.OPEN, Half.QUEUED, Half.FULL})  # up, no EOF yet
_CLOSABLE = frozenset({Half.WAITING, Half.OPEN, Half.SHUT})  # nothing waits for the client


@dataclass(frozen=True, slots=True, eq=False)
class Moved:
    """An input about bytes (machine.py classifies DataQueued, Flushed and Spilled into these
    against the marks): `kind` is the event's type, `side` its side, `what` the half input."""

    kind: type
    side: e.Side
    what: Input


@dataclass(frozen=True, slots=True, eq=False)
class Marker:
    """An input that stands for an event with a payload the table cannot hold."""

    kind: type


CONNECTING = Marker(e.Connecting)
CONNECT_FAILED = Marker(e.ConnectFailed)
# Placeholders in a looked-up answer, filled from the event (machine.py).
ARM_TIMER = c.StartTimer(float("nan"))
COUNT_FAILURE = c.CountError("")
_TIMED_OUT = c.CountError("timed out")

RuleInput = e.Event | Moved | Marker
Answer = tuple[RelayState, tuple[c.Command, ...]]


class _Work:
    """A mutable copy of a state while one input is applied."""

    def __init__(self, state: RelayState) -> None:
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
        ) = state.fields()
        self.out: list[c.Command] = []

    def state(self) -> RelayState:
        fields = (self.c2s, self.s2c, self.connected, self.server_open, self.client_open)
        flags = (self.held, self.done, self.timer)
        told = (self.mask_c, self.mask_s, self.mode_c, self.mode_s, self.fast)
        return intern((*fields, *flags, *told))

    def half(self, source: e.Side) -> Half:
        return self.c2s if source is CLIENT else self.s2c

    def step(self, source: e.Side, what: Input, shut: bool = True) -> None:
        """Move the half read from `source` on `what` and carry out its actions."""
        client = source is CLIENT
        state, actions = step(self.c2s if client else self.s2c, what)
        if client:
            self.c2s = state
        else:
            self.s2c = state
        for action in actions:
            if action is Action.RECORD_EOF:
                self.out.append(c.RECORD[TcpEvent.CLIENT_EOF if client else TcpEvent.SERVER_EOF])
            elif shut and self.half(source.peer) is not _SHUT:
                # Not when the other half is over too: then the relay closes both, and
                # close(2) sends this FIN as shutdown(2) would, one system call less.
                self.out.append(c.SHUT_WRITE[source.peer])

    def eof(self, side: e.Side, shut: bool = True) -> None:
        hold = side is CLIENT and (self.held or not self.connected)
        self.step(side, Input.EOF_HOLD if hold else Input.EOF, shut)

    def close(self, reset_client: bool, reset_server: bool) -> None:
        self.done = True
        self.timer = False
        self.out.append(c.CLOSE[(reset_client, reset_server)])

    def backend_failed(self, count: c.CountError) -> None:
        self.out.append(count)
        self.out.append(c.RECORD[TcpEvent.SERVER_RESET])
        self.close(True, False)

    def given_back(self, side: e.Side, *, unwatched: bool = False) -> None:
        """The C path gave `side` back (and, `unwatched`, set its epoll mask to 0)."""
        if side is CLIENT:
            self.mode_c = 0
            if unwatched:
                self.mask_c = 0
        else:
            self.mode_s = 0
            if unwatched:
                self.mask_s = 0

    # -- after every input -------------------------------------------------------------------

    def sync(self) -> None:
        """Close the relay once both halves are over; else say what changed in what each
        socket is watched for and in the C path's modes."""
        if self.c2s is _SHUT and self.s2c is _SHUT:
            self.close(False, False)
            return
        out = self.out
        if self.client_open and self.held and self.c2s in EOF_PENDING and self.s2c in _CLOSABLE:
            # A held client sent its FIN and nothing waits for it: close what it closed.
            self.client_open = False
            self.mask_c = UNWATCHED
            self.mode_c = 0
            out.append(c.CLOSE_SIDE[CLIENT])
            self.step(SERVER, Input.SINK_GONE)
        c2s, s2c, held = self.c2s, self.s2c, self.held
        if self.client_open:
            if c2s in READABLE and not held:
                mask = c.READING
            elif held and c2s in NOT_AT_EOF:
                mask = c.PEER_EOF  # only its FIN (or a reset) is news
            else:
                mask = 0
            if s2c in QUEUE_TO_WRITE:
                mask |= c.WRITE
            if mask != self.mask_c and (mask or self.mask_c != UNWATCHED):
                self.mask_c = mask
                out.append(c.WATCH[(CLIENT, mask)])
        if self.server_open:
            if s2c in READABLE:
                mask = c.READING
            elif s2c is _GONE:
                mask = c.PEER_EOF  # its FIN, to record
            else:
                mask = 0
            if not self.connected or (c2s in QUEUE_TO_WRITE and not held):
                mask |= c.WRITE
            if mask != self.mask_s and (mask or self.mask_s != UNWATCHED):
                self.mask_s = mask
                out.append(c.WATCH[(SERVER, mask)])
        if self.fast:
            self.sync_fast(c2s, s2c)

    def sync_fast(self, c2s: Half, s2c: Half) -> None:
        """The C path may do for a socket exactly what these rules would, with nothing to
        decide: relay plain reads while both halves flow and nothing waits for the peer
        (DATA), and take its EOF (EOF_SHUT: shut the peer down for writing; EOF_CLOSE: the
        peer's EOF was passed on already, close both)."""
        up = self.connected and self.client_open
        mode = 0
        if up and not self.held and c2s is _OPEN:
            if s2c is _SHUT:
                mode = c.EOF_CLOSE
            elif s2c in _FLOWING:
                mode = c.DATA | c.EOF_SHUT
        if mode != self.mode_c:
            self.mode_c = mode
            self.out.append(c.HANDOVER[(CLIENT, mode)])
        mode = 0
        if up and s2c is _OPEN:
            if c2s is _SHUT:
                mode = c.EOF_CLOSE
            elif c2s in _FLOWING:
                mode = c.DATA | c.EOF_SHUT
        if mode != self.mode_s:
            self.mode_s = mode
            self.out.append(c.HANDOVER[(SERVER, mode)])


# -- one rule per input ----------------------------------------------------------------------
# Each returns the command that makes the driver report more events (Connect, Read, Drain):
# it goes last, after the commands that reflect the state it starts from.

Rule = Callable[[_Work, RuleInput], c.Command | None]


def _accepted(w: _Work, inp: RuleInput) -> c.Command | None:
    w.out.append(c.RECORD[TcpEvent.CLIENT_CONNECTED])
    return c.CONNECT


def _connecting(w: _Work, inp: RuleInput) -> c.Command | None:
    w.server_open = w.timer = True
    w.out.append(ARM_TIMER)
    return None


def _connected(w: _Work, inp: RuleInput) -> c.Command | None:
    w.server_open = w.connected = True
    if w.timer:
        w.timer = False
        w.out.append(c.STOP_TIMER)
    w.out.append(c.RECORD[TcpEvent.BACKEND_CONNECTED])
    w.step(SERVER, Input.READY)
    if not w.held:
        w.step(CLIENT, Input.READY)
    return None


def _connect_failed(w: _Work, inp: RuleInput) -> c.Command | None:
    w.backend_failed(COUNT_FAILURE)
    return None


def _connect_timed_out(w: _Work, inp: RuleInput) -> c.Command | None:
    if w.timer and not w.connected:  # else a late timer: the connect won the race
        w.timer = False
        w.backend_failed(_TIMED_OUT)
    return None


def _moved(w: _Work, inp: RuleInput) -> c.Command | None:
    assert isinstance(inp, Moved)
    if inp.kind is e.Spilled:  # the C path gave the side back; its bytes wait for the peer
        w.given_back(inp.side)
        w.step(inp.side, inp.what)
    else:  # DataQueued, Flushed: about the queue towards `side`
        w.step(inp.side.peer, inp.what)
    return None


def _eof_read(w: _Work, inp: RuleInput) -> c.Command | None:
    assert isinstance(inp, e.EofRead)
    w.eof(inp.side)
    return None


def _hung_up(w: _Work, inp: RuleInput) -> c.Command | None:
    assert isinstance(inp, e.HungUp)
    side = inp.side
    half = w.half(side)
    if half is _GONE:  # the server's FIN, the client gone: only recorded
        w.step(side, Input.EOF)
        return None
    if half in NOT_AT_EOF:
        if side is CLIENT and w.held:
            return c.DRAIN[CLIENT]  # its FIN: take its last words, then close it
        return c.READ_ONE[side]  # the read tells data, EOF and reset apart
    if w.half(side.peer) is not _SHUT:
        return None
    # Both directions of this socket are over and the relay waits for the other socket:
    # stop the hang-up from being reported again and again.
    if side is CLIENT:
        w.mask_c = UNWATCHED
    else:
        w.mask_s = UNWATCHED
    w.out.append(c.UNWATCH[side])
    return None


def _failed(w: _Work, inp: RuleInput) -> c.Command | None:
    assert isinstance(inp, e.Failed)
    client = inp.side is CLIENT
    if not (client and w.held):  # a held client's RST is dropped as its data is
        w.out.append(c.RECORD[TcpEvent.CLIENT_RESET if client else TcpEvent.SERVER_RESET])
    w.close(not client, client)
    return None


def _fast_shut(w: _Work, inp: RuleInput) -> c.Command | None:
    assert isinstance(inp, e.FastShut)
    w.given_back(inp.side, unwatched=True)
    w.eof(inp.side, shut=False)  # the C path did the shutdown
    return None


def _fast_closed(w: _Work, inp: RuleInput) -> c.Command | None:
    assert isinstance(inp, e.FastClosed)
    w.mode_c = w.mode_s = 0
    w.eof(inp.side, shut=False)  # the close follows: both halves are over
    return None


def _held(w: _Work, inp: RuleInput) -> c.Command | None:
    w.held = True
    return None


def _released(w: _Work, inp: RuleInput) -> c.Command | None:
    w.held = False
    if w.connected:
        w.step(CLIENT, Input.READY)
    return None


def _aborted(w: _Work, inp: RuleInput) -> c.Command | None:
    w.close(True, True)
    return None


RULES: dict[type, Rule] = {
    e.Accepted: _accepted,
    e.Connected: _connected,
    e.ConnectTimedOut: _connect_timed_out,
    Moved: _moved,
    e.EofRead: _eof_read,
    e.HungUp: _hung_up,
    e.Failed: _failed,
    e.FastShut: _fast_shut,
    e.FastClosed: _fast_closed,
    e.Held: _held,
    e.Released: _released,
    e.Expired: _aborted,
    e.Aborted: _aborted,
}
_MARKED: dict[Marker, Rule] = {CONNECTING: _connecting, CONNECT_FAILED: _connect_failed}


def transition(state: RelayState, inp: RuleInput) -> Answer:
    """The state after `inp` and the commands that carry it out."""
    if state.done:
        return state, ()
    w = _Work(state)
    rule = _MARKED[inp] if isinstance(inp, Marker) else RULES[type(inp)]
    tail = rule(w, inp)
    if not w.done:
        w.sync()
    if tail is not None and not w.done:
        w.out.append(tail)
    return w.state(), tuple(w.out)
