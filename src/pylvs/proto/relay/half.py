"""One direction of a relayed TCP connection: its states and their table.

A relay copies two byte streams, client -> server and server -> client; each is a *half*
with a source socket (read) and a sink socket (written), and each moves through the states
below on the inputs below, as h11 drives a connection from tables.  The machine (machine.py)
keeps one half per direction and derives from both halves what each socket is watched for
and what the C fast path may do with it.

The rules are a proxy's (HAProxy's stream/channel: half-close carried through, a buffer with
high and low watermarks) with IPVS's view of a held connection (ip_vs_core.c ip_vs_in_hook
with expire_nodest_conn = 0: while the real server is deleted the client's packets, its FIN
included, are dropped; the half waits):

| state       | meaning                                                       | source read |
|-------------|---------------------------------------------------------------|-------------|
| WAITING     | the real server's socket is not up yet, nothing queued        | yes         |
| OPEN        | relaying, nothing queued                                      | yes         |
| QUEUED      | bytes wait for the sink (it took less than offered, or is not up) | yes     |
| FULL        | high-water bytes or more wait: backpressure                   | no          |
| EOF_WAITING | the source's EOF waits to be passed on (sink not up, or held) | no          |
| EOF_BEHIND  | the same, behind queued bytes                                 | no          |
| EOF_QUEUED  | the EOF is recorded and follows the queued bytes              | no          |
| GONE        | the sink was closed first (a held client hung up): nothing is | no          |
|             | relayed any more, the source's EOF is only recorded           |             |
| SHUT        | the EOF was passed on (or recorded, sink gone): half over     | no          |

Inputs: QUEUE_LOW / QUEUE_HIGH (bytes were queued; below / at or above the high mark),
FLUSH_EMPTY / FLUSH_LOW / FLUSH_HIGH (the queue was written out / down to the low mark or
less / not that far), EOF (the source's EOF, the sink ready), EOF_HOLD (the source's EOF, the
sink not ready: connecting, or held), READY (the sink became ready: connected, released),
SINK_GONE (the sink was closed).  A pair missing from the table leaves the half as it is.
Actions: RECORD_EOF (feed the table entry the source's FIN), SHUT_SINK (shutdown(SHUT_WR)
of the sink).
"""

from __future__ import annotations

import enum


class Half(enum.Enum):
    __hash__ = object.__hash__  # identity hash: looked up on every transition

    WAITING = "waiting"
    OPEN = "open"
    QUEUED = "queued"
    FULL = "full"
    EOF_WAITING = "eof-waiting"
    EOF_BEHIND = "eof-behind"
    EOF_QUEUED = "eof-queued"
    GONE = "gone"
    SHUT = "shut"


class Input(enum.Enum):
    __hash__ = object.__hash__

    QUEUE_LOW = "queue-low"
    QUEUE_HIGH = "queue-high"
    FLUSH_EMPTY = "flush-empty"
    FLUSH_LOW = "flush-low"
    FLUSH_HIGH = "flush-high"
    EOF = "eof"
    EOF_HOLD = "eof-hold"
    READY = "ready"
    SINK_GONE = "sink-gone"


class Action(enum.Enum):
    __hash__ = object.__hash__

    RECORD_EOF = "record-eof"
    SHUT_SINK = "shut-sink"


_REC = (Action.RECORD_EOF,)
_REC_SHUT = (Action.RECORD_EOF, Action.SHUT_SINK)
_SHUT = (Action.SHUT_SINK,)
_NONE: tuple[Action, ...] = ()

Step = tuple[Half, tuple[Action, ...]]

# state -> input -> (next state, actions)
TABLE: dict[Half, dict[Input, Step]] = {
    Half.WAITING: {
        Input.QUEUE_LOW: (Half.QUEUED, _NONE),
        Input.QUEUE_HIGH: (Half.FULL, _NONE),
        Input.EOF_HOLD: (Half.EOF_WAITING, _NONE),
        Input.READY: (Half.OPEN, _NONE),
        Input.SINK_GONE: (Half.GONE, _NONE),
    },
    Half.OPEN: {
        Input.QUEUE_LOW: (Half.QUEUED, _NONE),
        Input.QUEUE_HIGH: (Half.FULL, _NONE),
        Input.EOF: (Half.SHUT, _REC_SHUT),
        Input.EOF_HOLD: (Half.EOF_WAITING, _NONE),
        Input.SINK_GONE: (Half.GONE, _NONE),
    },
    Half.QUEUED: {
        Input.QUEUE_HIGH: (Half.FULL, _NONE),
        Input.FLUSH_EMPTY: (Half.OPEN, _NONE),
        Input.EOF: (Half.EOF_QUEUED, _REC),
        Input.EOF_HOLD: (Half.EOF_BEHIND, _NONE),
    },
    Half.FULL: {
        Input.FLUSH_EMPTY: (Half.OPEN, _NONE),
        Input.FLUSH_LOW: (Half.QUEUED, _NONE),
        Input.EOF: (Half.EOF_QUEUED, _REC),
        Input.EOF_HOLD: (Half.EOF_BEHIND, _NONE),
    },
    Half.EOF_WAITING: {
        Input.QUEUE_LOW: (Half.EOF_BEHIND, _NONE),
        Input.QUEUE_HIGH: (Half.EOF_BEHIND, _NONE),
        Input.READY: (Half.SHUT, _REC_SHUT),
    },
    Half.EOF_BEHIND: {
        Input.FLUSH_EMPTY: (Half.EOF_WAITING, _NONE),
        Input.READY: (Half.EOF_QUEUED, _REC),
    },
    Half.EOF_QUEUED: {
        Input.FLUSH_EMPTY: (Half.SHUT, _SHUT),
    },
    Half.GONE: {
        Input.EOF: (Half.SHUT, _REC),
        Input.EOF_HOLD: (Half.SHUT, _REC),
    },
    Half.SHUT: {},
}

# Groups the machine asks about.
READABLE = frozenset({Half.WAITING, Half.OPEN, Half.QUEUED})  # source read (unless held)
NOT_AT_EOF = READABLE | {Half.FULL}  # the source has not sent EOF
QUEUE_TO_WRITE = frozenset({Half.QUEUED, Half.FULL, Half.EOF_QUEUED})  # for the sink, now
EOF_PENDING = frozenset({Half.EOF_WAITING, Half.EOF_BEHIND, Half.EOF_QUEUED})  # EOF to pass on


def step(state: Half, what: Input) -> Step:
    """The next state of a half in `state` on `what`, and what to do."""
    return TABLE[state].get(what, (state, _NONE))
