"""At start, what a killed predecessor left (VIPs, excluded VIPs, virtual routes and rules) is
removed, as keepalived's vrrp_restore_interfaces_startup does (issue 18 item 13)."""

from __future__ import annotations

import ipaddress
from collections.abc import ValuesView

from pylvs.system.effects import AddressSpec
from pylvs.system.fake import FakeHost
from pylvs.vrrp.instance import InstanceSetup
from pylvs.vrrp.stale import remove_stale
from pylvs.vrrp.wiring import build_setups

from .test_vrrp_driver import spec_from

CONF = """
vrrp_instance VI_1 {
    state BACKUP
    nopreempt
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.168.200.16/24
        192.168.200.17/24 dev eth1
    }
    virtual_ipaddress_excluded {
        10.0.0.16/32
    }
    virtual_routes {
        10.1.0.0/16 via 192.168.200.254
    }
    virtual_rules {
        from 10.2.0.0/16 table 100
    }
}
"""


def setups() -> ValuesView[InstanceSetup]:
    return build_setups(spec_from(CONF)).values()


def test_leftovers_of_a_previous_run_are_removed() -> None:
    host = FakeHost()
    host.add_link("eth0", addresses=[ipaddress.ip_interface("192.168.200.5/24")])
    host.add_link("eth1")
    (setup,) = setups()
    for spec in setup.addresses:  # what the killed master had added
        host.add_address(spec)
    for route in setup.routes:
        host.add_route(route)
    for rule in setup.rules:
        host.add_rule(rule)
    removed = remove_stale(host, [setup])
    assert len(removed) == 5
    assert host.addresses("eth0") == (ipaddress.ip_interface("192.168.200.5/24"),)
    assert host.addresses("eth1") == ()
    assert host.routes == [] and host.rules == []


def test_nothing_to_remove_is_no_change_and_a_missing_interface_is_no_error() -> None:
    host = FakeHost()
    host.add_link("eth0", addresses=[ipaddress.ip_interface("192.168.200.5/24")])
    (setup,) = setups()  # eth1 does not exist
    assert remove_stale(host, [setup]) == []
    assert not [c for c in host.calls if c[0].startswith("remove")]
    assert AddressSpec(ipaddress.ip_interface("192.168.200.5/24"), "eth0") in host.addrs["eth0"]
