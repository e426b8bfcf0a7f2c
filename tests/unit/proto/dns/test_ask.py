"""proto/dns/resolution.py's do-resolve side: a stream joins a resolution, waits for a run
that ends after it asked, takes the best address; a fresh answer (within `hold valid`) is
taken at once while the resolution lives; the last one to leave takes the resolution with
it (its answers too)."""

from __future__ import annotations

import ipaddress
import struct

from pylvs.model.resolvers import NameserverSpec, ResolveOptions, ResolversSpec
from pylvs.proto.dns import wire
from pylvs.proto.dns.answers import Owner
from pylvs.proto.dns.events import Send, State
from pylvs.proto.dns.resolution import Resolvers

V4 = ResolveOptions("dns", prefer="ipv4")


def _section() -> Resolvers:
    spec = ResolversSpec("dns", (NameserverSpec("ns1", "127.0.0.1", 53),), hold_valid_ms=5000)
    return Resolvers(spec, lambda owner: State(None, True))


def _answer_all(r: Resolvers, now: int, ips: list[str], rcode: int = 0) -> None:
    """Tick at `now`, the nameserver answering every query at once (A records `ips`)."""
    pending = r.tick(now)
    while pending:
        e = pending.pop(0)
        if isinstance(e, Send):
            qid, qtype = struct.unpack("!H", e.data[:2])[0], e.data[-14]
            name = e.data[12 : e.data.index(b"\0", 12)]
            recs = [(name, wire.A, ipaddress.ip_address(ip).packed) for ip in ips]
            recs = recs if qtype == 1 else []
            pending += r.receive(0, wire.response(qid, name, qtype, recs, rcode=rcode), now)


def test_a_stream_waits_for_the_run_after_it_asked() -> None:
    r = _section()
    asking = r.ask("App.Test", V4, 0)
    assert asking is not None and not asking.cached
    assert r.answered(asking) == (False, None)  # not run yet
    _answer_all(r, 0, ["10.0.0.2", "10.0.0.1"])
    ended, address = r.answered(asking)
    assert ended and address is not None and str(address) in ("10.0.0.1", "10.0.0.2")
    r.release(asking)
    assert not r.curr and not r.wait  # nobody left: the resolution went


def test_fresh_answer_is_taken_at_once_while_the_resolution_lives() -> None:
    r = _section()
    assert r.link(Owner("be", "s1"), "app.test", V4, 0)  # a server keeps it alive
    _answer_all(r, 0, ["10.0.0.9"])
    asking = r.ask("app.test", V4, 1000)
    assert asking is not None and asking.cached
    assert r.answered(asking) == (True, ipaddress.ip_address("10.0.0.9"))
    r.release(asking)
    late = r.ask("app.test", V4, 6000)  # past `hold valid`: waits for a new run
    assert late is not None and not late.cached and r.answered(late) == (False, None)


def test_an_error_ends_the_wait_without_an_address() -> None:
    r = _section()
    asking = r.ask("nx.test", V4, 0)
    assert asking is not None
    seen = []
    for now in range(0, 5000, 500):
        _answer_all(r, now, [], rcode=3)
        seen.append(r.answered(asking))
    # NXDOMAIN to A, then to AAAA, each retry: the run ends once the tries are spent
    assert (True, None) in seen and seen[0] == (False, None)
    assert r.ask("bad..name", V4, 0) is None
    root = r.ask("", V4, 0)  # HAProxy asks for the root all the same
    assert root is not None and root.res.name == b"\0"
