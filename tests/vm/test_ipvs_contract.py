"""The data-plane contract (tests/unit/dataplane/dataplane_contract.py) against the kernel's
IPVS: the same checks the fake and the proxy pass, with IpvsDataPlane on the VM's kernel."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from pylvs.dataplane.ipvs import IpvsDataPlane
from tests.unit.dataplane.dataplane_contract import CONTRACT, Check


def reset_kernel() -> None:
    """An empty table, the default timeouts, no sync daemon."""
    subprocess.run(["ipvsadm", "-C"], check=True)
    subprocess.run(["ipvsadm", "--set", "900", "120", "300"], check=True)
    for state in ("master", "backup"):
        subprocess.run(["ipvsadm", "--stop-daemon", state], capture_output=True, check=False)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda c: c.__name__)
def test_contract(check: Check) -> None:
    reset_kernel()

    async def main() -> None:
        dp = IpvsDataPlane()
        await dp.start()
        try:
            await check(dp)
        finally:
            await dp.stop(0)

    try:
        asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        listing = subprocess.run(["ipvsadm", "-Sn"], capture_output=True, text=True).stdout
        reset_kernel()
    assert listing == "", f"left in the kernel after stop:\n{listing}"
