"""Getting ready for a master-down deadline: the rehearsed tick, what the executor builds
ahead from it, the IPv4 datagram cache of the socket, and the kernel receive timestamp."""

import ipaddress
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.model.director import DirectorSpec
from pylvs.model.service import Address
from pylvs.proto.vrrp.commands import AddAddresses, Command, SendAdvert, SendGratuitousArp, State
from pylvs.proto.vrrp.events import AdvertReceived, Started
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.garp import gratuitous_arp
from pylvs.proto.vrrp.packet import Advert, encode_advert, encode_ipv4
from pylvs.system.fake import FakeHost
from pylvs.vrrp.executor import Executor, advert_bytes, build_advert
from pylvs.vrrp.instance import Instance
from pylvs.vrrp.sockets import SocketKey, VrrpSocket, received_at

from .test_vrrp_driver import MAC, SEED001, FakeSock, executor, host, instance_from

GROUP = ipaddress.IPv4Address("224.0.0.18")
PEER = ipaddress.IPv4Address("192.168.200.9")


@dataclass
class PreparingSock(FakeSock):
    prepared: list[tuple[bytes, object, object, int]] = field(default_factory=list)
    bound: list[bytes] = field(default_factory=list)  # sent through a prepared sender

    def sender(
        self,
        message: bytes,
        src: Address,
        dst: Address,
        ttl: int,
    ) -> Callable[[], object] | None:
        self.prepared.append((message, src, dst, ttl))
        return lambda: self.bound.append(message)


def v4(address: Address) -> ipaddress.IPv4Address:
    assert isinstance(address, ipaddress.IPv4Address)
    return address


def advert_from_peer(priority: int) -> AdvertReceived:
    vips = (ipaddress.IPv4Address("192.168.200.16"),)
    adv = Advert(2, 51, priority, 1, vips, 4, 1, b"1111".ljust(8, b"\0"))
    msg = encode_advert(adv, src=PEER, dst=GROUP)
    return AdvertReceived(encode_ipv4(msg, PEER, GROUP), PEER)


def backup_instance() -> tuple[Instance, DirectorSpec]:
    inst, g = instance_from(SEED001)
    m = inst.machine
    m.handle(Started(), 0)
    m.handle(advert_from_peer(150), 1_000)
    assert m.state is State.BACKUP and m.sands is not None
    return inst, g


def test_rehearse_returns_the_tick_and_leaves_the_machine_alone() -> None:
    inst, _ = backup_instance()
    m = inst.machine
    deadline = m.sands
    assert deadline is not None
    before = (m.state, m.sands, dict(m.stats), dict(m.garp_timers), m.vipset)
    _twin, rehearsed = m.rehearse(deadline)
    assert (m.state, m.sands, dict(m.stats), dict(m.garp_timers), m.vipset) == before
    assert [type(c) for c in rehearsed][:1] == [SendAdvert]
    assert rehearsed == m.tick(deadline)  # the real tick says the same
    assert m.state is State.MASTER


def prepared() -> tuple[
    Instance, PreparingSock, FakeHost, Executor, int, VrrpMachine, list[Command]
]:
    """A backup at its master-down deadline, its rehearsed tick prepared by an executor."""
    inst, g = backup_instance()
    sock = PreparingSock()
    inst.sock = sock  # type: ignore[assignment]
    h = host()
    ex, _ = executor(h, g)
    deadline = inst.machine.sands
    assert deadline is not None
    twin, commands = inst.machine.rehearse(deadline)
    ex.prepare(inst, commands)
    return inst, sock, h, ex, deadline, twin, commands


def test_prepare_builds_the_advert_addresses_and_frames_the_tick_will_send() -> None:
    inst, sock, h, ex, deadline, twin, commands = prepared()
    src = inst.machine.source_address
    assert src is not None
    want = advert_bytes(inst, build_advert(inst, 100), src, GROUP)
    assert sock.prepared == [(want, src, GROUP, 255)]
    vips = inst.setup.params.vips + inst.setup.params.evips
    specs = [inst.setup.spec_for(v) for v in vips]
    assert [c for c in h.calls if c[0] == "prepare_address"] == [
        ("prepare_address", spec) for spec in specs
    ]
    assert ("prepare_frames", "eth0") in h.calls
    assert not sock.sent and not sock.bound and not h.frames  # nothing went out yet
    # The rehearsed commands themselves run through what was bound to them.
    inst.machine.adopt(twin)
    for cmd in commands:
        ex.run(inst, cmd, deadline)
    assert sock.bound == [want] and not sock.sent
    assert [c[1] for c in h.calls if c[0] == "add_address"] == specs
    assert inst.held == {spec.address.ip for spec in specs}
    garps = [gratuitous_arp(MAC, v4(v.address.ip)) for v in vips]
    assert [f for _dev, f in h.frames] == garps * inst.setup.params.garp_master_repeat
    assert any(isinstance(c, AddAddresses) for c in commands)
    assert any(isinstance(c, SendGratuitousArp) for c in commands)
    # A plan is used once: running the same advert again takes the ordinary path.
    ex.run(inst, commands[0], deadline)
    assert [s.data for s in sock.sent] == [want]


def test_equal_commands_that_were_not_rehearsed_take_the_ordinary_path() -> None:
    inst, sock, h, ex, deadline, _twin, _rehearsed = prepared()
    ex.forget_plans()
    for cmd in inst.machine.tick(deadline):
        ex.run(inst, cmd, deadline)
    assert not sock.bound and len(sock.sent) == 1
    assert sum(1 for c in h.calls if c[0] == "add_address") == len(
        inst.setup.params.vips + inst.setup.params.evips
    )


def test_socket_keeps_the_ipv4_datagram_and_builds_none_for_ipv6() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        vs = VrrpSocket(SocketKey(4, "eth0", False), 2, s)
        src = ipaddress.IPv4Address("192.168.200.1")
        wire = vs.prepare(b"\x21\x33\x64\x01", src, GROUP, 255)
        assert wire == (encode_ipv4(b"\x21\x33\x64\x01", src, GROUP, ttl=255), "224.0.0.18")
        assert vs.prepare(b"\x21\x33\x64\x01", src, GROUP, 255) is wire  # built once
        assert vs.prepare(b"\x21\x33\x64\x01", src, GROUP, 64) != wire  # TTL is in the header
        v6 = ipaddress.IPv6Address("fe80::1")
        assert vs.prepare(b"x", v6, ipaddress.IPv6Address("ff02::12"), 255) is None


def test_kernel_timestamp_becomes_monotonic_microseconds() -> None:
    real = time.time_ns() - 250_000_000  # the datagram arrived 250 ms ago
    stamp = struct.pack("@ll", real // 1_000_000_000, real % 1_000_000_000)
    at = received_at(stamp)
    now = time.monotonic_ns() // 1000
    assert at is not None and 249_000 <= now - at <= 260_000


def test_implausible_timestamps_are_ignored() -> None:
    future = time.time_ns() + 5_000_000_000  # the wall clock was stepped back
    old = time.time_ns() - 5_000_000_000
    for ns in (future, old):
        assert received_at(struct.pack("@ll", ns // 1_000_000_000, ns % 1_000_000_000)) is None
    assert received_at(b"\x00" * 4) is None


def test_adopting_the_rehearsal_is_the_tick() -> None:
    ticked, _ = backup_instance()
    adopted, _ = backup_instance()
    deadline = ticked.machine.sands
    assert deadline is not None and adopted.machine.sands == deadline
    commands = ticked.machine.tick(deadline)
    twin, rehearsed = adopted.machine.rehearse(deadline)
    adopted.machine.adopt(twin)
    assert rehearsed == commands
    a, b = ticked.machine, adopted.machine
    assert (a.state, a.sands, a.stats, a.garp_timers, a.vipset) == (
        b.state,
        b.sands,
        b.stats,
        b.garp_timers,
        b.vipset,
    )
    assert b.state is State.MASTER and b.sands == deadline + b.params.adver_int_us
    # The adopted machine goes on as the ticked one does.
    assert a.tick(b.sands) == b.tick(b.sands)


def test_prepared_garps_still_keep_to_the_garp_interval() -> None:
    inst, g = instance_from("global_defs {\n    vrrp_garp_interval 0.01\n}\n" + SEED001)
    m = inst.machine
    m.handle(Started(), 0)
    m.handle(advert_from_peer(150), 1_000)
    deadline = m.sands
    assert deadline is not None
    h = host()
    ex, _ = executor(h, g)
    twin, commands = m.rehearse(deadline)
    ex.prepare(inst, commands)
    m.adopt(twin)
    for cmd in commands:
        ex.run(inst, cmd, deadline)
    assert len(h.frames) == 1  # the first at once, the rest wait for the pacer
    rounds = inst.setup.params.garp_master_repeat
    vips = inst.setup.params.vips + inst.setup.params.evips
    t = deadline
    while (due := ex.garp_deadline()) is not None:
        t = due
        ex.garp_due(t)
    assert len(h.frames) == rounds * len(vips)
    assert t - deadline == (len(h.frames) - 1) * 10_000
