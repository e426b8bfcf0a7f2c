"""One virtual service at run time: its destinations, scheduler, counters and estimators.

Pure (no I/O, no clock).  The destination list is kept in the kernel's order: a new dest is
inserted at the head of `svc->destinations` (ip_vs_ctl.c `__ip_vs_update_dest`,
`list_add_rcu`), so `dests` is newest first and every scheduler tie-break follows it.

Deleting a dest clears its AVAILABLE flag and moves it to a trash list (ip_vs_ctl.c
`__ip_vs_del_dest`, `ip_vs_trash_get_dest`): the connections already bound to it keep their
binding and their counters, nothing new is scheduled to it, and adding the same address:port
again revives the same object.  Trashed dests are forgotten once nothing is bound to them.

The scheduler is an IPVS one (`sched.ipvs`, named by `service.scheduler`), driven through the
load-balancing interface of `sched.base`: `server_added` / `server_removed` / `weight_changed`
as dests are added, deleted and edited, `pick` for a new connection.  Its connection hooks are
not called: the kernel's schedulers read the counters the connection table keeps on each dest
(ip_vs_bind_dest / ip_vs_unbind_dest) instead.  Editing the service with another scheduler name
replaces the scheduler (ip_vs_edit_service unbinds the old one and binds the new one over the
current list); any other edit tells the scheduler through `update_service`.

`open_conn` is the kernel's ip_vs_schedule: persistence first (ip_vs_sched_persist) else the
scheduler, then a connection entry bound to the chosen dest and `conns` bumped on the service
and the dest (ip_vs_conn_stats).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

from pylvs.model.dest import Destination
from pylvs.model.service import Address, ModelError, RealServer, ServiceKey, VirtualService
from pylvs.model.stats import Stats
from pylvs.proto.conntrack.persist import schedule_persistent
from pylvs.proto.conntrack.table import Conn, ConnTable
from pylvs.sched import ipvs
from pylvs.sched.base import Flow
from pylvs.sched.ipvs import Scheduler


def make_scheduler(
    service: VirtualService, dests: Sequence[Destination], rng: random.Random | None
) -> Scheduler:
    """The IPVS scheduler `service` names; ModelError("Scheduler not found") if none is."""
    try:
        return ipvs.create(service, dests, rng)
    except KeyError:
        raise ModelError(f"Scheduler not found: {service.scheduler}") from None


class ServiceRuntime:
    """A virtual service, its live destinations and their statistics."""

    # What counts a service's and each dest's traffic: the kernel data plane reads the
    # kernel's counters and rates into a subclass instead of estimating its own.
    stats_class: ClassVar[type[Stats]] = Stats

    def __init__(
        self, service: VirtualService, now: float, rng: random.Random | None = None
    ) -> None:
        self.service = service
        # Read on every new connection; a flag test through the Flag enum is slow.
        self._persistent = service.persistent
        self.dests: list[Destination] = []  # list order: newest first
        # The same dests by key: a look-up per `ipvsadm -a/-e/-d` was a scan of the list, so
        # restoring a service's N dests cost N^2 comparisons (a dest's key never changes).
        self._by_key: dict[tuple[Address, int], Destination] = {}
        self.trash: list[Destination] = []  # deleted, still bound to live connections
        self.rng = rng
        self.scheduler = make_scheduler(service, self.dests, rng)
        self.stats = self.stats_class(now)
        self._dest_stats: dict[Destination, Stats] = {}

    @property
    def key(self) -> ServiceKey:
        return self.service.key

    def __repr__(self) -> str:
        return f"ServiceRuntime({self.service.key} {self.service.scheduler} {self.dests})"

    # -- configuration -----------------------------------------------------------------

    def dest(self, key: tuple[Address, int]) -> Destination | None:
        return self._by_key.get(key)

    def _reindex(self) -> None:
        """After `dests` was replaced as a whole (a plane that mirrors a kernel's list)."""
        self._by_key = {d.key: d for d in self.dests}

    def stats_of(self, dest: Destination) -> Stats:
        """Counters, rates and proxy errors of `dest` (also of a trashed dest)."""
        return self._dest_stats[dest]

    def edit(self, service: VirtualService) -> None:
        """`ipvsadm -E`: new scheduler, flags or persistence; dests and conns stay."""
        if service.key != self.service.key:
            raise ModelError(f"cannot turn {self.service.key} into {service.key}")
        old = self.service
        if service.scheduler != old.scheduler:
            self.scheduler = make_scheduler(service, self.dests, self.rng)
        elif service != old:
            self.scheduler.update_service(service, self.dests)
        self.service = service
        self._persistent = service.persistent

    def add_dest(self, config: RealServer, now: float) -> Destination:
        """`ipvsadm -a`: insert at the head (reviving a trashed dest of the same key)."""
        if self.dest(config.key) is not None:
            raise ModelError(f"Destination already exists: {config}")
        dest = next((d for d in self.trash if d.key == config.key), None)
        if dest is not None:
            self.trash.remove(dest)
            dest.update(config)  # sets AVAILABLE again, as __ip_vs_update_dest(add=1)
            dest.last_weight = config.weight
        else:
            dest = Destination(config)
            self._dest_stats[dest] = self.stats_class(now)
        self.dests.insert(0, dest)
        self._by_key[dest.key] = dest
        self.scheduler.server_added(self.dests, dest)
        return dest

    def edit_dest(self, config: RealServer) -> Destination:
        """`ipvsadm -e`: weight, thresholds, forwarding method."""
        dest = self.dest(config.key)
        if dest is None:
            raise ModelError(f"No such destination: {config}")
        dest.update(config)
        self.scheduler.weight_changed(self.dests, dest)
        return dest

    def delete_dest(self, key: tuple[Address, int]) -> Destination:
        """`ipvsadm -d`: out of the list, unavailable, kept while connections use it."""
        dest = self.dest(key)
        if dest is None:
            raise ModelError("No such destination")
        index = self.dests.index(dest)
        del self.dests[index]
        del self._by_key[key]
        dest.available = False
        self.trash.append(dest)
        self.scheduler.server_removed(self.dests, dest, index)
        return dest

    def purge_trash(self) -> None:
        """Forget trashed dests nothing is bound to any more (ip_vs_dest_trash_expire)."""
        keep = []
        for dest in self.trash:
            if dest.activeconns or dest.inactconns or dest.persistconns:
                keep.append(dest)
            else:
                del self._dest_stats[dest]
        self.trash = keep

    def release(self) -> list[Destination]:
        """The service was deleted: every dest becomes unavailable (ip_vs_del_service) and
        goes to the trash, which is returned for a service of the same key added later to
        take back (`adopt`).  What nothing is bound to is forgotten by the next
        housekeeping, after a kernel data plane has recounted the connections."""
        for dest in self.dests:
            dest.available = False
        self.trash.extend(self.dests)
        self.dests = []
        self._by_key = {}
        return self.trash

    def adopt(self, trashed: list[Destination], now: float) -> None:
        """Take a deleted service's trashed dests into this one's trash: IPVS's dest trash
        is per network namespace and matched on the service's address, port, fwmark and
        protocol (ip_vs_ctl.c ip_vs_trash_get_dest), so `ipvsadm -D` then `-A` / `-a` of
        the same service and server revives the same dest, its connections' counts and the
        persistence templates pointing at it (`ipvsadm -C; ipvsadm -R`).  Its statistics
        start from zero: __ip_vs_update_dest zeroes them when the dest is bound to another
        service object than before."""
        for dest in trashed:
            self.trash.append(dest)
            self._dest_stats[dest] = self.stats_class(now)

    # -- scheduling --------------------------------------------------------------------

    def flow(self, client: Address, client_port: int) -> Flow:
        key = self.service.key
        assert key.address is not None and key.protocol is not None
        return Flow(client, client_port, key.address, key.port, int(key.protocol))

    def pick(self, flow: Flow, now: float) -> Destination | None:
        """The scheduler's choice for a new connection (no persistence)."""
        return self.scheduler.pick(self.dests, flow, now)

    def open_conn(self, table: ConnTable, flow: Flow, now: float) -> Conn | None:
        """ip_vs_schedule: choose a dest (through a template if persistent), enter the conn.

        None means "no destination available".
        """
        service = self.service
        control: Conn | None = None
        if self._persistent:
            found = schedule_persistent(
                table,
                service,
                protocol=flow.protocol,
                client=flow.client,
                vaddr=flow.vaddr,
                vport=flow.vport,
                pick=lambda: self.pick(flow, now),
                now=now,
            )
            if found is None:
                return None
            dest, control = found
        else:
            picked = self.scheduler.pick(self.dests, flow, now)  # self.pick, inlined
            if picked is None:
                return None
            dest = picked
        key = (flow.protocol, flow.client, flow.client_port, flow.vaddr, flow.vport)
        # dport = dest->port when the packet went to the service port and dest has one.
        dport = dest.port if dest.port else flow.vport
        conn = table.new_conn(key, service.key, dest, now, dport=dport, control=control)
        self.stats.counters.conns += 1
        self._dest_stats[dest].counters.conns += 1
        return conn

    # -- statistics --------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Run the estimators of the service and of every dest (trashed ones included)."""
        self.stats.tick(now)
        for stats in self._dest_stats.values():
            stats.tick(now)

    def zero(self, now: float) -> None:
        """`ipvsadm -Z` for this service: its counters and those of its dests."""
        self.stats.zero(now)
        for dest in self.dests:
            self._dest_stats[dest].zero(now)

    def all_dests(self) -> list[Destination]:
        """Listed dests then trashed ones."""
        return [*self.dests, *self.trash]
