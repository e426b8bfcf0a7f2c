"""The daemon on a plane whose table others can change (the kernel's IPVS): what the real
ipvsadm did is taken as an operator edit, not fought; the sync daemons go to the plane as
asked and the plane's answer is ipvsadm's; keepalived's table policy reaches the plane."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

from pylvs.dataplane.base import DataPlaneError, StopPolicy, TablePolicy
from pylvs.dataplane.fake import FakeDataPlane
from pylvs.engine.daemon import Daemon, RunOptions
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import AddDest, Change, ServiceEntry, ServiceTable, same_table

WEB = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
RS1 = RealServer(ipaddress.ip_address("10.0.1.1"), 80, 1, ForwardMethod.MASQ)
RS2 = RealServer(ipaddress.ip_address("10.0.1.2"), 80, 1, ForwardMethod.MASQ)
CONFIG = """\
global_defs {
    lvs_flush
    lvs_flush_on_stop VS
}
virtual_server 10.0.0.1 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.0.1.1 80 {
        weight 1
    }
}
"""


class SharedPlane(FakeDataPlane):
    """A fake whose table an outsider edits (`outside`), and which runs sync daemons."""

    def __init__(self) -> None:
        super().__init__()
        self.running: list[SyncDaemon] = []
        self.policies: list[TablePolicy] = []

    def outside(self, *changes: Change) -> None:
        for change in changes:
            self.state.apply_one(change, self.clock())

    async def observe(self, *, connections: bool = False) -> ServiceTable | None:
        return self.applied()

    def sync_daemons(self) -> tuple[SyncDaemon, ...] | None:
        return tuple(self.running)

    async def start_sync_daemon(self, daemon: SyncDaemon) -> None:
        if not daemon.mcast_ifn.startswith("eth"):
            raise DataPlaneError("No such device")
        self.running.append(daemon)

    async def stop_sync_daemon(self, state: str) -> None:
        if not any(d.state == state for d in self.running):
            raise DataPlaneError("No daemon is running")
        self.running = [d for d in self.running if d.state != state]

    def set_table_policy(self, policy: TablePolicy) -> None:
        self.policies.append(policy)


def daemon(tmp_path: Path, dp: SharedPlane, checks: bool = True) -> Daemon:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(CONFIG)
    return Daemon(RunOptions(str(conf), str(tmp_path / "s.sock"), vrrp=False, checks=checks), dp)


def test_an_outside_edit_is_an_operator_edit(tmp_path: Path) -> None:
    dp = SharedPlane()
    d = daemon(tmp_path, dp)

    async def go() -> None:
        await d._apply_config(ServiceTable([ServiceEntry(VirtualService(WEB, "rr"), (RS1,))]))
        dp.outside(AddDest(WEB, RS2))  # the real ipvsadm adds a server
        listing = await d.ipvsadm(["-Ln"], "")
        assert "10.0.1.2:80" in listing.stdout
        assert d.tables.live[WEB].dests == (RS1, RS2)
        # A reload of the same config keeps it (not fought), as keepalived does.
        await d._apply_config(ServiceTable([ServiceEntry(VirtualService(WEB, "rr"), (RS1,))]))
        assert dp.applied()[WEB].dests == (RS1, RS2)

    asyncio.run(go())


def test_sync_daemons_are_the_plane_s_and_it_judges(tmp_path: Path) -> None:
    dp = SharedPlane()
    d = daemon(tmp_path, dp)

    async def go() -> None:
        ok = await d.ipvsadm(["--start-daemon", "master", "--mcast-interface", "eth1"], "")
        assert (ok.rc, ok.stderr) == (0, "")
        assert dp.running == [SyncDaemon(SyncState.MASTER, "eth1")]  # what was asked: no defaults
        refused = await d.ipvsadm(["--start-daemon", "master", "--mcast-interface", "lo"], "")
        assert (refused.rc, refused.stderr) == (255, "No such device\n")
        listing = await d.ipvsadm(["-L", "--daemon"], "")
        assert listing.stdout.startswith("master sync daemon (mcast=eth1, syncid=0")
        stopped = await d.ipvsadm(["--stop-daemon", "backup"], "")
        assert (stopped.rc, stopped.stderr) == (255, "No daemon is running\n")

    asyncio.run(go())


def test_keepalived_s_table_policy_reaches_the_plane(tmp_path: Path) -> None:
    for release, expected in ((True, StopPolicy.SERVICES), (False, StopPolicy.KEEP)):
        dp = SharedPlane()
        dp.release_on_stop = release  # keepalived -I clears it
        d = daemon(tmp_path, dp, checks=False)

        async def go(d: Daemon = d) -> None:
            await d.start()
            await d.shutdown()

        asyncio.run(go())
        assert dp.policies == [TablePolicy(flush_at_start=True, on_stop=expected)]


def test_same_table_ignores_order() -> None:
    a = ServiceTable([ServiceEntry(VirtualService(WEB, "rr"), (RS1, RS2))])
    b = ServiceTable([ServiceEntry(VirtualService(WEB, "rr"), (RS2, RS1))])
    c = ServiceTable([ServiceEntry(VirtualService(WEB, "wrr"), (RS2, RS1))])
    assert same_table(a, b) and not same_table(a, c) and not same_table(a, ServiceTable())
