"""lvs_sync_daemon as keepalived runs it: both daemons without an instance; with one, the
backup daemon until it is MASTER, then the master daemon; syncid from the instance's VRID."""

from __future__ import annotations

import asyncio
import ipaddress

from pylvs.dataplane.base import DataPlaneError
from pylvs.dataplane.fake import FakeDataPlane
from pylvs.engine.syncd import SyncdFollower, wanted
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.syncd import SyncDaemonSpec as LvsSyncDaemon  # keepalived's lvs_sync_daemon

VRIDS = {"VI_1": 51}


def test_without_an_instance_both_run() -> None:
    cfg = LvsSyncDaemon("eth1", maxlen=1200, ttl=2)
    got = wanted(cfg, vrids=VRIDS, states={}, vrrp=True, checks=True)
    assert got == (SyncDaemon(SyncState.MASTER, "eth1", 0, 1200, None, 0, 2),
                   SyncDaemon(SyncState.BACKUP, "eth1", 0, 1200, None, 0, 2))  # fmt: skip
    assert wanted(cfg, vrids=VRIDS, states={}, vrrp=True, checks=False) == ()


def test_with_an_instance_they_follow_its_state() -> None:
    cfg = LvsSyncDaemon("eth1", "VI_1", group=ipaddress.ip_address("224.0.0.99"))
    backup = wanted(cfg, vrids=VRIDS, states={}, vrrp=True, checks=True)
    assert backup == (SyncDaemon(SyncState.BACKUP, "eth1", 51, 0, cfg.group, 0, 0),)
    master = wanted(cfg, vrids=VRIDS, states={"VI_1": "MASTER"}, vrrp=True, checks=True)
    assert [(d.state, d.syncid) for d in master] == [("master", 51)]
    fault = wanted(cfg, vrids=VRIDS, states={"VI_1": "FAULT"}, vrrp=True, checks=True)
    assert [d.state for d in fault] == ["backup"]
    explicit = LvsSyncDaemon("eth1", "VI_1", syncid=7)
    assert wanted(explicit, vrids=VRIDS, states={}, vrrp=True, checks=True)[0].syncid == 7
    assert wanted(cfg, vrids=VRIDS, states={}, vrrp=False, checks=True) == ()


class SyncPlane(FakeDataPlane):
    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.running: dict[str, SyncDaemon] = {}

    def sync_daemons(self) -> tuple[SyncDaemon, ...] | None:
        return tuple(self.running.values())

    async def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        if daemon.state in self.running:
            raise DataPlaneError("Daemon has already run")
        self.running[daemon.state] = daemon
        self.log.append(f"start {daemon.state}")

    async def stop_sync_daemon(self, state: str) -> None:
        self.running.pop(state)
        self.log.append(f"stop {state}")


def test_the_follower_switches_on_transitions_and_stops_at_shutdown() -> None:
    dp = SyncPlane()
    follower = SyncdFollower(dp, vrrp=True, checks=True)
    follower.cfg, follower.vrids = LvsSyncDaemon("eth1", "VI_1"), VRIDS

    async def go() -> None:
        await follower.sync()
        follower.instance_state("VI_1", "MASTER")
        follower.instance_state("VI_2", "MASTER")  # not the one followed
        await follower.settled()
        follower.instance_state("VI_1", "BACKUP")
        await follower.settled()
        await follower.stop()

    asyncio.run(go())
    assert dp.log == ["start backup", "stop backup", "start master", "stop master",
                      "start backup", "stop backup"]  # fmt: skip
    assert dp.running == {}
