"""Reloads against a running daemon (a fake data plane, a real control socket and threads):
a reload that adds what the operator is adding by hand, the SIGHUP reloader task, a config
with errors at start (engine/daemon.py)."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from pylvs.config.registry import Loaded
from pylvs.dataplane.fake import FakeDataPlane
from pylvs.engine.daemon import ConfigRefusedError, Daemon, RunOptions
from pylvs.model.service import Protocol, ServiceKey
from pylvs.model.table import AddService, Change

BASE = """
virtual_server 127.0.0.1 8001 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 9001 {
        weight 1
    }
}
"""
ADDED = """
virtual_server 127.0.0.1 8002 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 9002 {
        weight 5
    }
}
"""
KEY = ServiceKey(Protocol.TCP, ipaddress.ip_address("127.0.0.1"), 8002)


class SlowPlane(FakeDataPlane):
    """Adding a service takes a while after it is in the table (the proxy binds and starts
    its listener, the kernel planes commit a transaction): here, until `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.adding = asyncio.Event()
        self.release = asyncio.Event()

    async def apply(self, changes: Sequence[Change]) -> None:
        await super().apply(changes)
        if any(isinstance(c, AddService) for c in changes):
            self.adding.set()
            await self.release.wait()


def daemon(tmp_path: Path, dp: FakeDataPlane, text: str = BASE) -> Daemon:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(text)
    return Daemon(RunOptions(str(conf), str(tmp_path / "s.sock"), grace=0.1), dp)


def test_reload_adding_what_the_operator_is_adding_by_hand(tmp_path: Path) -> None:
    """The operator's `-A` is being applied when the reload that adds the same service
    pushes its table: the reload must see the operator's service and edit it, not add it a
    second time ("Service already exists")."""
    dp = SlowPlane()
    dp.release.set()
    d = daemon(tmp_path, dp)

    async def go() -> None:
        await d.start()
        try:
            (tmp_path / "keepalived.conf").write_text(BASE + ADDED)
            dp.adding.clear()
            dp.release.clear()
            by_hand = asyncio.create_task(d.ipvsadm(["-A", "-t", "127.0.0.1:8002"], ""))
            await dp.adding.wait()
            reloading = asyncio.create_task(d.reload())
            # The reload reads the file and pushes its table within this second; it must
            # then wait for the operator's change to be applied.
            await asyncio.wait({reloading}, timeout=1.0)
            dp.release.set()
            reload = await reloading
            assert (await by_hand).rc == 0
            assert reload.rc == 0, reload.stderr
            entry = d.tables.live[KEY]
            assert entry.service.scheduler == "rr"  # the config's, over the operator's wlc
            assert [(str(r.address), r.port, r.weight) for r in entry.dests] == [
                ("127.0.0.1", 9002, 5)
            ]
        finally:
            await d.shutdown()

    asyncio.run(go())


def test_sighup_reloads_run_in_one_owned_task(tmp_path: Path) -> None:
    """Signals during a reload make one more reload, in the daemon's reloader task, which
    shutdown ends."""
    d = daemon(tmp_path, FakeDataPlane())
    loads = 0
    loading = threading.Event()
    go_on = threading.Event()
    real = d._load_now

    def counting() -> Loaded:
        nonlocal loads
        loads += 1
        loading.set()
        go_on.wait(5)
        return real()

    d._load_now = counting  # type: ignore[method-assign]

    async def go() -> None:
        go_on.set()
        await d.start()
        try:
            (tmp_path / "keepalived.conf").write_text(BASE + ADDED)
            go_on.clear()
            loading.clear()
            d.request_reload()
            task = d._reloader
            assert task is not None
            await asyncio.to_thread(loading.wait, 5)  # the reload is reading the file
            d.request_reload()
            d.request_reload()
            assert d._reloader is task  # no second task
            go_on.set()
            while not task.done():
                await asyncio.sleep(0.01)
            assert KEY in d.tables.live
            assert loads == 1 + 2  # the start, the reload, one more for the two signals
            d.request_reload()
        finally:
            go_on.set()
            await d.shutdown()
        assert d._reloader is None

    asyncio.run(go())


def test_start_refuses_a_config_with_errors(tmp_path: Path) -> None:
    dp = FakeDataPlane()
    d = daemon(tmp_path, dp, BASE.replace("lvs_sched rr", "lvs_sched rr\n    delay_loop x"))

    async def go() -> None:
        with pytest.raises(ConfigRefusedError) as err:
            await d.start()
        assert [p.loc.line for p in err.value.problems.errors] == [4]
        assert not dp.started and not d.tables.live
        assert not [p for p in tmp_path.iterdir() if p.is_socket()]  # the claim was let go

    asyncio.run(go())
