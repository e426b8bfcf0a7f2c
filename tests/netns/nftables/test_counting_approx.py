"""How far the kernel path's connection-counting schedulers are from the exact ones.

In the nftables data plane a new flow cannot ask a scheduler: it maps `numgen inc mod N` onto
slots.  For lc, wlc, sed, nq, lblc, lblcr, ovf and twos the housekeeping round (every
`interval`) reads the live counts from conntrack and re-runs the real scheduler for `horizon`
imaginary connections (maps.py `reweight`); those picks are the slots until the next round.
New flows inside one interval do not see each other, so this is an approximation.  These tests
measure it against pylvs.sched.ipvs run in-process on Destination objects with the same sequence of
events (each pick bound as an active connection, as ip_vs_bind_dest does for a new TCP flow):

* sequential: long-lived connections opened one step at a time with a pause of 2.5 intervals,
  so every new flow sees a table computed from the counts of all the earlier ones;
* burst: a server joins and many connections arrive within one interval, so the whole burst
  goes through one frozen table.

The error is the share of connections placed on another server than the exact scheduler would
have placed them: sum(|measured - exact|) / 2 / connections.  The numbers are printed and
recorded (`record_property`), and docs/nftables.md quotes them.

Topology (seed 001, as test_nat.py): client 10.79.1.2 -- director 10.79.1.1 holding the VIP
10.79.1.100 -- bridge 10.79.2.1 -- r1 10.79.2.11, r2 10.79.2.12 (NAT, port 8080).  The real
servers here keep every connection open (the shared backend.py closes at once, which would make
the flows inactive), and the client holds its connections until the end.
"""

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceKey, VirtualService
from pylvs.sched import ipvs
from pylvs.sched.base import Flow
from tests.netns.nftables.nsnet import SRC, Lab

pytestmark = [pytest.mark.root, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
VIP = "10.79.1.100"
RS = {"r1": "10.79.2.11", "r2": "10.79.2.12"}

# A real server that answers its name and then holds the connection until the client closes.
HOLD_SERVER = r"""
import socket, sys, threading
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(1024)
held = []
def serve():
    while True:
        conn, _ = s.accept()
        conn.sendall(name.encode() + b"\n")
        held.append(conn)
threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
"""

# A client that, per stdin line "HOST PORT N", opens N connections as fast as it can, prints
# the servers' names as a JSON list and keeps every socket open.
HOLD_CLIENT = r"""
import json, socket, sys
held = []
for line in sys.stdin:
    host, port, n = line.split()
    names = []
    for _ in range(int(n)):
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((host, int(port)))
            names.append(s.makefile().readline().strip())
        except OSError:
            names.append("")
        held.append(s)
    print(json.dumps(names), flush=True)
"""

# The data plane with its own housekeeping timer (director.py runs it with a 3600 s interval
# and explicit rounds; here the real timer and a realistic interval are the point).
DIRECTOR = r"""
import asyncio, json, sys
from tests.netns.nftables.director import to_table
from pylvs.dataplane.nftables import NftablesDataPlane
from pylvs.model.table import ServiceTable, diff

async def main():
    plane = NftablesDataPlane(interval=float(sys.argv[1]))
    await plane.start()
    applied = ServiceTable([])
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        cmd = json.loads(line) if line else {"op": "stop"}
        reply = {"ok": True}
        if cmd["op"] == "table":
            want = to_table(cmd["services"])
            await plane.apply(list(diff(applied, want)))
            applied = want
        elif cmd["op"] == "dests":
            await plane.refresh()
            reply["services"] = {
                str(rt.key.port): [[str(d.address), d.activeconns] for d in rt.dests]
                for rt in plane.services()
            }
        elif cmd["op"] == "stop":
            await plane.stop(0)
            print(json.dumps(reply), flush=True)
            return
        print(json.dumps(reply), flush=True)

asyncio.run(main())
"""


class Proc:
    """A python -c program in a namespace, spoken to one JSON line at a time."""

    def __init__(self, lab: Lab, ns: str, code: str, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=f"{SRC}:{HERE}")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", code, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        lab.procs.append(self.proc)

    def send(self, line: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read()

    def read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("helper process exited")
        return json.loads(line) if line.strip() != "ready" else "ready"


def build(lab: Lab, interval: float) -> tuple[Proc, Proc]:
    """(director, client) on the NAT topology of the module doc."""
    c, d = lab.ns("c"), lab.ns("d")
    lab.veth(c, "eth0", d, "eth0")
    lab.sh(c, "ip addr add 10.79.1.2/24 dev eth0 && ip route add default via 10.79.1.1")
    lab.sh(d, f"ip addr add 10.79.1.1/24 dev eth0 && ip addr add {VIP}/32 dev eth0")
    lab.sh(d, "ip link add br0 type bridge && ip link set br0 up")
    lab.sh(d, "ip addr add 10.79.2.1/24 dev br0 && sysctl -qw net.ipv4.ip_forward=1")
    for i, (name, addr) in enumerate(RS.items(), 1):
        r = lab.ns(name)
        lab.veth(r, "eth0", d, f"p{i}")
        lab.sh(d, f"ip link set p{i} master br0")
        lab.sh(r, f"ip addr add {addr}/24 dev eth0 && ip route add default via 10.79.2.1")
        assert Proc(lab, r, HOLD_SERVER, name, "8080").read() == "ready"
    return Proc(lab, d, DIRECTOR, str(interval)), Proc(lab, c, HOLD_CLIENT)


def service(sched: str, port: int, weights: dict[str, int]) -> dict[str, Any]:
    dests = [
        {"addr": RS[n], "port": 8080, "weight": w, "method": "Masq"} for n, w in weights.items()
    ]
    return {"proto": "tcp", "addr": VIP, "port": port, "sched": sched, "dests": dests}


def simulate(
    sched: str,
    phases: list[tuple[list[tuple[str, int]], int]],
    seed: int = 0,
) -> Counter[str]:
    """Run pylvs.sched.ipvs `sched` through `phases`: (dest list newest first, connections) each.

    Destinations keep their counts across phases (a dest joining is a new head of the list,
    ip_vs_ctl.c `__ip_vs_update_dest`); every pick is bound as an active connection.
    """
    key = ServiceKey.inet(Protocol.TCP, VIP, 80)
    svc = VirtualService(key, sched)
    known: dict[str, Destination] = {}
    got: Counter[str] = Counter()
    flow = Flow(ip_address("10.79.1.2"), 0, ip_address(VIP), 80)
    scheduler = ipvs.create(svc, [], random.Random(seed))
    for layout, count in phases:
        dests = []
        for addr, weight in layout:
            if addr not in known:
                known[addr] = Destination(RealServer(ip_address(addr), 8080, weight=weight))
            known[addr].weight = weight
            dests.append(known[addr])
        scheduler.rebuild(dests)
        for n in range(count):
            flow = Flow(ip_address("10.79.1.2"), 1024 + n, ip_address(VIP), 80)
            dest = scheduler.pick(dests, flow, float(n))
            assert dest is not None, f"{sched}: no destination"
            dest.bind(active=True)
            got[str(dest.address)] += 1
    return got


def placement_error(measured: Counter[str], exact: Counter[str] | dict[str, float]) -> float:
    """Share of connections on another server than the exact scheduler puts them."""
    total = sum(exact.values())
    diff = sum(abs(measured.get(a, 0) - exact.get(a, 0)) for a in set(measured) | set(exact))
    return diff / 2 / total


def by_address(names: list[str]) -> Counter[str]:
    return Counter(RS[n] for n in names)


INTERVAL = 0.2  # the plane's housekeeping interval in the sequential test
PAUSE = 2.5 * INTERVAL  # between steps: at least one full round sees the previous step
STEPS = 40
SCHEDULERS = ("lc", "wlc", "sed", "nq", "lblc", "lblcr", "ovf", "twos")
# ovf only takes a dest while its active connections do not exceed its weight, so it needs
# weights that hold all STEPS connections (31 + 16 >= 40); the others share 1:3.
WEIGHTS = {s: {"r1": 1, "r2": 3} for s in SCHEDULERS} | {"ovf": {"r1": 15, "r2": 30}}
TWOS_SEEDS = 200
SEQUENTIAL_BOUND = 1 / STEPS  # one connection of slack for a round racing a step
BURST_INTERVAL = 1.0  # the plane's default
BURST = 80


def expected(sched: str, layout: list[tuple[str, int]], count: int) -> dict[str, float]:
    """The exact split; for twos (random) the mean over many seeds."""
    seeds = range(TWOS_SEEDS) if sched == "twos" else range(1)
    total: Counter[str] = Counter()
    for seed in seeds:
        total.update(simulate(sched, [(layout, count)], seed))
    return {a: n / len(seeds) for a, n in total.items()}


def test_sequential_connections_stay_close_to_the_exact_split(
    lab: Lab, record_property: Any
) -> None:
    director, client = build(lab, INTERVAL)
    ports = {s: 80 + i for i, s in enumerate(SCHEDULERS)}
    services = [service(s, ports[s], WEIGHTS[s]) for s in SCHEDULERS]
    assert director.send(json.dumps({"op": "table", "services": services}))["ok"]
    names: dict[str, list[str]] = {s: [] for s in SCHEDULERS}
    for _ in range(STEPS):
        for s in SCHEDULERS:
            names[s] += client.send(f"{VIP} {ports[s]} 1")
        time.sleep(PAUSE)
    time.sleep(PAUSE)
    live = director.send(json.dumps({"op": "dests"}))["services"]
    errors = {}
    for s in SCHEDULERS:
        assert "" not in names[s], f"{s}: a connection got no answer"
        measured = by_address(names[s])
        # The plane counted every held connection as active from conntrack.
        assert sum(n for _, n in live[str(ports[s])]) == STEPS, live[str(ports[s])]
        weights = {RS[n]: w for n, w in WEIGHTS[s].items()}
        layout = [(a, weights[a]) for a, _ in live[str(ports[s])]]
        exact = expected(s, layout, STEPS)
        errors[s] = placement_error(measured, exact)
        print(f"{s}: measured {dict(measured)} exact {exact} error {errors[s]:.3f}")
        record_property(f"sequential-{s}", round(errors[s], 4))
    director.send(json.dumps({"op": "stop"}))
    # Sequential arrivals see a fresh table each time: the slots hold the scheduler's picks in
    # order (maps.reweight), so slot 0 is the exact next pick and the split matches the exact
    # scheduler, up to one connection for a round racing a step.
    for s in ("lc", "wlc", "sed", "nq", "lblcr", "ovf"):
        assert errors[s] <= SEQUENTIAL_BOUND, (s, errors[s])
    # twos is random: compared with its mean over many seeds it stays within 10 %.
    assert errors["twos"] <= 0.10, errors["twos"]
    # lblc: every round runs a fresh scheduler, so the locality cache (vaddr -> dest) that
    # makes the exact lblc keep one server until it is locality-overloaded is lost; the
    # kernel path behaves like wlc.  Recorded, not bounded (docs/nftables.md).
    assert errors["lblc"] <= 1


def test_burst_within_one_interval_goes_through_one_frozen_table(
    lab: Lab, record_property: Any
) -> None:
    # r1 (weight 1) alone holds 8 connections; r2 (weight 3) joins; 80 connections arrive
    # at once.  Exact wlc: r2 (newest, head of the list) takes 24 to catch up to 8/1 = 24/3,
    # then the 56 left go 1:3: r1 +14, r2 +66.  The kernel: the table computed when r2 joins
    # plans 8 connections from (8, 0), all r2, and it stays until the next round.
    director, client = build(lab, BURST_INTERVAL)
    first = [service("wlc", 80, {"r1": 1})]
    assert director.send(json.dumps({"op": "table", "services": first}))["ok"]
    assert client.send(f"{VIP} 80 8") == ["r1"] * 8
    time.sleep(2.5 * BURST_INTERVAL)
    assert director.send(json.dumps({"op": "dests"}))["services"]["80"] == [[RS["r1"], 8]]
    both = [service("wlc", 80, {"r1": 1, "r2": 3})]
    assert director.send(json.dumps({"op": "table", "services": both}))["ok"]
    started = time.monotonic()
    burst = client.send(f"{VIP} 80 {BURST}")
    took = time.monotonic() - started
    director.send(json.dumps({"op": "stop"}))
    assert "" not in burst
    exact = simulate("wlc", [([(RS["r1"], 1)], 8), ([(RS["r2"], 3), (RS["r1"], 1)], BURST)])
    assert exact == {RS["r1"]: 8 + 14, RS["r2"]: 66}
    exact[RS["r1"]] -= 8  # compare the burst's own connections
    measured = by_address(burst)
    error = placement_error(measured, exact)
    print(f"burst of {BURST} in {took:.3f} s: measured {dict(measured)} exact {dict(exact)}")
    print(f"burst error {error:.3f}")
    record_property("burst-wlc", round(error, 4))
    # The table came from the live counts: slots from the weights alone (r1 2 of 8) would
    # give r1 20 of the burst, more than even the exact scheduler's 14.
    assert measured[RS["r1"]] <= 14
    # The frozen table can misplace at most what the exact scheduler gives r1 (14 of 80); a
    # round inside the burst only brings it closer.
    assert error <= 14 / BURST


def test_u_threshold_keeps_an_overloaded_server_out_of_new_flows(lab: Lab) -> None:
    # rr over r1 (u_threshold 3) and r2: each round reads the counts from conntrack and sets
    # the overload flag as ip_vs_bind_dest does (at 3 connections); an overloaded server is
    # left out of the new-flow map until its count drops below 3/4 of the threshold.
    director, client = build(lab, INTERVAL)
    svc = service("rr", 80, {"r1": 1, "r2": 1})
    svc["dests"][0]["u_threshold"] = 3
    assert director.send(json.dumps({"op": "table", "services": [svc]}))["ok"]
    names: list[str] = []
    for _ in range(12):
        names += client.send(f"{VIP} 80 1")
        time.sleep(PAUSE)
    live = director.send(json.dumps({"op": "dests"}))["services"]["80"]
    director.send(json.dumps({"op": "stop"}))
    assert "" not in names
    # r1, r2, r1, r2, r1: r1 reaches 3 and takes no more; the other seven go to r2.
    assert by_address(names) == {RS["r1"]: 3, RS["r2"]: 9}, names
    assert sorted(live) == sorted([[RS["r1"], 3], [RS["r2"], 9]])
