"""The sticking rules (proto/stick/rules.py): stream.c process_sticking_rules and
process_store_rules, around the cases the recorded transcript does not reach."""

import ipaddress

from pylvs.proto.stick import (
    StickRule,
    StickTable,
    discard,
    parse_stick_table,
    process_sticking_rules,
    process_store_rules,
)
from pylvs.proto.stick.keys import Sample
from pylvs.proto.stick.rules import Evaluate
from pylvs.sched.haproxy import Admin, Pool, Server

CLIENT = ipaddress.IPv4Address("10.0.0.1")


class Backend:
    def __init__(self, *servers: Server) -> None:
        self.pool = Pool(list(servers))
        self.addresses = {s.name: f"192.0.2.{s.puid}:80" for s in servers}

    def server(self, name: str) -> Server | None:
        return self.pool.server(name)

    def server_by_id(self, puid: int) -> Server | None:
        return self.pool.server_by_id(puid)

    def server_by_addr(self, addr: str) -> Server | None:
        return next((s for s in self.pool.servers if self.addresses[s.name] == addr), None)

    def address(self, server: Server) -> str:
        return self.addresses[server.name]


def sticky(line: str = "type ip size 100", name: str = "t") -> StickTable:
    spec = parse_stick_table(name, line.split()).with_data("server_id", "server_key")
    return StickTable(spec)


def always(sample: Sample) -> Evaluate:
    return lambda rule: (True, sample)


def stick_to(table: StickTable, be: Backend, server: Server, now: float = 0.0) -> None:
    rule = StickRule(table, match=True, store=True)
    sticking = process_sticking_rules([rule], always(CLIENT), be, now)
    process_store_rules(sticking, server, be, now)


def test_a_stored_server_is_found_again() -> None:
    be = Backend(Server("s1"), Server("s2"))
    t = sticky()
    stick_to(t, be, be.pool.servers[1])
    rule = StickRule(t, match=True, store=False)
    got = process_sticking_rules([rule], always(CLIENT), be, 1.0)
    assert got.server is be.pool.servers[1] and not got.stores


def test_drained_servers_stay_stickable_maintenance_needs_persist() -> None:
    be = Backend(Server("s1"), Server("s2"))
    s1 = be.pool.servers[0]
    t = sticky()
    stick_to(t, be, s1)
    match = [StickRule(t, match=True, store=False)]
    be.pool.set_admin(s1, Admin.FDRAIN, 1.0)
    assert process_sticking_rules(match, always(CLIENT), be, 2.0).server is s1
    be.pool.set_admin(s1, Admin.FMAINT, 3.0)
    assert process_sticking_rules(match, always(CLIENT), be, 4.0).server is None
    kept = process_sticking_rules(match, always(CLIENT), be, 4.0, persist=True)
    assert kept.server is s1
    forced = process_sticking_rules(match, always(CLIENT), be, 4.0, force_persist=True)
    assert forced.server is s1


def test_the_name_wins_over_the_id_and_srvkey_addr_uses_the_address() -> None:
    be = Backend(Server("s1"), Server("s2"))
    t = sticky()
    stick_to(t, be, be.pool.servers[0])
    entry = next(t.entries(0.0))
    entry.set("server_id", 2)  # the name still says s1
    rule = [StickRule(t, match=True, store=False)]
    assert process_sticking_rules(rule, always(CLIENT), be, 1.0).server is be.pool.servers[0]
    by_addr = sticky("type ip size 10 srvkey addr")
    stick_to(by_addr, be, be.pool.servers[1])
    assert next(by_addr.entries(0.0)).get("server_key") == "192.0.2.2:80"
    rule = [StickRule(by_addr, match=True, store=False)]
    assert process_sticking_rules(rule, always(CLIENT), be, 1.0).server is be.pool.servers[1]


def test_only_the_first_store_per_table_counts_and_skips_its_match_too() -> None:
    be = Backend(Server("s1"), Server("s2"))
    t = sticky()
    other = ipaddress.IPv4Address("10.9.9.9")
    stick_to(t, be, be.pool.servers[1])  # 10.0.0.1 -> s2
    keys = {0: other, 1: CLIENT}
    rules = [StickRule(t, match=True, store=True), StickRule(t, match=True, store=True)]
    seen: list[int] = []

    def evaluate(rule: StickRule) -> tuple[bool, Sample | None]:
        n = rules.index(rule) if rule is not rules[1] else 1
        seen.append(n)
        return True, keys[n]

    got = process_sticking_rules(rules, evaluate, be, 1.0)
    assert seen == [0]  # the second `stick on` is skipped whole: no match on 10.0.0.1
    assert got.server is None and len(got.stores) == 1


def test_conditions_missing_keys_and_non_stick_servers() -> None:
    be = Backend(Server("s1"), Server("s2", non_stick=True))
    t = sticky()
    rule = [StickRule(t, match=True, store=True)]
    assert not process_sticking_rules(rule, lambda r: (False, CLIENT), be, 0.0).stores
    assert not process_sticking_rules(rule, lambda r: (True, None), be, 0.0).stores
    assert not process_sticking_rules(rule, always(b"\x00"), be, 0.0).stores
    sticking = process_sticking_rules(rule, always(CLIENT), be, 0.0)
    process_store_rules(sticking, be.pool.servers[1], be, 0.0)
    assert len(t) == 0 and t.current == 0


def test_a_stream_that_never_connects_drops_its_pending_stores() -> None:
    be = Backend(Server("s1"))
    t = sticky("type ip size 1")
    sticking = process_sticking_rules(
        [StickRule(t, match=False, store=True)],
        always(CLIENT),
        be,
        0.0,
    )
    assert t.current == 1
    discard(sticking)
    assert t.current == 0 and not sticking.stores


def test_store_response_rules_add_one_store_per_table() -> None:
    be = Backend(Server("s1"))
    t = sticky()
    response = [StickRule(t, match=False, store=True), StickRule(t, match=False, store=True)]
    calls: list[StickRule] = []

    def evaluate(rule: StickRule) -> tuple[bool, Sample | None]:
        calls.append(rule)
        return True, ipaddress.IPv4Address("10.0.0.7")

    sticking = process_sticking_rules([], evaluate, be, 0.0)
    process_store_rules(
        sticking, be.pool.servers[0], be, 0.0, response_rules=response, evaluate=evaluate
    )
    assert len(calls) == 1 and len(t) == 1
