"""Fixtures of the lab's end-to-end tests: `make_lab(**options)` builds a lab (as `pylvs lab up`
does) whose id carries this test run's pid, and removes it after the test, also on failure.

`vrrp_driver` skips a test that needs VRRP failover while no VRRP driver is installed.
"""

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pylvs.lab import commands
from pylvs.lab.topology import LabOptions


@dataclass
class UpLab(commands.Lab):
    """A lab `make_lab` brought up, with what `pylvs lab up` printed."""

    up_output: str = ""


MakeLab = Callable[..., UpLab]  # make_lab(**LabOptions fields)


def missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (pylvs lab creates network namespaces and nftables rules)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"needs the `{tool}` command"
    return None


@pytest.fixture
def vrrp_driver() -> None:
    if importlib.util.find_spec("pylvs.vrrp.run") is None:
        pytest.skip("the VRRP driver (pylvs.vrrp.run) is not available yet: no failover")


@pytest.fixture
def make_lab() -> Iterator[MakeLab]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    made: list[str] = []

    def make(**kw: Any) -> UpLab:
        lab_id = f"t{os.getpid() % 100000}{len(made)}"
        made.append(lab_id)
        out: list[str] = []
        lab = commands.up(LabOptions(lab_id=lab_id, **kw), out=out.append)
        return UpLab(lab.topo, lab.paths, lab.state, "\n".join(out))

    try:
        yield make
    finally:
        for lab_id in made:
            commands.down(lab_id, out=lambda _line: None)
