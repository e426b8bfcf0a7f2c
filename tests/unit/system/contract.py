"""The HostEffects contract (ARCHITECTURE principle 5): every implementation passes these.

`run_all(host, dev)` runs each check against an interface `dev` that exists, is up and may be
changed freely; the fake runs it in tests/unit/system, NetlinkHost in a network namespace
(tests/netns/vrrp/test_system.py).  Each check puts the host back as it found it.
"""

import ipaddress
from collections.abc import Callable

from pylvs.proto.vrrp.garp import gratuitous_arp
from pylvs.system.effects import AddressSpec, HostEffects, HostError, RouteSpec, RuleSpec

V4 = ipaddress.IPv4Interface("10.199.7.9/24")
V6 = ipaddress.IPv6Interface("fd00:199::9/64")


def check_link(host: HostEffects, dev: str) -> None:
    info = host.link(dev)
    assert info is not None and info.name == dev and info.index > 0
    assert len(info.mac) == 6 and info.up
    assert host.link("nosuchdev0") is None


def check_address_add_remove_idempotent(host: HostEffects, dev: str) -> None:
    spec = AddressSpec(V4, dev, label=f"{dev}:7", broadcast=V4.network.broadcast_address)
    assert V4 not in host.addresses(dev)
    host.add_address(spec)
    host.add_address(spec)  # already there: not an error, still listed once
    assert list(host.addresses(dev)).count(V4) == 1 and host.has_address(spec)
    host.remove_address(spec)
    host.remove_address(spec)  # already gone: not an error
    assert V4 not in host.addresses(dev)


def check_ipv6_address(host: HostEffects, dev: str) -> None:
    spec = AddressSpec(V6, dev, nodad=True)
    host.add_address(spec)
    assert V6 in host.addresses(dev)
    host.remove_address(spec)
    assert V6 not in host.addresses(dev)


def check_unknown_device(host: HostEffects, dev: str) -> None:
    actions: tuple[Callable[[], None], ...] = (
        lambda: host.add_address(AddressSpec(V4, "nosuchdev0")),
        lambda: host.send_frame("nosuchdev0", gratuitous_arp(b"\x02" * 6, V4.ip)),
    )
    for action in actions:
        try:
            action()
        except HostError:
            continue
        raise AssertionError("a change on a missing device must raise HostError")


def check_route(host: HostEffects, dev: str) -> None:
    spec = AddressSpec(V4, dev)
    host.add_address(spec)  # the gateway must be reachable on the link
    route = RouteSpec(
        4,
        ipaddress.ip_network("10.198.0.0/16"),
        via=ipaddress.ip_address("10.199.7.1"),
        dev=dev,
        table=100,
        metric=7,
    )
    other = RouteSpec(4, route.destination, via=route.via, dev=dev, table=101, metric=7)
    try:
        host.add_route(route)
        host.add_route(route)
        assert host.has_route(route) and not host.has_route(other)
        host.remove_route(route)
        host.remove_route(route)
        assert not host.has_route(route)
    finally:
        host.remove_address(spec)


def check_rule(host: HostEffects, dev: str) -> None:
    rule = RuleSpec(4, from_net=ipaddress.ip_network("10.197.0.0/16"), table=100, preference=777)
    host.add_rule(rule)
    host.add_rule(rule)
    assert host.has_rule(rule)
    assert not host.has_rule(RuleSpec(4, from_net=rule.from_net, table=101, preference=777))
    host.remove_rule(rule)
    host.remove_rule(rule)
    assert not host.has_rule(rule)


def check_sysctl(host: HostEffects, dev: str) -> None:
    key = f"net.ipv4.conf.{dev}.arp_ignore"
    host.set_sysctl(key, "1")
    assert host.sysctl(key) == "1"
    host.set_sysctl(key, "0")
    assert host.sysctl(key) == "0"


def check_blocked(host: HostEffects, dev: str) -> None:
    a, b = ipaddress.ip_address("10.199.7.9"), ipaddress.ip_address("fd00:199::9")
    host.set_blocked([a, b])
    assert host.blocked() == {a, b}
    host.set_blocked([b])
    assert host.blocked() == {b}
    host.set_blocked(())
    assert host.blocked() == frozenset()


def check_send_frame(host: HostEffects, dev: str) -> None:
    info = host.link(dev)
    assert info is not None
    host.send_frame(dev, gratuitous_arp(info.mac, V4.ip))


CHECKS: list[Callable[[HostEffects, str], None]] = [
    check_link,
    check_address_add_remove_idempotent,
    check_ipv6_address,
    check_unknown_device,
    check_route,
    check_rule,
    check_sysctl,
    check_blocked,
    check_send_frame,
]


def run_all(host: HostEffects, dev: str) -> list[str]:
    """Run every check; the failures as 'name: error' lines."""
    failures = []
    for check in CHECKS:
        try:
            check(host, dev)
        except Exception as exc:
            failures.append(f"{check.__name__}: {exc!r}")
    return failures
