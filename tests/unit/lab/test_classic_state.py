"""The classic commands printed by `lab up`, the state file, the CLI's option checks."""

import argparse
from pathlib import Path

import pytest

from pylvs.cli.lab import _options, configure
from pylvs.lab.classic import classic_text, director_lines, realserver_lines
from pylvs.lab.state import LabPaths, LabState
from pylvs.lab.topology import LabError, LabOptions, Mode, plan


def test_dr_director_lines_are_seed_003_vip_sh() -> None:
    lines = director_lines(plan(LabOptions(weights=(3, 1), persistence=60)))
    assert lines[1:] == [
        "ipvsadm -C",
        "ipvsadm -A -t 10.164.122.8:80 -s wrr -p 60",
        "ipvsadm -a -t 10.164.122.8:80 -r 10.164.122.9:80 -g -w 3",
        "ipvsadm -a -t 10.164.122.8:80 -r 10.164.122.10:80 -g -w 1",
    ]
    assert lines[0].startswith("ip addr add 10.164.122.8/32 dev eth0")


def test_nat_lines_forward_and_route_through_the_gateway() -> None:
    topo = plan(LabOptions(mode=Mode.NAT, scheduler="rr"))
    lines = director_lines(topo)
    assert "sysctl -w net.ipv4.ip_forward=1" in lines
    assert "ipvsadm -a -t 10.164.122.8:80 -r 10.164.123.9:8080 -m -w 3" in lines
    assert "ipvsadm -A -t 10.164.122.8:80 -s rr" in lines
    assert realserver_lines(topo) == ["ip route replace default via 10.164.123.1"]


def test_dr_real_server_lines_are_realserver_sh() -> None:
    lines = [line.split("#")[0].strip() for line in realserver_lines(plan(LabOptions()))]
    assert lines == [
        "ip addr add 10.164.122.8/32 dev lo",
        "ip route add 10.164.122.8/32 dev lo",
        "sysctl -w net.ipv4.conf.lo.arp_ignore=1",
        "sysctl -w net.ipv4.conf.lo.arp_announce=2",
        "sysctl -w net.ipv4.conf.all.arp_ignore=1",
        "sysctl -w net.ipv4.conf.all.arp_announce=2",
    ]
    assert "# on each DR real server" in classic_text(plan(LabOptions()))


def test_state_round_trip(tmp_path: Path) -> None:
    paths = LabPaths("t1", base=tmp_path)
    opts = LabOptions(lab_id="t1", mode=Mode.NAT, weights=(2, 1), vrrp_version=3,
                      advert_int=0.5, preempt_delay=3)  # fmt: skip
    LabState(opts, static_vip=True, failed={"dir1": "crash:master"}).save(paths)
    back = LabState.load(paths)
    assert back is not None
    assert back.options == opts and back.static_vip and back.failed == {"dir1": "crash:master"}
    assert paths.conf("dir2") == tmp_path / "t1" / "dir2.keepalived.conf"
    assert LabState.load(LabPaths("none", base=tmp_path)) is None


def parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    configure(p)
    return p.parse_args(list(argv))


def test_cli_options() -> None:
    opts = _options(parse("--id", "x1", "up", "--mode", "nat", "--weights", "3,1",
                          "--vrrp-version", "3", "--advert-int", "0.5", "--nopreempt"))  # fmt: skip
    assert opts == LabOptions(lab_id="x1", mode=Mode.NAT, weights=(3, 1), vrrp_version=3,
                              advert_int=0.5, nopreempt=True)  # fmt: skip
    with pytest.raises(LabError, match="unknown scheduler 'fastest'"):
        _options(parse("up", "--scheduler", "fastest"))
    with pytest.raises(LabError, match="integers"):
        _options(parse("up", "--weights", "3;1"))
    args = parse("exec", "rs1", "--", "ip", "addr")
    assert args.node == "rs1" and args.argv == ["ip", "addr"]
