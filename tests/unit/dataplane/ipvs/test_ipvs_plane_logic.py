"""IpvsDataPlane's own logic against an in-memory kernel (ipvs_fake_kernel): the contract,
what is pylvs's to remove at stop under each policy, the kernel's refusals in ipvsadm's
words, sync daemons, and a read that a change overtook being read again.  The real kernel
is tests/vm's."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable

import pytest

from pylvs.dataplane.base import DataPlaneError, StopPolicy, TablePolicy
from pylvs.dataplane.ipvs import IpvsDataPlane
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import AddDest, AddService, Change, DeleteService, EditDest
from pylvs.proto.conntrack.states import Timeouts
from pylvs.proto.ipvs import convert
from pylvs.proto.ipvs.spec import Cmd
from tests.unit.dataplane.dataplane_contract import CONTRACT, Check
from tests.unit.dataplane.ipvs.ipvs_fake_kernel import FakeKernel

WEB = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
OTHER = ServiceKey.inet(Protocol.TCP, "10.0.0.9", 80)


def runtime(dp: IpvsDataPlane, key: ServiceKey) -> ServiceRuntime:
    rt = dp.service(key)
    assert rt is not None, key
    return rt


def rs(last: int, weight: int = 1) -> RealServer:
    return RealServer(ipaddress.ip_address(f"10.0.1.{last}"), 80, weight=weight,
                      method=ForwardMethod.MASQ)  # fmt: skip


def run(
    body: Callable[[IpvsDataPlane, FakeKernel], Awaitable[None]],
    policy: TablePolicy | None = None,
    kernel: FakeKernel | None = None,
) -> FakeKernel:
    fake = kernel or FakeKernel()

    async def main() -> None:
        dp = IpvsDataPlane(policy=policy, kernel=fake, reader=fake)  # type: ignore[arg-type]
        await dp.start()
        try:
            await body(dp, fake)
        finally:
            await dp.stop(0)

    asyncio.run(asyncio.wait_for(main(), 10))
    return fake


@pytest.mark.parametrize("check", CONTRACT, ids=lambda c: c.__name__)
def test_contract(check: Check) -> None:
    async def body(dp: IpvsDataPlane, _k: FakeKernel) -> None:
        await check(dp)

    fake = run(body)
    assert fake.services == {} and fake.closed


def operator_adds(fake: FakeKernel, key: ServiceKey, *dests: RealServer) -> None:
    fake.call(convert.request_for(AddService(VirtualService(key, "wlc"))))
    for d in dests:
        fake.call(convert.request_for(AddDest(key, d)))


def scenario(policy: TablePolicy) -> FakeKernel:
    fake = FakeKernel()
    operator_adds(fake, OTHER)

    async def body(dp: IpvsDataPlane, _k: FakeKernel) -> None:
        await dp.apply([AddService(VirtualService(WEB, "rr")), AddDest(WEB, rs(1))])
        await dp.apply([AddDest(OTHER, rs(3))])  # pylvs's dest in the operator's service
        assert dp.owned == {WEB} and dp.owned_dests == {WEB: {rs(1).key}, OTHER: {rs(3).key}}

    return run(body, policy, fake)


def table(fake: FakeKernel) -> dict[str, list[str]]:
    return {
        f"{s.addr}:{s.port}": [f"{d.addr}" for d in dests] for s, dests in fake.services.values()
    }


def test_stop_removes_what_the_policy_says() -> None:
    assert table(scenario(TablePolicy())) == {"10.0.0.9:80": []}
    assert table(scenario(TablePolicy(on_stop=StopPolicy.SERVICES))) == {
        "10.0.0.9:80": ["10.0.1.3"]
    }
    assert table(scenario(TablePolicy(on_stop=StopPolicy.KEEP))) == {
        "10.0.0.9:80": ["10.0.1.3"],
        "10.0.0.1:80": ["10.0.1.1"],
    }
    assert table(scenario(TablePolicy(on_stop=StopPolicy.ALL))) == {}


def test_flush_at_start() -> None:
    fake = FakeKernel()
    operator_adds(fake, OTHER)

    async def body(dp: IpvsDataPlane, k: FakeKernel) -> None:
        assert dp.services() == [] and k.requests[-1].cmd == Cmd.FLUSH

    run(body, TablePolicy(flush_at_start=True), fake)


def test_what_others_do_is_seen_and_not_removed() -> None:
    async def body(dp: IpvsDataPlane, k: FakeKernel) -> None:
        await dp.apply([AddService(VirtualService(WEB, "rr")), AddDest(WEB, rs(1))])
        operator_adds(k, OTHER, rs(5))
        k.call(convert.request_for(EditDest(WEB, rs(1, weight=0))))
        k.call(convert.request_for(AddDest(WEB, rs(2))))
        observed = await dp.observe()
        assert observed is not None and set(observed) == {WEB, OTHER}
        assert [d.weight for d in observed[WEB].dests] == [0, 1]  # oldest first
        assert [d.config.address for d in runtime(dp, WEB).dests] == [
            rs(2).address,
            rs(1).address,  # kernel list order: newest first
        ]
        k.call(convert.request_for(DeleteService(WEB)))  # the operator deletes pylvs's
        await dp.observe()
        assert dp.owned == set() and dp.owned_dests == {}

    fake = run(body)
    assert table(fake) == {"10.0.0.9:80": ["10.0.1.5"]}


def test_refusals_in_ipvsadm_s_words_and_the_rest_goes_on() -> None:
    async def body(dp: IpvsDataPlane, _k: FakeKernel) -> None:
        await dp.apply([AddService(VirtualService(WEB, "rr")), AddDest(WEB, rs(1))])
        bad: list[Change] = [
            AddDest(WEB, rs(1)),
            AddDest(OTHER, rs(1)),
            AddService(VirtualService(OTHER, "x")),
        ]
        with pytest.raises(DataPlaneError) as info:
            await dp.apply([*bad, AddDest(WEB, rs(2)), AddDest(OTHER, rs(4))])
        assert [reason for _, reason in info.value.failures] == [
            "Destination already exists",
            "Service not defined",
            "Scheduler or persistence engine not found",
        ]
        assert [d.config for d in runtime(dp, WEB).dests] == [rs(2), rs(1)]
        with pytest.raises(DataPlaneError, match=r"^No such service$"):
            dp.zero(OTHER)

    run(body)


def test_a_read_overtaken_by_a_change_is_read_again() -> None:
    async def body(dp: IpvsDataPlane, k: FakeKernel) -> None:
        loop = asyncio.get_running_loop()

        def change_during_the_read() -> None:
            done = asyncio.run_coroutine_threadsafe(
                dp.apply([AddService(VirtualService(WEB, "rr"))]), loop
            )
            done.result(5)

        k.on_read = change_during_the_read
        observed = await dp.observe()
        assert observed is not None and WEB in observed  # not the stale read's empty table

    run(body)


def test_sync_daemons_and_timeouts() -> None:
    async def body(dp: IpvsDataPlane, k: FakeKernel) -> None:
        await dp.start_sync_daemon(SyncDaemon(SyncState.BACKUP, "eth1", syncid=7))
        with pytest.raises(DataPlaneError, match=r"^Daemon has already run$"):
            await dp.start_sync_daemon(SyncDaemon(SyncState.BACKUP, "eth1"))
        assert [(d.state, d.syncid, d.sync_maxlen) for d in dp.sync_daemons() or ()] == [
            ("backup", 7, 1472)
        ]
        with pytest.raises(DataPlaneError, match=r"^No daemon is running$"):
            await dp.stop_sync_daemon(SyncState.MASTER)
        dp.set_timeouts(Timeouts(100, 20, 30))
        assert k.timeouts.tcp == 100 and dp.timeouts == Timeouts(100, 20, 30)

    fake = run(body)
    assert fake.running == {}  # the daemon pylvs started is stopped with it
