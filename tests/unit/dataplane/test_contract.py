"""The data-plane contract (dataplane_contract.py) run against the fake and the proxy."""

import asyncio
from collections.abc import Callable

import pytest

from pylvs.dataplane.base import DataPlane
from pylvs.dataplane.fake import FakeDataPlane
from pylvs.dataplane.proxy import ProxyDataPlane
from tests.unit.dataplane.dataplane_contract import CONTRACT, Check

Factory = Callable[[], DataPlane]
FACTORIES: dict[str, Factory] = {
    "fake": FakeDataPlane,
    "proxy": lambda: ProxyDataPlane(housekeeping_interval=0.05),
}


@pytest.mark.parametrize("check", CONTRACT, ids=lambda c: c.__name__)
@pytest.mark.parametrize("plane", sorted(FACTORIES))
def test_contract(plane: str, check: Check) -> None:
    async def main() -> None:
        dp = FACTORIES[plane]()
        await dp.start()
        try:
            await check(dp)
        finally:
            await dp.stop(0)

    asyncio.run(asyncio.wait_for(main(), 10))
