"""A big change set (`ipvsadm -R` of thousands of lines) does not hold the event loop: the
proxy lets the loop run every YIELD_EVERY changes, as the kernel serves traffic between the
lines of a real `ipvsadm -R`, and every change is still applied in order."""

import asyncio
import ipaddress

from pylvs.dataplane.proxy.plane import YIELD_EVERY
from pylvs.model.service import RealServer, VirtualService
from pylvs.model.table import AddDest
from tests.integration.dataplane.proxy_helpers import proxy, run, tcp_key

KEY = tcp_key()


def test_the_loop_runs_between_the_changes_of_a_big_set() -> None:
    async def body() -> None:
        plane = await proxy(VirtualService(KEY, scheduler="wlc"))
        turns = 0
        done = False

        async def other_work() -> None:  # what forwarding, checks and VRRP would be doing
            nonlocal turns
            while not done:
                turns += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(other_work())
        await asyncio.sleep(0)
        before = turns
        dests = [
            RealServer(ipaddress.ip_address(f"127.2.{i // 250}.{i % 250 + 1}"), 80)
            for i in range(3 * YIELD_EVERY)
        ]
        await plane.apply([AddDest(KEY, d) for d in dests])
        during = turns - before
        done = True
        await task
        assert during >= 3, during
        rt = plane.service(KEY)
        assert rt is not None
        assert [d.address for d in rt.dests] == [d.address for d in reversed(dests)]  # newest first
        await plane.stop(0)

    run(body)
