"""vrrp_instance parsing and keepalived's post-parse rules (reference §3.6, §4)."""

from __future__ import annotations

from tests.unit.config.keepalived.vrrp.vrrp_helpers import Result, instance_text, parse

VIP = "virtual_ipaddress {\n 10.0.0.1\n}"


def inst(body: str, extra: str = "") -> Result:
    return parse(instance_text(f"interface eth0\nvirtual_router_id 51\n{body}\n{VIP}", extra=extra))


def test_priority_defaults_follow_state() -> None:
    # unset priority: 255 when state MASTER, else 100 (vrrp_complete_instance)
    assert inst("state MASTER").instance().priority == 255
    assert inst("state BACKUP").instance().priority == 100
    # unset state: derived from priority
    r = inst("priority 255")
    assert r.instance().state == "MASTER"
    assert inst("priority 200").instance().state == "BACKUP"


def test_invalid_priority_is_an_error_and_falls_back_to_100() -> None:
    r = inst("priority 0")
    assert r.instance().priority == 100
    assert any(e.startswith("4:10 ") for e in r.errors())


def test_unknown_state_word_falls_back_to_backup() -> None:
    r = inst("state master\npriority 150")  # keepalived compares case-sensitively
    assert r.instance().state == "BACKUP"
    assert [p.loc.col for p in r.at(4) if p.severity.value == "error"] == [7]


def test_backup_after_master_is_ignored() -> None:
    r = inst("state MASTER\nstate BACKUP")
    assert r.instance().state == "MASTER"
    assert 5 in {p.loc.line for p in r.problems.errors}


def test_vrid_required_and_ranged() -> None:
    r = parse(instance_text(f"interface eth0\nvirtual_router_id 256\n{VIP}"))
    assert r.config.instances == ()
    assert {p.loc.line for p in r.problems.errors} == {1, 3}


def test_advert_int_rounding_v2_and_v3() -> None:
    r = inst("advert_int 1.4")
    assert r.instance().advert_int_us == 1_000_000
    assert 4 in {p.loc.line for p in r.problems.errors}
    r = inst("advert_int 1.6")
    assert r.instance().advert_int_us == 2_000_000
    r = inst("version 3\nadvert_int 0.125")  # v3: units of 10 ms, half up
    assert r.instance().advert_int_us == 130_000
    r = inst("version 3\nadvert_int 50")  # v3 max 40.95 s
    assert r.instance().advert_int_us == 40_950_000
    assert inst("").instance().advert_int_us == 1_000_000


def test_nopreempt_with_state_master_is_cleared() -> None:
    r = inst("state MASTER\npriority 150\nnopreempt")
    assert r.instance().nopreempt is False
    assert r.problems.has_errors()
    assert inst("state BACKUP\nnopreempt").instance().nopreempt is True


def test_preempt_delay_incompatible_with_nopreempt() -> None:
    r = inst("state BACKUP\nnopreempt\npreempt_delay 10")
    assert r.instance().preempt_delay == 0.0
    assert 6 in {p.loc.line for p in r.problems.errors}
    assert inst("preempt_delay 2.5").instance().preempt_delay == 2.5


def test_authentication_truncated_to_8_and_zero_padded() -> None:
    r = inst("authentication {\nauth_type PASS\nauth_pass 123456789\n}")
    auth = r.instance().authentication
    assert auth is not None and auth.password == b"12345678"
    assert [p.loc.line for p in r.problems.warnings] == [6]
    short = inst("authentication {\nauth_type PASS\nauth_pass 1111\n}").instance()
    assert short.authentication is not None
    assert short.authentication.password == b"1111\0\0\0\0"


def test_v3_ignores_authentication() -> None:
    r = inst("version 3\nauthentication {\nauth_type PASS\nauth_pass 1111\n}")
    assert r.instance().authentication is None
    assert r.problems.has_errors()


def test_strict_mode_adjustments() -> None:
    r = inst("state MASTER\npriority 100", extra="global_defs {\nvrrp_strict\n}\n")
    i = r.instance()
    assert i.state == "BACKUP" and i.strict_mode
    assert i.accept is False and i.lower_prio_no_advert is True
    assert i.garp_lower_prio_repeat == 0 and i.garp_lower_prio_delay == 0
    assert not r.problems.has_errors()  # vrrp_strict asked for these: warnings


def test_garp_defaults_come_from_global_defs() -> None:
    i = inst("").instance()
    assert (i.garp_master_delay, i.garp_master_repeat) == (5, 5)
    assert (i.garp_lower_prio_delay, i.garp_lower_prio_repeat) == (5, 5)
    assert i.down_timer_adverts == 3
    g = "global_defs {\nvrrp_garp_master_repeat 3\nvrrp_garp_master_delay 2\n}\n"
    i = inst("", extra=g).instance()
    assert (i.garp_master_delay, i.garp_master_repeat, i.garp_lower_prio_repeat) == (2, 3, 3)


def test_vip_family_must_match_first_address() -> None:
    r = parse(
        instance_text(
            "interface eth0\nvirtual_router_id 5\n"
            "virtual_ipaddress {\n10.0.0.1/24 dev eth0\nfe80::1\n}"
        )
    )
    i = r.instance()
    assert [str(v.address) for v in i.virtual_ipaddresses] == ["10.0.0.1/24"]
    assert [(p.loc.line, p.loc.col) for p in r.problems.errors] == [(6, 1)]


def test_ipv6_instance_is_version_3() -> None:
    r = parse(
        instance_text(
            "interface eth0\nvirtual_router_id 5\nvirtual_ipaddress {\nfe80::1\n2001:db8::1\n}"
        )
    )
    assert r.instance().family == 6 and r.instance().version == 3


def test_unicast_peers_same_family() -> None:
    r = inst("unicast_src_ip 10.0.0.2\nunicast_peer {\n10.0.0.3 min_ttl 2\n2001:db8::1\n}")
    peers = r.instance().unicast_peers
    assert [str(p.address) for p in peers] == ["10.0.0.3"]
    assert peers[0].min_ttl == 2 and r.instance().check_unicast_src
    assert 7 in {p.loc.line for p in r.problems.errors}


def test_trackers_must_be_defined_before_use() -> None:
    later = inst("track_script {\nchk weight 10\n}")
    assert later.instance().track_scripts == ()
    assert 5 in {p.loc.line for p in later.problems.errors}
    before = "vrrp_script chk {\nscript /bin/true\nweight -20\n}\n"
    r = inst("track_script {\nchk\n}", extra=before)
    ts = r.instance().track_scripts
    assert [(t.name, t.weight) for t in ts] == [("chk", -20)]


def test_track_script_weight_254_is_clamped() -> None:
    before = "vrrp_script chk {\nscript /bin/true\n}\n"
    r = inst("track_script {\nchk weight -254\n}", extra=before)
    assert r.instance().track_scripts[0].weight == -253
    assert r.problems.has_errors()


def test_notify_script_argv_and_user() -> None:
    r = inst("notify_master \"/etc/ka/n.sh master 'a b'\" nobody nogroup")
    n = r.instance().notify_master
    assert n is not None
    assert n.argv == ("/etc/ka/n.sh", "master", "a b")
    assert (n.user, n.group) == ("nobody", "nogroup")


def test_unknown_keyword_is_a_warning_with_location() -> None:
    r = inst("  bogus 1")
    assert [(p.loc.line, p.loc.col) for p in r.problems.warnings if "bogus" in p.message] == [
        (4, 3)
    ]
    assert not r.problems.has_errors()


def test_virtual_routes_and_rules() -> None:
    body = (
        "virtual_routes {\n10.1.0.0/16 via 10.0.0.254 dev eth0 metric 5\nblackhole 10.2.0.0/16\n}\n"
        "virtual_rules {\nfrom 10.0.0.0/8 table 100 preference 200\n}"
    )
    i = inst(body).instance()
    r0, r1 = i.virtual_routes
    assert str(r0.destination) == "10.1.0.0/16" and str(r0.via) == "10.0.0.254" and r0.metric == 5
    assert r1.route_type == "blackhole" and r1.no_track
    assert i.virtual_rules[0].table == "100" and i.virtual_rules[0].preference == 200


def test_duplicate_vrid_on_same_interface() -> None:
    text = instance_text(f"interface eth0\nvirtual_router_id 9\n{VIP}", "A") + instance_text(
        f"interface eth0\nvirtual_router_id 9\n{VIP}", "B"
    )
    r = parse(text)
    assert any("same VRID" in e for e in r.errors())
