"""Hand-worked slot tables and the transaction's promises (keep dynamic state, own tables only)."""

from pylvs.dataplane.nftables.conntrack import parse_line
from pylvs.dataplane.nftables.counters import parse_table
from pylvs.dataplane.nftables.maps import compute_pick
from pylvs.dataplane.nftables.plan import MARK_BASE, MarkAllocator, PickKind
from pylvs.dataplane.nftables.planner import plan_service
from pylvs.dataplane.nftables.render import render
from pylvs.dataplane.nftables.ruleset import transaction
from pylvs.model.service import ModelError, ServiceFlags
from pylvs.proto.conntrack.states import ConnState, Timeouts
from tests.unit.dataplane.nftables.scenarios import LINKS, MASQ, ROUTE, tcp80, two

M11, M12 = 11, 12


def marks(d: object) -> int:
    return M11 if str(d.address).endswith("11") else M12  # type: ignore[attr-defined]


def test_rr_one_slot_each_ignoring_weight_value_and_skipping_quiesced() -> None:
    pick = compute_pick(tcp80("rr", two(MASQ, 5, 1)), marks)
    # List order is newest first: .12 then .11; rr ignores weight values (ip_vs_rr.c).
    assert pick.slots == ((0, 0, M12), (1, 1, M11))
    pick = compute_pick(tcp80("rr", two(MASQ, 0, 1)), marks)
    assert pick.slots == ((0, 0, M12),)


def test_wrr_slots_are_weight_over_gcd() -> None:
    pick = compute_pick(tcp80("wrr", two(MASQ, 6, 2)), marks)
    assert (pick.modulus, pick.slots) == (4, ((0, 0, M12), (1, 3, M11)))


def test_sh_table_is_the_kernels_weighted_buckets() -> None:
    # ip_vs_sh_reassign over [.12 (w2), .11 (w1)]: .12 .12 .11 .12 .12 .11 ...
    pick = compute_pick(tcp80("sh", two(MASQ, 1, 2)), marks)
    assert pick.kind is PickKind.HASH and pick.modulus == 256 and pick.fields == ("saddr",)
    assert pick.slots[:3] == ((0, 1, M12), (2, 2, M11), (3, 4, M12))


def test_sh_quiesced_owner_drops_without_fallback_and_moves_with_it() -> None:
    rt = tcp80("sh", two(MASQ, 0, 1))
    assert compute_pick(rt, marks).slots[:2] == ((0, 0, M12), (1, 1, 0))  # 0 = drop
    rt = tcp80("sh", two(MASQ, 0, 1), flags=ServiceFlags.SCHED1)
    assert compute_pick(rt, marks).slots == ((0, 255, M12),)


def test_mh_uses_the_maglev_table_of_4093_slots() -> None:
    pick = compute_pick(tcp80("mh", two(MASQ)), marks)
    owned = {m: sum(hi - lo + 1 for lo, hi, mm in pick.slots if mm == m) for m in (M11, M12)}
    # Equal weights: Maglev gives each dest (M-1)/2 or (M+1)/2 of the M = 4093 slots.
    assert pick.modulus == 4093 and sorted(owned.values()) == [2046, 2047]


def test_counting_scheduler_prefers_the_less_loaded_server() -> None:
    rt = tcp80("lc", two(MASQ))
    busy = rt.dest(two(MASQ)[0].key)
    assert busy is not None
    busy.activeconns = 6
    pick = compute_pick(rt, marks, slots=8)
    # lc: overhead 6*256 vs 0: the idle .12 takes new flows until it is as loaded (6), then
    # they alternate: 7 of 8 slots to .12.
    owned = {m: sum(hi - lo + 1 for lo, hi, mm in pick.slots if mm == m) for m in (M11, M12)}
    assert owned == {M12: 7, M11: 1}


def test_tunnel_and_mixed_methods_are_refused() -> None:
    rt = tcp80("rr", [two(ROUTE)[0], two(MASQ)[1]])
    try:
        plan_service(rt, MarkAllocator(), LINKS, Timeouts())
    except ModelError as exc:
        assert "mix Route" in str(exc)
    else:
        raise AssertionError("mixed methods accepted")


def test_transaction_keeps_dynamic_state_and_deletes_only_what_went() -> None:
    marks_ = MarkAllocator()
    both = tcp80("rr", two(ROUTE, port=80), timeout=300)
    one = tcp80("rr", two(ROUTE, port=80)[1:], timeout=300)
    old = render([plan_service(both, marks_, LINKS, Timeouts())], ["eth0"])["netdev"]
    new = render([plan_service(one, marks_, LINKS, Timeouts())], ["eth0"])["netdev"]
    script = transaction(old, new)
    lines = script.splitlines()
    assert lines[:2] == ["add table netdev pylvs", "flush table netdev pylvs"]
    assert not any(line.startswith("delete table") for line in lines)
    # The flow and persistence maps hold live connections: never flushed, never deleted.
    assert not any("flows-" in line and line.split()[0] in ("flush", "delete") for line in lines)
    assert not any("persist-" in line and line.split()[0] in ("flush", "delete") for line in lines)
    # The removed dest's counters go; static maps are refilled.
    assert "delete counter netdev pylvs conns-tcp-10.0.0.100-80/10.0.2.11-80" in lines
    assert "flush map netdev pylvs dr-macs" in lines
    assert all(" pylvs" in line for line in lines)  # no other table is ever named


def test_new_set_timeouts_add_a_policy_and_keep_the_old_one() -> None:
    """`ipvsadm --set` makes a new conntrack timeout policy for new NAT flows; the old one is
    not deleted, since deleting it would put the flows that use it back on conntrack's own
    timeouts (nf_ct_untimeout), 5 days for an established one."""
    svc = tcp80("rr", two(MASQ))
    old = render([plan_service(svc, MarkAllocator(), LINKS, Timeouts())])["ip"]
    new = render([plan_service(svc, MarkAllocator(), LINKS, Timeouts(60, 20, 40))])["ip"]
    lines = transaction(old, new).splitlines()
    added = [line for line in lines if line.startswith("add ct timeout")]
    assert added == [
        "add ct timeout ip pylvs timeout-tcp-60-20 { protocol tcp ; l3proto ip ; "
        "policy = { established : 60, fin_wait : 20 } ; }"
    ]
    assert not any("timeout-tcp-900-120" in line for line in lines)
    assert all('ct timeout set "timeout-tcp-60-20"' in line for line in lines if "dnat" in line)
    # Without the kernel feature there is no policy at all.
    bare = render([plan_service(svc, MarkAllocator(), LINKS, Timeouts())], ct_timeouts=False)
    assert "ct timeout" not in bare["ip"].text()


def test_conntrack_line_parsing_keeps_pylvs_marks_only() -> None:
    mark = MARK_BASE | 3
    line = (
        "ipv4     2 tcp      6 117 TIME_WAIT src=10.77.1.2 dst=10.77.1.100 sport=40000 "
        "dport=80 src=10.77.2.11 dst=10.77.1.2 sport=8080 dport=40000 [ASSURED] "
        f"mark={mark} zone=0 use=2"
    )
    flow = parse_line(line)
    assert flow is not None
    assert (str(flow.caddr), flow.cport, str(flow.daddr), flow.dport) == (
        "10.77.1.2", 40000, "10.77.2.11", 8080,
    )  # fmt: skip
    assert flow.state is ConnState.TIME_WAIT and flow.expires == 117 and flow.mark == mark
    assert parse_line(line.replace(f"mark={mark}", "mark=5")) is None


def test_nft_json_counters_and_timed_elements() -> None:
    dump = parse_table(
        '{"nftables": [{"counter": {"name": "in-x", "packets": 4, "bytes": 240}},'
        ' {"map": {"name": "flows-x", "elem": [[{"elem": {"val": {"concat":'
        ' ["10.0.0.1", 5, 80]}, "timeout": 900, "expires": 675}}, 1819672577]]}}]}'
    )
    assert dump.counters["in-x"].packets == 4 and dump.counters["in-x"].bytes == 240
    (e,) = dump.elements["flows-x"]
    assert e.key == ("10.0.0.1", 5, 80) and e.value == 1819672577 and e.expires == 675
