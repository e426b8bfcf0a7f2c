"""What a peers section knows of its peers and of the tables it shares with each of them.

HAProxy 2.6's include/haproxy/peers-t.h (struct peer, struct shared_table) and the flags of
src/peers.c, kept with the same values: `show peers` prints them as HAProxy does.  Times are
milliseconds of the caller's clock, None for HAProxy's TICK_ETERNITY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pylvs.proto.peers.tables import DictCache
from pylvs.proto.stick.table import StickTable

if TYPE_CHECKING:
    from pylvs.proto.peers.session import PeerSession

# The section's resync state (PEERS_F_*).
RESYNC_LOCAL = 0x1
RESYNC_REMOTE = 0x2
RESYNC_ASSIGN = 0x4
RESYNC_PROCESS = 0x8
RESYNC_LOCALTIMEOUT = 0x10
RESYNC_REMOTETIMEOUT = 0x20
RESYNC_LOCALABORT = 0x40
RESYNC_REMOTEABORT = 0x80
RESYNC_LOCALFINISHED = 0x100
RESYNC_REMOTEFINISHED = 0x200
RESYNC_LOCALPARTIAL = 0x400
RESYNC_REMOTEPARTIAL = 0x800
RESYNC_LOCALASSIGN = 0x1000
RESYNC_REMOTEASSIGN = 0x2000
RESYNC_REQUESTED = 0x4000
DONOTSTOP = 0x10000
STATEMASK = RESYNC_LOCAL | RESYNC_REMOTE
FROMLOCAL, FROMREMOTE, FINISHED = 0, RESYNC_LOCAL, RESYNC_LOCAL | RESYNC_REMOTE

# A shared table's teaching stages (SHTABLE_F_*).
TEACH_STAGE1, TEACH_STAGE2 = 0x1, 0x2

# A peer's state (PEER_F_*).
TEACH_PROCESS = 0x1
TEACH_FINISHED = 0x8
TEACH_COMPLETE = 0x10
LEARN_ASSIGN = 0x100
LEARN_NOTUP2DATE = 0x200
ALIVE = 0x20000000
HEARTBEAT_DUE = 0x40000000
DOWNGRADED = 0x80000000
TEACH_RESET = ~(TEACH_PROCESS | TEACH_FINISHED)
LEARN_RESET = ~(LEARN_ASSIGN | LEARN_NOTUP2DATE)

RESYNC_TIMEOUT = 5000
RECONNECT_TIMEOUT = 5000
HEARTBEAT_TIMEOUT = 3000

M32 = 0xFFFFFFFF


def s32(value: int) -> int:
    """(int)(a - b) in C."""
    value &= M32
    return value - (1 << 32) if value & 0x80000000 else value


def expired(tick: int | None, now: int) -> bool:
    """tick_is_expired: an eternal tick never expires."""
    return tick is not None and tick - now <= 0


def first(a: int | None, b: int | None) -> int | None:
    """tick_first."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@dataclass(eq=False, slots=True)
class SharedTable:
    """struct shared_table: one table as shared with one peer, and the cursors of both
    directions (ids are 32-bit and wrap)."""

    table: StickTable
    local_id: int
    remote_id: int = 0
    remote_data: int = 0
    flags: int = 0
    last_acked: int = 0  # the last remote update acknowledged
    last_pushed: int = 0  # the last local update sent
    last_get: int = 0  # the last remote update received
    teaching_origin: int = 0
    update: int = 0  # the last local update the peer acknowledged
    remote_arrays: tuple[tuple[int, int], ...] = ()
    remote_def: object | None = None  # tables.Definition once received


@dataclass(eq=False, slots=True)
class Peer:
    """struct peer: a peer of the section (the local one too), its address and counters."""

    name: str
    local: bool
    host: str | None = None  # None: no address (the local one on a `server` line; or unset)
    port: int = 0
    tables: list[SharedTable] = field(default_factory=list)  # newest first, as HAProxy's
    flags: int = 0
    statuscode: int = 0
    last_hdshk: int | None = None
    reconnect: int | None = None
    heartbeat: int | None = None
    confirm: int = 0
    tx_hbt: int = 0
    rx_hbt: int = 0
    no_hbt: int = 0
    new_conn: int = 0
    proto_err: int = 0
    coll: int = 0
    session: PeerSession | None = None
    remote_table: SharedTable | None = None
    last_local_table: SharedTable | None = None
    cache: DictCache = field(default_factory=DictCache)

    def table_by_local_id(self, ident: int) -> SharedTable | None:
        return next((st for st in self.tables if st.local_id == ident), None)
