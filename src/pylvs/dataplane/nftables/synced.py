"""Connection sync on the nftables plane (issue 24 point 3): what a backup installs, and what
a master is fed.

Backup (`NftTarget`, a proto/sync `Target`): a synced entry becomes the kernel state the
plane's own packets would have made, so that after a takeover the next packet of an open
connection goes where it went on the old master:

* DR connection -> an element of `flows-<service>` (client . cport . vport -> the dest's mark
  on this director), with the sender's remaining time as its expiry; a TCP entry past
  ESTABLISHED (FIN_WAIT, CLOSE, ...) also joins `fin-<service>` with the tcpfin timeout, as
  the packet path puts it there, and an active one leaves it, as a SYN does (dr.py);
* template -> the client in `persist-<service>` (DR) or in `aff-<service>/<dest>` (NAT), with
  the sender's remaining time: a persistent client's next connection goes to the same real
  server;
* NAT connection -> a conntrack entry with its DNAT binding to the same real server and the
  dest's ct mark (ctnetlink.py), so the new master's conntrack un-NATs the replies too;
* refused, counted as `Drop.UNSUPPORTED` and logged once per service: DR connections of IPv6
  services (their flow key is a kernel jhash pylvs cannot compute), and entries of services
  this director does not have or cannot forward.

Elements and conntrack entries are written off the event loop, in batches; elements with
`nft -f`: add the element bare (a no-op when it exists),
delete it, add it with its timeout and expiry: one atomic batch per datagram, which neither
fails on a missing element nor keeps an old expiry.  A batch the kernel refuses (a flow the
packet path recorded meanwhile with another mark: EBUSY) is retried element by element.

Master (`mirror`): the kernel forwards, so the plane sees entries, not packets.  Each round
the plane's listing rows (DR flow map, conntrack, templates) become `Conn` objects kept by
key (their sync marks stay with them from round to round) for Sender.observed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.dest import Destination
from pylvs.model.service import Address, ServiceKey
from pylvs.proto.conntrack.states import ACTIVE_STATES, ConnState, Timeouts
from pylvs.proto.conntrack.table import Conn, ConnEntry, ConnKey
from pylvs.proto.sync import wire as w
from pylvs.proto.sync.codec import Drop
from pylvs.proto.sync.install import conn_state, find_service
from pylvs.proto.sync.receiver import Command, Key, Replace

from . import dr
from .apply import Nft, NftError
from .conntrack import CtFlow
from .ctnetlink import CtEntry, write_entries
from .plan import DestPlan, Mode, ServicePlan, hex_mark
from .ruleset import Table

log = logging.getLogger("pylvs.dataplane.nftables")
PRUNE_EVERY = 10.0  # seconds between two passes over what was installed


@dataclass(frozen=True, slots=True)
class SyncedElement:
    """One element to write: the set, its key text, the mapped mark, timeout and expiry;
    `absent`: make sure the set does not hold the key (timeout and expiry unused)."""

    family: str
    set_name: str
    key: str
    timeout: int
    expires: int
    mark: int | None = None
    absent: bool = False

    def bare(self) -> str:
        data = f" : {hex_mark(self.mark)}" if self.mark is not None else ""
        return f"{{ {self.key}{data} }}"

    def full(self) -> str:
        data = f" : {hex_mark(self.mark)}" if self.mark is not None else ""
        expires = max(1, min(self.expires, self.timeout))
        return f"{{ {self.key} timeout {self.timeout}s expires {expires}s{data} }}"

    def script(self, table: str) -> str:
        """Add bare (a no-op when it exists), delete, add with timeout and expiry."""
        where = f"{self.family} {table} {self.set_name}"
        script = f"add element {where} {self.bare()}\ndelete element {where} {{ {self.key} }}\n"
        return script if self.absent else script + f"add element {where} {self.full()}\n"


class NftTarget:
    """The nftables plane's kernel maps as a sync backup's target."""

    def __init__(
        self,
        plans: Callable[[], Mapping[ServiceKey, ServicePlan]],
        runtimes: Callable[[], Mapping[ServiceKey, ServiceRuntime]],
        timeouts: Callable[[], Timeouts],
        submit: Callable[[list[SyncedElement]], None],
        conntrack: Callable[[CtEntry], None],
    ) -> None:
        self.plans = plans
        self.runtimes = runtimes
        self.timeouts = timeouts
        self.submit = submit
        self.conntrack = conntrack
        # What this target installed: key -> (daddr, dport), and when it runs out.
        self._installed: dict[tuple[bool, Key], tuple[tuple[Address, int], float]] = {}
        self._warned: set[tuple[ServiceKey | None, str]] = set()
        self._pruned = 0.0

    # -- Target ------------------------------------------------------------------------

    def find(self, key: Key, *, template: bool) -> tuple[Address, int] | None:
        found = self._installed.get((template, key))
        return found[0] if found is not None else None

    def timeout_of(self, protocol: int, state: int) -> float | None:
        if protocol == w.IPPROTO_TCP and 0 <= state < len(w.TCP_STATE_NAMES):
            return float(self.timeouts().tcp_timeout(ConnState[w.TCP_STATE_NAMES[state]]))
        if protocol == w.IPPROTO_UDP:
            return float(self.timeouts().udp)
        return None

    def synced(self) -> int:
        return len(self._installed)

    def expire(self, now: float) -> None:
        """Forget what the kernel has let expire (the count behind `max_entries`)."""
        self._installed = {k: v for k, v in self._installed.items() if v[1] > now}

    def apply(self, command: Command, now: float) -> Drop | None:
        if now - self._pruned >= PRUNE_EVERY:
            self._pruned = now
            self.expire(now)
        entry = command.entry
        rec = entry.record
        plan = self._plan(rec)
        dest = _dest(plan, rec) if plan is not None else None
        if plan is None or dest is None:
            return self._refuse(plan, "no such service or real server here")
        state = conn_state(entry)
        if state is None:
            return self._refuse(plan, "protocol without a state table")
        remaining = max(1, int(entry.timeout))
        if entry.template:
            elements = _template(plan, dest, rec, remaining)
        elif plan.mode is not Mode.DR:
            self.conntrack(_ct_entry(rec, dest, state, remaining, isinstance(command, Replace)))
            elements = []
        elif plan.family != "ip":
            return self._refuse(plan, "IPv6 DR flows are keyed on a kernel hash")
        else:
            elements = _flow(plan, dest, rec, state, remaining)
        self._installed[(entry.template, rec.key)] = ((rec.daddr, rec.dport), now + remaining)
        if elements:
            self.submit(elements)
        return None

    # -- internals ---------------------------------------------------------------------

    def _plan(self, rec: w.SyncConn) -> ServicePlan | None:
        svc = find_service(self.runtimes().get, rec)
        return self.plans().get(svc.key) if svc is not None else None

    def _refuse(self, plan: ServicePlan | None, why: str) -> Drop:
        key = plan.key if plan is not None else None
        if (key, why) not in self._warned:
            self._warned.add((key, why))
            log.warning("sync: entries of %s are not installed: %s", key or "unknown services", why)
        return Drop.UNSUPPORTED


def _dest(plan: ServicePlan, rec: w.SyncConn) -> DestPlan | None:
    """The dest by (daddr, dport), then (daddr, 0): install.find_dest's order."""
    for port in (rec.dport, 0):
        for d in plan.dests:
            if (d.address, d.port) == (rec.daddr, port):
                return d
    return None


def _template(
    plan: ServicePlan, dest: DestPlan, rec: w.SyncConn, remaining: int
) -> list[SyncedElement]:
    timeout = max(plan.persist_timeout, remaining)
    client = str(rec.caddr)
    if plan.mode is Mode.DR:
        name = f"persist-{plan.slug}"
        return [SyncedElement("netdev", name, client, timeout, remaining, dest.mark)]
    name = f"aff-{plan.slug}/{dest.slug}"
    return [SyncedElement(plan.family, name, client, timeout, remaining)]


def _ct_entry(
    rec: w.SyncConn, dest: DestPlan, state: ConnState, remaining: int, replace: bool
) -> CtEntry:
    flow = CtFlow(
        rec.protocol, rec.caddr, rec.cport, rec.vaddr, rec.vport, dest.address,
        rec.dport, state, remaining, dest.mark,
    )  # fmt: skip
    return CtEntry(flow, replace)


def _flow(
    plan: ServicePlan, dest: DestPlan, rec: w.SyncConn, state: ConnState, remaining: int
) -> list[SyncedElement]:
    key = f"{rec.caddr} . {rec.cport} . {rec.vport}"
    name = f"flows-{plan.slug}"
    tcp = rec.protocol == w.IPPROTO_TCP
    fins = dr.fin_set(plan)
    if not tcp:
        return [SyncedElement("netdev", name, key, plan.flow_timeout, remaining, dest.mark)]
    if state in ACTIVE_STATES:
        # an earlier connection with this client port may have left the key in the fin set
        # (its 120 s outlive it): the packet path takes it out on a SYN, so does this
        return [
            SyncedElement("netdev", name, key, plan.flow_timeout, remaining, dest.mark),
            SyncedElement("netdev", fins, key, 0, 0, absent=True),
        ]
    # past ESTABLISHED: the packet path would have put it in the fin set with tcpfin
    return [
        SyncedElement("netdev", name, key, plan.fin_timeout, remaining, dest.mark),
        SyncedElement("netdev", fins, key, plan.fin_timeout, remaining),
    ]


def scripts(table: str, elements: Iterable[SyncedElement]) -> str:
    return "".join(e.script(table) for e in elements)


class ElementWriter:
    """Writes queued elements with `nft -f`, one batch at a time, never while a render
    replaces the tables (the plane's lock)."""

    def __init__(
        self, nft: Nft, tables: Callable[[], Mapping[str, Table]], lock: asyncio.Lock
    ) -> None:
        self.nft = nft
        self.tables = tables
        self.lock = lock
        self._queue: list[SyncedElement] = []
        self._entries: list[CtEntry] = []
        self._task: asyncio.Task[None] | None = None
        self.refused = 0  # conntrack entries the kernel refused

    def write(self, elements: list[SyncedElement]) -> None:
        self._queue += elements
        self._wake()

    def conntrack(self, entry: CtEntry) -> None:
        self._entries.append(entry)
        self._wake()

    def _wake(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while self._queue or self._entries:
            batch, self._queue = self._queue, []
            entries, self._entries = self._entries, []
            if entries:  # netlink calls block: a worker thread
                refused = await asyncio.to_thread(write_entries, entries)
                if refused and not self.refused:
                    log.warning("sync: the kernel refused %d conntrack entries", refused)
                self.refused += refused
            if batch:
                async with self.lock:
                    await self._batch(batch)

    async def _batch(self, batch: list[SyncedElement]) -> None:
        names = {family: t.name for family, t in self.tables().items()}
        batch = [e for e in batch if e.family in names]
        if not batch:
            return
        try:
            await self.nft.run("".join(e.script(names[e.family]) for e in batch))
            return
        except NftError:
            pass
        for element in batch:  # one refused element must not lose the others
            try:
                await self.nft.run(element.script(names[element.family]))
            except NftError as exc:
                log.debug("sync: %s not written: %s", element, exc)


class Mirror:
    """The plane's listing rows as `Conn` objects kept by key, for a master's sender."""

    def __init__(self) -> None:
        self._conns: dict[tuple[bool, ConnKey], Conn] = {}

    def update(
        self,
        rows: Iterable[ConnEntry],
        runtimes: Mapping[ServiceKey, ServiceRuntime],
        timeouts: Timeouts,
        now: float,
    ) -> list[Conn]:
        seen: dict[tuple[bool, ConnKey], Conn] = {}
        for row in rows:
            rt = runtimes.get(row.service) if row.service is not None else None
            dest = rt.dest((row.daddr, row.dport)) if rt is not None else None
            if rt is None or dest is None:
                continue
            key = (row.protocol, row.caddr, row.cport, row.vaddr, row.vport)
            timeout = _timeout(row, rt, timeouts)
            conn = self._conns.get((row.template, key))
            if conn is None or conn.dest is not dest:
                conn = _conn(key, row, dest, timeout, now)
            conn.state = row.state
            conn.timeout = timeout
            conn.expires = now + row.expires
            conn.inactive = row.template or row.state not in ACTIVE_STATES
            seen[(row.template, key)] = conn
        for k, conn in self._conns.items():
            if seen.get(k) is not conn:
                conn.dead = True  # its sync mark goes at the sender's next prune
        self._conns = seen
        return list(seen.values())


def _timeout(row: ConnEntry, rt: ServiceRuntime, timeouts: Timeouts) -> float:
    if row.template:
        return float(rt.service.timeout)
    if row.protocol == w.IPPROTO_TCP:
        return float(timeouts.tcp_timeout(row.state))
    return float(timeouts.udp)


def _conn(key: ConnKey, row: ConnEntry, dest: Destination, timeout: float, now: float) -> Conn:
    # Not in any table: nothing binds it to the dest's counters (the plane recounts those).
    return Conn(
        key,
        row.service,
        dest,
        row.dport,
        template=row.template,
        state=row.state,
        timeout=timeout,
        now=now,
    )
