"""Picks per second of every pylvs load-balancing algorithm, for 10 and 1000 servers.

Run by hand: `python bench/sched_bench.py`.  Each measurement runs for about 0.2 s.  For the
IPVS schedulers every pick counts as a new inactive connection on the chosen server, so the
least-connection family sees changing counters.  For HAProxy's algorithms each pick goes
through the backend pool as a runtime would: assigned, taken, and a connection taken some 64
picks earlier dropped (so leastconn's tree moves); hashing algorithms get an HTTP request and
an RDP payload, map-based (the default) or consistent.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import random
import time

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.sched import ipvs, registry
from pylvs.sched.base import Flow, HttpRequest
from pylvs.sched.haproxy import HashType, LbParams, Pool, Server

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


def make_requests(flows: list[Flow]) -> list[Flow]:
    head = b"\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00"
    return [
        Flow(
            f.client,
            f.client_port,
            f.vaddr,
            f.vport,
            payload=head + f"Cookie: mstshash=u{i}\r\n".encode(),
            request=HttpRequest.of("GET", f"/p/{i}?id={i}", [("Host", f"h{i}.example.com")]),
            sample=f.client.packed,
        )
        for i, f in enumerate(flows)
    ]


def measure_haproxy(name: str, n: int, flows: list[Flow], hash_type: HashType) -> float:
    rng = random.Random(n)
    servers = [Server(f"s{i}", rng.randint(1, 5)) for i in range(n)]
    params = LbParams(algorithm=name, name="id" if name == "url_param" else "host")
    pool = Pool(servers, dataclasses.replace(params, hash_type=hash_type), random.Random(1))
    held: list[Server] = []
    picks = 0
    start = time.perf_counter()
    deadline = start + BUDGET
    while True:
        for flow in flows:
            server = pool.assign(flow, 0.0)
            if isinstance(server, Server):
                pool.take_conn(server)
                held.append(server)
                if len(held) > 64:
                    pool.drop_conn(held.pop(0))
        picks += len(flows)
        if time.perf_counter() >= deadline:
            break
    return picks / (time.perf_counter() - start)


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
    requests = make_requests(flows)
    hashing = {"source", "uri", "url_param", "hdr", "rdp-cookie", "hash"}
    for qualified in registry.names("haproxy"):
        name = qualified.partition(":")[2]
        for hash_type in (HashType.MAP_BASED, HashType.CONSISTENT):
            if hash_type is HashType.CONSISTENT and name not in hashing:
                continue
            consistent = hash_type is HashType.CONSISTENT
            label = f"haproxy:{name}" + (" (consistent)" if consistent else "")
            cells = "".join(
                f"{measure_haproxy(name, n, requests, hash_type):>14,.0f}/s" for n in SIZES
            )
            print(f"{label:<32}{cells}")


if __name__ == "__main__":
    main()
