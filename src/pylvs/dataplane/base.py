"""The data-plane interface the engine drives, and the state every implementation shares.

A data plane holds the applied service table and moves client traffic.  The engine computes
the table it wants, diffs it (pylvs.model.table.diff) and hands the changes to `apply`; the data
plane shows back what it applied (`services`, `applied`), lists its connection table
(`connections`, what `ipvsadm -c` prints), keeps the three `ipvsadm --set` timeouts and zeroes
counters (`ipvsadm -Z`).

`DataPlaneState` is the pure bookkeeping common to all of them: services by key, the
connection table, change application with the kernel's error names (ip_vs_ctl.c: "Service
already exists", "Service not defined", "Destination already exists", "No such destination",
"Scheduler not found"), housekeeping (estimators, conn timers, trash).
"""

from __future__ import annotations

import abc
import enum
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pylvs.model.dest import Destination
from pylvs.model.service import ModelError, ServiceKey
from pylvs.model.snapshot import DescriptorUse
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import (
    AddDest,
    AddService,
    Change,
    DeleteDest,
    DeleteService,
    EditDest,
    EditService,
    ServiceEntry,
    ServiceTable,
)
from pylvs.proto.conntrack.states import Timeouts
from pylvs.proto.conntrack.table import Conn, ConnEntry, ConnTable

from .service import ServiceRuntime

SYNC_UNAVAILABLE = (
    "pylvs: connection synchronisation (--start-daemon/--stop-daemon) is not available "
    "with this data plane: it needs the kernel's IPVS (--dataplane ipvs)"
)


class StopPolicy(enum.Enum):
    """What a plane sharing the kernel's table removes at stop (keepalived's choices)."""

    OWN = "own"  # what this run created (keepalived's default: its own virtual servers)
    KEEP = "keep"  # nothing (keepalived --dont-release-ipvs)
    SERVICES = "services"  # this run's services as whole ones (lvs_flush_on_stop VS)
    ALL = "all"  # the whole table, others' too (lvs_flush_on_stop / lvs_flush_on_stop ALL)


@dataclass(frozen=True, slots=True)
class TablePolicy:
    flush_at_start: bool = False  # keepalived lvs_flush: remove what was there before
    on_stop: StopPolicy = StopPolicy.OWN


class DataPlaneError(Exception):
    """Some changes could not be applied (the others were).

    `failures` lists each change that was not applied with the reason.
    """

    def __init__(self, message: str, failures: Sequence[tuple[Change | None, str]] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)

    @classmethod
    def from_failures(cls, failures: Sequence[tuple[Change | None, str]]) -> DataPlaneError:
        text = "; ".join(reason for _, reason in failures)
        return cls(text, failures)


def change_key(change: Change) -> ServiceKey:
    """The service a change is about."""
    if isinstance(change, AddService | EditService):
        return change.service.key
    return change.key


class DataPlane(abc.ABC):
    """What the engine needs from a data plane (proxy, nftables, ipvs, fake)."""

    name: ClassVar[str]
    # keepalived -I (--dont-release-ipvs) clears it: a kernel plane's stop() then leaves the
    # kernel's table forwarding as it is.  A user-space plane's forwarding ends with its
    # process whatever this says.
    release_on_stop: bool = True

    @abc.abstractmethod
    async def start(self) -> None:
        """Get ready to apply changes (housekeeping timers, sockets)."""

    @abc.abstractmethod
    async def apply(self, changes: Sequence[Change]) -> None:
        """Apply `changes` in order; DataPlaneError lists the ones that failed."""

    @abc.abstractmethod
    def services(self) -> Sequence[ServiceRuntime]:
        """The applied services, in the order they were added."""

    @abc.abstractmethod
    def connections(self, now: float | None = None) -> list[ConnEntry]:
        """Connections and persistence templates (`ipvsadm -c`); `now` on the plane's clock."""

    def connections_later(self) -> Callable[[], list[ConnEntry]]:
        """`connections()` in two steps: this call (on the loop) takes what must be taken
        there; the function it returns builds the rows and may run in another thread, so a
        listing of 10^4 connections does not stall the loop (issue 18 item 17)."""
        rows = self.connections()
        return lambda: rows

    def flow_count(self) -> int:
        """How many entries its connection table holds (templates included), for metrics;
        planes with the table at hand count it without building rows."""
        return len(self.connections())

    def unrecorded(self) -> int:
        """New flows forwarded without being recorded since start (a kernel plane's full
        flow map, nftables/dr.py); planes that record every flow have none."""
        return 0

    def drops(self) -> Mapping[str, int]:
        """What the plane dropped since start, by reason (metrics: `pylvs_dataplane_dropped`);
        the kernel planes' drops are the kernel's own counters, not counted here."""
        return {}

    def set_sizes(self) -> Sequence[tuple[str, int, int]]:
        """The plane's dynamic sets as last read: (name, elements, capacity); a plane
        without kernel sets has none."""
        return ()

    def descriptor_use(self) -> DescriptorUse | None:
        """The proxy's descriptors against its cap; None for planes without sockets."""
        return None

    async def refresh(self, *, connections: bool = False) -> None:
        """Bring what a listing shows up to date before `services()` / `connections()` are
        read for it (`ipvsadm -L`; with `connections`, `-c`).  The proxy keeps its numbers
        live; the kernel plane reads the kernel's tables here, without blocking the loop."""
        return None  # nothing to read by default (proxy, fake)

    async def observe(self, *, connections: bool = False) -> ServiceTable | None:
        """Read the table the forwarding holds now, when something besides pylvs can change
        it: the kernel's IPVS, which the real `ipvsadm` (or another keepalived) edits too.
        The read also brings what a listing shows up to date, as `refresh` does.  None for
        the planes only pylvs changes (proxy, nftables, fake): their table is `applied()`."""
        return None

    def listed(self) -> Sequence[ServiceRuntime]:
        """The services in the order the forwarding lists them (`ipvsadm --nosort`): the
        kernel's hash order for the kernel's IPVS, the order they were added elsewhere."""
        return self.services()

    def kernel_info(self) -> tuple[tuple[int, int, int], int] | None:
        """IPVS's version and connection table size when a kernel reports them (the first
        line of `ipvsadm -L`); None: the planes print ipvsadm's usual 1.2.1 / 4096."""
        return None

    def sync_daemons(self) -> tuple[SyncDaemon, ...] | None:
        """The connection-sync daemons running (`ipvsadm -L --daemon`); None where the plane
        has none to run (only the kernel's IPVS syncs connections, ip_vs_sync.c)."""
        return None

    async def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        """`ipvsadm --start-daemon`: DataPlaneError with the kernel's complaint if refused."""
        raise DataPlaneError(SYNC_UNAVAILABLE)

    async def stop_sync_daemon(self, state: SyncState) -> None:
        """`ipvsadm --stop-daemon master|backup`."""
        raise DataPlaneError(SYNC_UNAVAILABLE)

    def set_table_policy(self, policy: TablePolicy) -> None:
        """What to do with a table others share at start and at stop (keepalived's
        `lvs_flush`, `lvs_flush_on_stop`, `--dont-release-ipvs`).  A plane that owns its
        whole table (proxy, nftables, fake) starts empty and removes everything at stop
        whatever the policy says."""
        return None

    def unbound(self) -> dict[ServiceKey, str]:
        """Services in the table that take no traffic yet because the plane could not set
        them up (the proxy: another process holds the port; it retries), with why."""
        return {}

    def keep_free(self, descriptors: int) -> None:
        """Keep `descriptors` free for the rest of the daemon (health checks, control
        clients, VRRP; pylvs.dataplane.descriptors.reserve_for): a plane that takes
        descriptors per connection stops taking them short of that.  Kernel planes take
        none."""
        return None

    @property
    @abc.abstractmethod
    def timeouts(self) -> Timeouts:
        """The tcp / tcpfin / udp timeouts (`ipvsadm --timeout`)."""

    @abc.abstractmethod
    def set_timeouts(self, timeouts: Timeouts) -> None:
        """`ipvsadm --set`: new timeouts apply from each connection's next packet."""

    @abc.abstractmethod
    def zero(self, key: ServiceKey | None = None) -> None:
        """`ipvsadm -Z [service]`: zero counters and rate estimators."""

    @abc.abstractmethod
    async def stop(self, grace: float) -> None:
        """Stop taking new traffic, give live connections `grace` seconds, close the rest."""

    def service(self, key: ServiceKey) -> ServiceRuntime | None:
        for rt in self.services():
            if rt.key == key:
                return rt
        return None

    def applied(self) -> ServiceTable:
        """The applied table as a value (dests in the order they were added)."""
        return ServiceTable(
            ServiceEntry(rt.service, tuple(d.config for d in reversed(rt.dests)))
            for rt in self.services()
        )


class DataPlaneState:
    """Services, connection table and timeouts: the pure core of every data plane."""

    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        rng: random.Random | None = None,
        expire_quiescent_template: bool = False,
    ) -> None:
        self.table = ConnTable(timeouts, expire_quiescent_template=expire_quiescent_template)
        self.rng = rng
        self.runtimes: dict[ServiceKey, ServiceRuntime] = {}
        # Dests of deleted services still bound to connections (ServiceRuntime.adopt).
        self.orphans: dict[ServiceKey, list[Destination]] = {}

    def apply_one(self, change: Change, now: float) -> None:
        """Apply one change; ModelError (with the kernel's wording) if it cannot be."""
        match change:
            case AddService(service=svc):
                if svc.key in self.runtimes:
                    raise ModelError(f"Service already exists: {svc.key}")
                rt = ServiceRuntime(svc, now, self.rng)
                rt.adopt(self.orphans.pop(svc.key, []), now)
                self.runtimes[svc.key] = rt
            case EditService(service=svc):
                self._need(svc.key).edit(svc)
            case DeleteService(key=key):
                bound = self._need(key).release()
                if bound:
                    self.orphans[key] = bound
                del self.runtimes[key]
            case AddDest(key=key, dest=rs):
                self._need(key).add_dest(rs, now)
            case EditDest(key=key, dest=rs):
                self._need(key).edit_dest(rs)
            case DeleteDest(key=key, dest=dkey):
                self._need(key).delete_dest(dkey)

    def _need(self, key: ServiceKey) -> ServiceRuntime:
        rt = self.runtimes.get(key)
        if rt is None:
            raise ModelError(f"Service not defined: {key}")
        return rt

    def connections(self, now: float) -> list[ConnEntry]:
        return self.table.entries(now)

    def zero(self, key: ServiceKey | None, now: float) -> None:
        if key is None:
            for rt in self.runtimes.values():
                rt.zero(now)
            return
        found = self.runtimes.get(key)
        if found is None:
            raise DataPlaneError(f"Service not defined: {key}")
        found.zero(now)

    def housekeep(self, now: float) -> list[Conn]:
        """Expire connections and templates, run estimators, empty the trash.

        Returns the expired entries so the driver can close their sockets.
        """
        dead = self.table.expire(now)
        for rt in self.runtimes.values():
            rt.tick(now)
            if rt.trash:
                rt.purge_trash()
        for key, trashed in list(self.orphans.items()):
            kept = [d for d in trashed if d.activeconns or d.inactconns or d.persistconns]
            if kept:
                self.orphans[key] = kept
            else:
                del self.orphans[key]
        return dead

    def orphaned(self) -> list[tuple[ServiceKey, Destination]]:
        """Dests of deleted services still bound to connections."""
        return [(key, d) for key, trashed in self.orphans.items() for d in trashed]
