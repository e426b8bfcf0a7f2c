"""virtual_server_group parsing and `to_table` (reference §3.8, §3.12; keepalived 2.2.7
check/check_data.c alloc_vsg_entry, check/ipwrapper.c init_service_rs/update_quorum_state)."""

from __future__ import annotations

from pylvs.config.keepalived.table import to_table
from pylvs.model import ForwardMethod, Protocol, ServiceKey
from tests.unit.config.keepalived.lvs.lvs_helpers import errors, has, load, minimal


def test_group_entries_ranges_masks_and_fwmarks() -> None:
    text = (
        "virtual_server_group G {\n 10.0.0.1-3 80\n 10.0.1.0/30 443\n 10.0.2.9-10.0.2.10 8080\n"
        " fwmark 9 inet\n}\n"
    )
    r = load(text)
    (g,) = r.config.virtual_server_groups
    assert [(str(e.first), str(e.last), e.port) for e in g.ranges] == [
        ("10.0.0.1", "10.0.0.3", 80),
        ("10.0.1.0", "10.0.1.3", 443),
        ("10.0.2.9", "10.0.2.10", 8080),
    ]
    assert [e.fwmark for e in g.fwmarks] == [9]
    assert not errors(r)


def test_group_bad_entries_are_skipped_with_errors() -> None:
    text = (
        "virtual_server_group G {\n 10.0.0.300 80\n 10.0.0.1/24 80\n 10.0.0.5-3 80\n"
        " fwmark abc\n 10.0.0.9 80\n}\nvirtual_server_group E {\n}\n"
    )
    r = load(text)
    (g,) = r.config.virtual_server_groups
    assert [str(e.first) for e in g.entries] == ["10.0.0.9"]
    e = errors(r)
    assert has(e, 2, "Invalid virtual server group IP address 10.0.0.300")
    assert has(e, 3, "Address mask bits not empty")
    assert has(e, 4, "not greater than address range start")
    assert has(e, 5, "fwmark 'abc'")
    assert has(e, 9, "virtual server group E has no entries")  # at the closing brace


def test_group_expands_to_one_service_per_member() -> None:
    text = "virtual_server_group G {\n 10.0.0.1-2 80\n fwmark 5\n}\n" + minimal(head="group G")
    r = load(text)
    table = to_table(r.config)
    assert [str(k) for k in table] == ["TCP 10.0.0.1:80", "TCP 10.0.0.2:80", "FWM 5"]
    for entry in table.values():
        assert [str(d) for d in entry.dests] == ["10.1.1.1:80"]


def test_unknown_group_drops_virtual_server() -> None:
    r = load(minimal(head="group NOPE"))
    assert r.config.virtual_servers == ()
    assert has(errors(r), 1, "Virtual server group NOPE specified but not configured")


def test_alpha_real_server_not_in_initial_table_unless_inhibit() -> None:
    text = minimal(rs_body="  alpha").replace(
        " }\n}\n", " }\n real_server 10.1.1.2 80 {\n  alpha\n  inhibit_on_failure\n }\n}\n"
    )
    r = load(text)
    (entry,) = to_table(r.config).values()
    # 10.1.1.1 (alpha) waits for its first check; 10.1.1.2 (alpha + inhibit) is added with weight 0
    assert [(str(d), d.weight) for d in entry.dests] == [("10.1.1.2:80", 0)]


def test_checker_alpha_also_keeps_the_server_out() -> None:
    r = load(minimal(rs_body="  TCP_CHECK {\n   alpha\n  }"))
    (entry,) = to_table(r.config).values()
    assert entry.dests == ()


def test_quorum_down_at_start_puts_the_sorry_server_in() -> None:
    text = minimal(body=" sorry_server 10.9.9.9 80\n quorum 1\n hysteresis 0", rs_body="  alpha")
    r = load(text)
    (entry,) = to_table(r.config).values()
    assert [(str(d), d.weight, d.method) for d in entry.dests] == [
        ("10.9.9.9:80", 1, ForwardMethod.MASQ)
    ]


def test_sorry_server_inhibit_present_with_weight_zero_when_quorum_up() -> None:
    r = load(minimal(body=" sorry_server 10.9.9.9 80\n sorry_server_inhibit"))
    (entry,) = to_table(r.config).values()
    assert [(str(d), d.weight) for d in entry.dests] == [("10.1.1.1:80", 1), ("10.9.9.9:80", 0)]


def test_duplicate_services_reported_and_first_wins() -> None:
    text = minimal() + minimal().replace("lvs_sched rr", "lvs_sched wrr")
    r = load(text)
    assert has(errors(r), 10, "duplicates service TCP 10.0.0.1:80")  # minimal() is 9 lines
    table = to_table(r.config)
    assert table[ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)].service.scheduler == "rr"
