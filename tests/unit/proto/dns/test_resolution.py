"""proto/dns/resolution.py: a section's runs, fallbacks, retries and holds with time as an
argument (ms), and what each server is told, as process_resolvers /
resolv_process_responses / snr_* do it."""

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
    MaintCleared,
    MaintSet,
    Send,
    State,
)
from pylvs.proto.dns.resolution import Resolvers

APP = b"\x03app\x04test"
S1, S2 = Owner("be", "web1"), Owner("be", "web2")


class Servers:
    """The servers' side: their address and RMAINT, changed as the events say."""

    def __init__(self) -> None:
        self.state = {S1: State(None, True), S2: State(None, True)}

    def __call__(self, owner: Owner) -> State:
        return self.state[owner]

    def apply(self, events: list[Event]) -> list[Event]:
        for e in events:
            if isinstance(e, AddressChanged):
                self.state[e.owner] = State(e.new, self.state[e.owner].rmaint)
            elif isinstance(e, AddressCleared):
                self.state[e.owner] = State(None, self.state[e.owner].rmaint)
            elif isinstance(e, MaintSet | MaintCleared):
                self.state[e.owner] = State(self.state[e.owner].address, isinstance(e, MaintSet))
        return events


def _section(**kw: int) -> tuple[Resolvers, Servers]:
    spec = ResolversSpec("dns", (NameserverSpec("ns1", "127.0.0.1", 53),), **kw)  # type: ignore[arg-type]
    servers = Servers()
    r = Resolvers(spec, servers)
    for owner in (S1, S2):
        assert r.link(owner, "app.test", ResolveOptions("dns"), 0)
    return r, servers


def _sent(events: list[Event]) -> tuple[int, int]:
    """The (id, type) of the one query sent."""
    sends = [e for e in events if isinstance(e, Send)]
    assert len(sends) == 1
    qid, qtype = struct.unpack("!H", sends[0].data[:2])[0], sends[0].data[-14]
    return qid, qtype


def _answer(qid: int, qtype: int, *ips: str, rcode: int = 0) -> bytes:
    recs = [(APP, wire.A, ipaddress.ip_address(ip).packed) for ip in ips]
    return wire.response(qid, APP, qtype, recs, rcode=rcode)


def test_aaaa_then_a_then_servers_take_addresses() -> None:
    r, servers = _section()
    qid, qtype = _sent(r.tick(0))
    assert qtype == wire.AAAA  # resolve-prefer ipv6 by default
    assert r.tick(10) == []  # one run at a time
    # a v4-only name: no AAAA answer (any_err), the A query follows at once
    qid2, qtype2 = _sent(r.receive(0, _answer(qid, wire.AAAA), 20))
    assert (qid2, qtype2) == (qid, wire.A)
    got = servers.apply(r.receive(0, _answer(qid, wire.A, "10.0.0.1", "10.0.0.2"), 30))
    ip1, ip2 = (ipaddress.ip_address(t) for t in ("10.0.0.1", "10.0.0.2"))
    assert got == [
        AddressChanged(S1, None, ip1, "dns/ns1"),
        MaintCleared(S1),
        AddressChanged(S2, None, ip2, "DNS cache"),  # the answer's other requesters
        MaintCleared(S2),
    ]
    c = r.counters[0]
    assert (c["any_err"], c["valid"], c["update"]) == (1, 1, 1)
    assert r.next_wakeup(30) == 30 + 1000  # `timeout resolve`
    assert r.tick(500) == []
    assert _sent(r.tick(1030))[1] == wire.AAAA


def _drive(
    r: Resolvers, servers: Servers, ips: list[str] | None, start: int, end: int
) -> list[tuple[int, Event]]:
    """Tick every 100 ms from `start` to `end`, the nameserver answering each query at once
    with `ips` (None: NXDOMAIN; A records only); the servers' events with their time."""
    seen: list[tuple[int, Event]] = []
    for now in range(start, end, 100):
        pending = r.tick(now)
        while pending:
            e = pending.pop(0)
            if not isinstance(e, Send):
                servers.apply([e])
                seen.append((now, e))
                continue
            qid, qtype = struct.unpack("!H", e.data[:2])[0], e.data[-14]
            answer = _answer(
                qid, qtype, *(ips if qtype == wire.A and ips else []), rcode=3 * (ips is None)
            )
            pending += r.receive(0, answer, now)
    return seen


def test_nx_waits_for_hold_nx() -> None:
    r, servers = _section(hold_nx_ms=5000)
    seen = _drive(r, servers, ["10.0.0.1"], 0, 100)
    assert servers(S1).address is not None and not servers(S1).rmaint
    assert servers(S2).rmaint  # one address, two servers: no duplicate
    seen = _drive(r, servers, None, 1000, 12000)
    # the name is gone: NX answers; a run is tried 3 times (`resolve_retries`), one
    # `timeout retry` apart, before it is reported (at 3000, then 6000); web1 leaves at the
    # first report past `hold nx` since the last valid answer (0)
    assert seen == [(6000, MaintSet(S1, "DNS NX status")), (6000, AddressCleared(S1))]
    seen = _drive(r, servers, ["10.0.0.2"], 12000, 13100)
    ip = ipaddress.ip_address("10.0.0.2")
    assert seen[:2] == [(12000, AddressChanged(S1, None, ip, "dns/ns1")), (12000, MaintCleared(S1))]


def test_timeouts_retry_then_report() -> None:
    r, servers = _section(resolve_retries=2, hold_timeout_ms=0)
    servers.state[S1] = State(ipaddress.ip_address("10.0.0.9"), False)
    _sent(r.tick(0))
    assert r.tick(999) == []
    qid, qtype = _sent(r.tick(1000))  # `timeout retry`: sent again, same id
    assert qtype == wire.AAAA
    got = servers.apply(r.tick(2000))  # no try left: a timeout
    assert got == [MaintSet(S1, "DNS timeout status"), AddressCleared(S1)]
    assert r.counters[0]["timeout"] == 0  # counted per response only, as in 2.6
    assert r.receive(0, _answer(qid, wire.AAAA), 2001) == []
    assert r.counters[0]["outdated"] == 1  # its id is forgotten


def test_bad_datagrams_are_counted() -> None:
    r, _ = _section(accepted_payload_size=100)
    qid, _ = _sent(r.tick(0))
    r.receive(0, b"\x01", 1)
    r.receive(0, _answer(qid ^ 1, wire.AAAA), 2)
    r.receive(0, _answer(qid, wire.AAAA) + bytes(100), 3)
    r.receive(0, _answer(qid, wire.AAAA, "10.0.0.1")[:-2], 4)  # cut: invalid
    c = r.counters[0]
    assert (c["invalid"], c["outdated"], c["too_big"]) == (2, 1, 1)


def test_set_fqdn_moves_a_server() -> None:
    r, _ = _section()
    r.unlink(S1)
    assert r.link(S1, "other.test", ResolveOptions("dns"), 5)
    assert r.host_of(S1) == "other.test"
    assert r.host_of(S2) == "app.test"
    assert not r.link(S1, "bad..name", ResolveOptions("dns"), 5)
