"""proto/dns SRV records: the answer's SRV data and additional records read as
resolv_validate_dns_response reads them, and the servers of an SRV request filled, moved and
freed as resolv_check_response / srvrq_* do it (time as an argument, ms)."""

from __future__ import annotations

import ipaddress
import struct

from pylvs.model.resolvers import NameserverSpec, ResolveOptions, ResolversSpec
from pylvs.proto.dns import wire
from pylvs.proto.dns.answers import Owner
from pylvs.proto.dns.events import (
    AddressChanged,
    AddressCleared,
    Event,
    FqdnSet,
    MaintCleared,
    MaintSet,
    PortSet,
    Send,
    State,
    WeightSet,
)
from pylvs.proto.dns.resolution import Resolvers
from pylvs.proto.dns.srv import REMOVED

NAME = wire.to_label("_http._tcp.app.test") or b""
A1, A2 = b"\x02a1\x04test", b"\x02a2\x04test"
W1, W2, W3 = Owner("be", "web1"), Owner("be", "web2"), Owner("be", "web3")


def _srv(prio: int, weight: int, port: int, target: bytes) -> bytes:
    return struct.pack("!HHH", prio, weight, port) + target + b"\0"


def _with_additional(msg: bytes, records: list[tuple[bytes, bytes]], ns: int = 0) -> bytes:
    """`msg` with A records (owner, address bytes) in its additional section, after `ns`
    authority records."""
    out = bytearray(msg)
    struct.pack_into("!HH", out, 8, ns, len(records))
    for _ in range(ns):
        out += A1 + b"\0" + struct.pack("!HHIH", 2, 1, 1, 3) + b"\x01ns"  # an NS record
    for owner, data in records:
        out += owner + b"\0" + struct.pack("!HHIH", wire.A, 1, 1, len(data)) + data
    return bytes(out)


def test_srv_answer_and_additional_records() -> None:
    msg = wire.response(
        7,
        NAME,
        wire.SRV,
        [(NAME, wire.SRV, _srv(1, 10, 8001, A1)), (NAME, wire.SRV, _srv(0, 0, 8002, A2))],
    )
    msg = _with_additional(msg, [(A1, b"\x0a\0\0\x01"), (A2, b"\x0a\0\0\x02")], ns=1)
    got = wire.validate(msg, NAME, 84)
    assert got.verdict == wire.VALID and got.qtype == wire.SRV
    assert [(r.target, r.port, r.weight, r.priority) for r in got.records] == [
        (A1, 8001, 10, 1),
        (A2, 8002, 0, 0),
    ]
    assert [(r.name, str(r.address)) for r in got.additional] == [
        (A1, "10.0.0.1"),
        (A2, "10.0.0.2"),
    ]


def test_srv_data_too_short_and_truncated_srv_kept() -> None:
    short = wire.response(7, NAME, wire.SRV, [(NAME, wire.SRV, b"\0\0\0\0\0\x01")])
    assert wire.validate(short, NAME, 84).verdict == wire.INVALID  # 6 bytes: no target
    cut = wire.response(7, NAME, wire.SRV, [(NAME, wire.SRV, _srv(0, 1, 80, A1))], truncated=True)
    assert wire.validate(cut, NAME, 84).verdict == wire.VALID  # a truncated SRV answer is used
    other_owner = wire.response(7, NAME, wire.SRV, [(A2, wire.SRV, _srv(0, 1, 80, A1))])
    assert wire.validate(other_owner, NAME, 84).verdict == wire.VALID  # owner not checked


def test_additional_record_of_another_type_stays_at_its_data() -> None:
    msg = wire.response(7, NAME, wire.SRV, [(NAME, wire.SRV, _srv(0, 1, 80, A1))])
    out = bytearray(msg)
    struct.pack_into("!H", out, 10, 2)
    # a TXT record whose data reads as a name then an A record's fields: HAProxy reads on
    # from the TXT's data, so the "A record" inside it is the one it keeps
    inner = b"\x02a1\x04test\0" + struct.pack("!HHIH", wire.A, 1, 1, 4) + b"\x0a\0\0\x09"
    out += A2 + b"\0" + struct.pack("!HHIH", 16, 1, 1, len(inner)) + inner
    got = wire.validate(bytes(out), NAME, 84)
    assert [(r.name, str(r.address)) for r in got.additional] == [(A1, "10.0.0.9")]


class Servers:
    """The servers' side: address, RMAINT, name, port and weight as the events say."""

    def __init__(self) -> None:
        self.state = {o: State(None, True) for o in (W1, W2, W3)}
        self.fqdn: dict[Owner, str | None] = {}
        self.port: dict[Owner, int] = {}
        self.weight: dict[Owner, int] = {}

    def __call__(self, owner: Owner) -> State:
        return self.state[owner]

    def apply(self, events: list[Event]) -> None:
        for e in events:
            st = self.state.get(getattr(e, "owner", W1))
            if isinstance(e, AddressChanged):
                self.state[e.owner] = State(e.new, st.rmaint if st else True)
            elif isinstance(e, AddressCleared):
                self.state[e.owner] = State(None, st.rmaint if st else True)
            elif isinstance(e, MaintSet | MaintCleared) and st is not None:
                self.state[e.owner] = State(st.address, isinstance(e, MaintSet))
            elif isinstance(e, FqdnSet):
                self.fqdn[e.owner] = e.fqdn
            elif isinstance(e, PortSet):
                self.port[e.owner] = e.port
            elif isinstance(e, WeightSet):
                self.weight[e.owner] = e.weight


def _section(**kw: int) -> tuple[Resolvers, Servers]:
    spec = ResolversSpec("dns", (NameserverSpec("ns1", "127.0.0.1", 53),), **kw)  # type: ignore[arg-type]
    servers = Servers()
    r = Resolvers(spec, servers)
    for owner in (W1, W2, W3):
        assert r.link_srv(owner, "_http._tcp.app.test", ResolveOptions("dns", prefer="ipv4"), 0)
    return r, servers


def _run(
    r: Resolvers,
    servers: Servers,
    now: int,
    srv: list[tuple[int, int, bytes]] | None,
    hosts: dict[bytes, str],
    additional: bool = False,
) -> list[Event]:
    """Tick at `now`, the nameserver answering each query at once: the SRV records
    (weight, port, target; None: NXDOMAIN), A records from `hosts`."""
    seen: list[Event] = []
    pending = r.tick(now)
    while pending:
        e = pending.pop(0)
        if not isinstance(e, Send):
            servers.apply([e])
            seen.append(e)
            continue
        qid, qtype = struct.unpack("!H", e.data[:2])[0], e.data[-14]
        name = e.data[12 : e.data.index(b"\0", 12)]
        if qtype == wire.SRV:
            recs = [(NAME, wire.SRV, _srv(0, w, p, t)) for w, p, t in srv or []]
            msg = wire.response(qid, name, qtype, recs, rcode=3 if srv is None else 0)
            if additional and srv:
                ar = [(t, ipaddress.ip_address(hosts[t]).packed) for _w, _p, t in srv]
                msg = _with_additional(msg, ar)
        else:
            ip = hosts.get(name)
            recs = [(name, wire.A, ipaddress.ip_address(ip).packed)] if ip and qtype == 1 else []
            msg = wire.response(qid, name, qtype, recs)
        pending += r.receive(0, msg, now)
    return seen


def test_slots_take_targets_ports_weights_then_addresses() -> None:
    r, servers = _section()
    hosts = {A1: "10.0.0.1", A2: "10.0.0.2"}
    seen = _run(r, servers, 0, [(10, 8001, A1), (512, 8002, A2)], hosts)
    taken = {servers.fqdn.get(o): (servers.port.get(o), servers.weight.get(o)) for o in (W1, W2)}
    assert taken == {"a1.test": (8001, 1), "a2.test": (8002, 2)}
    assert W3 not in servers.fqdn and servers(W3) == State(None, True)
    notes = [e.note for e in seen if isinstance(e, FqdnSet)]
    assert any("changed its FQDN from (null) to a1.test by 'SRV record'" in n for n in notes)
    assert r.counters[0]["update"] == 0  # nothing updated by the SRV answer itself
    # the targets' A resolutions run at the next wake-up and give the addresses
    seen = _run(r, servers, 1000, [(10, 8001, A1), (512, 8002, A2)], hosts)
    got = {o: str(servers(o).address) for o in (W1, W2)}
    assert sorted(got.values()) == ["10.0.0.1", "10.0.0.2"]
    assert not servers(W1).rmaint and not servers(W2).rmaint
    assert any(isinstance(e, MaintCleared) and e.said for e in seen)  # "...valid DNS answer"


def test_record_gone_frees_its_slot_for_the_next() -> None:
    r, servers = _section()
    hosts = {A1: "10.0.0.1", A2: "10.0.0.2", b"\x02a3\x04test": "10.0.0.3"}
    _run(r, servers, 0, [(1, 8001, A1), (1, 8002, A2)], hosts, additional=True)
    holder = next(o for o in (W1, W2) if servers.fqdn[o] == "a2.test")
    assert str(servers(holder).address) == "10.0.0.2"  # from the additional record
    a3 = b"\x02a3\x04test"
    seen = _run(r, servers, 1000, [(1, 8001, A1), (0, 8003, a3)], hosts, additional=True)
    assert MaintSet(holder, REMOVED) in seen
    assert servers(holder) == State(None, True) and servers.port[holder] == 0
    assert servers.fqdn[holder] is None
    assert servers.fqdn[W3] == "a3.test" and servers.weight[W3] == 0
    assert (
        AddressChanged(W3, None, ipaddress.ip_address("10.0.0.3"), "DNS additional record") in seen
    )
    assert MaintCleared(W3, said=False) in seen
    # the freed slot is last in line: a new record takes it only when none else is free
    seen = _run(r, servers, 2000, [(1, 8001, A1), (0, 8003, a3), (1, 8002, A2)], hosts, True)
    assert servers.fqdn[holder] == "a2.test"


def test_nx_frees_slots_after_hold_nx_only() -> None:
    r, servers = _section(hold_nx_ms=3000)
    hosts = {A1: "10.0.0.1"}
    _run(r, servers, 0, [(1, 8001, A1)], hosts, additional=True)
    holder = next(o for o in (W1, W2, W3) if servers.fqdn.get(o) == "a1.test")
    for now in range(1000, 3000, 1000):  # each run: tries, then the error
        for step in range(0, 1000, 200):
            _run(r, servers, now + step, None, hosts)
    assert servers.fqdn[holder] == "a1.test" and not servers(holder).rmaint
    for now in range(3000, 6000, 200):
        _run(r, servers, now, None, hosts)
    assert servers.fqdn[holder] is None and servers(holder).rmaint
    assert r.counters[0]["nx"] > 0


def test_ignore_weight_and_hold_obsolete() -> None:
    """`resolve-opts ignore-weight` leaves the weight alone; with `hold obsolete` a record
    missing from one answer keeps its server until the hold runs out."""
    spec = ResolversSpec("dns", (NameserverSpec("ns1", "127.0.0.1", 53),), hold_obsolete_ms=2500)
    servers = Servers()
    r = Resolvers(spec, servers)
    opts = ResolveOptions("dns", prefer="ipv4", ignore_weight=True)
    for owner in (W1, W2):
        assert r.link_srv(owner, "_http._tcp.app.test", opts, 0)
    hosts = {A1: "10.0.0.1", A2: "10.0.0.2"}
    _run(r, servers, 0, [(512, 8001, A1), (512, 8002, A2)], hosts, additional=True)
    assert not servers.weight  # no WeightSet at all
    holder = next(o for o in (W1, W2) if servers.fqdn[o] == "a2.test")
    _run(r, servers, 1000, [(512, 8001, A1)], hosts, additional=True)
    assert servers.fqdn[holder] == "a2.test"  # seen 1 s ago: kept
    _run(r, servers, 3000, [(512, 8001, A1)], hosts, additional=True)
    assert servers.fqdn[holder] is None and servers(holder).rmaint  # 3 s: gone
