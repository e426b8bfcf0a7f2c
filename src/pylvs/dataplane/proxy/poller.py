"""One epoll set for every proxied TCP socket, watched as a single descriptor by the asyncio loop.

Why not asyncio transports: a proxied connection through uvloop's Protocol/Transport pair cost
~165 µs of CPU (a connect task, a timer, two transports and their callbacks, extra
getsockname/getpeername calls per socket); the same relay written against epoll directly costs
about 100 µs, which is what the new-connections/s target of issue #3 needs.  The loop
still runs everything else (control socket, health checks, UDP, timers): it sees the epoll
descriptor as one readable file and calls `Poller._run`, which reads the ready events without
blocking (`epoll_wait` with timeout 0) and hands each one to the handler registered for its
descriptor.

Events are level-triggered (epoll(7)): a handler that does not consume what is ready is called
again on the next round, so a handler may stop early (backpressure, a batch limit) without
losing anything.  A descriptor closed inside a round (`forget`) may get its number back at
once, by an accept in the same round: the round's remaining events for that number are stale
and are dropped, so they never reach the new socket (where a stale EPOLLRDHUP would read as a
FIN it never got).  Handlers still tolerate a spurious event (EAGAIN on read, an empty queue
on write, SO_ERROR checked on EPOLLERR).

The C fast path (`_pump`, built from _pump.c when a compiler is at hand): with it the round
is `Pump.run` instead of `_run`.  It dispatches the same way, except for sockets a relay
marked *fast* (`make_fast`), for which it does what the relay's Python code would do when
that needs no decision: in mode DATA (established, reading, nothing queued towards the peer)
it relays plain EPOLLIN events itself (recv into its buffer, send all of it to the peer, count
one packet); in mode EOF_SHUT it takes the socket's EOF by shutting the peer down for writing
and no longer watching the socket; in mode EOF_CLOSE (the peer's EOF was passed on already)
by closing both sockets.  What it cannot finish goes back to the relay (`FastOwner.spilled`),
an EOF it took is reported at once (`FastOwner.ended`), and its counts are collected into the
relay's counters by `harvest` (the plane calls it before anything reads counters or expires
connections) or `unfast`.  Why: per keep-alive request the Python path made the same system
calls as HAProxy but spent ~3.5 µs of user time to HAProxy's ~1.3 µs (with the C path:
~0.7 µs); per new connection the relay's Python event handling (three reads, two EOFs, the
close) was a third of its user time.  A relay hands its sockets over as soon as both are
connected, so a request/response connection runs from connect to close without entering its
Python event handler.  The HTTP driver hands it one message body at a time (`pass_body`:
a byte budget, or a chunked body read by HAProxy's grammar; pylvs.proto.relay.body says
what each does) and hears how it ended through `FastOwner.body_ended`.  Without the
extension (or with PYLVS_PROXY_PUMP=0 in the environment) everything runs in `_run` and
the relays' own Python code, with the same behaviour and counts (the HTTP driver then frames
bodies itself).
"""

from __future__ import annotations

import asyncio
import logging
import os
import select
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from pylvs.proto.relay.body import (
    BodyCut,
    BodyEnded,
    BodyMode,
    ChunkRefused,
    ChunksRelayed,
    Relayed,
)
from pylvs.proto.relay.events import Side

if TYPE_CHECKING:
    from ._pump import Pump

_pump: ModuleType | None
try:
    from . import _pump
except ImportError:  # built without a C compiler: the pure-Python path
    _pump = None

log = logging.getLogger("pylvs.proxy")

Handler = Callable[[int], None]

# Whether new pollers use the C fast path (tests flip it to cover both paths).
USE_PUMP = _pump is not None and os.environ.get("PYLVS_PROXY_PUMP", "1") != "0"


class FastOwner(Protocol):
    """The relay a fast socket belongs to (tcp.TcpRelay)."""

    def spilled(self, end: Any, data: bytes | None, err: int) -> None:
        """The fast path read `data` from `end` (counted) but its peer took only part of it
        (the rest is `data`), or failed with errno `err`; `data` None: the read failed with
        `err`.  `end` is no longer fast."""

    def counted(self, end: Any, pkts: int, nbytes: int, last: float) -> None:
        """Chunks the fast path relayed from `end`: add them to the counters; `last` is when
        the latest was read (time.monotonic's clock)."""

    def ended(self, end: Any, how: int) -> None:
        """The fast path took `end`'s EOF as its mode allowed: `how` EOF_SHUT (the peer was
        shut down for writing and `end` is no longer watched) or EOF_CLOSE (both sockets were
        closed).  `end` is no longer fast."""


class SpliceOwner(FastOwner, Protocol):
    """The session of a spliced pair of sockets (`splice`): haproxy.session.HaSession."""

    def half_closed(self, end: Any) -> None:
        """`end` sent the session's first EOF (asked for with `notify`)."""

    def spliced_end(self, how: int, counts: tuple[int, int, int, int, float]) -> None:
        """The C path closed both sockets: how (SPLICE_CLOSED, or which side failed and had
        the other reset), and the counts not harvested yet: (client packets, bytes, server
        packets, bytes, when the latest was read), which the owner adds itself (one call
        at the end of every stream instead of three)."""


class PlainOwner(Protocol):
    """A plain listener's Python side (dataplane/haproxy/plain.py): the pump's records."""

    def started(self, cfd: int, index: int) -> None: ...
    def ended(self, rec: tuple[int, ...]) -> None: ...
    def handed(self, rec: tuple[int, ...]) -> None: ...
    def recount(self) -> None: ...


class BodyOwner(FastOwner, Protocol):
    """An owner that passes message bodies (`pass_body`): the HTTP driver."""

    def body_ended(self, end: Any, event: BodyEnded) -> None:
        """The body handed over from `end` ended as `event` says; `end` is no longer fast."""


# What the C path may do for a fast socket (Poller.make_fast), as _pump.c defines them.
DATA = 1  # relay its plain reads to the peer
EOF_SHUT = 2  # on EOF: shut the peer down for writing, stop watching the socket
EOF_CLOSE = 4  # on EOF: close it and its peer (the peer's EOF was passed on before)
if _pump is not None:
    assert (_pump.DATA, _pump.EOF_SHUT, _pump.EOF_CLOSE) == (DATA, EOF_SHUT, EOF_CLOSE)
    assert (_pump.LENGTH, _pump.CHUNKED) == (BodyMode.LENGTH, BodyMode.CHUNKED)
    assert (_pump.BODY_SENT, _pump.BODY_LAST, _pump.BODY_REFUSED, _pump.BODY_CUT) == (1, 2, 3, 4)

# How a DATA or LENGTH relay reads (Poller.pipe_through, _pipe.h): splice(2) through the
# pump's pipe always, or once it streams fast; proto/http/splicing.py's OFF/ON/AUTO.
PIPE_OFF, PIPE_ON, PIPE_AUTO = 0, 1, 2
if _pump is not None:
    assert (_pump.PIPE_OFF, _pump.PIPE_ON, _pump.PIPE_AUTO) == (PIPE_OFF, PIPE_ON, PIPE_AUTO)

READ = select.EPOLLIN
WRITE = select.EPOLLOUT
ERROR = select.EPOLLERR
HANGUP = select.EPOLLHUP
PEER_EOF = select.EPOLLRDHUP

_SPLICED = 32  # MODE_SPLICE: `ended` reports a spliced session's first EOF with it
# How a spliced session ended (_splice.h).
SPLICE_CLOSED, SPLICE_CLIENT_FAILED, SPLICE_SERVER_FAILED = 0, 1, 2
if _pump is not None:
    assert (_pump.SPLICE_CLOSED, _pump.SPLICE_CLIENT_FAILED, _pump.SPLICE_SERVER_FAILED) == (
        SPLICE_CLOSED,
        SPLICE_CLIENT_FAILED,
        SPLICE_SERVER_FAILED,
    )

# Events read per round: large enough that a busy round is one epoll_wait, small enough that
# the loop's other callbacks (timers, the control socket) still run between rounds.
_BATCH = 256


class Poller:
    def __init__(self, read_size: int, *, pump: bool = True) -> None:
        self.ep = select.epoll()
        self.handlers: dict[int, Handler] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        # One receive buffer for every relay: a chunk is read into it and written out at once;
        # only what the other side cannot take right now is copied (so an idle connection
        # holds no buffer at all).
        self.buffer = bytearray(read_size)
        self.view = memoryview(self.buffer)
        self.size = read_size
        self.fast: dict[int, tuple[FastOwner, Any]] = {}
        self.bodies: dict[int, tuple[BodyOwner, Any, Side]] = {}  # bodies handed over
        # Spliced sessions by the client's descriptor: (owner, client end, server end, sfd).
        self.spliced: dict[int, tuple[SpliceOwner, Any, Any, int]] = {}
        # Descriptors closed during the pure-Python round being handled (`forget`).
        self._closed_in_round: set[int] = set()
        self._in_round = False
        self.pump: Pump | None = None
        # Plain listeners (_accept.h) by key, and their idle sweep.
        self.plains: dict[int, PlainOwner] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self._sweep_period = 1.0
        if pump and USE_PUMP and _pump is not None:
            self.pump = _pump.Pump(
                self.ep.fileno(),
                read_size,
                self.handlers,
                self._spill,
                self._report,
                _BATCH,
                self._ended,
                self._body,
                self._spliced_end,
            )
            self.pump.plain_callback(self._plain_records)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.loop is None:
            self.loop = loop
            loop.add_reader(self.ep.fileno(), self._run if self.pump is None else self.pump.run)

    def add(self, fd: int, mask: int, handler: Handler) -> None:
        self.ep.register(fd, mask)
        self.handlers[fd] = handler

    def modify(self, fd: int, mask: int) -> None:
        self.ep.modify(fd, mask)

    def forget(self, fd: int) -> None:
        """Drop the handler of `fd`, which the caller is about to close (closing a descriptor
        takes it out of the epoll set: no epoll_ctl needed).  Its events later in the round
        being handled are dropped too: the number may be reused at once (an accept in the same
        round) and a stale EPOLLRDHUP would read as a FIN the new socket never got."""
        self.handlers.pop(fd, None)
        if self.pump is not None:
            self.pump.drop(fd)
        elif self._in_round:
            self._closed_in_round.add(fd)

    def remove(self, fd: int) -> None:
        """Stop watching `fd`, which stays open (a socket with nothing more to wait for)."""
        self.handlers.pop(fd, None)
        self.ep.unregister(fd)

    def make_fast(self, fd: int, peer: int, owner: FastOwner, end: Any, mode: int = DATA) -> None:
        """Let the C path handle `fd`'s events as `mode` says (DATA: relay plain reads to
        `peer`; EOF_SHUT / EOF_CLOSE: take its EOF that way; these need `fd` watched for
        PEER_EOF, as relay sockets are); needs `pump`.  Called again to change the mode."""
        assert self.pump is not None
        self.pump.set(fd, peer, mode)
        self.fast[fd] = (owner, end)

    def unfast(self, fd: int) -> tuple[int, int, float] | None:
        """Stop the C path for `fd` (a body in hand is dropped); its uncollected (packets,
        bytes, last), if any."""
        assert self.pump is not None
        self.fast.pop(fd, None)
        self.bodies.pop(fd, None)
        return self.pump.clear(fd)

    def pass_body(
        self,
        fd: int,
        peer: int,
        owner: BodyOwner,
        end: Any,
        *,
        side: Side,
        mode: BodyMode,
        size: int,
        left: int = 0,
    ) -> None:
        """Relay one message body from `fd` (`end`, the relay's `side`) to `peer` in C
        (pylvs.proto.relay.PassBody says how `mode` and `size` frame it; `left`: a CHUNKED
        body handed over inside a chunk, `left` bytes of its data still to come, whose size
        line the caller wrote), then hand `fd` back:
        `owner.counted` with its last counts, then `owner.body_ended(end, event)`.  A peer that
        takes only part of a read: `owner.spilled` as for DATA, the body staying in hand (the
        owner stops reading `fd`, which is level-triggered, writes the rest, then calls
        `resume_body`; `unfast` drops the body).  `fd` must be watched
        for READ.  Needs `pump`."""
        assert self.pump is not None
        self.pump.set_body(fd, peer, mode, size, left)
        self.fast[fd] = (owner, end)
        self.bodies[fd] = (owner, end, side)

    def pipe_through(self, fd: int, how: int, pipesize: int = 0) -> None:
        """Let the DATA or LENGTH relay just set for `fd` move its bytes with splice(2)
        (`how`: PIPE_ON, or PIPE_AUTO once it streams fast; _pipe.h); `pipesize`:
        tune.pipesize for the pump's pipe.  Needs `pump`; `set`/`set_body` reset it."""
        assert self.pump is not None
        self.pump.set_splice(fd, how, pipesize)

    def piped(self, fd: int) -> tuple[int, int]:
        """(bytes spliced in from `fd`, bytes of them spliced out to its peer) since the
        last call (show stat's h1_spliced_bytes_in/out)."""
        assert self.pump is not None
        return self.pump.spliced(fd)

    def resume_body(self, fd: int, peer: int) -> None:
        """Go on with the body `fd` was relaying before a spill (what spilled is written)."""
        assert self.pump is not None
        self.pump.resume(fd, peer)

    def splice(
        self,
        cfd: int,
        sfd: int,
        owner: SpliceOwner,
        ends: tuple[Any, Any],
        *,
        notify: bool = False,
    ) -> None:
        """Run the established session of `cfd` (the client's socket, `ends[0]`) and `sfd`
        (the server's, `ends[1]`) in C until both are closed (_splice.h): neither may be
        watched here.  `owner.counted` gets the counts (harvests, then the rest at the end),
        `owner.spliced_end` the end (with the rest); `notify`: `owner.half_closed` at the
        first EOF."""
        assert self.pump is not None
        self.pump.splice(cfd, sfd, notify)
        self.spliced_by_pump(cfd, sfd, owner, ends)

    def spliced_by_pump(
        self, cfd: int, sfd: int, owner: SpliceOwner, ends: tuple[Any, Any]
    ) -> None:
        """The pump spliced `cfd` and `sfd` itself (`Pump.connect_splice`): record whose
        session it is, as `splice` does."""
        self.fast[cfd] = (owner, ends[0])
        self.fast[sfd] = (owner, ends[1])
        self.spliced[cfd] = (owner, ends[0], ends[1], sfd)

    def kill(self, cfd: int, *, reset: bool) -> None:
        """End the spliced session of `cfd` now: both sockets closed (reset when told); the
        last counts go to its owner, which is not told otherwise."""
        assert self.pump is not None
        self._forget_splice(cfd, self.pump.kill(cfd, reset))

    def _forget_splice(
        self, cfd: int, counts: tuple[int, int, int, int, float]
    ) -> SpliceOwner | None:
        cp, cb, sp, sb, last = counts
        found = self.spliced.pop(cfd, None)
        if found is None:
            return None
        owner, c_end, s_end, sfd = found
        self.fast.pop(cfd, None)
        self.fast.pop(sfd, None)
        if cp:
            owner.counted(c_end, cp, cb, last)
        if sp:
            owner.counted(s_end, sp, sb, last)
        return owner

    def _spliced_end(  # noqa: PLR0917 - the C path's callback, called positionally
        self, cfd: int, sfd: int, how: int, cp: int, cb: int, sp: int, sb: int, last: float
    ) -> None:
        found = self.spliced.pop(cfd, None)
        if found is None:
            return
        fast = self.fast
        del fast[cfd], fast[sfd]
        found[0].spliced_end(how, (cp, cb, sp, sb, last))

    def _plain_records(self, records: list[tuple[int, ...]]) -> None:
        """A round's records of the plain listeners (_accept.h), in order; then each one
        touched recounts the room the pump may use."""
        plains = self.plains
        touched = set()
        for rec in records:
            owner = plains[rec[1]]
            kind = rec[0]
            if kind == 0:  # PLAIN_STARTED
                owner.started(rec[2], rec[3])
            elif kind == 1:  # PLAIN_ENDED
                owner.ended(rec)
            else:  # PLAIN_HANDED
                owner.handed(rec)
            touched.add(rec[1])
        for key in touched:
            plains[key].recount()

    def plain_flush(self) -> None:
        """Apply the records made outside a round (a kill, a sweep) now."""
        if self.pump is not None:
            records = self.pump.plain_take()
            if records:
                self._plain_records(records)

    def plain_recount(self) -> None:
        """Python took a stream itself: the room of every plain listener again."""
        for owner in self.plains.values():
            owner.recount()

    def sweep_every(self, timeout: float) -> None:
        """Sweep the plain streams' idle timeouts every tenth of `timeout` (the shortest
        asked for sets the pace), from 5 ms to 1 s."""
        self._sweep_period = min(self._sweep_period, max(0.005, min(1.0, timeout / 10)))
        if self._sweep is None and self.loop is not None:
            self._sweep = self.loop.call_later(self._sweep_period, self._sweep_now)

    def _sweep_now(self) -> None:
        self._sweep = None
        if self.pump is None or self.loop is None:
            return
        self.pump.plain_sweep()
        self.plain_flush()
        self._sweep = self.loop.call_later(self._sweep_period, self._sweep_now)

    def harvest(self) -> None:
        """Add what the C path relayed since the last harvest to the relays' counters."""
        if self.pump is None:
            return
        fast = self.fast
        for fd, pkts, nbytes, last in self.pump.harvest():
            owner = fast.get(fd)
            if owner is not None:
                owner[0].counted(owner[1], pkts, nbytes, last)

    def _spill(self, fd: int, data: bytes | None, err: int) -> None:
        owner = self.fast.get(fd)
        if owner is not None:
            owner[0].spilled(owner[1], data, err)

    def _ended(self, fd: int, how: int) -> None:
        owner = self.fast.get(fd)
        if owner is None:
            return
        if how == _SPLICED:  # a spliced session's first EOF (splice's `notify`)
            owner[0].half_closed(owner[1])  # type: ignore[attr-defined]
        else:
            owner[0].ended(owner[1], how)

    def _body(self, fd: int, kind: int, n: int, count: int, trailers: bytes | None) -> None:
        body = self.bodies.pop(fd, None)
        if body is None:
            return
        owner, end, side = body
        # The socket is Python's again: its counts first, then how the body ended.
        counts = self.unfast(fd)
        if counts is not None:
            owner.counted(end, *counts)
        event: BodyEnded
        if kind == 1:  # BODY_SENT
            event = Relayed(side, n)
        elif kind == 2:  # BODY_LAST
            event = ChunksRelayed(side, n, count, trailers or b"")
        elif kind == 3:  # BODY_REFUSED
            event = ChunkRefused(side, count, n)
        else:  # BODY_CUT
            event = BodyCut(side, n, count)
        owner.body_ended(end, event)

    def _report(self, fd: int, exc: BaseException) -> None:
        log.error("proxy: handling an event on descriptor %d failed", fd, exc_info=exc)

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        self.plains.clear()
        if self.pump is not None:
            self.pump.close()
        self.fast.clear()
        self.bodies.clear()
        self.spliced.clear()
        if self.loop is not None and not self.loop.is_closed():
            self.loop.remove_reader(self.ep.fileno())
        self.loop = None
        self.handlers.clear()
        self.ep.close()

    def _run(self) -> None:
        try:
            events = self.ep.poll(0, _BATCH)
        except InterruptedError:
            return
        handlers = self.handlers
        closed = self._closed_in_round
        self._in_round = True
        try:
            for fd, ev in events:
                if closed and fd in closed:
                    continue  # closed earlier in this round (forget): a stale event
                handler = handlers.get(fd)
                if handler is None:
                    continue
                try:
                    handler(ev)
                except Exception:  # one relay's bug must not stop the others
                    log.exception("proxy: handling an event on descriptor %d failed", fd)
        finally:
            self._in_round = False
            closed.clear()
