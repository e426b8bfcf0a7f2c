"""The backup side of the sync: which datagrams are taken, and what each record does.

net/netfilter/ipvs/ip_vs_sync.c, as a pure machine (reference §1.9):

* A datagram is refused whole when its header is short or its size field is not its length,
  or when the backup has a syncid (not 0) and the message carries another one
  (ip_vs_process_message).  pylvs adds two refusals the kernel leaves to the network:
  messages from one of the backup's own addresses (its own master's stream looped back)
  and, when the backup is given its peers, messages from anyone else.
* The records are decoded as the kernel does (`codec.decode`); a record with persistence-
  engine data is taken only when the backup knows the engine (ip_vs_conn_fill_param_sync).
* ip_vs_proc_conn: the backup keeps of the flags only IP_VS_CONN_F_BACKUP_MASK (version 1;
  version 0 takes all 16 bits) plus SYNC.  A connection found under the same key but bound
  to another real server is expired and replaced, unless the record says INACTIVE: then it
  is the late expiry of the connection that was replaced, and is ignored.  An entry found
  otherwise is updated: only INACTIVE and the SEQ bits of its flags change (moving it
  between the active and inactive counters), its state and timeout become the sender's,
  and an entry bound to no real server tries again to find one.  A new entry takes the
  sender's state; its timeout is the record's (version 1), or the backup's own timeout for
  that state (version 0, or 0 on the wire), 180 s for a template.  (The kernel measured
  here keeps it in 32-bit milliseconds: a timeout past 2^32 ms wraps round, and so it does
  here.)
* pylvs adds a ceiling: once `max_entries` synced entries exist, new ones are refused and
  counted (a flood cannot grow the table without bound); updates still apply.

The receiver decides; a `Target` (the connection table of a data plane) looks entries up
and applies the commands.  Nothing here raises on network input: every refusal is a `Drop`,
counted in `stats`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from pylvs.model.service import Address
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Drop, decode, header

DEFAULT_MAX_ENTRIES = 1 << 20
TEMPLATE_TIMEOUT = 3 * 60  # ip_vs_proc_conn: "cp->timeout = (3*60*HZ)"

Key = tuple[int, Address, int, Address, int]


@dataclass(frozen=True, slots=True)
class Entry:
    """A record as the backup keeps it: the masked flags and the timeout it will use."""

    record: w.SyncConn
    flags: int
    timeout: float
    version: int

    @property
    def key(self) -> Key:
        return self.record.key

    @property
    def template(self) -> bool:
        return bool(self.flags & w.F_TEMPLATE)

    @property
    def inactive(self) -> bool:
        return bool(self.flags & w.F_INACTIVE)


@dataclass(frozen=True, slots=True)
class Install:
    """Create the entry (ip_vs_conn_new from a sync record)."""

    entry: Entry


@dataclass(frozen=True, slots=True)
class Update:
    """Take the record's state, timeout and INACTIVE/SEQ flags into the existing entry."""

    entry: Entry


@dataclass(frozen=True, slots=True)
class Replace:
    """Expire the entry under this key (bound elsewhere) and create the record's."""

    entry: Entry


Command = Install | Update | Replace


class Target(Protocol):
    """The connection table the backup installs into."""

    def find(self, key: Key, *, template: bool) -> tuple[Address, int] | None:
        """The (daddr, dport) of the entry under `key`, None when there is none."""

    def timeout_of(self, protocol: int, state: int) -> float | None:
        """The backup's own timeout for a connection in `state`; None: none known."""

    def synced(self) -> int:
        """How many entries installed by the sync are in the table."""

    def apply(self, command: Command, now: float) -> Drop | None:
        """Carry the command out; a Drop when the table cannot hold the entry."""


@dataclass(frozen=True, slots=True)
class Policy:
    """The backup daemon's parameters."""

    syncid: int = 0  # 0: no filtering
    peers: frozenset[Address] = frozenset()  # when set: the only senders taken
    own: frozenset[Address] = frozenset()  # the backup's addresses: never a sender
    known_pes: frozenset[bytes] = frozenset()  # persistence engines the table can hold
    max_entries: int = DEFAULT_MAX_ENTRIES


@dataclass
class Stats:
    """What the receiver saw (all counters only grow)."""

    datagrams: int = 0
    messages: int = 0  # datagrams whose records were looked at
    records: int = 0  # records carried out
    installed: int = 0
    updated: int = 0
    replaced: int = 0
    drops: Counter[Drop] = field(default_factory=Counter)


class Receiver:
    """The backup's sync machine over one target table."""

    def __init__(self, policy: Policy, target: Target) -> None:
        self.policy = policy
        self.target = target
        self.stats = Stats()

    def datagram(self, data: bytes, src: Address, now: float) -> list[Command]:
        """One received datagram; the commands carried out."""
        self.stats.datagrams += 1
        refused = self._refuse(data, src)
        if refused is not None:
            self.stats.drops[refused] += 1
            return []
        decoded = decode(data)
        if isinstance(decoded, Drop):  # pragma: no cover - header() passed the same checks
            self.stats.drops[decoded] += 1
            return []
        self.stats.messages += 1
        self.stats.drops.update(decoded.problems)
        done: list[Command] = []
        for rec in decoded.conns:
            command = self._decide(rec, decoded.header.version, now)
            if isinstance(command, Drop):
                self.stats.drops[command] += 1
                continue
            dropped = self.target.apply(command, now)
            if dropped is not None:
                self.stats.drops[dropped] += 1
                continue
            done.append(command)
            self._count(command)
        return done

    def _refuse(self, data: bytes, src: Address) -> Drop | None:
        head = header(data)
        if isinstance(head, Drop):
            return head
        p = self.policy
        if p.syncid not in (0, head.syncid):
            return Drop.SYNCID
        if src in p.own or (p.peers and src not in p.peers):
            return Drop.FOREIGN
        return None

    def entry(self, rec: w.SyncConn, version: int) -> Entry:
        """The record with the backup's flags and timeout (ip_vs_proc_conn's inputs)."""
        if version == 1:
            flags = (rec.flags & w.F_BACKUP_MASK) | w.F_SYNC
            wire_timeout = rec.timeout
        else:
            flags = (rec.flags | w.F_SYNC) & ~w.F_HASHED
            wire_timeout = 0
        if wire_timeout:
            # kernel 6.1.192 (the oracle) keeps the timeout as 32-bit milliseconds: beyond
            # 2^32 ms (49.7 days; no master sends that much) it wraps round, measured
            timeout = (wire_timeout * 1000 % (1 << 32)) / 1000
        elif flags & w.F_TEMPLATE:
            timeout = float(TEMPLATE_TIMEOUT)
        else:
            own = self.target.timeout_of(rec.protocol, rec.state)
            timeout = float(TEMPLATE_TIMEOUT) if own is None else own
        return Entry(rec, flags, timeout, version)

    def _decide(self, rec: w.SyncConn, version: int, now: float) -> Command | Drop:
        if rec.pe_data and rec.pe_name not in self.policy.known_pes:
            return Drop.PE_UNKNOWN
        entry = self.entry(rec, version)
        found = self.target.find(rec.key, template=entry.template)
        if found is not None:
            if entry.template or found == (rec.daddr, rec.dport):
                return Update(entry)
            if entry.inactive:
                return Drop.STALE
            return Replace(entry)
        if self.target.synced() >= self.policy.max_entries:
            return Drop.TABLE_FULL
        return Install(entry)

    def _count(self, command: Command) -> None:
        self.stats.records += 1
        if isinstance(command, Install):
            self.stats.installed += 1
        elif isinstance(command, Update):
            self.stats.updated += 1
        else:
            self.stats.replaced += 1
