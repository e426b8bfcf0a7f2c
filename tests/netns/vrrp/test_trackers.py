"""Trackers and notifications on real interfaces, files and scripts (issue 5 points 5 and 6):
track_interface -> FAULT, track_file weight, vrrp_script, sync group FAULT, notify + FIFO."""

import time
from pathlib import Path

import pytest

from tests.netns.vrrp.conftest import Confs, Lab

VIP, VIP2 = "10.77.0.100", "10.77.0.101"
pytestmark = pytest.mark.root


def fast(
    conf: type[Confs],
    name: str = "VI_1",
    *,
    vrid: int = 51,
    priority: int = 100,
    vips: tuple[str, ...] = ("10.77.0.100/24",),
    extra: str = "",
) -> str:
    return conf.instance(
        name, vrid=vrid, priority=priority, version=3, advert_int=0.1, vips=vips, extra=extra
    )


def test_track_interface_fault_moves_the_vip(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    a.add_veth("eth1")
    a.pylvs(
        conf.config(fast(conf, priority=150, extra="    track_interface {\n        eth1\n    }"))
    )
    b.pylvs(conf.config(fast(conf, priority=100)))
    lab.expect(VIP, ["a"], 5)
    a.set_link(False, "eth1p")  # eth1 loses carrier: weight 0 -> FAULT
    lab.expect(VIP, ["b"], 2)
    a.set_link(True, "eth1p")
    lab.expect(VIP, ["a"], 3)


def test_track_file_weight_lowers_priority(lab: Lab, conf: type[Confs], tmp_path: Path) -> None:
    a, b = lab.node("a"), lab.node("b")
    f = tmp_path / "weight"
    f.write_text("0\n")
    track = f'track_file tf {{\n    file "{f}"\n    weight -60\n}}\n'
    inst = fast(conf, priority=150, extra="    track_file {\n        tf\n    }")
    a.pylvs(track + conf.config(inst))
    b.pylvs(conf.config(fast(conf, priority=100)))
    lab.expect(VIP, ["a"], 5)
    f.write_text("1\n")  # 150 + 1 x -60 = 90 < 100: b preempts
    lab.expect(VIP, ["b"], 3)
    f.write_text("0\n")
    lab.expect(VIP, ["a"], 3)


def test_vrrp_script_failure_faults_the_instance(
    lab: Lab, conf: type[Confs], tmp_path: Path
) -> None:
    a, b = lab.node("a"), lab.node("b")
    flag = tmp_path / "healthy"
    flag.write_text("")
    script = (
        f'vrrp_script chk {{\n    script "/usr/bin/test -e {flag}"\n    interval 0.2\n'
        "    fall 2\n    rise 1\n}\n"
    )
    inst = fast(conf, priority=150, extra="    track_script {\n        chk\n    }")
    pa = a.pylvs(script + conf.config(inst))
    b.pylvs(conf.config(fast(conf, priority=100)))
    lab.expect(VIP, ["a"], 5)
    flag.unlink()
    lab.expect(VIP, ["b"], 3)
    assert "VRRP_Script(chk) failed" in pa.text()
    flag.write_text("")
    lab.expect(VIP, ["a"], 3)
    assert "VRRP_Script(chk) succeeded" in pa.text()


def test_sync_group_fault_takes_all_members_down(lab: Lab, conf: type[Confs]) -> None:
    a, b = lab.node("a"), lab.node("b")
    a.add_veth("eth1")
    group = "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n"

    def pair(prio: int, track: bool) -> str:
        extra = "    track_interface {\n        eth1\n    }" if track else ""
        return group + conf.config(
            fast(conf, name="VI_1", vrid=51, priority=prio, extra=extra),
            fast(conf, name="VI_2", vrid=52, priority=prio, vips=(f"{VIP2}/24",)),
        )

    a.pylvs(pair(150, True))
    b.pylvs(pair(100, False))
    lab.expect(VIP, ["a"], 5)
    lab.expect(VIP2, ["a"], 2)
    a.set_link(False, "eth1p")  # only VI_1 tracks eth1; the group takes VI_2 along
    lab.expect(VIP, ["b"], 2)
    lab.expect(VIP2, ["b"], 2)


def test_notify_scripts_and_fifo(lab: Lab, conf: type[Confs], tmp_path: Path) -> None:
    a = lab.node("a")
    out, fifo_out = tmp_path / "notify.out", tmp_path / "fifo.out"
    notify = tmp_path / "notify.sh"
    notify.write_text(f'#!/bin/sh\necho "$@" >> {out}\n')
    reader = tmp_path / "reader.sh"
    reader.write_text(f'#!/bin/sh\ncat "$1" >> {fifo_out}\n')
    for f in (notify, reader):
        f.chmod(0o755)
    fifo = tmp_path / "vrrp.fifo"
    globals_ = f"    vrrp_notify_fifo {fifo}\n    vrrp_notify_fifo_script {reader}\n"
    extra = f'    notify {notify}\n    notify_stop "{notify} stopping"'
    pa = a.pylvs(conf.config(fast(conf, priority=150, extra=extra), globals_=globals_))
    lab.expect(VIP, ["a"], 5)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and "MASTER" not in (out.read_text() if out.exists() else ""):
        time.sleep(0.05)
    assert out.read_text().splitlines()[:2] == [
        "INSTANCE VI_1 BACKUP 150",
        "INSTANCE VI_1 MASTER 150",
    ]
    assert pa.stop() == 0
    lines = out.read_text().splitlines()
    assert "stopping" in lines and "INSTANCE VI_1 STOP 150" in lines
    fifo_lines = fifo_out.read_text().splitlines()
    assert fifo_lines[:2] == ['INSTANCE "VI_1" BACKUP 150', 'INSTANCE "VI_1" MASTER 150']
    log = pa.text()
    assert "(VI_1) Entering BACKUP STATE (init)" in log and "(VI_1) Entering MASTER STATE" in log
