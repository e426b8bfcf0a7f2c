"""The relay machine against a model of its driver, on random histories (hypothesis).

The model does what a driver would: it carries out the commands (masks, modes, queues,
closes) and then picks, at random, one of the events the sockets could produce next in that
state (data, EOF or a reset from a side being read, a flush of a side watched for writing, the
C path's reports for the modes it was given, a hold, an expiry...).  After every event the
invariants below must hold; they are what the driver and the C path rely on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.proto.conntrack.states import TcpEvent
from pylvs.proto.relay import (
    ABORTED,
    ACCEPTED,
    CLIENT,
    CONNECT_TIMED_OUT,
    CONNECTED,
    DATA,
    EOF_CLOSE,
    EOF_SHUT,
    EXPIRED,
    HELD,
    READ,
    RELEASED,
    SERVER,
    UNWATCHED,
    WRITE,
    Close,
    CloseSide,
    Command,
    Connect,
    ConnectFailed,
    Connecting,
    DataQueued,
    Drain,
    EofRead,
    Event,
    Failed,
    FastClosed,
    FastShut,
    Flushed,
    Handover,
    HungUp,
    Read,
    Record,
    RelayMachine,
    RelayParams,
    ShutWrite,
    Side,
    Spilled,
    StartTimer,
    StopTimer,
    Unwatch,
    Watch,
)

PARAMS = RelayParams(high_water=100, low_water=10)


@dataclass
class Sock:
    open: bool = False
    mask: int = UNWATCHED
    mode: int = 0
    queued: int = 0  # bytes waiting towards this socket
    eof: bool = False  # it sent EOF (the driver reported it)
    shut: bool = False  # shut down for writing


@dataclass
class Driver:
    held: bool = False
    connected: bool = False
    connecting: bool = False
    closed: bool = False
    tail: Command | None = None
    socks: dict[Side, Sock] = field(
        default_factory=lambda: {CLIENT: Sock(open=True), SERVER: Sock()}
    )
    records: list[TcpEvent] = field(default_factory=list)

    def run(self, commands: tuple[Command, ...]) -> None:
        assert not self.closed or not commands, "commands after the relay closed"
        for i, cmd in enumerate(commands):
            if isinstance(cmd, Connect | Read | Drain):
                assert i == len(commands) - 1, "a command that reports events must come last"
                self.tail = cmd
            elif isinstance(cmd, Close):
                assert i == len(commands) - 1, "nothing after Close"
                self.closed = True
            else:
                self.apply(cmd)

    def apply(self, cmd: Command) -> None:
        side = getattr(cmd, "side", None)
        sock = self.socks[side] if side is not None else None
        if sock is not None:
            assert sock.open, f"{cmd} on a closed or not yet opened socket"
        match cmd:
            case Watch(mask=mask):
                assert sock is not None
                sock.mask = mask
            case Unwatch():
                assert sock is not None
                sock.mask = UNWATCHED
            case Handover(side=side, mode=mode):
                assert sock is not None
                sock.mode = mode
            case ShutWrite():
                assert sock is not None and not sock.shut, "EOF passed on twice"
                sock.shut = True
            case CloseSide():
                assert sock is not None
                sock.open, sock.mask, sock.mode = False, UNWATCHED, 0
            case Record(event=event):
                self.records.append(event)
            case StartTimer() | StopTimer():
                pass
            case _:
                pass

    def check(self, machine: RelayMachine) -> None:
        if self.closed:
            assert machine.done
            return
        c, s = self.socks[CLIENT], self.socks[SERVER]
        for side, sock in self.socks.items():
            peer = self.socks[side.peer]
            if sock.mode:
                # The C path only gets a socket the driver reads, with its peer up.
                assert sock.mask != UNWATCHED and sock.mask & READ, (side, sock)
                assert self.connected and peer.open and sock.open
            if sock.mode & DATA:
                assert peer.queued == 0 and not peer.shut
            if sock.mode & (DATA | EOF_SHUT):
                assert not peer.eof, "the C path may not relay or shut once the peer sent EOF"
            if sock.mode & EOF_CLOSE:
                assert sock.shut and peer.eof, "EOF_CLOSE: the peer's EOF was passed on"
        # Bytes never wait for a socket that is not watched for writing, unless held.
        if c.open and c.queued:
            assert c.mask != UNWATCHED and c.mask & WRITE
        if s.open and s.queued and self.connected and not self.held:
            assert s.mask != UNWATCHED and s.mask & WRITE
        if self.held and c.open and not c.eof:
            assert c.mask == UNWATCHED or not c.mask & READ, "a held client is read"


Draw = Callable[[st.SearchStrategy[Event]], Event]


def events_now(d: Driver, draw: Draw, pick: Callable[[st.SearchStrategy[Any]], Any]) -> Event:
    """One event the sockets could produce now."""
    if d.tail is not None:
        tail, d.tail = d.tail, None
        if isinstance(tail, Connect):
            what = pick(st.sampled_from(["now", "later", "refused"]))
            d.socks[SERVER].open = True
            if what == "refused":
                return ConnectFailed("Connection refused")
            if what == "later":
                d.connecting = True
                return Connecting(now=0.0)
            d.connected = True
            return CONNECTED
        assert isinstance(tail, Read | Drain)
        side = tail.side
        after: list[Event] = [EofRead(side), Failed(side), DataQueued(side.peer, 1)]
        return draw(st.sampled_from(after))
    choices: list[Event] = [HELD, RELEASED, EXPIRED, ABORTED]
    if d.connecting and not d.connected:
        choices += [CONNECTED, CONNECT_TIMED_OUT]
    for side, sock in d.socks.items():
        peer = d.socks[side.peer]
        if not sock.open:
            continue
        up = side is CLIENT or d.connected  # the driver reads a server once it is up
        if up and sock.mask != UNWATCHED and sock.mask & READ and not sock.eof:
            choices += [EofRead(side), Failed(side), DataQueued(side.peer, peer.queued + 30)]
        if sock.mode & DATA:
            choices.append(Spilled(side, peer.queued + 30))
        if sock.mode & EOF_SHUT:
            choices.append(FastShut(side))
        if sock.mode & EOF_CLOSE:
            choices.append(FastClosed(side))
        if sock.mask != UNWATCHED and sock.mask & WRITE and sock.queued:
            written = pick(st.sampled_from([5, 50, 500]))
            choices.append(Flushed(side, max(0, sock.queued - written)))
        if up and sock.mask != UNWATCHED:
            choices.append(HungUp(side))
    return draw(st.sampled_from(choices))


def account(d: Driver, ev: Event) -> None:
    """What the event itself says about the sockets (before the machine answers)."""
    match ev:
        case _ if ev is CONNECTED and d.connecting:
            d.connected, d.connecting = True, False
        case DataQueued(side=side, queued=q) | Flushed(side=side, queued=q):
            d.socks[side].queued = q
        case Spilled(side=side, queued=q):
            d.socks[side].mode = 0
            d.socks[side.peer].queued = q
        case EofRead(side=side):
            d.socks[side].eof = True
        case FastShut(side=side):
            d.socks[side].eof = True
            d.socks[side].mode = 0
            d.socks[side].mask = 0
            d.socks[side.peer].shut = True
        case FastClosed(side=side):
            d.socks[side].eof = True
            d.socks[CLIENT].mode = d.socks[SERVER].mode = 0
            d.socks[side.peer].shut = True
        case _ if ev is HELD:
            d.held = True
        case _ if ev is RELEASED:
            d.held = False


@settings(max_examples=400, deadline=None)
@given(st.data(), st.booleans())
def test_random_histories_keep_the_invariants(data: st.DataObject, fast: bool) -> None:
    m = RelayMachine(PARAMS, fast=fast)
    d = Driver()
    d.run(m.handle(ACCEPTED))
    for _ in range(40):
        if d.closed:
            break
        ev = events_now(d, data.draw, data.draw)
        account(d, ev)
        d.run(m.handle(ev))
        d.check(m)
    # The table never hears anything after the relay closed, and resets end it.
    if TcpEvent.CLIENT_RESET in d.records or TcpEvent.SERVER_RESET in d.records:
        assert d.closed
