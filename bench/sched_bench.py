"""Picks per second of every pylvs scheduler, for 10 and 1000 real servers.

Run by hand: `python bench/sched_bench.py`.  Each measurement runs for about 0.2 s; every
pick counts as a new inactive connection on the chosen server, so the least-connection family
sees changing counters.
"""

from __future__ import annotations

import ipaddress
import random
import time

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.sched import ipvs
from pylvs.sched.base import Flow

SIZES = (10, 1000)
BUDGET = 0.2  # seconds per measurement


def make_dests(n: int) -> list[Destination]:
    rng = random.Random(n)
    return [
        Destination(
            RealServer(ipaddress.IPv4Address(0xC0A80000 + i + 1), 80, weight=rng.randint(1, 5))
        )
        for i in range(n)
    ]


def make_flows(count: int) -> list[Flow]:
    rng = random.Random(7)
    vip = ipaddress.IPv4Address("10.0.0.1")
    return [
        Flow(ipaddress.IPv4Address(rng.getrandbits(32)), rng.randint(1024, 65535), vip, 80)
        for _ in range(count)
    ]


def measure(name: str, n: int, flows: list[Flow]) -> float:
    dests = make_dests(n)
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    sched = ipvs.create(VirtualService(key, scheduler=name), dests, random.Random(1))
    schedule = sched.pick
    picks = 0
    now = 0.0
    start = time.perf_counter()
    deadline = start + BUDGET
    while True:
        for flow in flows:
            dest = schedule(dests, flow, now)
            if dest is not None:
                dest.inactconns += 1
        picks += len(flows)
        now += 0.001 * len(flows)
        if time.perf_counter() >= deadline:
            break
    return picks / (time.perf_counter() - start)


def main() -> None:
    flows = make_flows(256)
    header = f"{'scheduler':<10}" + "".join(f"{f'{n} servers':>16}" for n in SIZES)
    print(header)
    print("-" * len(header))
    for name in ipvs.names():
        cells = "".join(f"{measure(name, n, flows):>14,.0f}/s" for n in SIZES)
        print(f"{name:<10}{cells}")


if __name__ == "__main__":
    main()
