"""IpvsDataPlane on the VM's kernel: every attribute round-trips, the kernel is the source of
truth (what the real ipvsadm does is seen), and stop removes what the table policy says."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import subprocess
from collections.abc import Awaitable, Callable, Iterator

import pytest

from pylvs.dataplane.base import DataPlaneError, StopPolicy, TablePolicy
from pylvs.dataplane.ipvs import IpvsDataPlane
from pylvs.model.service import (
    AF_INET6,
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelParams,
    TunnelType,
    VirtualService,
)
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import AddService, ServiceEntry, ServiceTable, diff
from pylvs.proto.conntrack.states import Timeouts

A = ipaddress.ip_address
WEB = ServiceKey.inet(Protocol.TCP, "10.9.0.1", 80)


def ipvsadm(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ipvsadm", *args], capture_output=True, text=True, check=check)
    return done.stdout + done.stderr


def reset() -> None:
    ipvsadm("-C")
    ipvsadm("--set", "900", "120", "300")
    for state in ("master", "backup"):
        ipvsadm("--stop-daemon", state, check=False)


@pytest.fixture(autouse=True)
def clean_kernel() -> Iterator[None]:
    reset()
    yield
    reset()


def run(
    body: Callable[[IpvsDataPlane], Awaitable[None]], policy: TablePolicy | None = None
) -> None:
    async def main() -> None:
        dp = IpvsDataPlane(policy=policy)
        await dp.start()
        try:
            await body(dp)
        finally:
            await dp.stop(0)

    asyncio.run(asyncio.wait_for(main(), 60))


def rs(
    host: str,
    port: int = 80,
    weight: int = 1,
    method: ForwardMethod = ForwardMethod.ROUTE,
    u_threshold: int = 0,
    l_threshold: int = 0,
    tunnel: TunnelParams | None = None,
) -> RealServer:
    return RealServer(A(host), port, weight, method, u_threshold, l_threshold, tunnel)


EVERYTHING = ServiceTable(
    [
        ServiceEntry(
            VirtualService(WEB, "wrr", ServiceFlags.PERSISTENT, 300, netmask=24),
            (
                rs("10.9.1.1", 8080, weight=3, method=ForwardMethod.MASQ, u_threshold=100,
                   l_threshold=50),
                rs("10.9.1.2", weight=0),
                rs("10.9.1.3", method=ForwardMethod.TUNNEL,
                   tunnel=TunnelParams(TunnelType.GUE, 6080, TunnelCsum.REMCSUM)),
                rs("10.9.1.4", method=ForwardMethod.TUNNEL,
                   tunnel=TunnelParams(TunnelType.GRE, 0, TunnelCsum.CSUM)),
                rs("2001:db8::5", method=ForwardMethod.TUNNEL, tunnel=TunnelParams()),
            ),
        ),
        ServiceEntry(
            VirtualService(ServiceKey.inet(Protocol.UDP, "10.9.0.2", 53), "sh",
                           ServiceFlags.SCHED1 | ServiceFlags.SCHED2),
        ),
        ServiceEntry(
            VirtualService(ServiceKey.inet(Protocol.UDP, "10.9.0.3", 5060), "rr",
                           ServiceFlags.PERSISTENT | ServiceFlags.ONEPACKET, 60, pe_name="sip"),
        ),
        ServiceEntry(
            VirtualService(ServiceKey.mark(7), "rr", ServiceFlags.PERSISTENT, 600, netmask=24),
            (rs("10.9.1.7", 0, weight=2, method=ForwardMethod.MASQ),),
        ),
        ServiceEntry(
            VirtualService(ServiceKey.mark(8, AF_INET6), "mh",
                           ServiceFlags.PERSISTENT | ServiceFlags.SCHED2, 360),
        ),
        ServiceEntry(
            VirtualService(ServiceKey.inet(Protocol.TCP, "2001:db8::1", 443), "lc",
                           ServiceFlags.PERSISTENT, 100, netmask=64),
            (rs("2001:db8::2", 443, weight=70000, method=ForwardMethod.MASQ),),
        ),
        ServiceEntry(
            VirtualService(ServiceKey.inet(Protocol.SCTP, "10.9.0.4", 3868), "fo"),
            (rs("10.9.1.8", 3868, method=ForwardMethod.MASQ),),
        ),
    ]
)  # fmt: skip

EVERYTHING_SAVED = """\
-A -t 10.9.0.1:80 -s wrr -p 300 -M 255.255.255.0
-a -t 10.9.0.1:80 -r 10.9.1.1:8080 -m -w 3
-a -t 10.9.0.1:80 -r 10.9.1.2:80 -g -w 0
-a -t 10.9.0.1:80 -r 10.9.1.3:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum
-a -t 10.9.0.1:80 -r 10.9.1.4:80 -i -w 1 --tun-type gre --tun-csum
-a -t 10.9.0.1:80 -r [2001:db8::5]:80 -i -w 1 --tun-type ipip
-A -u 10.9.0.2:53 -s sh -b sh-fallback,sh-port
-A -u 10.9.0.3:5060 -s rr -p 60 --pe sip -o
-A --sctp-service 10.9.0.4:3868 -s fo
-a --sctp-service 10.9.0.4:3868 -r 10.9.1.8:3868 -m -w 1
-A -t [2001:db8::1]:443 -s lc -p 100 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m -w 70000
-A -f 7 -s rr -p 600 -M 255.255.255.0
-a -f 7 -r 10.9.1.7:0 -m -w 2
-A -f 8 -6 -s mh -p 360 -b mh-port
"""


def test_every_attribute_reaches_the_kernel_and_comes_back() -> None:
    async def body(dp: IpvsDataPlane) -> None:
        await dp.apply(diff(ServiceTable(), EVERYTHING))
        # (ipvsadm -S leaves the thresholds out)
        assert ipvsadm("-S", "-n").splitlines() == EVERYTHING_SAVED.splitlines()
        assert re.search(r"10\.9\.1\.1:8080 +100 +50 ", ipvsadm("-Ln", "--thresholds"))
        observed = await dp.observe()
        assert observed is not None
        assert dict(observed) == dict(EVERYTHING)  # a kernel read gives the same values
        assert dp.kernel_info() == ((1, 2, 1), 4096)

    run(body)


def test_what_ipvsadm_does_is_seen_and_stop_removes_only_pylvs_s() -> None:
    mine = ServiceTable([ServiceEntry(VirtualService(WEB, "rr"), (rs("10.9.1.1"),))])

    async def body(dp: IpvsDataPlane) -> None:
        await dp.apply(diff(ServiceTable(), mine))
        ipvsadm("-A", "-t", "10.9.0.9:80", "-s", "wlc")  # the operator's own service
        ipvsadm("-a", "-t", "10.9.0.9:80", "-r", "10.9.1.9:80", "-m")
        ipvsadm("-a", "-t", "10.9.0.1:80", "-r", "10.9.1.5:80", "-w", "4")  # into pylvs's
        ipvsadm("-e", "-t", "10.9.0.1:80", "-r", "10.9.1.1:80", "-w", "0")
        observed = await dp.observe()
        assert observed is not None
        other = ServiceKey.inet(Protocol.TCP, "10.9.0.9", 80)
        assert set(observed) == {WEB, other}
        assert {(d.address, d.weight) for d in observed[WEB].dests} == {
            (A("10.9.1.1"), 0),
            (A("10.9.1.5"), 4),
        }
        assert dp.owned == {WEB}
        # The operator deletes pylvs's service: it is no longer pylvs's to remove.
        ipvsadm("-D", "-t", "10.9.0.1:80")
        await dp.observe()
        assert dp.owned == set()
        await dp.apply([AddService(VirtualService(WEB, "rr"))])

    run(body)
    assert ipvsadm("-S", "-n") == (
        "-A -t 10.9.0.9:80 -s wlc\n-a -t 10.9.0.9:80 -r 10.9.1.9:80 -m -w 1\n"
    )


def test_stop_policies() -> None:
    mine = ServiceTable([ServiceEntry(VirtualService(WEB, "rr"), (rs("10.9.1.1"),))])
    other = ServiceKey.inet(Protocol.TCP, "10.9.0.9", 80)

    def scenario(policy: TablePolicy) -> str:
        reset()
        ipvsadm("-A", "-t", "10.9.0.9:80", "-s", "wlc")

        async def body(dp: IpvsDataPlane) -> None:
            await dp.apply(diff(ServiceTable(), mine))
            await dp.apply(diff(ServiceTable(), ServiceTable()))
            from pylvs.model.table import AddDest

            await dp.apply([AddDest(other, rs("10.9.1.3"))])  # pylvs's dest, operator's service

        run(body, policy)
        return ipvsadm("-S", "-n")

    assert scenario(TablePolicy()) == "-A -t 10.9.0.9:80 -s wlc\n"
    assert scenario(TablePolicy(on_stop=StopPolicy.SERVICES)) == (
        "-A -t 10.9.0.9:80 -s wlc\n-a -t 10.9.0.9:80 -r 10.9.1.3:80 -g -w 1\n"
    )
    kept = scenario(TablePolicy(on_stop=StopPolicy.KEEP))
    assert "-A -t 10.9.0.1:80 -s rr" in kept and "10.9.1.3" in kept
    assert scenario(TablePolicy(on_stop=StopPolicy.ALL)) == ""


def test_flush_at_start_removes_what_was_there() -> None:
    ipvsadm("-A", "-t", "10.9.0.9:80", "-s", "wlc")

    async def body(dp: IpvsDataPlane) -> None:
        assert dp.services() == []

    run(body, TablePolicy(flush_at_start=True))


def test_a_service_already_there_is_taken_and_left_at_stop() -> None:
    ipvsadm("-A", "-t", "10.9.0.1:80", "-s", "wlc")

    async def body(dp: IpvsDataPlane) -> None:
        assert [rt.key for rt in dp.services()] == [WEB]
        assert dp.owned == set()

    run(body)
    assert ipvsadm("-S", "-n") == "-A -t 10.9.0.1:80 -s wlc\n"


def test_timeouts_and_zero_follow_the_kernel() -> None:
    async def body(dp: IpvsDataPlane) -> None:
        dp.set_timeouts(Timeouts(800, 100, 200))
        assert "800 100 200" in ipvsadm("-L", "--timeout")
        ipvsadm("--set", "0", "30", "0")
        await dp.refresh()
        assert dp.timeouts == Timeouts(800, 30, 200)
        with pytest.raises(DataPlaneError, match="No such service"):
            dp.zero(WEB)

    run(body)


def test_sync_daemons_pylvs_started_stop_with_it() -> None:
    subprocess.run(["ip", "link", "add", "syncd0", "type", "dummy"], check=True)
    subprocess.run(["ip", "link", "set", "syncd0", "multicast", "on", "up"], check=True)
    try:

        async def body(dp: IpvsDataPlane) -> None:
            await dp.start_sync_daemon(
                SyncDaemon(SyncState.MASTER, "syncd0", syncid=9, mcast_ttl=2)
            )
            with pytest.raises(DataPlaneError, match="Daemon has already run"):
                await dp.start_sync_daemon(SyncDaemon(SyncState.MASTER, "syncd0"))
            ipvsadm("--start-daemon", "backup", "--mcast-interface", "syncd0")
            await dp.refresh()
            assert [(d.state, d.syncid, d.sync_maxlen, d.mcast_ttl) for d in dp.sync_daemons()
                    or ()] == [("master", 9, 1472, 2), ("backup", 0, 1472, 1)]  # fmt: skip
            assert "master sync daemon (mcast=syncd0, syncid=9" in ipvsadm("-L", "--daemon")

        run(body)
        # pylvs's master is stopped, the operator's backup is not
        assert ipvsadm("-L", "--daemon").startswith("backup sync daemon (mcast=syncd0")
    finally:
        subprocess.run(["ip", "link", "del", "syncd0"], check=False)
