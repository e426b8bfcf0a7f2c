"""NetlinkHost in a namespace: the HostEffects contract, GARPs on the wire, no_accept."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.netns.vrrp.conftest import Confs, Lab

VIP = "10.77.0.100"
pytestmark = pytest.mark.root
RUNNER = Path(__file__).with_name("contract_runner.py")


def test_netlink_host_passes_contract(lab: Lab) -> None:
    a = lab.node("a")
    done = subprocess.run(
        ["ip", "netns", "exec", a.ns, sys.executable, str(RUNNER), "eth0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "9 checks passed, 0 failed" in done.stdout


def test_gratuitous_arp_moves_the_clients_neighbour_entry(lab: Lab, conf: type[Confs]) -> None:
    a, b, c = lab.node("a"), lab.node("b"), lab.node("c")
    c.sysctl("net.ipv4.conf.eth0.arp_accept", "1")  # let a GARP create the entry
    c.sysctl("net.ipv4.neigh.eth0.locktime", "0")
    pa = a.pylvs(conf.config(conf.instance(priority=150, version=3, advert_int=0.1)))
    b.pylvs(conf.config(conf.instance(priority=100, version=3, advert_int=0.1)))
    lab.expect(VIP, ["a"], 5)
    assert lab_wait(lambda: c.neighbour(VIP) == a.mac()), c.neighbour(VIP)
    a.crash(pa, f"{VIP}/24")
    lab.expect(VIP, ["b"], 2)
    assert lab_wait(lambda: c.neighbour(VIP) == b.mac()), c.neighbour(VIP)


@pytest.mark.parametrize("accept", [True, False])
def test_accept_and_no_accept(lab: Lab, conf: type[Confs], accept: bool) -> None:
    a, c = lab.node("a"), lab.node("c")
    extra = "    accept" if accept else "    no_accept"
    pa = a.pylvs(conf.config(conf.instance(priority=150, version=3, advert_int=0.1, extra=extra)))
    lab.expect(VIP, ["a"], 5)
    assert c.answers(VIP) is accept
    assert c.answers(a.ip)  # only traffic to the VIP is dropped
    table = subprocess.run(
        ["ip", "netns", "exec", a.ns, "nft", "list", "table", "inet", "pylvs_vrrp"],
        capture_output=True,
        text=True,
    )
    assert (table.returncode == 0) is not accept
    pa.stop()
    gone = subprocess.run(
        ["ip", "netns", "exec", a.ns, "nft", "list", "table", "inet", "pylvs_vrrp"],
        capture_output=True,
        text=True,
    )
    assert gone.returncode != 0  # the table goes with the daemon


def lab_wait(pred: Callable[[], bool], timeout: float = 3.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()
