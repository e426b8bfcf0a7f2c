"""Runs NftablesDataPlane inside the director's network namespace for the netns tests.

Started as `ip netns exec NS python director.py`; reads one JSON command per line on stdin and
answers one JSON line on stdout, so the test process never leaves its own namespace:

    {"op": "table", "services": [...]}   apply the diff to this table
    {"op": "housekeep"}                  one housekeeping round (counters, conntrack, MACs)
    {"op": "timeouts", "set": [T, F, U]} `ipvsadm --set T F U`, applied at once
    {"op": "list", "stats": true}        `ipvsadm -Ln [--stats|--rate]` text
    {"op": "conns"}                      `ipvsadm -Lnc` text
    {"op": "ruleset"}                    `nft list ruleset`
    {"op": "stop"}                       remove pylvs's tables and exit
"""

import asyncio
import ipaddress
import json
import os
import subprocess
import sys
from typing import Any

from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.conns import list_conn
from pylvs.control.ipvsadm.format import list_all
from pylvs.control.ipvsadm.resolver import NUMERIC
from pylvs.dataplane.base import DataPlaneError
from pylvs.dataplane.nftables import NftablesDataPlane, dr, persist
from pylvs.engine.snapshot import build_snapshot
from pylvs.model.service import (
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    VirtualService,
)
from pylvs.model.table import ServiceEntry, ServiceTable, diff


def to_table(services: list[dict[str, Any]]) -> ServiceTable:
    entries = []
    for s in services:
        key = ServiceKey.inet(Protocol[s["proto"].upper()], s["addr"], s["port"])
        persist = int(s.get("persist", 0))
        flags = ServiceFlags.NONE
        for bit in s.get("flags", []):
            flags |= ServiceFlags[bit]
        if persist:
            flags |= ServiceFlags.PERSISTENT
        svc = VirtualService(
            key, s["sched"], flags, timeout=persist, netmask=int(s.get("netmask", -1))
        )
        dests = tuple(
            RealServer(
                ipaddress.ip_address(d["addr"]),
                d["port"],
                weight=d.get("weight", 1),
                method=ForwardMethod(d.get("method", "Masq")),
                u_threshold=d.get("u_threshold", 0),
                l_threshold=d.get("l_threshold", 0),
            )
            for d in s["dests"]
        )
        entries.append(ServiceEntry(svc, dests))
    return ServiceTable(entries)


async def main() -> None:
    ingress = [a for a in sys.argv[1:] if a]
    # A small DR flow map lets a test fill it with a handful of connections.
    if "PYLVS_TEST_DR_FLOW_MAP_SIZE" in os.environ:
        dr.FLOW_MAP_SIZE = int(os.environ["PYLVS_TEST_DR_FLOW_MAP_SIZE"])
    if "PYLVS_TEST_PERSIST_MAP_SIZE" in os.environ:
        persist.PERSIST_MAP_SIZE = int(os.environ["PYLVS_TEST_PERSIST_MAP_SIZE"])
    plane = NftablesDataPlane(ingress=ingress, interval=3600.0)
    await plane.start()
    applied = ServiceTable([])
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        cmd = json.loads(line)
        reply: dict[str, Any] = {"ok": True}
        op = cmd["op"]
        try:
            if op == "table":
                want = to_table(cmd["services"])
                await plane.apply(list(diff(applied, want)))
                applied = want
            elif op == "housekeep":
                await plane.housekeep()
            elif op == "timeouts":
                plane.set_timeouts(plane.timeouts.with_set(*cmd["set"]))
                await plane.settle()
            elif op == "list":
                fmt = Fmt.NUMERIC
                if cmd.get("stats"):
                    fmt |= Fmt.STATS
                if cmd.get("rate"):
                    fmt |= Fmt.RATE
                await plane.refresh()  # as the daemon does before a listing
                reply["text"] = list_all(build_snapshot(plane, with_conns=False), fmt, NUMERIC)
            elif op == "conns":
                await plane.refresh(connections=True)
                reply["text"] = list_conn(build_snapshot(plane).conns, Fmt.NUMERIC, NUMERIC)
            elif op == "ruleset":
                out = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True)
                reply["text"] = out.stdout
            elif op == "stop":
                await plane.stop(0)
                print(json.dumps(reply), flush=True)
                return
        except DataPlaneError as exc:
            applied = plane.applied()
            reply = {"ok": False, "error": str(exc)}
        print(json.dumps(reply), flush=True)
    await plane.stop(0)


if __name__ == "__main__":
    asyncio.run(main())
