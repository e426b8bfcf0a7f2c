"""proto/dns/answers.py: the answer items' order and each server's pick, as
resolv_get_ip_from_response scores them."""

from __future__ import annotations

import ipaddress

import xxhash

from pylvs.model.resolvers import ResolveOptions
from pylvs.proto.dns.answers import CHANGE, KEEP, NO_IP, Answers, Owner
from pylvs.proto.dns.wire import AAAA, A, Record

V4 = ResolveOptions("dns", prefer="ipv4")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def _answers(*texts: str, now: int = 0) -> Answers:
    a = Answers()
    a.merge(tuple(Record(A if "." in t else AAAA, 30, _ip(t)) for t in texts), now)
    return a


def test_items_in_haproxys_tree_order() -> None:
    texts = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "10.1.2.3"]
    a = _answers(*texts)
    keys = [xxhash.xxh32_intdigest(_ip(t).packed, seed=A) for t in texts]
    assert [str(i.address) for i in a.items] == [
        t for _, t in sorted(zip(keys, texts, strict=True))
    ]
    # as haproxy 2.6.12 handed them to `server-template web 1-3` (the integration test):
    # 127.0.0.2 to web1, 127.0.0.3 to web2
    assert [str(i.address) for i in _answers("127.0.0.3", "127.0.0.2").items][:2] == [
        "127.0.0.2",
        "127.0.0.3",
    ]


def test_each_server_its_own_address() -> None:
    a = _answers("127.0.0.2", "127.0.0.3")
    s1, s2, s3 = (Owner("be", f"s{n}") for n in (1, 2, 3))
    assert a.pick(s1, V4, None) == (CHANGE, _ip("127.0.0.2"))
    assert a.pick(s2, V4, None) == (CHANGE, _ip("127.0.0.3"))
    assert a.pick(s3, V4, None) == (NO_IP, None)  # both held: no duplicate by default
    assert a.pick(s1, V4, _ip("127.0.0.2")) == (KEEP, None)  # held and alive: kept
    dup = ResolveOptions("dns", prefer="ipv4", allow_dup_ip=True)
    assert a.pick(s3, dup, None)[0] == CHANGE
    # another backend's servers do not count as duplicates
    assert a.pick(Owner("other", "s1"), V4, None) == (CHANGE, _ip("127.0.0.2"))


def test_obsolete_items_free_their_servers() -> None:
    a = _answers("127.0.0.2", "127.0.0.3", now=0)
    s1, s2 = Owner("be", "s1"), Owner("be", "s2")
    a.pick(s1, V4, None)
    a.pick(s2, V4, None)
    a.merge((Record(A, 30, _ip("127.0.0.3")), Record(A, 30, _ip("127.0.0.4"))), 1000)
    a.expire(1000, 0)  # `hold obsolete 0`: .2, not in the last answer, goes
    assert [str(i.address) for i in a.items] == ["127.0.0.3", "127.0.0.4"]
    # s1 lost its item: .3 is s2's, so .4 (haproxy 2.6.12 did the same, see the
    # integration test)
    assert a.pick(s1, V4, _ip("127.0.0.2")) == (CHANGE, _ip("127.0.0.4"))
    assert a.pick(s2, V4, _ip("127.0.0.3")) == (KEEP, None)
    b = _answers("127.0.0.2", now=0)
    b.merge((), 500)
    b.expire(500, 600)  # still within `hold obsolete`
    assert len(b.items) == 1


def test_family_and_network_preferences() -> None:
    a = _answers("10.0.0.1", "2001:db8::1", "192.168.1.1")
    v6 = ResolveOptions("dns")  # resolve-prefer's default is ipv6
    assert a.pick(Owner("be", "a"), v6, None) == (CHANGE, _ip("2001:db8::1"))
    net = ResolveOptions("dns", prefer="ipv4", networks=("192.168.0.0/16",))
    assert a.pick(Owner("be", "b"), net, None) == (CHANGE, _ip("192.168.1.1"))
    only4 = _answers("10.0.0.1")
    assert only4.pick(Owner("be", "c"), v6, None) == (CHANGE, _ip("10.0.0.1"))
