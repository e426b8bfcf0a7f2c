"""A backup's sync records carried out on proto/conntrack's connection table.

The receiver (receiver.py) decides; this target looks entries up, finds their real server
and installs them, as ip_vs_proc_conn, ip_vs_conn_new and ip_vs_bind_dest do in the kernel:

* the real server: ip_vs_find_dest -> ip_vs_service_find (by fwmark first, then by
  <protocol, vaddr, vport>, then a TCP FTP service for port 20 or unprivileged ports, then
  the port-0 service) and ip_vs_lookup_dest by (daddr, dport), then by (daddr, 0) - for a
  fwmark service's non-NAT entries the other way round;
* an entry whose real server is not configured here stays in the table unbound (shown by
  `-c`, counted nowhere, forwarding nothing; a template that no connection can use) and is
  bound when a later record finds the server (ip_vs_try_bind_dest).  The table wants a
  `Destination` for every entry: an unbound one gets a detached, unavailable stand-in;
* a synced connection keeps the activity the sender announced (INACTIVE or not) in its
  real server's counters; a template counts as persistent; updates move a connection
  between the active and inactive counters when INACTIVE changes;
* state and timeout are the sender's; the sync's own fields (`Marks`) get in_pkts =
  sync_threshold and old_state = the state, so a backup that becomes master goes on from
  there.

What the table cannot hold is refused as `Drop.UNSUPPORTED`: SCTP, AH and ESP connections
(the table has only the TCP and UDP state machines).  Persistence-engine data is refused
before, by the receiver's `known_pes` (pylvs's planes run no persistence engine), and the
sequence-adjust data a record may carry is not kept: no pylvs plane rewrites payloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol as TypingProtocol

from pylvs.model.dest import Destination
from pylvs.model.service import (
    AF_INET,
    AF_INET6,
    Address,
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceKey,
)
from pylvs.proto.conntrack import ConnState
from pylvs.proto.conntrack.table import Conn, ConnTable
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Drop
from pylvs.proto.sync.marks import Marks
from pylvs.proto.sync.receiver import Command, Entry, Key, Replace, Update

FTP_PORT, FTP_DATA = 21, 20
UNPRIVILEGED = 1024  # ip_unprivileged_port_start's default
METHODS = {
    w.F_MASQ: ForwardMethod.MASQ,
    w.F_LOCALNODE: ForwardMethod.LOCAL,
    w.F_TUNNEL: ForwardMethod.TUNNEL,
    w.F_DROUTE: ForwardMethod.ROUTE,
}


class ServiceView(TypingProtocol):
    """What the target needs of a virtual service at run time (dataplane's ServiceRuntime)."""

    @property
    def key(self) -> ServiceKey: ...

    def dest(self, key: tuple[Address, int]) -> Destination | None: ...


Lookup = Callable[[ServiceKey], ServiceView | None]


def find_service(lookup: Lookup, rec: w.SyncConn) -> ServiceView | None:
    """ip_vs_service_find for a record."""
    af = AF_INET if rec.af == 4 else AF_INET6
    if rec.fwmark:
        svc = lookup(ServiceKey.mark(rec.fwmark, af))
        if svc is not None:
            return svc
    try:
        proto = Protocol(rec.protocol)
    except ValueError:
        return None
    svc = lookup(ServiceKey(protocol=proto, address=rec.vaddr, port=rec.vport))
    if (
        svc is None
        and proto is Protocol.TCP
        and (rec.vport == FTP_DATA or rec.vport >= UNPRIVILEGED)
    ):
        svc = lookup(ServiceKey(protocol=proto, address=rec.vaddr, port=FTP_PORT))
    if svc is None:
        svc = lookup(ServiceKey(protocol=proto, address=rec.vaddr, port=0))
    return svc


def find_dest(lookup: Lookup, rec: w.SyncConn, flags: int) -> tuple[ServiceView, Destination]:
    """ip_vs_find_dest: the service and real server of a record.

    Raises LookupError when there is none (the entry then stays unbound)."""
    svc = find_service(lookup, rec)
    if svc is None:
        raise LookupError("no service")
    port = rec.dport
    if rec.fwmark and flags & w.F_FWD_MASK != w.F_MASQ:
        port = 0
    dest = svc.dest((rec.daddr, port)) or svc.dest((rec.daddr, port ^ rec.dport))
    if dest is None:
        raise LookupError("no real server")
    return svc, dest


def conn_state(entry: Entry) -> ConnState | None:
    """The table's state for a record's state number; None: the table has no such state."""
    state = entry.record.state
    if entry.template:
        # only ASSURED matters for a template; the kernel keeps other numbers as given
        return ConnState.ASSURED if state == 1 else ConnState.NONE
    if entry.record.protocol == w.IPPROTO_TCP:
        return ConnState[w.TCP_STATE_NAMES[state]]
    if entry.record.protocol == w.IPPROTO_UDP:
        return ConnState.UDP
    return None


def stand_in(rec: w.SyncConn, flags: int) -> Destination:
    """A detached, unavailable real server for an entry bound to none."""
    method = METHODS.get(flags & w.F_FWD_MASK, ForwardMethod.MASQ)
    dest = Destination(RealServer(rec.daddr, rec.dport, weight=0, method=method))
    dest.available = False
    return dest


class TableTarget:
    """proto/conntrack's `ConnTable` as the receiver's target."""

    def __init__(
        self, table: ConnTable, lookup: Lookup, marks: Marks, *, threshold: int = 3
    ) -> None:
        self.table = table
        self.lookup = lookup
        self.marks = marks
        self.threshold = threshold  # sync_threshold: in_pkts of what arrives
        self._synced: set[Conn] = set()

    # -- Target ------------------------------------------------------------------------

    def find(self, key: Key, *, template: bool) -> tuple[Address, int] | None:
        conn = self.table.find_template(key) if template else self.table.get(key)
        if conn is None or conn.dead:
            return None
        return conn.daddr, conn.dport

    def timeout_of(self, protocol: int, state: int) -> float | None:
        timeouts = self.table.timeouts
        if protocol == w.IPPROTO_TCP and 0 <= state < len(w.TCP_STATE_NAMES):
            return float(timeouts.tcp_timeout(ConnState[w.TCP_STATE_NAMES[state]]))
        if protocol == w.IPPROTO_UDP:
            return float(timeouts.udp)
        return None

    def synced(self) -> int:
        self._synced = {c for c in self._synced if not c.dead}
        return len(self._synced)

    def apply(self, command: Command, now: float) -> Drop | None:
        entry = command.entry
        state = conn_state(entry)
        if state is None:
            return Drop.UNSUPPORTED
        if isinstance(command, Update):
            self._update(entry, state, now)
            return None
        if isinstance(command, Replace):
            old = self.table.get(entry.key)
            if old is not None:
                self.table.drop(old)  # ip_vs_conn_expire_now
                if old.on_expire is not None:
                    old.on_expire(old)
        self._install(entry, state, now)
        return None

    # -- internals ---------------------------------------------------------------------

    def _bind(self, entry: Entry) -> tuple[ServiceKey | None, Destination, bool]:
        try:
            svc, dest = find_dest(self.lookup, entry.record, entry.flags)
        except LookupError:
            found = find_service(self.lookup, entry.record)
            key = found.key if found is not None else None
            return key, stand_in(entry.record, entry.flags), False
        return svc.key, dest, True

    def _install(self, entry: Entry, state: ConnState, now: float) -> None:
        rec = entry.record
        service, dest, bound = self._bind(entry)
        if entry.template:
            conn = self.table.new_template(
                rec.key, service, dest, int(entry.timeout), dport=rec.dport, now=now
            )
        else:
            conn = self.table.new_conn(rec.key, service, dest, now, dport=rec.dport)
            if not entry.inactive:
                dest.set_active(True)
                conn.inactive = False
        self._settle(conn, entry, state, now)
        mark = self.marks.get(conn, now)
        mark.flags = w.F_SYNC
        mark.fwd = None if bound else entry.flags & w.F_FWD_MASK
        self._synced.add(conn)

    def _update(self, entry: Entry, state: ConnState, now: float) -> None:
        rec = entry.record
        conn = self.table.find_template(rec.key) if entry.template else self.table.get(rec.key)
        assert conn is not None  # find() said so a moment ago, and nothing ran since
        if not entry.template and conn.inactive != entry.inactive:
            conn.dest.set_active(not entry.inactive)
            conn.inactive = entry.inactive
        mark = self.marks.get(conn, now)
        if not conn.dest.available and mark.fwd is not None:
            self._try_bind(conn, entry)
        self._settle(conn, entry, state, now)

    def _try_bind(self, conn: Conn, entry: Entry) -> None:
        """ip_vs_try_bind_dest: an unbound entry meets its real server."""
        try:
            svc, dest = find_dest(self.lookup, entry.record, entry.flags)
        except LookupError:
            return
        conn.dest.unbind(active=not conn.inactive, template=conn.template)
        conn.dest = dest
        conn.service = svc.key
        dest.bind(active=not conn.inactive, template=conn.template)
        self.marks.get(conn, 0.0).fwd = None

    def _settle(self, conn: Conn, entry: Entry, state: ConnState, now: float) -> None:
        conn.state = state
        conn.timeout = entry.timeout
        conn.expires = now + entry.timeout
        self.table.moved(conn)
        mark = self.marks.get(conn, now)
        mark.in_pkts = self.threshold
        mark.old_state = entry.record.state
