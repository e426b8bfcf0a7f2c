"""Validation of virtual services and real servers."""

import ipaddress

import pytest

from pylvs.model import (
    AF_INET6,
    ForwardMethod,
    ModelError,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelParams,
    TunnelType,
    VirtualService,
)


def test_service_key_str_matches_ipvsadm_names() -> None:
    assert str(ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)) == "TCP 10.0.0.1:80"
    assert str(ServiceKey.inet(Protocol.UDP, "::1", 53)) == "UDP [::1]:53"
    assert str(ServiceKey.mark(7)) == "FWM 7"
    assert str(ServiceKey.mark(7, AF_INET6)) == "FWM 7 IPv6"


def test_service_key_af_follows_address() -> None:
    assert ServiceKey.inet(Protocol.TCP, "2001:db8::1", 80).af == AF_INET6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"protocol": Protocol.TCP},
        {"fwmark": 1, "port": 80},
        {"protocol": Protocol.TCP, "address": ipaddress.ip_address("1.2.3.4"), "port": 70000},
    ],
)
def test_invalid_keys_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ModelError):
        ServiceKey(**kwargs)  # type: ignore[arg-type]


def test_persistence_needs_flag_and_range() -> None:
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    vs = VirtualService(key, "wrr", ServiceFlags.PERSISTENT, timeout=60)
    assert vs.persistent and vs.netmask == 32
    with pytest.raises(ModelError):
        VirtualService(key, timeout=60)
    with pytest.raises(ModelError):
        VirtualService(key, flags=ServiceFlags.PERSISTENT, timeout=86400 * 31 + 1)


def test_one_packet_only_for_udp_or_fwmark() -> None:
    with pytest.raises(ModelError, match="One-Packet"):
        VirtualService(ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80), flags=ServiceFlags.ONEPACKET)
    VirtualService(ServiceKey.inet(Protocol.UDP, "10.0.0.1", 53), flags=ServiceFlags.ONEPACKET)
    VirtualService(ServiceKey.mark(3), flags=ServiceFlags.ONEPACKET)


def test_sched_flag_names_depend_on_scheduler() -> None:
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    both = ServiceFlags.SCHED1 | ServiceFlags.SCHED2
    assert VirtualService(key, "sh", both).sched_flag_names() == ["sh-fallback", "sh-port"]
    assert VirtualService(key, "mh", both).sched_flag_names() == ["mh-fallback", "mh-port"]
    assert VirtualService(key, "rr", ServiceFlags.SCHED3).sched_flag_names() == ["flag-3"]


def test_real_server_ranges_and_tunnel_rules() -> None:
    a = ipaddress.ip_address("10.0.0.2")
    with pytest.raises(ModelError):
        RealServer(a, 80, weight=-1)
    with pytest.raises(ModelError, match="Tunnel options"):
        RealServer(a, 80, method=ForwardMethod.MASQ, tunnel=TunnelParams())
    with pytest.raises(ModelError):
        TunnelParams(TunnelType.GUE)  # gue needs a port
    assert str(RealServer(ipaddress.ip_address("::2"), 8080)) == "[::2]:8080"
