"""keepalived's `lvs_sync_daemon`: the kernel's connection-sync daemons, following VRRP.

keepalived starts IPVS's sync threads itself (check/check_daemon.c, vrrp/vrrp.c,
vrrp/vrrp_scheduler.c, check/ipvswrapper.c `ipvs_syncd_master` / `_backup`):
* `lvs_sync_daemon IF` with no VRRP instance: a master and a backup daemon from the start,
  both stopped at shutdown (by the checker; with `--vrrp-only` nothing runs them);
* `lvs_sync_daemon IF INSTANCE`: the backup daemon while the instance is not MASTER (it
  starts so), the master daemon while it is (the other one stopped first), stopped at
  shutdown; syncid defaults to the instance's virtual_router_id (0 without an instance);
  without a VRRP process (`--checks-only`) nothing runs them.
`wanted` is that rule as a pure function; `SyncdFollower` drives the data plane with it (only
the kernel's IPVS has sync daemons; on another plane the setting is reported, not ignored).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from pylvs.dataplane.base import DataPlane, DataPlaneError
from pylvs.model.director import DirectorSpec
from pylvs.model.syncd import SyncDaemon, SyncDaemonSpec, SyncState

log = logging.getLogger("pylvs")


def wanted(
    cfg: SyncDaemonSpec | None,
    *,
    vrids: Mapping[str, int],
    states: Mapping[str, str],
    vrrp: bool,
    checks: bool,
) -> tuple[SyncDaemon, ...]:
    """The daemons keepalived would have running, given the instances' states (names of
    pylvs.proto.vrrp.commands.State; an instance not heard from yet is BACKUP)."""
    if cfg is None:
        return ()
    states_wanted: tuple[SyncState, ...]
    if cfg.instance is None:
        syncid = cfg.syncid if cfg.syncid is not None else 0
        states_wanted = (SyncState.MASTER, SyncState.BACKUP) if checks else ()
    else:
        if not vrrp or cfg.instance not in vrids:
            return ()
        syncid = cfg.syncid if cfg.syncid is not None else vrids[cfg.instance]
        master = states.get(cfg.instance, "BACKUP") == "MASTER"
        states_wanted = (SyncState.MASTER,) if master else (SyncState.BACKUP,)
    return tuple(
        SyncDaemon(
            state,
            cfg.interface,
            syncid,
            cfg.maxlen or 0,
            cfg.group,
            cfg.port or 0,
            cfg.ttl or 0,
        )
        for state in states_wanted
    )


class SyncdFollower:
    """Starts and stops the plane's sync daemons as `wanted` says, one change at a time."""

    def __init__(self, dp: DataPlane, *, vrrp: bool, checks: bool) -> None:
        self.dp = dp
        self.vrrp, self.checks = vrrp, checks
        self.cfg: SyncDaemonSpec | None = None
        self.vrids: dict[str, int] = {}
        self.states: dict[str, str] = {}
        self.mine: dict[SyncState, SyncDaemon] = {}  # by state: what this follower started
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def configure(self, spec: DirectorSpec) -> None:
        self.cfg = spec.globals.sync_daemon
        self.vrids = {i.name: i.params.vrid for i in spec.vrrp.instances}
        if self.cfg is not None and self.dp.sync_daemons() is None:
            log.warning(
                "lvs_sync_daemon %s: connection synchronisation needs the kernel's IPVS "
                "(--dataplane ipvs); no sync daemon runs with the %s data plane",
                self.cfg.interface,
                self.dp.name,
            )

    def instance_state(self, name: str, state: str) -> None:
        """VRRP told a state (from its callback): follow it."""
        self.states[name] = state
        if self.cfg is not None and self.cfg.instance == name:
            task = asyncio.get_running_loop().create_task(self.sync())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def sync(self) -> None:
        if self.dp.sync_daemons() is None:
            return
        target = wanted(
            self.cfg, vrids=self.vrids, states=self.states, vrrp=self.vrrp, checks=self.checks
        )
        async with self._lock:
            keep = {d.state: d for d in target}
            for state, daemon in list(self.mine.items()):
                if keep.get(state) != daemon:
                    await self._stop(state)
            for daemon in target:
                if daemon.state not in self.mine:
                    await self._start(daemon)

    async def settled(self) -> None:
        """Wait for the changes the VRRP transitions so far asked for."""
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def stop(self) -> None:
        """At shutdown: the daemons this follower started."""
        for task in list(self._tasks):
            task.cancel()
        async with self._lock:
            for state in list(self.mine):
                await self._stop(state)

    async def _start(self, daemon: SyncDaemon) -> None:
        try:
            await self.dp.start_sync_daemon(daemon)
        except DataPlaneError as e:
            log.error(
                "lvs_sync_daemon: %s sync daemon on %s: %s", daemon.state, daemon.mcast_ifn, e
            )
            return
        self.mine[daemon.state] = daemon
        log.info(
            "%s sync daemon started on %s, syncid %d",
            daemon.state,
            daemon.mcast_ifn,
            daemon.syncid,
        )

    async def _stop(self, state: SyncState) -> None:
        self.mine.pop(state, None)
        try:
            await self.dp.stop_sync_daemon(state)
        except DataPlaneError as e:
            log.warning("lvs_sync_daemon: stopping the %s sync daemon: %s", state, e)
