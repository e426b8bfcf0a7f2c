"""The seeds' walkthroughs with the directors on the kernel's IPVS: `pylvs lab up --dataplane
ipvs` (docs/walkthrough.md) in the VM.

Seed 000: the LVS-DR + Keepalived pair (two directors sharing the VIP by VRRP, two web servers
set up by realserver.sh, wrr 3:3), requests through the VIP, each director's `ipvsadm -Ln` from
its own kernel table, the MASTER stopped and the BACKUP taking over.  Seed 002's NAT lab: wrr
with weights 1 and 2 behind the directors.  The lab commands run in this process (`pylvs lab
...` is `pylvs.cli.main.main`), the daemons and web servers they start are processes.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess

import pytest

from pylvs.cli.main import main as pylvs


def lab(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = pylvs(["lab", *argv])
    return rc, out.getvalue()


@pytest.fixture(autouse=True)
def patience(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python is ~20x slower in the VM: the lab waits longer for its processes to start.
    monkeypatch.setenv("PYLVS_LAB_PATIENCE", "8")


def kernel_table(lab_id: str, node: str) -> str:
    done = subprocess.run(
        ["ip", "netns", "exec", f"pylvs-{lab_id}-{node}", "ipvsadm", "-Ln"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout


def shares(text: str) -> dict[str, int]:
    return {m[0]: int(m[1]) for m in re.findall(r"^\s+(rs\d)\s+(\d+)\s", text, re.M)}


def test_seed_000_dr_pair_on_ipvs() -> None:
    rc, text = lab("--id", "vmdr", "up", "--dataplane", "ipvs")
    try:
        assert rc == 0, text
        assert "MASTER: dir1" in text
        for director in ("dir1", "dir2"):  # each director programs its own kernel table
            table = kernel_table("vmdr", director)
            assert re.search(r"TCP  10\.164\.122\.8:80 wrr\n.*10\.164\.122\.9:80 +Route +3", table,
                             re.S), table  # fmt: skip
        rc, text = lab("--id", "vmdr", "curl", "-n", "12")
        assert rc == 0 and shares(text) == {"rs1": 6, "rs2": 6}, text
        rc, text = lab("--id", "vmdr", "status")
        assert rc == 0 and "dir1 prio 100: MASTER" in text, text
        assert "-> 10.164.122.10:80             Route   3" in text
        rc, text = lab("--id", "vmdr", "fail", "master", "--how", "stop")
        assert rc == 0 and "dir2 is MASTER" in text, text
        # pylvs on dir1 stopped: what it created left dir1's kernel
        assert "10.164.122.8" not in kernel_table("vmdr", "dir1")
        rc, text = lab("--id", "vmdr", "curl", "-n", "6")
        assert rc == 0 and shares(text) == {"rs1": 3, "rs2": 3}, text
    finally:
        rc, text = lab("--id", "vmdr", "down")
    assert rc == 0, text
    assert not [n for n in os.listdir("/run/netns") if n.startswith("pylvs-vmdr-")]


def test_seed_002_nat_lab_on_ipvs() -> None:
    rc, text = lab("--id", "vmnat", "up", "--dataplane", "ipvs", "--mode", "nat",
                   "--weights", "1,2")  # fmt: skip
    try:
        assert rc == 0, text
        assert "Masq    2" in kernel_table("vmnat", "dir1")
        rc, text = lab("--id", "vmnat", "curl", "-n", "12")
        assert rc == 0 and shares(text) == {"rs1": 4, "rs2": 8}, text
    finally:
        rc, text = lab("--id", "vmnat", "down")
    assert rc == 0, text
