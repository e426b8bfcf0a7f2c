"""Seed 004's cluster in the lab: `pylvs lab up --haproxy` runs `pylvs run -f keepalived.conf
-f haproxy.cfg` on each director (keepalived.conf moves the VIP, haproxy.cfg balances), the
client reaches the servers through the VIP in HAProxy's roundrobin order, the stats socket
counts it, and when the MASTER dies the BACKUP's frontend, bound to the VIP before it had it,
serves on."""

import time
from collections import Counter

import pytest

from pylvs.lab import commands, operate
from pylvs.lab.topology import PRIORITIES, master_down_interval
from tests.netns.lab.conftest import MakeLab
from tests.netns.lab.labload import wait_masters

pytestmark = pytest.mark.root


def test_seed004_cluster_balances_counts_and_fails_over(
    make_lab: MakeLab, vrrp_driver: None
) -> None:
    lab = make_lab(haproxy=True, real_servers=3)
    assert str(lab.paths.haproxy_cfg("dir1")) in lab.up_output
    cfg = lab.paths.haproxy_cfg("dir1").read_text()
    assert "listen web\n    bind 10.164.122.8:80\n" in cfg
    assert "ipvsadm -A" not in lab.up_output  # no LVS recipe: HAProxy balances
    assert lab.masters() == ["dir1"]
    answers = [a for _, a in operate.probe(lab, 30)]
    assert Counter(answers) == {"rs1": 10, "rs2": 10, "rs3": 10}
    lines: list[str] = []
    commands.status(lab.topo.lab_id, out=lines.append)
    dir1 = lines[lines.index(next(x for x in lines if x.startswith("dir1 "))) :]
    served = [x.strip() for x in dir1 if x.strip().startswith("web/rs")][:3]  # dir1's rows
    assert len(served) == 3 and all(": UP" in x and "weight 1," in x for x in served), lines
    assert sum(int(line.split()[-3]) for line in served) >= 30  # stot; the checks add none
    # The MASTER dies: the BACKUP, whose frontend was bound to the VIP all along, takes the
    # VIP after its master-down interval and serves.
    operate.fail(lab.topo.lab_id, "master", how="crash", out=lambda _line: None)
    took = wait_masters(lab, ("dir2",), master_down_interval(lab.topo.options, PRIORITIES[1]) + 10)
    assert took is not None, lab.masters()
    time.sleep(0.5)
    after = [a for _, a in operate.probe(lab, 6, timeout=2.0)]
    assert Counter(after) == {"rs1": 2, "rs2": 2, "rs3": 2}, after
