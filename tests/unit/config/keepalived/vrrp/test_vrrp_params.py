"""InstanceParams built from keepalived.conf text through the project's config parser."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface

import pytest

from pylvs.config.keepalived.convert_vrrp import instance_params
from pylvs.proto.vrrp.commands import Vip
from pylvs.proto.vrrp.priority import Tracker, TrackerKind
from tests.unit.config.keepalived.vrrp.vrrp_helpers import parse

CONF = """
global_defs {
    vrrp_garp_master_delay 2
    vrrp_notify_fifo /run/k.fifo
    vrrp_startup_delay 1.5
}
vrrp_script chk {
    script "/bin/true"
    weight -30
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 2
    preempt_delay 10
    authentication {
        auth_type PASS
        auth_pass secret99
    }
    virtual_ipaddress {
        192.168.200.16/24 dev eth1
    }
    virtual_ipaddress_excluded {
        10.1.1.1/32
    }
    track_script {
        chk
    }
    notify /usr/bin/n.sh
    notify_master "/usr/bin/m.sh up"
}
"""


def test_params_from_a_parsed_instance() -> None:
    r = parse(CONF)
    p = instance_params(r.instance(), r.globals)
    assert (p.name, p.vrid, p.priority, p.initial_state, p.version) == (
        "VI_1",
        51,
        150,
        "BACKUP",
        2,
    )
    assert p.adver_int_us == 2_000_000
    assert p.preempt_delay_us == 10_000_000
    assert (p.auth_type, p.auth_data) == (1, b"secret99")
    assert p.vips == (Vip(IPv4Interface("192.168.200.16/24"), "eth1"),)
    assert p.evips == (Vip(IPv4Interface("10.1.1.1/32"), None),)
    assert p.trackers == (Tracker(TrackerKind.SCRIPT, "chk", -30),)
    assert p.garp_master_delay_us == 2_000_000
    assert p.startup_delay_us == 1_500_000
    assert p.notifies.generic == ("/usr/bin/n.sh",)
    assert p.notifies.master == ("/usr/bin/m.sh", "up")
    assert p.notifies.fifo
    assert p.mcast_group4 == IPv4Address("224.0.0.18")


def test_strict_mode_forces_rfc_behaviour() -> None:
    conf = """
global_defs {
    vrrp_strict
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 255
    virtual_ipaddress {
        192.168.200.16
    }
}
"""
    r = parse(conf)
    p = instance_params(r.instance(), r.globals)
    assert p.strict_mode and p.lower_prio_no_advert and not p.higher_prio_send_advert
    assert p.garp_lower_prio_repeat == 0 and p.owner_ignore_adverts
    assert p.initial_state == "MASTER"


def test_ah_is_refused() -> None:
    conf = CONF.replace("auth_type PASS", "auth_type AH")
    r = parse(conf)
    assert r.instance().authentication is not None
    with pytest.raises(ValueError, match="AH"):
        instance_params(r.instance(), r.globals)
