"""The VRRP driver's command execution against FakeHost: advert bytes, address programming
order, no_accept, GARP rounds and pacing, unicast copies, state reports."""

import ipaddress
from dataclasses import dataclass, field

import pytest

from pylvs.config.errors import Location
from pylvs.config.keepalived.convert import to_spec
from pylvs.config.keepalived.parser import load_text
from pylvs.model.director import DirectorSpec
from pylvs.model.service import Address
from pylvs.proto.vrrp.commands import (
    AddAddresses,
    RemoveAddresses,
    ReportState,
    SendAdvert,
    SendGratuitousArp,
    State,
)
from pylvs.proto.vrrp.fsm import VrrpMachine
from pylvs.proto.vrrp.garp import gratuitous_arp
from pylvs.system.effects import AddressSpec, RouteSpec, RuleSpec
from pylvs.system.fake import FakeHost
from pylvs.vrrp.executor import Executor, build_advert
from pylvs.vrrp.instance import Instance, InstanceSetup, pick_source
from pylvs.vrrp.notifications import Notifier

MAC = bytes.fromhex("020000000001")
SRC = ipaddress.ip_address("192.168.200.1")


def spec_from(text: str) -> DirectorSpec:
    result = load_text(text, "test.conf")
    spec = to_spec(result.config, result.problems, Location("test.conf", 1, 1))
    assert result.ok, [str(p) for p in result.problems]
    return spec


def instance_from(text: str, name: str = "VI_1") -> tuple[Instance, DirectorSpec]:
    spec = spec_from(text)
    inst_spec = next(i for i in spec.vrrp.instances if i.name == name)
    setup = InstanceSetup.build(inst_spec)
    return Instance(setup, VrrpMachine(setup.params, source_address=SRC), 2), spec


@dataclass
class SentAdvert:
    data: bytes
    src: object
    dst: object
    ttl: int


@dataclass
class FakeSock:
    sent: list[SentAdvert] = field(default_factory=list)

    def send(
        self,
        message: bytes,
        src: Address,
        dst: Address,
        ttl: int,
    ) -> None:
        self.sent.append(SentAdvert(message, src, dst, ttl))


def host() -> FakeHost:
    h = FakeHost()
    h.add_link("eth0", MAC, addresses=[ipaddress.ip_interface("192.168.200.1/24")])
    return h


SEED001 = """
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        192.168.200.16/24 dev eth0 label eth0:1 brd 192.168.200.255
    }
    virtual_ipaddress_excluded {
        10.1.1.1/32
    }
    virtual_routes {
        10.9.0.0/16 via 192.168.200.254 table 100
    }
    virtual_rules {
        from 10.9.0.0/16 table 100 preference 500
    }
    no_accept
}
"""


def executor(h: FakeHost, g: DirectorSpec) -> tuple[Executor, list[tuple[str, State]]]:
    seen: list[tuple[str, State]] = []
    notifier = Notifier(g.notify, g.globals.router_id)
    ex = Executor(h, g.vrrp.garp, notifier, lambda n, s: seen.append((n, s)))
    return ex, seen


def test_v2_advert_is_the_reference_vector() -> None:
    inst, g = instance_from(SEED001)
    sock = FakeSock()
    inst.sock = sock  # type: ignore[assignment]
    ex, _ = executor(host(), g)
    ex.run(inst, SendAdvert(100), 0)
    # Reference §4.2 worked example: VRID 51, prio 100, 192.168.200.16, PASS "1111", 1 s.
    assert sock.sent[0].data == bytes.fromhex("21336401 01018eae c0a8c810 31313131 00000000")
    assert str(sock.sent[0].dst) == "224.0.0.18" and sock.sent[0].ttl == 255
    # excluded VIPs are never advertised
    assert build_advert(inst, 100).addresses == (ipaddress.ip_address("192.168.200.16"),)


def test_v3_advert_checksum_uses_the_pseudo_header() -> None:
    text = SEED001.replace("advert_int 1", "advert_int 1\n    version 3").replace(
        "    authentication {\n        auth_type PASS\n        auth_pass 1111\n    }\n", ""
    )
    inst, g = instance_from(text)
    sock = FakeSock()
    inst.sock = sock  # type: ignore[assignment]
    executor(host(), g)[0].run(inst, SendAdvert(100), 0)
    assert sock.sent[0].data == bytes.fromhex("31336401 00647874 c0a8c810")


def test_unicast_sends_one_copy_per_peer_with_unicast_ttl() -> None:
    text = SEED001.replace(
        "    no_accept\n",
        "    no_accept\n    unicast_ttl 7\n    unicast_peer {\n        192.168.200.2\n"
        "        192.168.200.3\n    }\n",
    )
    inst, g = instance_from(text)
    sock = FakeSock()
    inst.sock = sock  # type: ignore[assignment]
    executor(host(), g)[0].run(inst, SendAdvert(100), 0)
    assert [(str(s.dst), s.ttl) for s in sock.sent] == [("192.168.200.2", 7), ("192.168.200.3", 7)]


def test_addresses_routes_rules_then_firewall_and_back_in_reverse() -> None:
    inst, g = instance_from(SEED001)
    h = host()
    ex, _ = executor(h, g)
    vips = inst.setup.params.vips + inst.setup.params.evips
    ex.run(inst, AddAddresses(vips), 0)
    vip = AddressSpec(
        ipaddress.ip_interface("192.168.200.16/24"),
        "eth0",
        "eth0:1",
        "global",
        ipaddress.ip_address("192.168.200.255"),
    )
    route = RouteSpec(
        4,
        ipaddress.ip_network("10.9.0.0/16"),
        via=ipaddress.ip_address("192.168.200.254"),
        dev="eth0",
        table=100,
    )
    rule = RuleSpec(4, from_net=ipaddress.ip_network("10.9.0.0/16"), table=100, preference=500)
    assert [c[0] for c in h.calls] == [
        "add_address",
        "add_address",
        "add_route",
        "add_rule",
        "set_blocked",
    ]
    assert h.calls[0][1] == vip
    assert h.has_route(route) and h.has_rule(rule)
    assert h.blocked() == {ipaddress.ip_address("192.168.200.16"), ipaddress.ip_address("10.1.1.1")}
    assert inst.held == {ipaddress.ip_address("192.168.200.16"), ipaddress.ip_address("10.1.1.1")}
    h.calls.clear()
    ex.run(inst, RemoveAddresses(vips), 0)
    assert [c[0] for c in h.calls] == [
        "set_blocked",
        "remove_rule",
        "remove_route",
        "remove_address",
        "remove_address",
    ]
    assert h.addresses("eth0") == (ipaddress.ip_interface("192.168.200.1/24"),)
    assert h.blocked() == frozenset() and not inst.held


def test_accept_mode_never_touches_the_firewall() -> None:
    inst, g = instance_from(SEED001.replace("no_accept", "accept"))
    h = host()
    executor(h, g)[0].run(inst, AddAddresses(inst.setup.params.vips), 0)
    assert all(c[0] != "set_blocked" for c in h.calls)


def test_garp_rounds_over_all_vips() -> None:
    inst, g = instance_from(SEED001)
    h = host()
    ex, _ = executor(h, g)
    vips = inst.setup.params.vips + inst.setup.params.evips
    ex.run(inst, SendGratuitousArp(vips, 2), 0)
    a, b = ipaddress.IPv4Address("192.168.200.16"), ipaddress.IPv4Address("10.1.1.1")
    expected = [gratuitous_arp(MAC, x) for x in (a, b, a, b)]
    assert h.frames == [("eth0", f) for f in expected]


def test_garp_interval_paces_one_frame_per_interval() -> None:
    inst, g = instance_from("global_defs {\n    vrrp_garp_interval 0.01\n}\n" + SEED001)
    h = host()
    ex, _ = executor(h, g)
    vips = inst.setup.params.vips + inst.setup.params.evips
    ex.run(inst, SendGratuitousArp(vips, 2), 0)
    assert len(h.frames) == 1  # the first goes at once, the rest wait for the interval
    assert ex.garp_deadline() == 10_000
    ex.garp_due(10_000)
    ex.garp_due(20_000)
    ex.garp_due(30_000)
    assert len(h.frames) == 4 and ex.garp_deadline() is None


def test_report_state_calls_back_and_stamps_the_time() -> None:
    inst, g = instance_from(SEED001)
    ex, seen = executor(host(), g)
    ex.run(inst, ReportState(State.MASTER, 100), 0)
    assert seen == [("VI_1", State.MASTER)] and inst.last_transition is not None


def test_noarp_interface_gets_no_garp() -> None:
    inst, g = instance_from(SEED001)
    h = host()
    old = h.links["eth0"]
    h.links["eth0"] = type(old)(old.name, old.index, old.mac, True, noarp=True)
    executor(h, g)[0].run(inst, SendGratuitousArp(inst.setup.params.vips, 1), 0)
    assert h.frames == []


@pytest.mark.parametrize(
    ("family", "addrs", "expected"),
    [
        (4, ["fe80::1/64", "10.0.0.1/24", "10.0.0.2/24"], "10.0.0.1"),
        (6, ["10.0.0.1/24", "fd00::1/64", "fe80::1/64"], "fe80::1"),
        (6, ["fd00::1/64"], None),
    ],
)
def test_source_address_is_primary_v4_or_link_local_v6(
    family: int, addrs: list[str], expected: str | None
) -> None:
    got = pick_source(family, tuple(ipaddress.ip_interface(a) for a in addrs))
    assert (str(got) if got else None) == expected
