"""What the sync keeps per connection beside the connection table, and the table's view
of a connection as a sync record.

The kernel keeps these in struct ip_vs_conn itself: `in_pkts` (input packets counted for
the sync rate), `old_state` (the state last synced), `sync_endtime` (the expiry the last
sync announced, whose two low bits count the refresh retries), and the flags a synced entry
came with (IP_VS_CONN_F_SYNC).  pylvs's table (proto/conntrack) knows nothing of the sync,
so `Marks` holds them, keyed by the table's `Conn` objects; a `Mark` is made when the
connection is first seen (ip_vs_conn_new: sync_endtime = now, nothing synced yet) and goes
when the connection does (`forget`, or `prune` of the dead ones).

`record` turns a table entry into the `SyncConn` the kernel would send for it
(ip_vs_sync_conn: flags without HASHED, state number, timeout / HZ).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.service import ForwardMethod
from pylvs.proto.conntrack import ConnState
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.sync import wire as w

FWD_BITS = {
    ForwardMethod.MASQ: w.F_MASQ,
    ForwardMethod.LOCAL: w.F_LOCALNODE,
    ForwardMethod.TUNNEL: w.F_TUNNEL,
    ForwardMethod.ROUTE: w.F_DROUTE,
}
TCP_STATE_NUMBERS = {ConnState[name]: i for i, name in enumerate(w.TCP_STATE_NAMES)}


@dataclass(slots=True)
class Mark:
    """The sync's fields of one connection (see the module docstring)."""

    sync_endtime: float
    in_pkts: int = 0
    old_state: int = 0
    retries: int = 0
    flags: int = 0  # bits the table does not model: SYNC, a synced entry's own FWD bits
    fwd: int | None = None  # the forwarding bits of an entry bound to no real server


class Marks:
    """Marks by connection (identity)."""

    def __init__(self) -> None:
        self._marks: dict[Conn, Mark] = {}

    def __len__(self) -> int:
        return len(self._marks)

    def get(self, conn: Conn, now: float) -> Mark:
        mark = self._marks.get(conn)
        if mark is None:
            mark = self._marks[conn] = Mark(sync_endtime=now)
        return mark

    def peek(self, conn: Conn) -> Mark | None:
        return self._marks.get(conn)

    def forget(self, conn: Conn) -> None:
        self._marks.pop(conn, None)

    def prune(self) -> int:
        """Drop the marks of connections the table has removed; how many went."""
        dead = [c for c in self._marks if c.dead]
        for conn in dead:
            del self._marks[conn]
        return len(dead)


def state_number(conn: Conn) -> int:
    """cp->state as a number: IP_VS_CTPL_S_*, IP_VS_TCP_S_* or IP_VS_UDP_S_NORMAL."""
    if conn.template:
        return 1 if conn.state is ConnState.ASSURED else 0
    if conn.protocol == w.IPPROTO_TCP:
        return TCP_STATE_NUMBERS.get(conn.state, 0)
    return 0


def record(conn: Conn, mark: Mark) -> w.SyncConn:
    """The record the kernel sends for `conn` (ip_vs_sync_conn); a fwmark service's
    entries carry its mark (cp->fwmark, the packet's mark that selected the service)."""
    fwd = mark.fwd if mark.fwd is not None else FWD_BITS[conn.dest.method]
    flags = fwd | mark.flags
    if conn.template:
        # the dest's conn_flags always carry INACTIVE and a template keeps them
        flags |= w.F_TEMPLATE | w.F_INACTIVE
    elif conn.inactive:
        flags |= w.F_INACTIVE
    return w.SyncConn(
        protocol=conn.protocol,
        caddr=conn.caddr,
        cport=conn.cport,
        vaddr=conn.vaddr,
        vport=conn.vport,
        daddr=conn.daddr,
        dport=conn.dport,
        flags=flags,
        state=state_number(conn),
        timeout=int(conn.timeout),
        fwmark=conn.service.fwmark if conn.service is not None else 0,
    )
