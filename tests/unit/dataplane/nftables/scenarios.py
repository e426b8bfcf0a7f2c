"""Service tables the golden render tests render (also loaded with `nft -c` by the netns tests).

Each scenario is a list of services built through ServiceRuntime exactly as the plane builds
them (dests added in order, so the kernel list order is newest first).
"""

import ipaddress
from collections.abc import Callable

from pylvs.dataplane.nftables.plan import MarkAllocator
from pylvs.dataplane.nftables.planner import Link, plan_service
from pylvs.dataplane.nftables.render import render, ruleset_text
from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import (
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    VirtualService,
)
from pylvs.proto.conntrack.states import Timeouts

A = ipaddress.ip_address
MASQ, ROUTE = ForwardMethod.MASQ, ForwardMethod.ROUTE
VIP = "10.0.0.100"
LINKS = {
    A("10.0.2.11"): Link("02:00:00:00:02:11", "eth1", "02:00:00:00:00:01"),
    A("10.0.2.12"): Link("02:00:00:00:02:12", "eth1", "02:00:00:00:00:01"),
    A("fd00:2::11"): Link("02:00:00:00:06:11", "eth1", "02:00:00:00:00:01"),
}


def runtime(
    key: ServiceKey,
    sched: str,
    dests: list[RealServer],
    flags: ServiceFlags = ServiceFlags.NONE,
    timeout: int = 0,
    netmask: int = -1,
) -> ServiceRuntime:
    if timeout:
        flags |= ServiceFlags.PERSISTENT
    rt = ServiceRuntime(VirtualService(key, sched, flags, timeout, netmask), 0.0)
    for d in dests:
        rt.add_dest(d, 0.0)
    return rt


def two(method: ForwardMethod, w1: int = 1, w2: int = 1, port: int = 8080) -> list[RealServer]:
    return [
        RealServer(A("10.0.2.11"), port, w1, method),
        RealServer(A("10.0.2.12"), port, w2, method),
    ]


def tcp80(sched: str, dests: list[RealServer], **kw: int) -> ServiceRuntime:
    return runtime(ServiceKey.inet(Protocol.TCP, VIP, 80), sched, dests, **kw)  # type: ignore[arg-type]


def nat(sched: str) -> Callable[[], list[ServiceRuntime]]:
    return lambda: [tcp80(sched, two(MASQ, 1, 2))]


SCENARIOS: dict[str, Callable[[], list[ServiceRuntime]]] = {
    **{f"nat_{s}": nat(s) for s in
       ("rr", "wrr", "lc", "wlc", "sed", "nq", "lblc", "lblcr", "dh", "sh", "mh", "fo", "ovf",
        "twos")},
    "nat_persistent_mask24": lambda: [tcp80("rr", two(MASQ), timeout=360, netmask=24)],
    "nat_sh_port_fallback_quiesced": lambda: [
        tcp80("sh", two(MASQ, 0, 1), flags=ServiceFlags.SCHED1 | ServiceFlags.SCHED2)
    ],
    "nat_udp_v6_and_fwmark": lambda: [
        runtime(ServiceKey.inet(Protocol.UDP, "fd00:1::100", 53), "wrr",
                [RealServer(A("fd00:2::11"), 5353, 2, MASQ)]),
        runtime(ServiceKey.mark(7), "rr", [RealServer(A("10.0.2.11"), 0, 1, MASQ)], timeout=60),
    ],
    "nat_fwmark_port_mapping": lambda: [
        runtime(ServiceKey.mark(8), "rr", [RealServer(A("10.0.2.11"), 8080, 1, MASQ)]),
        runtime(ServiceKey.mark(9), "rr", [RealServer(A("10.0.2.12"), 8080, 1, MASQ)],
                timeout=60),
    ],
    "dr_rr_persistent": lambda: [tcp80("rr", two(ROUTE, port=80), timeout=300)],
    "dr_wrr_udp": lambda: [
        runtime(ServiceKey.inet(Protocol.UDP, VIP, 53), "wrr", two(ROUTE, 3, 1, 53))
    ],
    "dr_mh_v6": lambda: [
        runtime(ServiceKey.inet(Protocol.TCP, "fd00:1::100", 80), "mh",
                [RealServer(A("fd00:2::11"), 80, 1, ROUTE)])
    ],
    "dr_sh_unresolved_mac": lambda: [
        tcp80("sh", [*two(ROUTE, port=80), RealServer(A("10.0.2.13"), 80, 1, ROUTE)])
    ],
}  # fmt: skip


def render_scenario(name: str) -> str:
    marks = MarkAllocator()
    plans = [plan_service(rt, marks, LINKS, Timeouts()) for rt in SCENARIOS[name]()]
    return ruleset_text(render(plans, ["eth0"]))
