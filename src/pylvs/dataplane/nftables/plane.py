"""NftablesDataPlane: the kernel forwards, pylvs renders its table to nftables (root).

The same DataPlane interface as the proxy: changes go into DataPlaneState (services, dests in
kernel list order, the error names of ip_vs_ctl.c), then every service is planned
(planner.py), rendered (render.py) and applied as one `nft -f` transaction per family
(ruleset.transaction: atomic, keeps DR flows, persistence entries and counters).  What the
kernel path cannot do is refused before the state changes, with a message naming the service.

A housekeeping task (every `interval` seconds) refreshes DR MACs from the neighbour table,
reads the nft counters, fills the runtimes' packet / byte / connection counters
(accounting.py), runs the rate estimators, re-weights the connection-counting schedulers
(maps.reweight) and re-applies when any of that changed the rendered tables.

The active / inactive / persistent counts come from conntrack (NAT) and the dynamic sets (DR
flows, persistence), whose size grows with the connection rate: at 15,000 new connections/s
they hold ~10^5 entries (TIME_WAIT, tcpfin), and reading and parsing them every second took a
good part of one of the two cores the kernel was forwarding on.  So a round reads them only
when a connection-counting scheduler needs them; otherwise `refresh()` reads them when a
listing asks (ipvsadm -L: at most once per round; -c: each time), off the event loop (nft
and conntrack in worker threads), so a listing never stalls VRRP, health checks or control.
`refresh()` also adds what the nft counters counted since the last round, so `--stats` is
exact at the moment it is asked, as IPVS's per-packet counters are.  Reads and the
accounting that follows them are serialised (`_reading`): each `advance` must see the
counters in the order nft listed them.

A transaction that deletes counters (a real server or service removed) first adds what they
counted since the last read, so the service keeps it (IPVS counts every packet in the
service's stats as it goes).

Connection sync (issue 24): `--start-daemon` runs pylvs's own daemons (pylvs.sync).  A
backup writes what it receives into the DR flow maps, the persistence sets and conntrack
(NAT connections with their DNAT binding; synced.py, ctnetlink.py);
a master reads the flow maps, conntrack and the persistence sets every round while it runs
and hands them to its sender (Sender.observed): the kernel forwards, so there are no
packets to count.

`stop()` deletes pylvs's tables; `start()` deletes stale ones left by a crashed run.
No other table is ever named.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from pylvs.dataplane import syncing
from pylvs.dataplane.base import DataPlane, DataPlaneError, DataPlaneState, change_key
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.dest import Destination
from pylvs.model.service import Address, ForwardMethod, ModelError, ServiceKey
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import AddDest, AddService, Change, EditDest, EditService
from pylvs.proto.conntrack.states import Timeouts
from pylvs.proto.conntrack.table import ConnEntry
from pylvs.sync.runner import SyncRunner

from . import accounting, conntrack, dr, neigh
from .apply import Nft, NftError
from .conntrack import CtFlow
from .counters import CounterValue, Element, TableDump
from .maps import COUNTING, horizon
from .plan import DestPlan, MarkAllocator, Mode, ServicePlan
from .planner import Link, check_scheduler, mode_of, plan_service
from .render import FAMILIES, render
from .ruleset import Table, removal, transaction
from .synced import ElementWriter, Mirror, NftTarget

log = logging.getLogger("pylvs.dataplane.nftables")

# How long apply() waits for the MACs of new DR real servers before rendering without them
# (they get new flows from the housekeeping round that finds them).
RESOLVE_WAIT = 1.0


class NftablesDataPlane(DataPlane):
    name: ClassVar[str] = "nftables"

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        timeouts: Timeouts | None = None,
        ingress: Sequence[str] = (),
        interval: float = 1.0,
        nft: Nft | None = None,
        tunnel_ok: bool = False,
    ) -> None:
        self.clock = clock
        self.state = DataPlaneState(timeouts=timeouts, rng=rng)
        self.ingress = tuple(ingress)
        self.interval = interval
        self.nft = nft if nft is not None else Nft()
        self.tunnel_ok = tunnel_ok
        self.marks = MarkAllocator()
        self.links: dict[Address, Link] = {}
        self.tables: dict[str, Table] = {}
        self.plans: dict[ServiceKey, ServicePlan] = {}
        self.dumps: dict[str, TableDump] = {}
        self._counts_fresh = False
        self._reading = asyncio.Lock()  # a dump and the accounting that follows it
        self._flows: list[CtFlow] = []  # NAT flows as the last refresh(connections=True) read
        # New connections per service since its last round (the rate the re-weighting uses).
        self._new_conns: dict[ServiceKey, int] = {}
        # Last value of each nft counter that _account added to the runtimes' counters.
        self._seen: dict[str, CounterValue] = {}
        self._cps: dict[ServiceKey, float] = {}
        self._last_round: dict[ServiceKey, float] = {}
        self._dirty = False
        # Per DR service: packets its full flow map could not record, as last seen.
        self._unrecorded: dict[ServiceKey, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # NAT flows get the --set timeouts through conntrack timeout policies (nat.py), where
        # the kernel has them (CONFIG_NF_CONNTRACK_TIMEOUT; probed by start()).
        self.ct_timeouts = True
        self._timeouts_syncs: set[asyncio.Task[None]] = set()
        self._gone: frozenset[int] = frozenset()  # rendered drop marks (nat.render_nat)
        self.syncd = SyncRunner(self._sync_target, clock=clock)
        self._mirror = Mirror()
        self._writer = ElementWriter(self.nft, lambda: self.tables, self._lock)

    # -- DataPlane ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.nft.run(removal(FAMILIES))
        self.ct_timeouts = await self._probe_ct_timeouts()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._housekeeping())

    async def apply(self, changes: Sequence[Change]) -> None:
        now = self.clock()
        failures: list[tuple[Change | None, str]] = []
        refused: set[ServiceKey] = set()
        for change in changes:
            key = change_key(change)
            if key in refused:
                continue
            try:
                self._check(change)
                self.state.apply_one(change, now)
            except ModelError as exc:
                failures.append((change, str(exc)))
                if isinstance(change, AddService):
                    refused.add(key)
        self._counts_fresh = False
        await self._refresh_links(wait=RESOLVE_WAIT)
        try:
            await self.sync()
        except NftError as exc:
            failures.append((None, f"nft: {exc}"))
        if failures:
            raise DataPlaneError.from_failures(failures)

    def services(self) -> Sequence[ServiceRuntime]:
        """The runtimes, with the counts of the last round or `refresh()`."""
        return list(self.state.runtimes.values())

    async def refresh(self, *, connections: bool = False) -> None:
        """Read what a listing shows now: the nft counters always; the sets and conntrack
        when no round since the last change read them, or for `-c` (module docstring)."""
        if not self.tables:
            return
        async with self._reading:
            counts = connections or not self._counts_fresh
            dumps = await self._dump_all(counters_only=not counts)
            self._account(self.clock(), dumps)
            if not counts:
                return
            self.dumps.update(dumps)
            if connections:
                flows = await asyncio.to_thread(self._nat_flows)
                self._flows = flows
                nat = accounting.flow_counts(flows)
            else:
                nat = await asyncio.to_thread(self._nat_counts)
            self._account_conns(nat)
            self._counts_fresh = True

    def flow_count(self) -> int:
        return len(self.state.table)

    def unrecorded(self) -> int:
        return sum(self._unrecorded.values())

    def set_sizes(self) -> list[tuple[str, int, int]]:
        """The dynamic sets the packet path fills (DR flow maps, FIN sets, persistence), as
        the last round or listing that read them: `family/name`, elements, `size`."""
        out = []
        for family, table in self.tables.items():
            dump = self.dumps.get(family)
            if dump is None:
                continue
            for named in table.sets:
                if named.dynamic:
                    n = len(dump.elements.get(named.name, ()))
                    out.append((f"{family}/{named.name}", n, named.capacity))
        return out

    def connections(self, now: float | None = None) -> list[ConnEntry]:
        """The flows and templates the last `refresh(connections=True)` read."""
        out = accounting.nat_entries(self._flows, self.marks.owners())
        for plan in self.plans.values():
            dump = self.dumps.get("netdev" if plan.mode is Mode.DR else plan.family)
            if dump is None:
                continue
            if plan.mode is Mode.DR:
                out += accounting.dr_entries(plan, *self._dr_flows(plan, dump))
            proto = int(plan.key.protocol or 0)
            for dest, clients in self._clients(plan, dump):
                out += accounting.template_entries(plan.key, dest, clients, proto)
        return out

    @property
    def timeouts(self) -> Timeouts:
        return self.state.table.timeouts

    def set_timeouts(self, timeouts: Timeouts) -> None:
        self.state.table.timeouts = timeouts
        self._dirty = True  # in the rules: DR flow timeouts, NAT conntrack timeout policies
        # New flows get them at once, as with IPVS, not from the next housekeeping round.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not started: the first apply renders them
        if self.tables:
            # One sync per call (they queue on the lock and each renders the values current
            # when it runs), so a --set arriving while an earlier one is applied is not lost.
            task = loop.create_task(self._sync_timeouts())
            self._timeouts_syncs.add(task)
            task.add_done_callback(self._timeouts_syncs.discard)

    async def _sync_timeouts(self) -> None:
        try:
            await self.sync()
        except NftError as exc:
            log.warning("nftables: applying new timeouts: %s (retried next round)", exc)

    async def settle(self) -> None:
        """Wait until the rules for timeouts set before are applied."""
        while self._timeouts_syncs:
            await asyncio.gather(*self._timeouts_syncs)

    def zero(self, key: ServiceKey | None = None) -> None:
        # The runtimes' counters are sums of what each round added (_account), so zeroing
        # them is all: the next round adds what the nft counters counted since.
        self.state.zero(key, self.clock())

    # -- connection synchronisation ----------------------------------------------------

    def sync_daemons(self) -> tuple[SyncDaemon, ...]:
        return self.syncd.daemons()

    async def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        syncing.start(self.syncd, daemon)

    async def stop_sync_daemon(self, state: SyncState) -> None:
        syncing.stop(self.syncd, state)

    def _sync_target(self) -> NftTarget:
        return NftTarget(
            lambda: self.plans,
            lambda: self.state.runtimes,
            lambda: self.timeouts,
            self._writer.write,
            self._writer.conntrack,
        )

    async def _feed_master(self) -> None:
        """A running master's round: conntrack too (the flow maps and persistence sets were
        read with the counters), every entry to the sender."""
        self._flows = await asyncio.to_thread(self._nat_flows)
        now = self.clock()
        conns = self._mirror.update(self.connections(now), self.state.runtimes, self.timeouts, now)
        self.syncd.observe(conns)

    async def stop(self, grace: float) -> None:
        self.syncd.close()
        await self._writer.close()
        await self.settle()  # a --set being applied must not re-create the tables afterwards
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.release_on_stop:
            await self.nft.run(removal(FAMILIES))
        else:
            log.info("nftables: tables left in place (--dont-release-ipvs)")
        self.tables = {}

    async def _probe_ct_timeouts(self) -> bool:
        """Whether this kernel takes `ct timeout` objects: one in a scratch table of pylvs's
        own, deleted in the same (atomic) batch."""
        probe = (
            "add table ip pylvs-probe\n"
            "add ct timeout ip pylvs-probe probe { protocol tcp ; l3proto ip ; "
            "policy = { established : 900 } ; }\n"
            "delete table ip pylvs-probe\n"
        )
        try:
            await self.nft.run(probe)
        except NftError as exc:
            log.warning(
                "nftables: this kernel has no conntrack timeout policies (%s); NAT flows keep "
                "conntrack's own timeouts (established: 5 days) and ipvsadm --set reaches "
                "DR flows only",
                exc,
            )
            return False
        return True

    # -- rendering ---------------------------------------------------------------------

    def _check(self, change: Change) -> None:
        """Refuse, before the state changes, what the kernel path cannot do."""
        if isinstance(change, AddService | EditService):
            check_scheduler(change.service.scheduler)
            return
        if isinstance(change, AddDest | EditDest):
            rt_found = self.state.runtimes.get(change.key)
            if rt_found is None:
                return  # apply_one reports "Service not defined"
            others = [d for d in rt_found.dests if d.key != change.dest.key]
            mode_of(rt_found, [*others, Destination(change.dest)], tunnel_ok=self.tunnel_ok)

    async def _refresh_links(self, wait: float = 0.0) -> None:
        """Re-read DR MACs; with `wait`, give unresolved neighbours that long to answer."""
        addresses = self._dr_addresses()
        if not addresses:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            links = await asyncio.to_thread(neigh.resolve, addresses)
            if len(links) == len(addresses) or loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
        if links != self.links:
            self.links = links
            self._dirty = True

    def _dr_services(self) -> list[ServiceRuntime]:
        out = []
        for rt in self.state.runtimes.values():
            with contextlib.suppress(ModelError):
                if rt.dests and mode_of(rt, rt.dests, tunnel_ok=self.tunnel_ok) is Mode.DR:
                    out.append(rt)
        return out

    def _dr_addresses(self) -> list[Address]:
        return sorted({d.address for rt in self._dr_services() for d in rt.dests}, key=str)

    def plan_all(self) -> dict[ServiceKey, ServicePlan]:
        plans = {}
        for key, rt in self.state.runtimes.items():
            slots = None
            if rt.service.scheduler in COUNTING:
                slots = horizon(len(rt.dests), self._cps.get(key, 0.0), self.interval)
            plans[key] = plan_service(
                rt, self.marks, self.links, self.timeouts, tunnel_ok=self.tunnel_ok, slots=slots
            )
        return plans

    def _ingress(self) -> list[str]:
        if self.ingress:
            return list(self.ingress)
        return sorted({link.device for link in self.links.values()})

    async def sync(self) -> None:
        """Render the whole table and apply what changed, one transaction per family."""
        async with self._lock:
            plans = self.plan_all()
            gone = self._gone_marks(plans)
            tables = render(
                list(plans.values()), self._ingress(), ct_timeouts=self.ct_timeouts, gone=gone
            )
            script = ""
            doomed: list[str] = []  # families whose transaction deletes counters
            for family in FAMILIES:
                new, old = tables.get(family), self.tables.get(family)
                if new is None and old is not None:
                    script += removal([old])
                elif new is not None and new != old:
                    script += transaction(old, new)
                if old is not None and _deleted_counters(old, new):
                    doomed.append(family)
            if script and doomed:
                await self._harvest(doomed)
            # Cleared before the await: a change made while nft runs sets it again.
            self._dirty = False
            if script:
                try:
                    await self.nft.run(script)
                except NftError:
                    # The kernel kept the previous tables (the batch is atomic) while the
                    # state has the change: the next housekeeping round tries again.
                    self._dirty = True
                    raise
            for family in FAMILIES:
                # A counter the transaction deleted starts from zero if it comes back.
                before = self.tables.get(family)
                if before is not None:
                    for name in _deleted_counters(before, tables.get(family)):
                        self._seen.pop(name, None)
            self.plans = plans
            self.tables = tables
            self._gone = gone

    async def _harvest(self, families: list[str]) -> None:
        """Add what the counters of `families` counted since the last read, before a
        transaction deletes some of them (the packets of the few microseconds between this
        read and the transaction are the only ones lost)."""
        async with self._reading:
            dumps = {}
            for family in families:
                dumps[family] = await self.nft.dump(
                    family, self.tables[family].name, counters_only=True
                )
            self._account(self.clock(), dumps)

    async def _dump_all(self, *, counters_only: bool) -> dict[str, TableDump]:
        return {
            family: await self.nft.dump(family, table.name, counters_only=counters_only)
            for family, table in self.tables.items()
        }

    # -- housekeeping ------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.housekeep()
            except (NftError, OSError, ModelError) as exc:
                log.warning("nftables housekeeping: %s", exc)
            except Exception:  # a bug in one round must not end counters, MACs, re-weighting
                log.exception("nftables housekeeping round failed")

    async def housekeep(self) -> None:
        """One round: links, counters, estimators; connection counts and re-weighting when a
        connection-counting scheduler needs them."""
        await self._refresh_links()
        master = self.syncd.master is not None
        need = self._counts_needed() or master
        async with self._reading:
            dumps = await self._dump_all(counters_only=not need)
            now = self.clock()
            self._account(now, dumps, round_end=True)
            self._check_flow_maps(dumps.get("netdev"))
            if need:
                self.dumps.update(dumps)
                nat = await asyncio.to_thread(self._nat_counts)
                self._account_conns(nat)
            self._counts_fresh = need
            if master:
                await self._feed_master()
        self.state.housekeep(now)
        self._forget_marks()
        if self._gone_marks(self.plans) != self._gone:
            self._dirty = True  # a deleted server's last flows ended: its drop rule goes
        if self._dirty or self._reweighting_changed():
            await self.sync()

    def _clients(self, plan: ServicePlan, dump: TableDump) -> list[tuple[DestPlan, list[Element]]]:
        if not plan.persist_timeout:
            return []
        if plan.mode is Mode.NAT:
            return [(d, dump.elements.get(f"aff-{plan.slug}/{d.slug}", [])) for d in plan.dests]
        entries = dump.elements.get(f"persist-{plan.slug}", [])
        return [(d, [e for e in entries if e.value == d.mark]) for d in plan.dests]

    def _counts_needed(self) -> bool:
        """Live counts each round: for a connection-counting scheduler, for u/l thresholds
        (the overload flag keeps an overloaded server out of the new-flow maps), or while
        deleted dests wait in the trash for their flows to end (_account_conns)."""
        return bool(self.state.orphans) or any(
            rt.service.scheduler in COUNTING or rt.trash or any(d.u_threshold for d in rt.dests)
            for rt in self.state.runtimes.values()
        )

    def _nat_counts(self) -> dict[int, tuple[int, int]]:
        if not any(p.mode is Mode.NAT for p in self.plans.values()):
            return {}
        return conntrack.read_counts()

    def _nat_flows(self) -> list[CtFlow]:
        if not any(p.mode is Mode.NAT for p in self.plans.values()):
            return []
        return conntrack.read_flows()

    @staticmethod
    def _dr_flows(plan: ServicePlan, dump: TableDump) -> tuple[list[Element], list[Element]]:
        """A DR service's flow map and fin set (dr.py) as listed."""
        found = dump.elements
        return found.get(f"flows-{plan.slug}", []), found.get(dr.fin_set(plan), [])

    def _account_conns(self, nat_counts: dict[int, tuple[int, int]]) -> None:
        """Active / inactive / persistent counts from conntrack and the sets in `dumps`."""
        for key, plan in self.plans.items():
            rt = self.state.runtimes.get(key)
            dump = self.dumps.get("netdev" if plan.mode is Mode.DR else plan.family)
            if rt is None or dump is None:
                continue
            counts = nat_counts
            if plan.mode is Mode.DR:
                counts = accounting.dr_flow_counts(plan, *self._dr_flows(plan, dump))
            persist = {d.mark: len(c) for d, c in self._clients(plan, dump)}
            for dplan in plan.dests:
                dest = rt.dest((dplan.address, dplan.port))
                if dest is None:
                    continue
                active, inactive = counts.get(dplan.mark, (0, 0))
                dest.recount(active, inactive, persist.get(dplan.mark, 0))
            # Deleted dests stay in the trash while flows still carry their mark (conntrack
            # or the DR flow map), as IPVS keeps a dest its connections are bound to; they
            # are forgotten, and their mark released, once those flows are gone.
            for dest in rt.trash:
                mark = self.marks.known(key, dest.key)
                active, inactive = counts.get(mark, (0, 0)) if mark is not None else (0, 0)
                dest.recount(active, inactive, 0)
        # Dests of deleted services, the same way (a DR service's flow map went with it).
        for key, dest in self.state.orphaned():
            mark = self.marks.known(key, dest.key)
            active, inactive = nat_counts.get(mark, (0, 0)) if mark is not None else (0, 0)
            dest.recount(active, inactive, 0)

    def _account(self, now: float, dumps: dict[str, TableDump], *, round_end: bool = False) -> None:
        """Packet, byte and connection counters from the nft counters in `dumps`; at the end
        of a round, the connection rate since the previous one."""
        for key, plan in self.plans.items():
            rt = self.state.runtimes.get(key)
            dump = dumps.get("netdev" if plan.mode is Mode.DR else plan.family)
            if rt is None or dump is None:
                continue
            new_conns = self._new_conns.get(key, 0)
            # Trashed too: a server deleted since the last read (_harvest).
            dests = {d.key: d for d in rt.all_dests()}
            for dplan in plan.dests:
                name = f"{plan.slug}/{dplan.slug}"
                conns = accounting.advance(self._seen, dump.counters, f"conns-{name}").packets
                cin = accounting.advance(self._seen, dump.counters, f"in-{name}")
                cout = accounting.advance(self._seen, dump.counters, f"out-{name}")
                dest = dests.get((dplan.address, dplan.port))
                if dest is None:
                    continue
                new_conns += conns
                for c in (rt.stats_of(dest).counters, rt.stats.counters):
                    c.conns += conns
                    c.inpkts += cin.packets
                    c.inbytes += cin.bytes
                    c.outpkts += cout.packets
                    c.outbytes += cout.bytes
            self._new_conns[key] = new_conns
            if not round_end:
                continue
            last = self._last_round.get(key)
            if last is not None and now > last:
                self._cps[key] = new_conns / (now - last)
            self._last_round[key] = now
            self._new_conns[key] = 0

    def _check_flow_maps(self, dump: TableDump | None) -> None:
        """Warn when a DR service's flow map was full this round (dr.service_chain): its new
        flows went to a dest by flow hash, not by its scheduler, and were not counted."""
        seen: dict[ServiceKey, int] = {}  # services gone since the last round are dropped
        for key, plan in self.plans.items():
            if plan.mode is not Mode.DR or dump is None:
                continue
            value = dump.counters.get(dr.full_counter(plan))
            if value is None:
                continue
            last = self._unrecorded.get(key, 0)
            seen[key] = value.packets
            rt = self.state.runtimes.get(key)
            if value.packets > last and rt is not None:
                log.warning(
                    "%s: DR flow map full (%d flows): %d packets of new flows forwarded by "
                    "flow hash instead of the %s scheduler, not counted as connections",
                    key,
                    dr.FLOW_MAP_SIZE,
                    value.packets - last,
                    rt.service.scheduler,
                )
        self._unrecorded = seen

    def _reweighting_changed(self) -> bool:
        # sync() applies only when the rendered tables differ, so asking is cheap.
        return self._counts_needed()

    def _gone_marks(self, plans: dict[ServiceKey, ServicePlan]) -> frozenset[int]:
        """Marks of deleted real servers of NAT services still in the trash (nat.py)."""
        out = set()
        for key, rt in self.state.runtimes.items():
            plan = plans.get(key)
            if plan is None or plan.mode is not Mode.NAT:
                continue
            for dest in rt.trash:
                mark = self.marks.known(key, dest.key)
                if mark is not None:
                    out.add(mark)
        for key, dest in self.state.orphaned():
            mark = self.marks.known(key, dest.key)
            if mark is not None and dest.method is ForwardMethod.MASQ:
                out.add(mark)
        return frozenset(out)

    def _forget_marks(self) -> None:
        live = {(key, d.key) for key, rt in self.state.runtimes.items() for d in rt.all_dests()}
        live.update((key, d.key) for key, d in self.state.orphaned())  # may come back
        for pair in self.marks.owners().values():
            if pair not in live:
                self.marks.release(*pair)


def _deleted_counters(old: Table, new: Table | None) -> list[str]:
    """Names of `old`'s counters that `new` does not have (a transaction deletes them)."""
    kept = {c.name for c in new.counters} if new is not None else set()
    return [c.name for c in old.counters if c.name not in kept]
