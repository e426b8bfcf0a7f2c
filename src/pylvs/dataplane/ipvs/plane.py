"""IpvsDataPlane: the kernel's own IP Virtual Server forwards; pylvs programs it (root).

Changes go to the kernel as IPVS generic netlink requests, one per change, built as libipvs
builds them for ipvsadm (proto/ipvs); a refused change is reported with ipvsadm's words for
the kernel's errno and the others go on.  The kernel is the source of truth, as it is for
keepalived: `refresh`/`observe` read its whole table (services in its hash order, dests in
list order, counters, rates, connection counts, timeouts, sync daemons; /proc/net/ip_vs_conn
for `-c`) into the same runtime objects the other planes fill, and what the real ipvsadm
changed is there for the daemon to take as an operator edit.

What pylvs created is remembered (`owned`): at stop it removes those services, and the dests
it added to services it did not create, and stops the sync daemons it started, as keepalived
removes its virtual servers (check/ipwrapper.c `clear_services`).  The table policy
(keepalived's `lvs_flush`, `lvs_flush_on_stop` and `--dont-release-ipvs`) changes that.

Reads run in a worker thread on a socket of their own, so a big table never stalls the event
loop; a change made while a read was under way makes the read start again, so a stale read
never undoes it in the mirror.  Writes are a few tens of microseconds each and run on the
loop.
"""

from __future__ import annotations

import asyncio
import errno as errno_mod
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from pylvs.dataplane.base import (
    DataPlane,
    DataPlaneError,
    StopPolicy,
    TablePolicy,
    change_key,
)
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import Address, ModelError, ServiceKey
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import (
    AddDest,
    AddService,
    Change,
    DeleteDest,
    DeleteService,
    EditDest,
    EditService,
    ServiceTable,
)
from pylvs.proto.conntrack.states import Timeouts
from pylvs.proto.conntrack.table import ConnEntry
from pylvs.proto.ipvs import codec, convert
from pylvs.proto.ipvs.spec import Cmd
from pylvs.proto.ipvs.values import Info, KernelTimeouts

from .genl import IpvsSocket, KernelError
from .kernel import CONN_PROC_FILE, IpvsKernel, KernelTable, read_conns
from .runtime import KernelServiceRuntime

log = logging.getLogger("pylvs.dataplane.ipvs")

DestKey = tuple[Address, int]
# Reads started again because a change landed meanwhile, before giving up for this call.
READ_ATTEMPTS = 5


def kernel_message(cmd: Cmd, err: KernelError) -> str:
    """What ipvsadm prints for the kernel's refusal (libipvs `ipvs_strerror`)."""
    number = err.errno or errno_mod.EIO
    return convert.strerror(cmd, number) or os.strerror(number)


class IpvsDataPlane(DataPlane):
    name: ClassVar[str] = "ipvs"

    def __init__(
        self,
        *,
        policy: TablePolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        conn_file: str = CONN_PROC_FILE,
        kernel: IpvsKernel | None = None,
        reader: IpvsKernel | None = None,
    ) -> None:
        """Opens the IPVS netlink sockets (loading ip_vs if needed): IpvsUnavailableError when
        the kernel has none, OSError when pylvs may not use it.  `kernel` (changes, on the
        loop) and `reader` (reads, in a thread) replace them in tests."""
        self.clock = clock
        self.policy = policy or TablePolicy()
        self.conn_file = conn_file
        self.kernel = kernel if kernel is not None else IpvsKernel()
        try:
            self.reader = (
                reader if reader is not None else IpvsKernel(IpvsSocket(self.kernel.family))
            )
            self.info: Info = self.kernel.info()
        except BaseException:
            self.kernel.close()
            raise
        self._runtimes: dict[ServiceKey, KernelServiceRuntime] = {}
        self._listed: list[ServiceKey] = []
        self._timeouts = Timeouts()
        self._daemons: tuple[SyncDaemon, ...] = ()
        self._conns: list[ConnEntry] = []
        self.owned: set[ServiceKey] = set()
        self.owned_dests: dict[ServiceKey, set[DestKey]] = {}
        self.started_daemons: set[SyncState] = set()
        self._generation = 0  # bumped by every change; a read that saw a bump reads again
        self._reading = asyncio.Lock()
        self._closed = False

    # -- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        if self.policy.flush_at_start:
            self._call(codec.flush())
            log.info("IPVS table flushed at start (lvs_flush)")
        await self.refresh()
        if self._runtimes:
            log.info(
                "IPVS already holds %d virtual service(s); pylvs takes them as they are and "
                "will not remove them at stop",
                len(self._runtimes),
            )

    def set_table_policy(self, policy: TablePolicy) -> None:
        self.policy = policy

    async def stop(self, grace: float) -> None:
        """Remove what the policy says (IPVS drops the connections of a deleted service:
        there is no grace to give them, as with keepalived)."""
        if self._closed:
            return
        try:
            self._release()
        finally:
            self._closed = True
            self.kernel.close()
            self.reader.close()

    def _release(self) -> None:
        on_stop = self.policy.on_stop
        # keepalived stops the sync daemons it runs whatever becomes of the table
        for state in sorted(self.started_daemons):
            self._quietly(codec.del_daemon(convert.daemon_attrs(SyncDaemon(state, ""))))
        if on_stop is StopPolicy.KEEP or not self.release_on_stop:
            log.info("IPVS table kept at stop (--dont-release-ipvs)")
            return
        if on_stop is StopPolicy.ALL:
            self._quietly(codec.flush())
            return
        for key, dests in self.owned_dests.items():
            if key in self.owned or on_stop is StopPolicy.SERVICES:
                continue
            for dkey in dests:
                self._quietly(convert.request_for(DeleteDest(key, dkey)))
        for key in self.owned:
            self._quietly(convert.request_for(DeleteService(key)))

    def _quietly(self, request: codec.Request) -> None:
        try:
            self._call(request)
        except KernelError as e:
            log.warning("IPVS %s at stop: %s", request.cmd.name, kernel_message(request.cmd, e))

    def _call(self, request: codec.Request) -> None:
        self._generation += 1
        self.kernel.call(request)

    # -- changes -----------------------------------------------------------------------

    async def apply(self, changes: Sequence[Change]) -> None:
        now = self.clock()
        failures: list[tuple[Change | None, str]] = []
        refused: set[ServiceKey] = set()  # the changes after a refused AddService go too
        for change in changes:
            if change_key(change) in refused:
                continue
            request = convert.request_for(change)
            try:
                self._call(request)
            except KernelError as e:
                reason = kernel_message(request.cmd, e)
                log.warning("IPVS refused %s: %s", _describe(change), reason)
                failures.append((change, reason))
                if isinstance(change, AddService):
                    refused.add(change.service.key)
                continue
            self._own(change)
            self._mirror_change(change, now)
        if failures:
            raise DataPlaneError.from_failures(failures)

    def _own(self, change: Change) -> None:
        match change:
            case AddService(service=svc):
                self.owned.add(svc.key)
            case DeleteService(key=key):
                self.owned.discard(key)
                self.owned_dests.pop(key, None)
            case AddDest(key=key, dest=rs):
                self.owned_dests.setdefault(key, set()).add(rs.key)
            case DeleteDest(key=key, dest=dkey):
                self.owned_dests.get(key, set()).discard(dkey)

    def _mirror_change(self, change: Change, now: float) -> None:
        """What the kernel now holds, without reading it back (the next read confirms)."""
        key = change_key(change)
        try:
            match change:
                case AddService(service=svc):
                    self._runtimes[key] = KernelServiceRuntime(svc, now)
                    self._listed.append(key)
                case DeleteService():
                    self._runtimes.pop(key, None)
                    self._listed = [k for k in self._listed if k != key]
                case EditService(service=svc) if key in self._runtimes:
                    self._runtimes[key].edit(svc)
                case AddDest(dest=rs) if key in self._runtimes:
                    self._runtimes[key].add_dest(rs, now)
                case EditDest(dest=rs) if key in self._runtimes:
                    self._runtimes[key].edit_dest(rs)
                case DeleteDest(dest=dkey) if key in self._runtimes:
                    self._runtimes[key].delete_dest(dkey)
        except ModelError as e:
            # The kernel took a change the mirror cannot follow (it has it from a stale read);
            # the next read puts the kernel's state in.
            log.debug("IPVS mirror out of date after %s: %s", _describe(change), e)

    # -- reading the kernel ------------------------------------------------------------

    async def refresh(self, *, connections: bool = False) -> None:
        async with self._reading:
            for _ in range(READ_ATTEMPTS):
                generation = self._generation
                table = await asyncio.to_thread(self.reader.read)
                conns = await asyncio.to_thread(self._read_conns) if connections else None
                if generation == self._generation:
                    break
            self._mirror_table(table, self.clock())
            if conns is not None:
                self._conns = conns

    async def observe(self, *, connections: bool = False) -> ServiceTable | None:
        await self.refresh(connections=connections)
        return self.applied()

    def _read_conns(self) -> list[ConnEntry]:
        rows = read_conns(self.conn_file)
        if rows.skipped:
            log.warning("%s: %d line(s) not understood", self.conn_file, rows.skipped)
        return rows.rows

    def _mirror_table(self, table: KernelTable, now: float) -> None:
        seen: list[ServiceKey] = []
        for ks in table.services:
            try:
                svc = convert.service_of(ks.service)
                dests = [
                    (
                        convert.real_server_of(d),
                        (d.active_conns, d.inact_conns, d.persist_conns),
                        convert.counters_of(d.stats),
                        convert.rates_of(d.stats),
                    )
                    for d in ks.dests
                ]
                rt = self._runtimes.get(svc.key) or KernelServiceRuntime(svc, now)
            except ModelError as e:
                log.warning("IPVS service pylvs cannot represent, left out: %s", e)
                continue
            rt.mirror(
                svc, dests, convert.counters_of(ks.service.stats),
                convert.rates_of(ks.service.stats), now,
            )  # fmt: skip
            self._runtimes[svc.key] = rt
            seen.append(svc.key)
        present = set(seen)
        order = [k for k in self._runtimes if k in present]  # pylvs's order, then new ones
        self._runtimes = {k: self._runtimes[k] for k in order}
        self._listed = seen
        self._forget_gone(present)
        t, default = table.timeouts, Timeouts()
        # (0: the kernel lacks that protocol's module and sends no value)
        self._timeouts = Timeouts(
            t.tcp or default.tcp, t.tcp_fin or default.tcp_fin, t.udp or default.udp
        )
        self._daemons = tuple(convert.daemon_of(d) for d in table.daemons)

    def _forget_gone(self, present: set[ServiceKey]) -> None:
        """What someone else deleted is no longer pylvs's to remove."""
        self.owned &= present
        for key in list(self.owned_dests):
            rt = self._runtimes.get(key)
            if rt is None:
                del self.owned_dests[key]
                continue
            listed = {d.key for d in rt.dests}
            self.owned_dests[key] &= listed
        running = {d.state for d in self._daemons}
        self.started_daemons &= running

    # -- what the daemon shows -----------------------------------------------------------

    def services(self) -> Sequence[ServiceRuntime]:
        return list(self._runtimes.values())

    def listed(self) -> Sequence[ServiceRuntime]:
        return [self._runtimes[k] for k in self._listed if k in self._runtimes]

    def connections(self, now: float | None = None) -> list[ConnEntry]:
        """The rows of /proc/net/ip_vs_conn as the last `refresh(connections=True)` read."""
        return list(self._conns)

    def kernel_info(self) -> tuple[tuple[int, int, int], int] | None:
        return self.info.version_tuple, self.info.conn_tab_size

    @property
    def timeouts(self) -> Timeouts:
        return self._timeouts

    def set_timeouts(self, timeouts: Timeouts) -> None:
        request = codec.set_config(KernelTimeouts(timeouts.tcp, timeouts.tcp_fin, timeouts.udp))
        try:
            self._call(request)
        except KernelError as e:
            reason = kernel_message(Cmd.SET_CONFIG, e)
            log.error("IPVS refused the timeouts %s: %s", timeouts, reason)
            return
        self._timeouts = timeouts

    def zero(self, key: ServiceKey | None = None) -> None:
        request = codec.zero(None if key is None else convert.service_ref(key))
        try:
            self._call(request)
        except KernelError as e:
            raise DataPlaneError(kernel_message(Cmd.ZERO, e)) from None
        now = self.clock()
        for rt in self._runtimes.values():
            if key is None or rt.key == key:
                rt.zero(now)

    # -- connection synchronisation ----------------------------------------------------

    def sync_daemons(self) -> tuple[SyncDaemon, ...] | None:
        return self._daemons

    async def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        try:
            self._call(codec.new_daemon(convert.daemon_attrs(daemon)))
        except KernelError as e:
            raise DataPlaneError(kernel_message(Cmd.NEW_DAEMON, e)) from None
        self.started_daemons.add(daemon.state)
        self._daemons = tuple(convert.daemon_of(d) for d in self.kernel.daemons())

    async def stop_sync_daemon(self, state: SyncState) -> None:
        try:
            self._call(codec.del_daemon(convert.daemon_attrs(SyncDaemon(state, ""))))
        except KernelError as e:
            raise DataPlaneError(kernel_message(Cmd.DEL_DAEMON, e)) from None
        self.started_daemons.discard(state)
        self._daemons = tuple(d for d in self._daemons if d.state != state)


def _describe(change: Change) -> str:
    match change:
        case AddService(service=svc) | EditService(service=svc):
            verb = "adding" if isinstance(change, AddService) else "editing"
            return f"{verb} {svc.key} (scheduler {svc.scheduler})"
        case DeleteService(key=key):
            return f"deleting {key}"
        case AddDest(key=key, dest=rs) | EditDest(key=key, dest=rs):
            verb = "adding" if isinstance(change, AddDest) else "editing"
            return f"{verb} {rs} in {key}"
        case DeleteDest(key=key, dest=(address, port)):
            return f"deleting {address}:{port} from {key}"
