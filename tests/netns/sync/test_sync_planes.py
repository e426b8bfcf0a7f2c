"""pylvs's own sync daemons on the proxy plane, between two network namespaces: the master
plane feeds its connection table each housekeeping round (Sender.observed) and a re-armed
template at once (ConnTable.rearmed); the backup plane installs them in its own table, where
`-Lnc` lists them and the real servers' counters (lc / wlc) count them."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from pylvs.dataplane.proxy.plane import ProxyDataPlane
from pylvs.model.service import ForwardMethod, Protocol, RealServer, ServiceKey, VirtualService
from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.model.table import AddDest, AddService
from pylvs.proto.conntrack import ConnState, TcpEvent
from tests.netns.sync.sync_netns_helpers import Net, NsLoop

pytestmark = pytest.mark.root
T = TypeVar("T")

A = ipaddress.ip_address
KEY = ServiceKey.inet(Protocol.TCP, A("10.88.0.100"), 80)
RS = [RealServer(A(f"10.0.{i}.2"), 80, method=ForwardMethod.MASQ) for i in (1, 2)]


async def plane(state: SyncState, persistent: bool = False) -> ProxyDataPlane:
    dp = ProxyDataPlane(raise_nofile=False)
    await dp.start()
    svc = VirtualService(KEY, "rr", timeout=60 if persistent else 0)
    await dp.apply([AddService(svc), *(AddDest(KEY, rs) for rs in RS)])
    await dp.start_sync_daemon(SyncDaemon(state, "eth0", syncid=7))
    return dp


def open_conns(dp: ProxyDataPlane, n: int) -> None:
    """n established connections in the master's table, as its relays would make them."""
    rt = dp.state.runtimes[KEY]
    now = dp.ctx.clock()
    for i in range(n):
        conn = rt.open_conn(dp.state.table, rt.flow(A(f"10.88.0.{10 + i}"), 40000 + i), now)
        assert conn is not None
        dp.state.table.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, now)
        dp.state.table.tcp_event(conn, TcpEvent.BACKEND_CONNECTED, now)


def rows(dp: ProxyDataPlane) -> set[tuple[str, int, str, str]]:
    return {(str(e.caddr), e.cport, str(e.daddr), e.state.value) for e in dp.connections()}


def counts(dp: ProxyDataPlane) -> list[tuple[int, int]]:
    return [(d.activeconns, d.inactconns) for d in dp.state.runtimes[KEY].dests]


def run(loop: NsLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` in the namespace's loop."""
    return asyncio.run_coroutine_threadsafe(coro, loop.loop).result(30)


def start(net: Net) -> tuple[NsLoop, ProxyDataPlane, NsLoop, ProxyDataPlane]:
    ml, bl = net.loop(net.node(1)), net.loop(net.node(2))
    bp = run(bl, plane(SyncState.BACKUP))
    mp = run(ml, plane(SyncState.MASTER))
    return ml, mp, bl, bp


def test_proxy_master_table_reaches_the_proxy_backup(net: Net) -> None:
    ml, mp, bl, bp = start(net)
    try:
        check_sync(ml, mp, bl, bp)
    finally:
        run(ml, mp.stop(0))
        run(bl, bp.stop(0))


def check_sync(ml: NsLoop, mp: ProxyDataPlane, bl: NsLoop, bp: ProxyDataPlane) -> None:
    assert [d.state for d in mp.sync_daemons()] == [SyncState.MASTER]
    ml.call(open_conns, mp, 6)
    ml.call(mp.housekeep)  # the round that feeds the sender; the 2 s flush sends it
    want = ml.call(rows, mp)
    assert len(want) == 6 and {r[3] for r in want} == {ConnState.ESTABLISHED.value}
    assert bl.until(lambda: rows(bp) == want, timeout=8), (bl.call(rows, bp), want)
    # synced with the sender's activity: they count as active on the backup's servers
    assert bl.call(counts, bp) == ml.call(counts, mp) == [(3, 0), (3, 0)]
    # a second round with nothing new sends nothing
    sent = ml.call(lambda: mp.syncd.master.stats.sent)  # type: ignore[union-attr]
    ml.call(mp.housekeep)
    time.sleep(2.5)
    assert ml.call(lambda: mp.syncd.master.stats.sent) == sent  # type: ignore[union-attr]
