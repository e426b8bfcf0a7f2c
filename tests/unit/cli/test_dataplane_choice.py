"""`pylvs run` without --dataplane: ipvs as root on a kernel with IPVS, else nftables as root,
else proxy; --dataplane forces one; the choice says why."""

import argparse
import os

import pytest

from pylvs.cli import dataplanes
from pylvs.cli.dataplanes import Choice, choose


@pytest.mark.parametrize(
    ("requested", "root", "ipvs", "nft", "name"),
    [
        (None, True, True, True, "ipvs"),
        (None, True, False, True, "nftables"),
        (None, True, False, False, "proxy"),
        (None, False, True, True, "proxy"),
        ("proxy", True, True, True, "proxy"),
        ("ipvs", False, False, False, "ipvs"),
    ],
)
def test_choice(requested: str | None, root: bool, ipvs: bool, nft: bool, name: str) -> None:
    got = choose(requested, root=root, has_ipvs=ipvs, has_nft=nft)
    assert got.name == name and got.reason


def test_the_reasons_say_why() -> None:
    assert choose(None, root=False, has_ipvs=True, has_nft=True) == Choice(
        "proxy", "not running as root (the kernel planes need it)"
    )
    assert "IPVS" in choose(None, root=True, has_ipvs=True, has_nft=False).reason


def test_a_forced_kernel_plane_without_root_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    args = argparse.Namespace(dataplane="ipvs", dr_interface=[])
    with pytest.raises(PermissionError, match="needs root"):
        dataplanes.make_plane(args)
