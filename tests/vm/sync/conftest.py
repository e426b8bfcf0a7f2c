"""tests/vm/sync: the connection sync against the kernel's IPVS (issue 24, interop both ways).

They run inside the IPVS VM, as one pytest process:

    /work/shared/ipvs-vm/run-in-vm.sh -- "$PWD/.venv/bin/python" -m pytest -q \
        -p no:cacheprovider tests/vm/sync

Anywhere else they are skipped, saying so.  Builds the
client / real-server namespaces once for the module (directors are made per test).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _why_not() -> str | None:
    if os.environ.get("IN_IPVS_VM") != "1":
        return (
            "needs the kernel's IPVS: run tests/vm/sync in the IPVS VM "
            "(/work/shared/ipvs-vm/run-in-vm.sh -- .venv/bin/python -m pytest tests/vm/sync)"
        )
    if os.geteuid() != 0:
        return "needs root in the IPVS VM"
    subprocess.run(["modprobe", "ip_vs"], capture_output=True, check=False)
    if not os.path.exists("/proc/net/ip_vs"):
        return "the VM's kernel has no ip_vs module"
    return None


WHY_NOT = _why_not()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if WHY_NOT is None:
        return
    mark = pytest.mark.skip(reason=WHY_NOT)
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(mark)


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    """Clients and real servers (threads in their namespaces) for the whole module."""
    from tests.vm.sync import sync_vm_helpers as h

    h.build()
    servers = h.Servers()
    servers.start()
    try:
        yield
    finally:
        servers.stop()
        h.teardown()
