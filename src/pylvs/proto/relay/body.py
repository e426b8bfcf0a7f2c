"""One HTTP message body passed through the relay's C path: the commands that hand a body
over and the events that say how it ended (sans I/O; docs/http.md, "The fast path for bodies
and tunnels").

The HTTP driver reads heads in Python and, once a head says how its body is framed, hands
the body over (`PassBody`): `LENGTH` relays exactly `size` bytes and never reads past them
(a pipelined next request stays in the socket); `CHUNKED` reads the chunked coding by
HAProxy's grammar (the same verdicts as pylvs.proto.http.chunked), passes each chunk on with
a normalised size line (`%X\r\n`, extensions dropped, as HAProxy writes them) and stops at
the last chunk, whose trailer block it hands back raw for Python's field rules (`size` caps
that block: the head limit).  Until-close bodies are the layer-4 modes (`Handover` with DATA
and EOF_CLOSE), tunnels a `RelayMachine` in its established state.

How it ends, as one of these events: `Relayed` (the budget is spent), `ChunksRelayed` (the
last chunk came; its raw trailer block is given), `ChunkRefused` (the offset of the first
refused byte: the 400/502 and the `show errors` record), `BodyCut` (EOF before the end).
The peer taking only part of a read is the relay's `Spilled` (the rest waits in Python;
`ResumeBody` goes on once it is written), a failed read or write its `Failed`.  Counts are
per body: `n` is every byte read from the side for this body (size lines and trailers
included), the same bytes the C path's `harvest` adds to the socket's counters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .events import Side


class BodyMode(enum.IntEnum):
    """How a body is framed (the values are _pump.c's MODE_LENGTH and MODE_CHUNKED)."""

    LENGTH = 8
    CHUNKED = 16


@dataclass(frozen=True, slots=True)
class PassBody:
    """Relay one body from `side` to its peer in C (`size`: LENGTH's byte budget, CHUNKED's
    cap on the trailer block), then hand `side` back with one of the events below."""

    side: Side
    mode: BodyMode
    size: int

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError("a body handed over needs a positive size")


@dataclass(frozen=True, slots=True)
class ResumeBody:
    """Go on with the body `side` was relaying when its peer filled up (after `Spilled`,
    once what waited is written)."""

    side: Side


@dataclass(frozen=True, slots=True, eq=False)
class Relayed:
    """The byte budget is spent: `n` bytes went from `side` to its peer."""

    side: Side
    n: int


@dataclass(frozen=True, slots=True, eq=False)
class ChunksRelayed:
    """`side`'s chunked body reached its last chunk: `n` bytes read in all, `payload` of them
    chunk data; `trailers` is the raw block after the `0` line, up to and including its
    empty line (or cut at the cap: the field rules then refuse it)."""

    side: Side
    n: int
    payload: int
    trailers: bytes


@dataclass(frozen=True, slots=True, eq=False)
class ChunkRefused:
    """A byte of `side`'s chunked body broke the grammar: `offset` from the body's start
    (the bytes before it, `n` of them, were read and passed on)."""

    side: Side
    offset: int
    n: int


@dataclass(frozen=True, slots=True, eq=False)
class BodyCut:
    """`side` sent EOF before its body ended (`n` bytes of it read, `payload` of them data:
    for LENGTH, all of them)."""

    side: Side
    n: int
    payload: int


BodyEnded = Relayed | ChunksRelayed | ChunkRefused | BodyCut
