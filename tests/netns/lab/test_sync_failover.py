"""Connection sync across a failover (issue 24 point 5), on the lab's seed-000 pair with the
nftables plane in DR: `lvs_sync_daemon eth0 VI_1` on both directors, 20 long-lived
connections from the client (a request every 100 ms on each, every answer naming its real
server); the master dies (SIGKILL and links down) or stops gracefully, the backup takes the
VIP, and every connection goes on through it to the same real server with no reset and no
lost answer, because the backup's DR flow map holds the master's flows.  Without the sync the
backup schedules the open connections' next packets afresh (rr over two servers): about half
of them would reach the other server and be reset, which the control case shows."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labload import wait_masters

from pylvs.lab import nodes, operate
from pylvs.lab.commands import Lab

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.usefixtures("vrrp_driver")]
QUIET = {"out": lambda _line: None}
HOLD = Path(__file__).with_name("labhold.py")
CONNS = 20


def hold(lab: Lab, seconds: float) -> subprocess.Popen[str]:
    argv = [sys.executable, str(HOLD), str(lab.topo.vip), str(CONNS), str(seconds)]
    return subprocess.Popen(
        ["ip", "netns", "exec", lab.topo.ns("client"), *argv],
        stdout=subprocess.PIPE, text=True, env=nodes._env(),
    )  # fmt: skip


def synced_flows(lab: Lab, director: str) -> int:
    """Connections the director's table lists (its DR flow map)."""
    rows = lab.ipvsadm(director, "-Lnc").splitlines()[2:]
    return sum(1 for r in rows if "ESTABLISHED" in r)


def run_failover(lab: Lab, how: str, *, sync: bool = True) -> list[dict[str, object]]:
    assert wait_masters(lab, ("dir1",), 10.0) is not None
    # Put dir1's rr one pick ahead of dir2's (whose first pick is rs1): a backup that
    # scheduled the open connections afresh would then send each to the other server (the
    # two rr would otherwise agree by chance, the flows arriving in their opening order).
    for _ in range(3):
        if [a for _, a in operate.probe(lab, 1)] == ["rs1"]:
            break
    proc = hold(lab, 16.0)
    # the master's round (1 s) and the sync's flush (2 s) bring the flows to dir2
    deadline = time.monotonic() + (8.0 if sync else 4.0)
    while synced_flows(lab, "dir2") < CONNS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (synced_flows(lab, "dir2") >= CONNS) is sync, lab.ipvsadm("dir2", "-Lnc")
    operate.fail(lab.topo.lab_id, "master", how=how, **QUIET)
    assert wait_masters(lab, ("dir2",), 8.0) is not None
    out, _ = proc.communicate(timeout=60)
    return list(json.loads(out))


def check_survived(conns: list[dict[str, object]]) -> None:
    assert len(conns) == CONNS
    for c in conns:
        answers = c["answers"]
        assert isinstance(answers, list)
        assert c["error"] == "", c
        assert len(answers) >= 60, c  # 16 s at one request per 100 ms, minus the outage
        assert len(set(answers)) == 1, c  # one real server all along
    servers = {c["answers"][0] for c in conns}  # type: ignore[index]
    assert servers == {"rs1", "rs2"}  # rr spread them: a fresh pick would move some


def test_sigkill_of_master_keeps_every_connection(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(sync=True, scheduler="rr", weights=(1, 1))
    check_survived(run_failover(lab, "crash"))


def test_graceful_stop_keeps_every_connection(make_lab) -> None:  # type: ignore[no-untyped-def]
    lab = make_lab(sync=True, scheduler="rr", weights=(1, 1))
    check_survived(run_failover(lab, "stop"))


def test_without_sync_open_connections_break(make_lab) -> None:  # type: ignore[no-untyped-def]
    """The control case: the same failover without lvs_sync_daemon loses connections."""
    lab = make_lab(scheduler="rr", weights=(1, 1))
    conns = run_failover(lab, "crash", sync=False)
    broken = [c for c in conns if c["error"] or len(set(c["answers"])) > 1]  # type: ignore[arg-type]
    assert len(broken) == CONNS, conns
