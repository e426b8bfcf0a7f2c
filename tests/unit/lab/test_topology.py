"""The lab's plan: names, addresses, option checks, VRRP timer arithmetic."""

import ipaddress

import pytest

from pylvs.lab.topology import (
    LabError,
    LabOptions,
    Mode,
    Topology,
    diagram,
    master_down_interval,
    plan,
    skew_time,
)


def addr(topo: Topology, node: str, iface: int = 0) -> str:
    return str(topo.node(node).interfaces[iface].address)


def test_dr_plan_mirrors_seed_000_addresses() -> None:
    topo = plan(LabOptions(real_servers=3))
    # Seed 000: VIP .8, WEB1 .9, WEB2 .10 - in the lab's private 10.164.122.0/24.
    assert str(topo.vip) == "10.164.122.8"
    assert [str(topo.rip(rs)) for rs in topo.real_servers] == [
        "10.164.122.9", "10.164.122.10", "10.164.122.11",
    ]  # fmt: skip
    assert addr(topo, "client") == "10.164.122.100/24"
    assert addr(topo, "dir1") == "10.164.122.2/24" and addr(topo, "dir2") == "10.164.122.3/24"
    assert topo.segments == ("front",)
    assert topo.rs_port == 80 and topo.nat_gateway is None
    assert all(rs.gateway is None for rs in topo.real_servers)
    assert topo.node_names == ("client", "dir1", "dir2", "rs1", "rs2", "rs3", "switch")
    assert all(ipaddress.ip_address(str(topo.vip)).is_private for _ in [0])


def test_nat_plan_puts_real_servers_behind_a_floating_gateway() -> None:
    topo = plan(LabOptions(mode=Mode.NAT))
    assert topo.segments == ("front", "back")
    assert [i.name for i in topo.node("dir1").interfaces] == ["eth0", "eth1"]
    assert addr(topo, "dir2", 1) == "10.164.123.3/24"
    assert str(topo.nat_gateway) == "10.164.123.1/24"
    assert [str(rs.gateway) for rs in topo.real_servers] == ["10.164.123.1"] * 2
    assert addr(topo, "rs2") == "10.164.123.10/24"
    assert topo.node("rs1").interfaces[0].segment == "back"
    assert topo.rs_port == 8080  # seed 001: VIP:80 -> RIP:8080


def test_namespace_names_carry_the_lab_id() -> None:
    topo = plan(LabOptions(lab_id="t42"))
    assert topo.ns("dir1") == "pylvs-t42-dir1"
    assert topo.switch == "pylvs-t42-switch"
    with pytest.raises(LabError, match="no node 'rs9'"):
        topo.node("rs9")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lab_id": "Bad-Id"}, "lab id"),
        ({"lab_id": "x" * 11}, "lab id"),
        ({"real_servers": 0}, "--real-servers"),
        ({"real_servers": 9}, "--real-servers"),
        ({"vrrp_version": 4}, "2 or 3"),
        ({"advert_int": 0.5}, "whole seconds"),
        ({"vrrp_version": 3, "advert_int": 0.125}, "0.01 s"),
        ({"advert_int": 0}, "advert-int"),
        ({"nopreempt": True, "preempt_delay": 2}, "exclude"),
        ({"preempt_delay": 1001}, "preempt-delay"),
        ({"weights": (1, 2, 3)}, "2 value"),
        ({"weights": (1, 70000)}, "0..65535"),
        ({"persistence": -1}, "persistence"),
    ],
)
def test_options_refused_with_reason(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(LabError, match=message):
        LabOptions(**kwargs)  # type: ignore[arg-type]


def test_weights_default_to_the_seeds_3() -> None:
    assert LabOptions().weight(2) == 3
    assert LabOptions(weights=(5, 1)).weight(1) == 5


def test_master_down_interval_follows_keepalived_formulas() -> None:
    # v2: 3 x 1 s + (256 - 99) / 256 s (RFC 3768 §6.1).
    assert master_down_interval(LabOptions(), 99) == pytest.approx(3 + 157 / 256)
    assert skew_time(LabOptions(), 100) == pytest.approx(156 / 256)
    # v3: skew scales with the advert interval (RFC 5798 §6.1): 0.5 x 157 / 256.
    v3 = LabOptions(vrrp_version=3, advert_int=0.5)
    assert master_down_interval(v3, 99) == pytest.approx(1.5 + 0.5 * 157 / 256)


def test_diagram_names_every_node_and_the_vip() -> None:
    text = diagram(plan(LabOptions(mode=Mode.NAT)))
    for word in ("10.164.122.100", "VIP 10.164.122.8:80", "prio 100", "prio 99",
                 "rs1 10.164.123.9:8080", "gateway 10.164.123.1", "pylvs-lab-switch"):  # fmt: skip
        assert word in text
