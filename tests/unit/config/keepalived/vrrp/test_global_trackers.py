"""global_defs, trackers, sync groups, static blocks and the seed configs."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pylvs.config.errors import Kind
from pylvs.config.keywords import HostFacts
from tests.unit.config.keepalived.vrrp.vrrp_helpers import parse

SEEDS = Path("/work/shared/seeds/configs")


def test_global_defaults() -> None:
    g = parse("global_defs {\n}\n").globals
    assert g.smtp_connect_timeout == 30 and g.smtp_server is None
    assert g.notification_email_from is None  # computed by the runtime
    assert (g.vrrp_garp_master_delay, g.vrrp_garp_master_repeat) == (5, 5)
    assert g.vrrp_down_timer_adverts == 3 and g.vrrp_version == 2
    assert g.vrrp_mcast_group4 == ipaddress.ip_address("224.0.0.18")


def test_global_values() -> None:
    text = (
        "global_defs {\n notification_email {\n a@b.c\n d@e.f\n }\n"
        " smtp_server 192.0.2.1 2525\n router_id R1\n lvs_timeouts tcp 900 udp 30\n"
        " lvs_sync_daemon eth0 VI_1 id 7\n lvs_flush_onstop VS\n vrrp_strict\n"
        " enable_snmp_vrrp\n vrrp_priority -5\n}\n"
    )
    r = parse(text)
    g = r.globals
    assert g.notification_email == ("a@b.c", "d@e.f")
    assert g.smtp_server is not None and (g.smtp_server.host, g.smtp_server.port) == (
        "192.0.2.1",
        2525,
    )
    assert g.router_id == "R1" and g.vrrp_strict
    assert (g.lvs_timeouts.tcp, g.lvs_timeouts.tcpfin, g.lvs_timeouts.udp) == (900, None, 30)
    assert g.lvs_sync_daemon is not None and g.lvs_sync_daemon.syncid == 7
    assert g.lvs_flush_on_stop == "vs"
    assert ("enable_snmp_vrrp", ()) in g.other and ("vrrp_priority", ("-5",)) in g.other
    # lvs_flush_onstop is a deprecated alias keepalived accepts silently: warning; VI_1 does
    # not exist: error; SNMP and process priorities are keywords pylvs reads and does not act
    # on (lvs_sync_daemon and lvs_flush_on_stop it acts on: docs/ipvs.md)
    kinds = [(p.loc.line, p.kind) for p in r.problems.warnings]
    assert (10, Kind.DEPRECATED) in kinds
    assert sorted(line for line, kind in kinds if kind is Kind.UNSUPPORTED) == [12, 13]
    assert len(kinds) == 3
    assert [p.loc.line for p in r.problems.errors] == [9]


@pytest.mark.parametrize(
    ("line", "bad_col"),
    [
        ("smtp_connect_timeout 5000", 23),
        ("vrrp_down_timer_adverts 0", 26),
        ("vrrp_version 4", 15),
        ("vrrp_mcast_group4 10.0.0.1", 20),
        ("max_auto_priority 100", 20),
        ("vrrp_priority 20", 16),
    ],
)
def test_global_range_errors(line: str, bad_col: int) -> None:
    r = parse(f"global_defs {{\n {line}\n}}\n")
    assert [(p.loc.line, p.loc.col) for p in r.problems.errors] == [(2, bad_col)]


def test_garp_interval_zero_is_a_warning_and_repeat_zero_falls_back() -> None:
    r = parse("global_defs {\nvrrp_garp_interval 0\nvrrp_garp_master_repeat 0\n}\n")
    assert r.globals.vrrp_garp_interval == 0.0
    assert [p.loc.line for p in r.problems.warnings] == [2]
    assert r.globals.vrrp_garp_master_repeat == 1
    assert [p.loc.line for p in r.problems.errors] == [3]


def test_min_garp_only_changes_defaults() -> None:
    g = parse("global_defs {\nvrrp_min_garp\nvrrp_garp_master_repeat 2\n}\n").globals
    assert (g.vrrp_garp_master_repeat, g.vrrp_garp_master_delay) == (2, 0)


def test_vrrp_script_defaults_and_fallbacks() -> None:
    r = parse('vrrp_script chk {\n script "/bin/check x"\n rise 0\n timeout 0\n}\n')
    s = r.config.scripts[0]
    assert s.script.argv == ("/bin/check", "x")
    assert (s.interval, s.weight, s.rise, s.fall, s.timeout) == (1.0, 0, 1, 1, 1.0)
    assert [p.loc.line for p in r.problems.errors] == [3, 4]


def test_vrrp_script_without_script_is_removed() -> None:
    r = parse("vrrp_script chk {\n interval 2\n}\n")
    assert r.config.scripts == ()
    assert [p.loc.line for p in r.problems.errors] == [3]  # at the closing brace


def test_track_file_deprecated_alias_and_default_weight() -> None:
    r = parse("vrrp_track_file tf {\n file /run/x\n}\n")
    assert r.config.track_files[0].weight == 1
    assert [p.loc.line for p in r.problems.warnings] == [1]


def test_track_process_and_bfd() -> None:
    text = (
        "vrrp_track_process p {\n process nginx -g\n quorum 2\n delay 1.5\n}\n"
        "bfd_instance b {\n neighbour_ip 192.0.2.9\n min_rx 20\n}\n"
    )
    r = parse(text)
    p = r.config.track_processes[0]
    assert (p.process, p.params, p.quorum, p.fork_delay, p.terminate_delay) == (
        "nginx",
        ("-g",),
        2,
        1.5,
        1.5,
    )
    b = r.config.bfd_instances[0]
    assert str(b.neighbor_ip) == "192.0.2.9" and b.min_rx_ms == 20 and b.multiplier == 5


def test_sync_group_members() -> None:
    vi = (
        "vrrp_instance {n} {{\ninterface eth0\nvirtual_router_id {v}\n"
        "virtual_ipaddress {{\n10.0.0.{v}\n}}\n}}\n"
    )
    text = (
        vi.format(n="A", v=1)
        + vi.format(n="B", v=2)
        + "vrrp_sync_group G {\ngroup {\nA\nB\nC\n}\n}\n"
    )
    r = parse(text)
    assert r.config.sync_groups[0].members == ("A", "B")
    assert any("C specified in sync group G" in e for e in r.errors())
    assert {i.sync_group for i in r.config.instances} == {"G"}


def test_static_blocks_and_delays() -> None:
    text = (
        "static_ipaddress {\n 192.0.2.5/24 dev eth1 scope link\n}\n"
        "static_routes {\n 198.51.100.0/24 via 192.0.2.1 dev eth1\n}\n"
        "interface_up_down_delays {\n eth1 0.5\n eth2 1 2\n}\n"
        "garp_group {\n garp_interval 0.01\n interface eth1\n}\n"
    )
    c = parse(text).config
    assert (
        c.static_addresses[0].scope == "link"
        and str(c.static_addresses[0].address) == "192.0.2.5/24"
    )
    assert str(c.static_routes[0].via) == "192.0.2.1"
    assert [(d.down_delay, d.up_delay) for d in c.up_down_delays] == [(0.5, 0.5), (1, 2)]
    assert c.garp_groups[0].interfaces == ("eth1",)


def test_process_level_keywords() -> None:
    g = parse("net_namespace blue\nchild_wait_time 9\nuse_pid_dir\n").globals
    assert (g.process.net_namespace, g.process.child_wait_time, g.process.use_pid_dir) == (
        "blue",
        9,
        True,
    )


def test_host_facts_are_warnings() -> None:
    host = HostFacts(interfaces=frozenset({"lo", "eth0"}), user_exists=lambda u: u == "root")
    text = (
        "global_defs {\n script_user nobody9\n}\n"
        "vrrp_instance VI_1 {\n interface ens33\n virtual_router_id 1\n"
        " virtual_ipaddress {\n 10.0.0.1\n }\n}\n"
    )
    r = parse(text, host=host)
    assert not r.problems.has_errors()
    assert [p.loc.line for p in r.problems.warnings] == [2, 5]


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.keepalived.conf")), ids=lambda p: p.name)
def test_seed_configs_have_no_vrrp_errors(path: Path) -> None:
    r = parse(path.read_text(), filename=str(path))
    assert r.problems.errors == []
    assert r.config.instances, "every seed has a vrrp_instance"
