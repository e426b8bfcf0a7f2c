"""Every golden ruleset is accepted by the kernel's nft (`nft -c`, in a fresh namespace)."""

from pathlib import Path

import pytest

from tests.netns.nftables.nsnet import Lab

pytestmark = pytest.mark.root

DATA = Path(__file__).resolve().parents[2] / "data" / "nftables"


def test_golden_files_load(lab: Lab) -> None:
    ns = lab.ns("g")
    lab.sh(ns, "ip link add eth0 type veth peer name eth1 && ip link set eth0 up")
    files = sorted(DATA.glob("*.nft"))
    assert len(files) >= 20
    for path in files:
        lab.sh(ns, f"nft -c -f {path}")
