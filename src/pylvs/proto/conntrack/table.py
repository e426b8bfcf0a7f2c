"""The IPVS connection table: entries, their timers, dest binding and persistence templates.

Mirrors net/netfilter/ipvs/ip_vs_conn.c.  An entry is keyed like the kernel's hash
(protocol, client address, client port, virtual address, virtual port) and bound to the
`Destination` it was scheduled to: `ip_vs_bind_dest` counts a new connection as *inactive*
(IP_VS_CONN_F_INACTIVE is set on creation), TCP state changes move it between the active and
inactive counters (`set_tcp_state`), and expiry unbinds it (`ip_vs_unbind_dest`), which is what
clears the OVERLOAD flag (reference §1.1-1.2).  Persistence templates (§1.5) live in the same
table with cport 0, count in `persistconns`, and are re-armed for 60 s when their timer runs out
while they still control connections (`ip_vs_conn_expire`, "expire_later").

Pure: no clock, no I/O.  Every call takes `now`; `expire(now)` returns the entries that died so
the driver can close whatever sockets still belong to them, and `next_deadline()` says when to
call it next.  Timers are a heap with lazy re-arming: pushing an entry's timer later only moves
its `expires` (the heap slot is pushed again when it surfaces early); moving it earlier adds a
new slot and leaves the old one stale (`heap_at` tells which slot is live).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pylvs.model.dest import Destination
from pylvs.model.service import Address, Protocol, ServiceKey
from pylvs.proto.conntrack.states import (
    ACTIVE_STATES,
    EVENT_STEPS,
    NEW_CONN_TIMEOUT,
    TCP_TIMEOUTS,
    TEMPLATE_REARM,
    ConnState,
    TcpEvent,
    Timeouts,
)

# The TCP states whose timeout `--set` changes (ip_vs_set_timeout).
SET_STATES = frozenset({ConnState.ESTABLISHED, ConnState.FIN_WAIT})

# (protocol, client address, client port, virtual address, virtual port)
ConnKey = tuple[int, Address, int, Address, int]

INVALID_PORT = 0xFFFF  # ip_vs_check_template rehashes an invalid template with this vport


@dataclass(frozen=True, slots=True)
class ConnEntry:
    """One row of /proc/net/ip_vs_conn (`ipvsadm -c`)."""

    protocol: int  # 6 TCP, 17 UDP, 0 = IPPROTO_IP (fwmark templates)
    caddr: Address
    cport: int
    vaddr: Address
    vport: int
    daddr: Address
    dport: int
    state: ConnState
    expires: int  # whole seconds left, truncated as the kernel prints them
    template: bool = False
    service: ServiceKey | None = None
    pe_name: str = ""
    pe_data: str = ""


class Conn:
    """A connection (or a persistence template) in the table."""

    __slots__ = (
        "caddr",
        "control",
        "cport",
        "daddr",
        "dead",
        "dest",
        "dport",
        "expires",
        "heap_at",
        "inactive",
        "n_control",
        "on_expire",
        "protocol",
        "service",
        "state",
        "template",
        "timeout",
        "vaddr",
        "vport",
    )

    def __init__(
        self,
        key: ConnKey,
        service: ServiceKey | None,
        dest: Destination,
        dport: int,
        *,
        template: bool,
        state: ConnState,
        timeout: float,
        now: float,
    ) -> None:
        self.protocol, self.caddr, self.cport, self.vaddr, self.vport = key
        self.service = service
        self.dest = dest
        self.daddr: Address = dest.address
        self.dport = dport
        self.template = template
        self.state = state
        self.timeout = timeout
        self.expires = now + timeout
        self.heap_at = self.expires  # time of this entry's live timer-heap slot
        self.control: Conn | None = None
        self.n_control = 0
        self.inactive = True
        self.dead = False
        # Set by the driver: what to do when the table drops this entry (close its sockets).
        self.on_expire: Callable[[Conn], None] | None = None

    @property
    def key(self) -> ConnKey:
        return (self.protocol, self.caddr, self.cport, self.vaddr, self.vport)

    def entry(self, now: float) -> ConnEntry:
        left = max(0, int(self.expires - now))
        return ConnEntry(
            protocol=self.protocol,
            caddr=self.caddr,
            cport=self.cport,
            vaddr=self.vaddr,
            vport=self.vport,
            daddr=self.daddr,
            dport=self.dport,
            state=self.state,
            expires=left,
            template=self.template,
            service=self.service,
        )

    def __repr__(self) -> str:
        kind = "Template" if self.template else "Conn"
        return f"{kind}({self.key} -> {self.daddr}:{self.dport} {self.state.value})"


class ConnTable:
    """All connections and templates of one data plane (the kernel's ip_vs_conn_tab)."""

    def __init__(
        self, timeouts: Timeouts | None = None, *, expire_quiescent_template: bool = False
    ) -> None:
        self._tcp_timeouts: dict[ConnState, int] = {}
        self.timeouts = timeouts if timeouts is not None else Timeouts()
        # sysctl expire_quiescent_template (default 0): drop templates of weight-0 dests.
        self.expire_quiescent_template = expire_quiescent_template
        self._conns: dict[ConnKey, Conn] = {}
        self._templates: dict[ConnKey, Conn] = {}
        # Invalidated templates are unhashed but live until their timer (ip_vs_check_template).
        self._stale_templates: set[Conn] = set()
        self._heap: list[tuple[float, int, Conn]] = []
        self._seq = itertools.count()
        # Told of every entry `expire` re-armed for 60 s because it still controls others
        # (the kernel's expire_later, which also syncs it: a sync master hooks in here).
        self.rearmed: Callable[[Conn], None] | None = None

    @property
    def timeouts(self) -> Timeouts:
        return self._timeouts

    @timeouts.setter
    def timeouts(self, timeouts: Timeouts) -> None:
        self._timeouts = timeouts
        # timeout_table[state] after `--set`, looked up on every TCP event.
        self._tcp_timeouts = {state: timeouts.tcp_timeout(state) for state in TCP_TIMEOUTS}
        # set_tcp_state (ip_vs_proto_tcp.c) assigns cp->timeout = timeout_table[state] on
        # every packet, so a live connection's next packet re-arms with the new value even
        # without a state change; the proxy's per-chunk fast path re-arms with `conn.timeout`
        # (tcp.py), so that is what changes here.  Expiries already armed stay, as timers do.
        for conn in getattr(self, "_conns", {}).values():
            if conn.key[0] == Protocol.UDP:
                conn.timeout = float(timeouts.udp)
            elif conn.state in SET_STATES:
                conn.timeout = self._tcp_timeouts[conn.state]

    # -- lookup ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._conns) + len(self._templates) + len(self._stale_templates)

    def get(self, key: ConnKey) -> Conn | None:
        return self._conns.get(key)

    def conns(self) -> Iterator[Conn]:
        """Live connections (templates excluded)."""
        return iter(list(self._conns.values()))

    def find_template(self, key: ConnKey) -> Conn | None:
        """The hashed template under `key`, as it is: no validity check, no re-arming
        (`template` is the lookup of a new connection; this one is for the sync)."""
        return self._templates.get(key)

    def templates(self) -> Iterator[Conn]:
        return itertools.chain(list(self._templates.values()), list(self._stale_templates))

    def entries(self, now: float) -> list[ConnEntry]:
        """Every connection and template, for `ipvsadm -c`."""
        rows = [c.entry(now) for c in self._conns.values()]
        rows.extend(t.entry(now) for t in self.templates())
        return rows

    def rows(self) -> list[Conn]:
        """Every connection and template as they are now (copies of the containers only:
        `Conn.entry` can then be called on each elsewhere, a listing built off the loop)."""
        return [*self._conns.values(), *self.templates()]

    # -- connections -------------------------------------------------------------------

    def new_conn(
        self,
        key: ConnKey,
        service: ServiceKey | None,
        dest: Destination,
        now: float,
        *,
        dport: int | None = None,
        control: Conn | None = None,
    ) -> Conn:
        """ip_vs_conn_new + ip_vs_bind_dest: a new connection, counted inactive.

        TCP entries start in NONE with the 3 s `ip_vs_conn_new` timeout until the first
        `tcp_event`; UDP entries start in the UDP state with the udp timeout.  An existing entry
        with the same key (a reused client port) is removed first, as conn_reuse_mode expires
        it (ip_vs_core.c ip_vs_in_hook -> ip_vs_conn_expire_now): its template stays, on its
        own timer, even if it is not ASSURED and controlled nothing else; the caller found it
        (and gave it to this connection as `control`) before.
        """
        old = self._conns.get(key)
        if old is not None and not old.dead:
            self._remove(old)
        if key[0] == Protocol.UDP:
            state, timeout = ConnState.UDP, float(self.timeouts.udp)
        else:
            state, timeout = ConnState.NONE, float(NEW_CONN_TIMEOUT)
        conn = Conn(
            key,
            service,
            dest,
            dest.port if dport is None else dport,
            template=False,
            state=state,
            timeout=timeout,
            now=now,
        )
        dest.bind(active=False)
        if control is not None:
            conn.control = control
            control.n_control += 1
        self._conns[key] = conn
        self._push(conn)
        return conn

    def tcp_event(self, conn: Conn, event: TcpEvent, now: float) -> None:
        """set_tcp_state for the packets `event` stands for; re-arms the timer."""
        if conn.dead:
            return
        state = conn.state
        new = EVENT_STEPS[event][state]
        if new is not state:
            active = new in ACTIVE_STATES
            if conn.inactive and active:
                conn.dest.set_active(True)
                conn.inactive = False
            elif not conn.inactive and not active:
                conn.dest.set_active(False)
                conn.inactive = True
            if new is ConnState.ESTABLISHED:
                _assure(conn)
            conn.state = new
        timeout = self._tcp_timeouts[new]
        conn.timeout = timeout
        expires = conn.expires = now + timeout
        if expires < conn.heap_at:
            self._push(conn)

    def udp_packet(self, conn: Conn, now: float, *, reply: bool = False) -> None:
        """udp_state_transition: every packet re-arms the udp timeout; a reply assures."""
        if conn.dead:
            return
        if reply:
            _assure(conn)
        conn.timeout = self.timeouts.udp
        conn.expires = now + conn.timeout
        if conn.expires < conn.heap_at:
            self._push(conn)

    def release(self, conn: Conn) -> None:
        """Expire a one-packet (ops) connection right after its packet (ip_vs_conn_put).

        Unlike `drop` the controlling template stays: its timer keeps running.
        """
        if not conn.dead:
            self._remove(conn)

    def drop(self, conn: Conn) -> None:
        """Expire `conn` now (ip_vs_conn_expire_now with timeout 0).

        As in the kernel, a controlling template that is not ASSURED and controls nothing
        else any more goes with it.
        """
        if conn.dead:
            return
        ct = conn.control
        self._remove(conn)
        if (
            ct is not None
            and not ct.dead
            and ct.n_control == 0
            and ct.template
            and ct.state is not ConnState.ASSURED
        ):
            self._remove(ct)

    # -- persistence templates (ip_vs_core.c ip_vs_sched_persist) ----------------------

    def template(self, key: ConnKey, now: float) -> Conn | None:
        """The valid template for `key`, its timer restarted; None when there is none.

        A template whose dest is gone, unavailable, or quiescent while
        expire_quiescent_template is set is invalidated (ip_vs_check_template): it is
        unhashed with vport/dport 0xffff, keeps its timer and dest binding, and no longer
        matches, so the caller schedules afresh.
        """
        ct = self._templates.get(key)
        if ct is None:
            return None
        dest = ct.dest
        if not dest.available or (self.expire_quiescent_template and dest.weight == 0):
            del self._templates[key]
            ct.vport = INVALID_PORT
            ct.dport = INVALID_PORT
            ct.cport = 0
            self._stale_templates.add(ct)
            return None
        # ip_vs_conn_put(ct) re-arms the template's timer with its own timeout.
        ct.expires = now + ct.timeout
        if ct.expires < ct.heap_at:
            self._push(ct)
        return ct

    def new_template(
        self,
        key: ConnKey,
        service: ServiceKey | None,
        dest: Destination,
        timeout: int,
        *,
        dport: int,
        now: float,
    ) -> Conn:
        """A persistence template (IP_VS_CONN_F_TEMPLATE) bound to `dest` for `timeout` s."""
        old = self._templates.pop(key, None)
        if old is not None:
            self._stale_templates.add(old)
        ct = Conn(
            key,
            service,
            dest,
            dport,
            template=True,
            state=ConnState.NONE,
            timeout=float(timeout),
            now=now,
        )
        dest.bind(template=True)
        self._templates[key] = ct
        self._push(ct)
        return ct

    # -- timers ------------------------------------------------------------------------

    def expire(self, now: float) -> list[Conn]:
        """Remove every entry whose timer ran out by `now`; returns them.

        A template (or any entry) still controlling connections is re-armed for 60 s
        instead, and keeps 60 s as its timeout from then on (ip_vs_conn_expire ->
        expire_later sets cp->timeout = 60*HZ).  Timers are processed in the order of their
        deadlines and re-armed from the deadline, so a late call gives the same result as
        timers that fired on time.
        """
        dead: list[Conn] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, conn = heapq.heappop(heap)
            if conn.dead or at != conn.heap_at:
                continue  # a stale slot: the entry was re-armed earlier since
            if conn.expires > at:
                # Re-armed later since: file it at its real time, which keeps timers firing
                # in the kernel's order even when housekeeping runs late.
                self._push(conn)
                continue
            if conn.n_control > 0:
                # expire_later: cp->timeout = 60*HZ, counted from when the timer fired.
                conn.timeout = TEMPLATE_REARM
                conn.expires = at + TEMPLATE_REARM
                self._push(conn)
                if self.rearmed is not None:
                    self.rearmed(conn)
                continue
            self._remove(conn)
            dead.append(conn)
        return dead

    def next_deadline(self) -> float | None:
        """The earliest time `expire` may have work (possibly early: timers re-arm lazily)."""
        heap = self._heap
        while heap and (heap[0][2].dead or heap[0][0] != heap[0][2].heap_at):
            heapq.heappop(heap)
        return self._heap[0][0] if self._heap else None

    def moved(self, conn: Conn) -> None:
        """`conn.expires` was set by a caller's fast path: file it where it now falls (the
        heap only needs a new slot when the expiry moved earlier, after `--set`)."""
        if conn.expires < conn.heap_at and not conn.dead:
            self._push(conn)

    def drop_dest(self, dest: Destination) -> list[Conn]:
        """Expire every connection bound to `dest` now (sysctl expire_nodest_conn)."""
        victims = [c for c in self._conns.values() if c.dest is dest]
        for conn in victims:
            self.drop(conn)
        return victims

    # -- internals ---------------------------------------------------------------------

    def _push(self, conn: Conn) -> None:
        conn.heap_at = conn.expires
        heapq.heappush(self._heap, (conn.expires, next(self._seq), conn))

    def _remove(self, conn: Conn) -> None:
        conn.dead = True
        if conn.template:
            if self._templates.get(conn.key) is conn:
                del self._templates[conn.key]
            self._stale_templates.discard(conn)
            conn.dest.unbind(template=True)
        else:
            # One hash of the key (addresses hash in Python): pop, and put back in the
            # unexpected case that the slot holds another entry.
            key = conn.key
            found = self._conns.pop(key, None)
            if found is not conn and found is not None:
                self._conns[key] = found
            conn.dest.unbind(active=not conn.inactive)
        ct = conn.control
        if ct is not None:
            conn.control = None
            ct.n_control -= 1


def _assure(conn: Conn) -> None:
    # ip_vs_control_assure_ct: mark the controlling template ASSURED.
    ct = conn.control
    if ct is not None and ct.template and ct.state is not ConnState.ASSURED:
        ct.state = ConnState.ASSURED
