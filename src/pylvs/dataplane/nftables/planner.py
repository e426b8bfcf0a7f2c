"""From a live ServiceRuntime to the ServicePlan the renderers take (pure).

Decides the service's mode from its dests' forwarding methods (all Masq / Local -> NAT, all
Route -> DR), refuses what the kernel path cannot do with a message naming the service, gives
each dest its mark and, for DR, its MAC and interface, and computes the Pick (maps.py).

Refused:
* Tunnel dests when the kernel has no ipip (`tunnel_ok` False), or at all otherwise: the
  nftables path has no encapsulation statement; LVS-TUN needs the ipvs data plane.
* A service mixing Route with Masq / Local dests: the DR path runs before conntrack and the
  NAT path after it, so one service cannot pick between them.
* fwmark DR services: netdev ingress runs before anything could set the mark.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.dest import Destination
from pylvs.model.service import Address, ForwardMethod, ModelError, Protocol
from pylvs.proto.conntrack.states import Timeouts

from .maps import KERNEL_SCHEDULERS, compute_pick
from .plan import DestPlan, MarkAllocator, Mode, ServicePlan


@dataclass(frozen=True, slots=True)
class Link:
    """How a DR real server is reached: its MAC, the interface and that interface's MAC."""

    mac: str
    device: str
    device_mac: str


def mode_of(rt: ServiceRuntime, dests: list[Destination], *, tunnel_ok: bool) -> Mode:
    key = rt.service.key
    methods = {d.method for d in dests}
    if ForwardMethod.TUNNEL in methods:
        if not tunnel_ok:
            raise ModelError(
                f"{key}: tunnel forwarding needs the kernel's ipip support, which this kernel "
                "does not have (ip link add type ipip fails); use -g (Route) or -m (Masq)"
            )
        raise ModelError(
            f"{key}: tunnel forwarding is not available in the nftables data plane "
            "(nftables cannot encapsulate); use the ipvs data plane, -g or -m"
        )
    if ForwardMethod.ROUTE in methods:
        if len(methods) > 1:
            raise ModelError(
                f"{key}: the nftables data plane cannot mix Route with Masq/Local "
                "real servers in one service"
            )
        if key.is_fwmark:
            raise ModelError(
                f"{key}: fwmark services cannot use Route in the nftables data plane "
                "(netdev ingress runs before any firewall mark is set)"
            )
        return Mode.DR
    return Mode.NAT


def check_scheduler(name: str) -> None:
    if name not in KERNEL_SCHEDULERS:
        raise ModelError(f"Scheduler not found: {name}")


def plan_service(
    rt: ServiceRuntime,
    marks: MarkAllocator,
    links: Mapping[Address, Link],
    timeouts: Timeouts,
    *,
    tunnel_ok: bool = False,
    slots: int | None = None,
) -> ServicePlan:
    """The plan of one service; ModelError for what the kernel path refuses."""
    check_scheduler(rt.service.scheduler)
    key = rt.service.key
    mode = mode_of(rt, rt.dests, tunnel_ok=tunnel_ok)
    dest_marks = {id(d): marks.mark(key, d.key) for d in rt.dests}

    def mark_of(d: Destination) -> int:
        return dest_marks[id(d)]

    reachable: Callable[[Destination], bool] = lambda d: True  # noqa: E731
    if mode is Mode.DR:
        reachable = lambda d: d.address in links  # noqa: E731
    dests = []
    for d in rt.dests:
        link = links.get(d.address) if mode is Mode.DR else None
        dests.append(
            DestPlan(
                mark=mark_of(d),
                address=d.address,
                port=d.port,
                sticky=d.available,
                mac=link.mac if link else "",
                device=link.device if link else "",
                device_mac=link.device_mac if link else "",
            )
        )
    udp = key.protocol is Protocol.UDP
    return ServicePlan(
        key=key,
        mode=mode,
        dests=tuple(dests),
        pick=compute_pick(rt, mark_of, reachable, slots=slots),
        persist_timeout=rt.service.timeout if rt.service.persistent else 0,
        netmask=rt.service.netmask,
        flow_timeout=timeouts.udp if udp else timeouts.tcp,
        fin_timeout=timeouts.tcp_fin,
        tcp_timeout=timeouts.tcp,
        udp_timeout=timeouts.udp,
    )
