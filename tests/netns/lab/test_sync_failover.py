"""Connection sync across a failover (issue 24 point 5), on the lab's seed-000 pair with the
nftables plane: `lvs_sync_daemon eth0 VI_1` on both directors, rr over two real servers.

20 long-lived connections from the client (a request every 100 ms on each, every answer
naming its real server); the master dies (SIGKILL and links down) or stops gracefully, the
backup takes the VIP, and every connection goes on through it to the same real server with
no reset and no lost answer: the backup holds the master's flows (DR: its flow map; NAT:
conntrack entries with their DNAT binding).  Two persistent clients keep their real servers.

Before the failover rs1 is quiesced on the backup (weight 0, `pylvs ipvsadm -e`): a quiesced
server keeps the flows and templates it has but gets no new ones.  So each control case,
the same failover without the sync, fails in a known way: the backup schedules the open
connections' next packets afresh, all to rs2, and exactly the connections that were on rs1
are reset; a persistent client of rs1 moves to rs2."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylvs.lab import netns, nodes, operate
from pylvs.lab.commands import Lab
from pylvs.lab.topology import Mode
from tests.netns.lab.conftest import MakeLab
from tests.netns.lab.labload import wait_masters

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.usefixtures("vrrp_driver")]
HOLD = Path(__file__).with_name("labhold.py")
CONNS = 20
A, B = "10.164.122.100", "10.164.122.101"  # the client, and a second address it gets


def quiet(_line: str) -> None:
    """operate's output, not wanted here."""


def make(make_lab: MakeLab, mode: Mode, sync: bool, persistence: int = 0) -> Lab:
    lab = make_lab(mode=mode, sync=sync, scheduler="rr", weights=(1, 1), persistence=persistence)
    assert wait_masters(lab, ("dir1",), 10.0) is not None
    return lab


def quiesce_rs1_on_dir2(lab: Lab) -> None:
    rs1 = lab.topo.real_servers[0]
    fwd = "-m" if lab.topo.mode is Mode.NAT else "-g"
    out = lab.ipvsadm("dir2", "-e", "-t", f"{lab.topo.vip}:80", "-r",
                      f"{lab.topo.rip(rs1)}:{lab.topo.rs_port}", fwd, "-w", "0")  # fmt: skip
    assert out == "", out


def hold(lab: Lab, seconds: float, n: int = CONNS, source: str = "") -> subprocess.Popen[str]:
    argv = [sys.executable, str(HOLD), str(lab.topo.vip), str(n), str(seconds), "0.1", source]
    return subprocess.Popen(
        ["ip", "netns", "exec", lab.topo.ns("client"), *argv],
        stdout=subprocess.PIPE, text=True, env=nodes._env(),
    )  # fmt: skip


def listed(lab: Lab, director: str, kind: str) -> int:
    """Rows of the director's `-Lnc` in state `kind` (its flow map, conntrack, templates)."""
    return sum(1 for r in lab.ipvsadm(director, "-Lnc").splitlines()[2:] if f" {kind} " in r)


def wait_synced(lab: Lab, kind: str, n: int, sync: bool) -> None:
    # the master's round (1 s) and the sync's flush (2 s) bring them to dir2
    deadline = time.monotonic() + (10.0 if sync else 4.0)
    while listed(lab, "dir2", kind) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (listed(lab, "dir2", kind) >= n) is sync, lab.ipvsadm("dir2", "-Lnc")


def run_failover(lab: Lab, how: str, *, sync: bool) -> list[dict[str, object]]:
    quiesce_rs1_on_dir2(lab)
    proc = hold(lab, 16.0)
    wait_synced(lab, "ESTABLISHED", CONNS, sync)
    operate.fail(lab.topo.lab_id, "master", how=how, out=quiet)
    assert wait_masters(lab, ("dir2",), 8.0) is not None
    out, _ = proc.communicate(timeout=60)
    conns = list(json.loads(out))
    assert len(conns) == CONNS
    first = {str(c["answers"][0]) for c in conns}
    assert first == {"rs1", "rs2"}  # rr spread them over both
    return conns


def check_survived(conns: list[dict[str, object]]) -> None:
    for c in conns:
        answers = c["answers"]
        assert isinstance(answers, list)
        assert c["error"] == "", c
        assert len(answers) >= 60, c  # 16 s at one request per 100 ms, minus the outage
        assert len(set(answers)) == 1, c  # one real server all along


def check_broken_on_rs1(conns: list[dict[str, object]]) -> None:
    for c in conns:
        answers = c["answers"]
        assert isinstance(answers, list)
        if answers[0] == "rs1":
            assert c["error"] != "" and set(answers) == {"rs1"}, c  # reset by rs2
        else:
            assert c["error"] == "" and len(answers) >= 60, c


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "control"])
def test_dr_sigkill_of_master(make_lab: MakeLab, sync: bool) -> None:
    conns = run_failover(make(make_lab, Mode.DR, sync), "crash", sync=sync)
    (check_survived if sync else check_broken_on_rs1)(conns)


def test_dr_graceful_stop_keeps_every_connection(make_lab: MakeLab) -> None:
    check_survived(run_failover(make(make_lab, Mode.DR, True), "stop", sync=True))


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "control"])
def test_nat_sigkill_of_master(make_lab: MakeLab, sync: bool) -> None:
    """NAT: the real servers' gateway moves with the VIP; the backup's conntrack entries
    DNAT the next packets and un-NAT the replies."""
    conns = run_failover(make(make_lab, Mode.NAT, sync), "crash", sync=sync)
    (check_survived if sync else check_broken_on_rs1)(conns)


def ask_from(lab: Lab, source: str) -> str:
    """One new connection from `source` (an address of the client); the real server's name."""
    out, _ = hold(lab, 0.05, 1, source).communicate(timeout=60)
    (conn,) = json.loads(out)
    assert conn["error"] == "" and len(conn["answers"]) == 1, conn
    return str(conn["answers"][0])


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "control"])
def test_persistent_clients_keep_their_real_server(make_lab: MakeLab, sync: bool) -> None:
    """Two persistent clients (persistence_timeout 60) on different real servers: after the
    master dies each one's next connection goes to the same real server (synced templates;
    a quiesced server keeps its templates).  Without the sync both go to rs2."""
    lab = make(make_lab, Mode.DR, sync, persistence=60)
    netns.ip(lab.topo.ns("client"), "addr", "add", f"{B}/24", "dev", "eth0")
    before = {A: ask_from(lab, A), B: ask_from(lab, B)}
    assert set(before.values()) == {"rs1", "rs2"}  # rr: one each
    quiesce_rs1_on_dir2(lab)
    wait_synced(lab, "NONE", 2, sync)
    operate.fail(lab.topo.lab_id, "master", how="crash", out=quiet)
    assert wait_masters(lab, ("dir2",), 8.0) is not None
    after = {A: ask_from(lab, A), B: ask_from(lab, B)}
    assert after == (before if sync else {A: "rs2", B: "rs2"})
