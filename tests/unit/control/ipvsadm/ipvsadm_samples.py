"""Shared snapshots for the ipvsadm printer tests (the director of the reference examples)."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path

from pylvs.control.ipvsadm import (
    ConnView,
    DestView,
    Rates,
    ServiceView,
    Snapshot,
    Stats,
)
from pylvs.model import (
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelParams,
    VirtualService,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "ipvsadm"


def golden(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def rs(
    addr: str,
    port: int,
    method: ForwardMethod,
    weight: int = 1,
    u_threshold: int = 0,
    l_threshold: int = 0,
    tunnel: TunnelParams | None = None,
) -> RealServer:
    return RealServer(ip_address(addr), port, weight, method, u_threshold, l_threshold, tunnel)


VIP = "192.168.10.100"
WEB = VirtualService(ServiceKey.inet(Protocol.TCP, VIP, 80))
HTTPS = VirtualService(
    ServiceKey.inet(Protocol.TCP, VIP, 443),
    scheduler="sh",
    flags=ServiceFlags.PERSISTENT | ServiceFlags.SCHED1 | ServiceFlags.SCHED2,
    timeout=360,
    netmask=24,
)
DNS = VirtualService(
    ServiceKey.inet(Protocol.UDP, VIP, 53), scheduler="rr", flags=ServiceFlags.ONEPACKET
)
MARK = VirtualService(ServiceKey.mark(7), scheduler="wrr")
LOW = VirtualService(ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80), scheduler="rr")

WEB_DESTS = (  # kernel order: .12 was added last, so it comes first
    DestView(rs("192.168.10.12", 80, ForwardMethod.MASQ, 2), activeconns=25, inactconns=1000),
    DestView(
        rs("192.168.10.11", 80, ForwardMethod.MASQ, 1, u_threshold=100, l_threshold=50),
        activeconns=12,
        inactconns=340,
        stats=Stats(600, 30000, 29000, 1800000, 500_000_000),
        rates=Rates(6, 170, 160, 12500, 205000),
    ),
)


def web_view() -> ServiceView:
    return ServiceView(
        WEB,
        stats=Stats(1234, 56789, 54321, 3456789, 987_654_321),
        rates=Rates(12, 340, 320, 25000, 410000),
        dests=WEB_DESTS,
    )


def director() -> Snapshot:
    """Services in a scrambled daemon order; listings sort them."""
    return Snapshot(
        services=(
            ServiceView(MARK, dests=(DestView(rs("192.168.10.31", 0, ForwardMethod.ROUTE, 5)),)),
            ServiceView(
                LOW, dests=(DestView(rs("10.0.0.2", 80, ForwardMethod.MASQ)),)
            ),
            ServiceView(
                DNS,
                dests=(DestView(rs("192.168.10.21", 53, ForwardMethod.TUNNEL), inactconns=5),),
            ),
            ServiceView(
                HTTPS,
                dests=(
                    DestView(
                        rs("192.168.10.11", 443, ForwardMethod.ROUTE, 0),
                        inactconns=3,
                        persistconns=7,
                    ),
                ),
            ),
            web_view(),
        ),
        conns=(
            ConnView("TCP", ip_address("10.1.2.3"), 52344, ip_address(VIP), 80,
                     ip_address("192.168.10.11"), 80, "ESTABLISHED", 897),
            ConnView("TCP", ip_address("10.1.2.4"), 40001, ip_address(VIP), 80,
                     ip_address("192.168.10.12"), 80, "FIN_WAIT", 45),
            ConnView("UDP", ip_address("10.1.2.5"), 5353, ip_address(VIP), 53,
                     ip_address("192.168.10.21"), 53, "UDP", 280),
            ConnView("TCP", ip_address("10.1.2.0"), 0, ip_address(VIP), 443,
                     ip_address("192.168.10.11"), 443, "NONE", 355),
            ConnView("IP", ip_address("10.1.2.0"), 0, ip_address("0.0.0.7"), 0,
                     ip_address("192.168.10.31"), 0, "ASSURED", 6000),
            ConnView("UDP", ip_address("10.1.2.9"), 0, ip_address(VIP), 5060,
                     ip_address("192.168.10.41"), 5060, "NONE", 300, "sip", "abc@example.com"),
            ConnView("TCP", ip_address("2001:db8::5"), 40000, ip_address("2001:db8::100"), 80,
                     ip_address("2001:db8::11"), 80, "SYN_RECV", 59),
        ),
    )  # fmt: skip
