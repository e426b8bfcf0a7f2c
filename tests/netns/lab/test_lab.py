"""The lab end to end without failover: up, traffic through the MASTER with the weights'
distribution, a dead real server taken out by TCP_CHECK, exec, and `down` leaving nothing."""

import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from pylvs.lab import commands, netns, nodes, operate
from pylvs.lab.topology import LabError, Mode
from tests.netns.lab.conftest import MakeLab
from tests.netns.lab.labload import Load

pytestmark = pytest.mark.root


def leftovers(lab: commands.Lab) -> list[str]:
    found = list(netns.lab_namespaces(lab.topo.lab_id))
    if lab.paths.dir.exists():
        found.append(str(lab.paths.dir))
    return found


def test_dr_up_weights_distribution_and_down_leaves_nothing(make_lab: MakeLab) -> None:
    lab = make_lab(weights=(3, 1))
    assert "ipvsadm -a -t 10.164.122.8:80 -r 10.164.122.9:80 -g -w 3" in lab.up_output
    assert str(lab.paths.conf("dir1")) in lab.up_output
    pids = [nodes.running(lab.paths, p) for p in ("dir1-pylvs", "rs1-httpd", "rs2-httpd")]
    assert all(pids)
    # wrr with weights 3:1 (ip_vs_wrr.c) over 40 new connections: exactly 30 and 10.
    answers = [a for _, a in operate.probe(lab, 40)]
    assert Counter(answers) == {"rs1": 30, "rs2": 10}
    # The real servers hold the VIP on lo with the ARP sysctls (pylvs realserver start).
    rs1 = lab.topo.ns("rs1")
    assert "10.164.122.8/32" in netns.ip(rs1, "-4", "addr", "show", "dev", "lo")
    assert netns.in_ns(rs1, "sysctl", "-n", "net.ipv4.conf.all.arp_ignore").strip() == "1"
    listing = lab.ipvsadm(lab.masters()[0], "-Ln")
    assert "TCP  10.164.122.8:80 wrr" in listing
    assert "-> 10.164.122.10:80             Route   1" in listing
    lines: list[str] = []
    commands.status(lab.topo.lab_id, out=lines.append)
    assert any(line.startswith("dir1 prio 100: MASTER") for line in lines), lines
    assert "rs2 10.164.122.10:80: up" in lines
    commands.down(lab.topo.lab_id, out=lambda _line: None)
    assert leftovers(lab) == []
    assert not any(nodes.alive(pid, "") for pid in pids)


def test_nat_real_server_death_no_failure_after_detection(make_lab: MakeLab) -> None:
    lab = make_lab(mode=Mode.NAT, weights=(1, 1), real_servers=2)
    master = lab.masters()[0]
    assert Counter(a for _, a in operate.probe(lab, 20)) == {"rs1": 10, "rs2": 10}
    load = Load(lab, duration=6.0)
    time.sleep(1.0)
    t_fail = time.monotonic()
    operate.fail(lab.topo.lab_id, "rs", "1", out=lambda _line: None)
    detected = None
    while time.monotonic() - t_fail < 5.0:
        if "10.164.123.9:8080" not in lab.ipvsadm(master, "-Ln"):
            detected = time.monotonic()
            break
        time.sleep(0.02)
    results = load.results()
    assert detected is not None, "TCP_CHECK did not take rs1 out within 5 s"
    # delay_loop 1 + connect refused + retry 1 after delay_before_retry 1: about 2 s.
    assert detected - t_fail < 4.0
    failures = [t for t, a in results if not a]
    assert all(t < detected + 0.2 for t in failures), (detected, failures[-3:])
    late = [a for t, a in results if t > detected + 0.2]
    assert len(late) > 100 and set(late) == {"rs2"}
    operate.heal(lab.topo.lab_id, "rs", "1", out=lambda _line: None)
    deadline = time.monotonic() + 5
    while "10.164.123.9:8080" not in lab.ipvsadm(master, "-Ln") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(a for _, a in operate.probe(lab, 10)) == {"rs1", "rs2"}


def test_without_vrrp_driver_the_vip_is_put_on_dir1(
    make_lab: MakeLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nodes, "vrrp_available", lambda: False)
    lab = make_lab(real_servers=1)
    assert lab.state.static_vip
    assert lab.masters() == ["dir1"]
    assert not nodes.running(lab.paths, "dir1-vrrp")
    assert "VRRP driver not available" in lab.up_output
    assert [a for _, a in operate.probe(lab, 3)] == ["rs1"] * 3


def test_exec_and_down_of_a_crashed_lab(make_lab: MakeLab) -> None:
    lab = make_lab(real_servers=1)
    done = subprocess.run(
        ["python", "-m", "pylvs.cli.lab", "--id", lab.topo.lab_id, "exec", "rs1", "--",
         "cat", "/proc/sys/net/ipv4/conf/lo/arp_announce"],
        capture_output=True, text=True, env=nodes._env(), check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "2"
    # A crash of the tool: the state file is gone, the namespaces and processes are not.
    pid = nodes.running(lab.paths, "dir1-pylvs")
    Path(lab.paths.state).unlink()
    commands.down(lab.topo.lab_id, out=lambda _line: None)
    assert leftovers(lab) == []
    assert not nodes.alive(pid, "pylvs")


def test_not_root_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="needs root"):
        commands.require_root()
