"""FakeHost passes the HostEffects contract, and records what a test needs to see."""

import ipaddress
from collections.abc import Callable

import pytest

from pylvs.system.effects import AddressSpec, HostEffects, HostError, RouteSpec, table_number
from pylvs.system.fake import FakeHost
from tests.unit.system import contract


def fresh() -> FakeHost:
    host = FakeHost()
    host.add_link("eth0", addresses=[ipaddress.ip_interface("10.0.0.1/24")])
    return host


@pytest.mark.parametrize("check", contract.CHECKS, ids=lambda c: c.__name__)
def test_fake_passes_contract(check: Callable[[HostEffects, str], None]) -> None:
    check(fresh(), "eth0")


def test_calls_are_recorded_in_order() -> None:
    host = fresh()
    vip = AddressSpec(ipaddress.ip_interface("10.0.0.9/32"), "eth0")
    host.add_address(vip)
    host.send_frame("eth0", b"\xff" * 42)
    host.remove_address(vip)
    assert [c[0] for c in host.calls] == ["add_address", "send_frame", "remove_address"]
    assert host.frames == [("eth0", b"\xff" * 42)]
    assert host.addresses("eth0") == (ipaddress.ip_interface("10.0.0.1/24"),)


def test_link_state_change() -> None:
    host = fresh()
    host.set_link("eth0", up=False)
    link = host.link("eth0")
    assert link is not None and not link.up


def test_table_names() -> None:
    assert table_number(None) == 254
    assert table_number("local") == 255
    assert table_number("100") == 100
    with pytest.raises(HostError):
        table_number("no-such-table", rt_tables="/nonexistent")


def test_route_from_model_takes_instance_interface() -> None:
    from pylvs.model.vrrp_spec import VirtualRoute

    r = VirtualRoute(
        ipaddress.ip_network("192.168.113.0/24"), via=ipaddress.ip_address("10.0.0.254")
    )
    spec = RouteSpec.from_model(r, "eth1")
    assert (spec.family, spec.dev, spec.table) == (4, "eth1", 254)
    blackhole = RouteSpec.from_model(
        VirtualRoute(ipaddress.ip_network("10.9.0.0/16"), "blackhole"), "eth1"
    )
    assert blackhole.dev is None
