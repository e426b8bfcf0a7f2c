"""`pylvs run` as a VRRP node: restarts after a crash, --dont-release-vrrp, the VRRP dumps.

Issue 18 item 13: after `kill -9` the restarted daemon came back as BACKUP still holding the
VIPs (with nopreempt both nodes held them 30 s later); keepalived removes them at start.
Issue 19: `-V/--dont-release-vrrp` leaves them on stop; SIGUSR2/SIGJSON write keepalived's
statistics and JSON dumps (the statistics line for line as keepalived 2.2.7 writes them).
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.netns.vrrp.conftest import Confs, Lab, Node, Proc

VIP = "10.77.0.100"
GOLDEN = Path(__file__).parents[2] / "data" / "dumps" / "keepalived-2.2.7"


def wait_until(pred: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def run(node: Node, conf: str, *flags: str) -> Proc:
    tmp = node.lab.tmp
    path = node.write("run.conf", conf)
    argv = ["env", f"TMPDIR={tmp}", sys.executable, "-m", "pylvs", "run", "-n", "-P"]
    argv += ["-f", str(path), "--control", str(tmp / f"{node.name}.sock")]
    argv += ["-p", str(tmp / f"{node.name}.pid"), "-r", str(tmp / f"{node.name}-v.pid")]
    return node.spawn([*argv, *flags], "run")


def test_a_restarted_backup_removes_the_vips_its_killed_predecessor_left(
    lab: Lab, conf: type[Confs]
) -> None:
    a, b = lab.node("a"), lab.node("b")
    pa = run(a, conf.config(conf.instance(priority=150, state="MASTER")))
    lab.expect(VIP, ["a"], 10)
    run(b, conf.config(conf.instance(priority=100, nopreempt=True)))
    pa.kill()  # kill -9: the VIP stays on a
    assert a.has(VIP)
    lab.expect(VIP, ["a", "b"], 10)  # b took over; a's copy is stale
    run(a, conf.config(conf.instance(priority=150, nopreempt=True)))  # seed 000's recipe
    lab.expect(VIP, ["b"], 5)
    assert "left by a previous run removed" in lab.procs[-1].text()
    lab.stays(VIP, ["b"], 2)


def test_dont_release_vrrp_leaves_the_vip_and_the_next_start_clears_it(
    lab: Lab, conf: type[Confs]
) -> None:
    a = lab.node("a")
    text = conf.config(conf.instance(priority=150, state="MASTER"))
    p = run(a, text, "--dont-release-vrrp")
    lab.expect(VIP, ["a"], 10)
    assert p.stop() == 0
    assert a.has(VIP)  # left in place, as keepalived -V does
    p = run(a, conf.config(conf.instance(priority=100, advert_int=5)))  # stays BACKUP for 15 s
    lab.expect(VIP, [], 5)
    assert p.stop() == 0
    p = run(a, text)
    lab.expect(VIP, ["a"], 10)
    assert p.stop() == 0
    assert not a.has(VIP)  # released by default


def test_stats_and_json_dumps_have_keepalived_s_shape(lab: Lab, conf: type[Confs]) -> None:
    a = lab.node("a")
    p = run(a, conf.config(conf.instance(priority=150, state="MASTER")))
    lab.expect(VIP, ["a"], 10)
    stats, data = lab.tmp / "keepalived.stats", lab.tmp / "keepalived.json"
    p.signal(signal.SIGUSR2)
    p.signal(signal.SIGRTMIN + 2)  # keepalived's SIGJSON
    p.signal(signal.SIGUSR1)
    assert wait_until(lambda: stats.exists() and data.exists(), 5), p.text()
    assert wait_until((lab.tmp / "keepalived.data").exists, 5), p.text()
    numbers = re.compile(r"\d+")
    golden = (GOLDEN / "keepalived.stats").read_text()
    assert numbers.sub("N", stats.read_text()) == numbers.sub("N", golden)
    assert re.search(r"  Became master: 1\n", stats.read_text())
    (ours,) = json.loads(data.read_text())
    (theirs,) = json.loads((GOLDEN / "keepalived.json").read_text())
    assert set(ours) == {"data", "stats"}
    assert list(ours["stats"]) == list(theirs["stats"])
    assert set(ours["data"]) <= set(theirs["data"])
    assert ours["data"]["iname"] == "VI_1" and ours["data"]["state"] == 2  # MASTER
    text = (lab.tmp / "keepalived.data").read_text()
    assert " VRRP Instance = VI_1\n   VRRP Version = 2\n   State = MASTER\n" in text
    assert f"     {VIP}/24 dev eth0 scope global set\n" in text
    assert p.alive()
    assert p.stop() == 0
