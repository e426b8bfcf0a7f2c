"""A master-down timer that fires late still reads the adverts that came before the deadline.

On a loaded machine the driver can wake after a backup's master-down deadline instead of
EARLY_US before it.  An advert the live master sent before the deadline is then waiting on the
socket, stamped by the kernel with its receive time: it must reset the Master_Down_Timer
(RFC 5798 §6.4.2) before the timer is allowed to declare the master dead, or a loaded backup
takes the VIP from a master that never stopped.  No sockets here: the pool is a stub that
hands the instance what the kernel would have queued.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from typing import ClassVar

import pytest

from pylvs.config.errors import Location
from pylvs.config.keepalived.convert import to_spec
from pylvs.config.keepalived.parser import load_text
from pylvs.model.director import DirectorSpec
from pylvs.proto.vrrp.commands import State
from pylvs.proto.vrrp.packet import Advert, encode_advert, encode_ipv4
from pylvs.system.fake import FakeHost
from pylvs.vrrp import manager as mgr
from pylvs.vrrp.sockets import Datagram

CONF = """
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.168.200.100
    }
}
"""
PEER = ipaddress.IPv4Address("192.168.200.2")
GROUP = ipaddress.IPv4Address("224.0.0.18")
START_US = 1_000_000_000


class StubTimer:
    """The deadline timer without a timerfd: the test fires `callback` itself."""

    made: ClassVar[list[StubTimer]] = []

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.deadline: int | None = None
        StubTimer.made.append(self)

    def arm(self, deadline_us: int | None) -> None:
        self.deadline = deadline_us

    def close(self) -> None:
        self.deadline = None


class StubPool:
    """No raw sockets: `queued` is what the kernel holds for the instance when it is read."""

    made: ClassVar[list[StubPool]] = []

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.queued: list[Datagram] = []
        self.receive: Callable[[Datagram], None] | None = None
        StubPool.made.append(self)

    def get(self, key: object, ifindex: int) -> object:
        raise OSError("no sockets in this test")

    def drain(self) -> None:
        queued, self.queued = self.queued, []
        for d in queued:
            assert self.receive is not None
            self.receive(d)

    def close(self) -> None:
        self.queued = []


def spec() -> DirectorSpec:
    result = load_text(CONF, "test.conf")
    assert result.ok, [str(p) for p in result.problems]
    return to_spec(result.config, result.problems, Location("test.conf", 1, 1))


def advert_from_master(received_us: int) -> Datagram:
    adv = Advert(2, 51, 150, 1, (ipaddress.IPv4Address("192.168.200.100"),))
    wire = encode_ipv4(encode_advert(adv, src=PEER, dst=GROUP), PEER, GROUP)
    return Datagram(wire, PEER, None, None, received_us)


def host() -> FakeHost:
    h = FakeHost()
    h.add_link(
        "eth0",
        bytes.fromhex("020000000001"),
        addresses=[ipaddress.ip_interface("192.168.200.1/24")],
    )
    return h


def run_late_timer(monkeypatch: pytest.MonkeyPatch, *, advert_before_deadline: bool) -> State:
    """Start a backup, let its master-down deadline pass by 5 ms without the timer running,
    queue (or not) an advert received 1 ms before the deadline, then fire the timer."""
    clock = [START_US]
    monkeypatch.setattr(mgr, "monotonic_us", lambda: clock[0])
    monkeypatch.setattr(mgr, "DeadlineTimer", StubTimer)
    monkeypatch.setattr(mgr, "SocketPool", StubPool)

    async def go() -> State:
        m = mgr.VrrpManager(spec(), host(), poll_interval=3600)
        await m.start()
        try:
            inst = m.instances["VI_1"]
            assert inst.machine.state is State.BACKUP
            deadline = inst.machine.sands
            assert deadline is not None and deadline > START_US
            pool, timer = StubPool.made[-1], StubTimer.made[-1]
            pool.receive = inst.receiver
            clock[0] = deadline + 5_000
            if advert_before_deadline:
                pool.queued.append(advert_from_master(deadline - 1_000))
            timer.callback()
            return inst.machine.state
        finally:
            await m.stop()

    return asyncio.run(go())


def test_an_advert_queued_before_the_deadline_keeps_a_late_backup_a_backup(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL)  # the stub pool's missing socket is logged
    assert run_late_timer(monkeypatch, advert_before_deadline=True) is State.BACKUP


def test_without_an_advert_the_late_timer_still_makes_it_master(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL)
    assert run_late_timer(monkeypatch, advert_before_deadline=False) is State.MASTER
