"""Real servers that are a virtual service's own address (pylvs.model.loops)."""

from ipaddress import ip_address

from pylvs.model.loops import loop_target
from pylvs.model.service import Protocol, ServiceKey

TCP, UDP = Protocol.TCP, Protocol.UDP
WEB = ServiceKey.inet(TCP, "10.0.0.1", 80)
ANY = ServiceKey.inet(TCP, "0.0.0.0", 8080)
DNS = ServiceKey.inet(UDP, "10.0.0.1", 53)
SERVICES = [WEB, ANY, DNS, ServiceKey.mark(1), ServiceKey.inet(TCP, "10.0.0.9", 0)]


def test_the_virtual_address_itself_loops() -> None:
    assert loop_target(TCP, ip_address("10.0.0.1"), 80, SERVICES) == WEB
    assert loop_target(UDP, ip_address("10.0.0.1"), 53, SERVICES) == DNS


def test_another_port_protocol_or_address_does_not() -> None:
    assert loop_target(TCP, ip_address("10.0.0.1"), 81, SERVICES) is None
    assert loop_target(UDP, ip_address("10.0.0.1"), 80, SERVICES) is None
    assert loop_target(TCP, ip_address("10.0.0.2"), 80, SERVICES) is None


def test_a_wildcard_listener_catches_loopback_and_virtual_addresses_on_its_port() -> None:
    assert loop_target(TCP, ip_address("127.0.0.5"), 8080, SERVICES) == ANY
    assert loop_target(TCP, ip_address("10.0.0.1"), 8080, SERVICES) == ANY
    assert loop_target(TCP, ip_address("192.0.2.7"), 8080, SERVICES) is None
    assert loop_target(TCP, ip_address("::1"), 8080, SERVICES) is None  # an IPv4 listener


def test_port_zero_and_fwmark_services_listen_on_no_known_port() -> None:
    assert loop_target(TCP, ip_address("10.0.0.9"), 0, SERVICES) is None
