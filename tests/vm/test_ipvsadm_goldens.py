"""The ipvsadm printer goldens of tests/data/ipvsadm against the real ipvsadm.

The unit tests render those files from a sample director (tests/unit/control/ipvsadm/
ipvsadm_samples.py).  Here the same table is built in a kernel with the real ipvsadm and its
listings are compared with the goldens: the save files byte for byte (names through
/etc/hosts and /etc/services), the listings with the connection-count columns read as
numbers (a kernel without traffic counts none; the columns' widths stay checked).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.vm.vm_daemon import real_ipvsadm
from tests.vm.vm_net import namespaces

DATA = Path(__file__).resolve().parents[1] / "data" / "ipvsadm"
TABLE = """\
-A -t 192.168.10.100:80 -s wlc
-a -t 192.168.10.100:80 -r 192.168.10.11:80 -m -w 1 -x 100 -y 50
-a -t 192.168.10.100:80 -r 192.168.10.12:80 -m -w 2
-A -t 192.168.10.100:443 -s sh -p 360 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 192.168.10.100:443 -r 192.168.10.11:443 -g -w 0
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1
-A -u 192.168.10.100:53 -s rr -o
-a -u 192.168.10.100:53 -r 192.168.10.21:53 -i -w 1
-A -f 7 -s wrr
-a -f 7 -r 192.168.10.31:0 -g -w 5
"""
HOSTS = "192.168.10.100 www.example.com\n192.168.10.11 web1\n"


class Kernel(Protocol):
    """The real ipvsadm on the golden table: its output for `argv`."""

    def __call__(self, *argv: str) -> str: ...


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    hosts = Path("/etc/hosts")  # the VM's overlay: the host's file is not touched
    saved = hosts.read_text()
    hosts.write_text(saved + HOSTS)
    try:
        with namespaces("gold"):
            assert real_ipvsadm("-R", stdin=TABLE, netns="gold").rc == 0
            yield lambda *argv: real_ipvsadm(*argv, netns="gold").stdout
    finally:
        hosts.write_text(saved)


def counts_as_zero(text: str) -> str:
    """Dest lines with their numbers after the forwarding column read as 0, padding kept."""

    def zero(m: re.Match[str]) -> str:
        return "0" + " " * (len(m.group(0)) - 1)

    out = []
    for line in text.splitlines(keepends=True):
        if line.startswith("  -> ") and not line.startswith("  -> RemoteAddress"):
            out.append(line[:34] + re.sub(r"\d+ *", zero, line[34:]))
        else:
            out.append(line)
    return "".join(out)


def golden(name: str) -> str:
    return (DATA / name).read_text()


def test_save_goldens_are_the_real_ipvsadm_s(kernel: Kernel) -> None:
    assert kernel("-S", "-n") == golden("save_numeric.txt")
    assert kernel("-S") == golden("save_names.txt")


def test_the_numeric_listing_golden_sorts_and_pads_as_ipvsadm(kernel: Kernel) -> None:
    # 192.168.10.100 before 10.0.0.1: ipvsadm compares the addresses' difference as an int.
    assert counts_as_zero(kernel("-Ln")) == counts_as_zero(golden("list_numeric.txt"))


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("list_thresholds.txt", ("-Ln", "--thresholds", "-t", "192.168.10.100:80")),
        ("list_persistent_conn.txt", ("-Ln", "--persistent-conn", "-t", "192.168.10.100:443")),
    ],
)
def test_listing_goldens(kernel: Kernel, name: str, argv: tuple[str, ...]) -> None:
    expected = golden(name)
    real = kernel(*argv)
    if "--thresholds" in argv:
        # the golden's ActiveConn/InActConn columns come from the sample's traffic
        real, expected = (re.sub(r"(\d+ +\d+ +)\d+ +\d+ +$", r"\1", t, flags=re.M)
                          for t in (real, expected))  # fmt: skip
    else:
        real, expected = counts_as_zero(real), counts_as_zero(expected)
    assert real == expected
