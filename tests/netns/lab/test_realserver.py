"""`pylvs realserver start|stop` in a throw-away namespace: VIP /32 on lo, host route, ARP
sysctls; stop undoes all of it and puts back the sysctls that were there before."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pylvs.lab import nodes
from tests.netns.lab.conftest import missing

pytestmark = pytest.mark.root


@pytest.fixture
def ns() -> Iterator[str]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    name = f"plrs{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def sh(ns: str, *argv: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True,
                          check=True, env=nodes._env())  # fmt: skip
    return done.stdout


def sysctls(ns: str) -> list[str]:
    return [sh(ns, "sysctl", "-n", f"net.ipv4.conf.{i}.{k}").strip()
            for i in ("lo", "all") for k in ("arp_ignore", "arp_announce")]  # fmt: skip


def test_start_stop_restores_previous_values(ns: str) -> None:
    sh(ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_announce=1")
    before = sysctls(ns)
    assert before == ["0", "0", "0", "1"]
    cli = [sys.executable, "-m", "pylvs.cli.realserver"]
    out = sh(ns, *cli, "start", "--vip", "10.9.9.8")
    assert "RealServer Start OK" in out
    assert sysctls(ns) == ["1", "2", "1", "2"]
    assert "inet 10.9.9.8/32 scope global lo" in sh(ns, "ip", "-4", "addr", "show", "dev", "lo")
    assert "10.9.9.8 dev lo" in sh(ns, "ip", "route", "show", "10.9.9.8/32")
    # Starting again changes nothing and does not forget the original values.
    sh(ns, *cli, "start", "--vip", "10.9.9.8")
    out = sh(ns, *cli, "stop", "--vip", "10.9.9.8")
    assert "RealServer Stopped" in out
    assert sysctls(ns) == before
    assert "10.9.9.8" not in sh(ns, "ip", "-4", "addr", "show", "dev", "lo")
    assert sh(ns, "ip", "route", "show", "10.9.9.8/32") == ""


def test_bad_vip_refused(ns: str) -> None:
    done = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "pylvs.cli.realserver", "start",
         "--vip", "10.9.9"], capture_output=True, text=True, env=nodes._env(), check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "not an IP address" in done.stderr
