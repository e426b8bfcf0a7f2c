"""tests/vm: what needs the kernel's IPVS.  They run inside the IPVS VM (tests/vm/ivm.py boots
it and runs this folder as one pytest process); anywhere else they are skipped, with the way
to run them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# The data-plane contract lives with the unit tests (it also runs against the fake and proxy).


def _why_not() -> str | None:
    if os.environ.get("IN_IPVS_VM") != "1":
        return "needs the kernel's IPVS: run `python3 tests/vm/ivm.py` (boots the IPVS VM)"
    if os.geteuid() != 0:
        return "needs root in the IPVS VM"
    if not os.path.exists("/proc/net/ip_vs"):
        subprocess.run(["modprobe", "ip_vs"], capture_output=True, check=False)
    if not os.path.exists("/proc/net/ip_vs"):
        return "the VM's kernel has no ip_vs module"
    return None


WHY_NOT = _why_not()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if WHY_NOT is None:
        return
    here = Path(__file__).parent
    mark = pytest.mark.skip(reason=WHY_NOT)
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(mark)
