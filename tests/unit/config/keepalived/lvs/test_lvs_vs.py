"""virtual_server / real_server keywords, defaults and post-parse rules (reference §3.9-3.10,
keepalived 2.2.7 check/check_parser.c and check/check_data.c validate_check_config)."""

from __future__ import annotations

import ipaddress

from pylvs.config.keywords import HostFacts
from pylvs.model import ForwardMethod, Protocol, ServiceFlags, TunnelType
from tests.unit.config.keepalived.lvs.lvs_helpers import errors, has, load, minimal, vs, warnings


def test_defaults_and_warnings_for_missing_protocol_scheduler_method() -> None:
    v, r = vs("virtual_server 10.0.0.1 80 {\n real_server 10.1.1.1 80 {\n }\n}\n")
    # keepalived 2.2.7: "no protocol set - defaulting to UDP", default wlc and NAT
    assert v.protocol is Protocol.UDP
    assert v.scheduler == "wlc"
    assert v.method is ForwardMethod.MASQ
    assert v.real_servers[0].server.method is ForwardMethod.MASQ
    assert not errors(r)
    w = warnings(r)
    assert has(w, 1, "no protocol set - defaulting to UDP")
    assert has(w, 1, "no scheduler set")
    assert has(w, 1, "no forwarding method set")
    assert v.delay_loop == 60.0 and v.connect_timeout == 5.0
    assert v.quorum == 1 and v.hysteresis == 0 and v.weight == 1


def test_deprecated_aliases_are_accepted_with_a_warning() -> None:
    text = (
        "virtual_server 10.0.0.1 80 {\n protocol tcp\n lb_algo wrr\n lb_kind DR\n"
        " real_server 10.1.1.1 80 {\n weight 3\n }\n}\n"
    )
    v, r = vs(text)
    assert v.protocol is Protocol.TCP  # case-insensitive (strcasecmp)
    assert v.scheduler == "wrr"
    assert v.method is ForwardMethod.ROUTE
    assert not errors(r)
    assert has(warnings(r), 3, "'lb_algo' is deprecated")
    assert has(warnings(r), 4, "'lb_kind' is deprecated")


def test_unknown_scheduler_is_an_error_and_keeps_the_default() -> None:
    v, r = vs(minimal().replace("lvs_sched rr", "lvs_sched fastest"))
    assert v.scheduler == "wlc"
    assert has(errors(r), 3, "Invalid lvs_scheduler 'fastest'")


def test_unknown_keyword_is_a_warning_at_its_line_and_column() -> None:
    v, r = vs(minimal(body="   nat_mask 255.255.255.0"))
    assert [(p.loc.line, p.loc.col) for p in warnings(r)] == [(5, 4)]
    assert "Unknown keyword 'nat_mask'" in warnings(r)[0].message
    assert not errors(r)
    del v


def test_persistence_timeout_zero_means_off_with_a_warning() -> None:
    v, r = vs(minimal(body=" persistence_timeout 0"))
    assert v.persistence_timeout == 0
    assert not v.service().persistent
    assert has(warnings(r), 5, "persistence_timeout 0")
    assert not errors(r)


def test_persistence_timeout_without_value_is_360_and_out_of_range_is_an_error() -> None:
    v, _ = vs(minimal(body=" persistence_timeout"))
    assert v.persistence_timeout == 360
    v2, r2 = vs(minimal(body=" persistence_timeout 2678401"))
    assert v2.persistence_timeout == 0  # keepalived keeps the previous value
    assert has(errors(r2), 5, "persistence_timeout invalid")


def test_persistence_granularity_sets_timeout_and_netmask() -> None:
    v, r = vs(minimal(body=" persistence_granularity 255.255.255.0"))
    assert v.persistence_timeout == 360  # granularity without timeout -> 360
    svc = v.service()
    assert svc.persistent and svc.timeout == 360 and svc.netmask == 24
    assert not errors(r)


def test_zero_port_forces_persistence_with_an_error() -> None:
    v, r = vs(minimal(head="10.0.0.1 0").replace("10.1.1.1 80", "10.1.1.1"))
    assert v.port == 0
    assert v.persistence_timeout == 360
    assert has(errors(r), 1, "zero port only valid for persistent services")


def test_ops_only_for_udp() -> None:
    v, r = vs(minimal(body=" ops"))
    assert not v.flags & ServiceFlags.ONEPACKET
    assert has(errors(r), 1, "one packet scheduling requires UDP")
    u, r2 = vs(minimal(body=" ops").replace("protocol TCP", "protocol UDP"))
    assert u.flags & ServiceFlags.ONEPACKET
    assert u.service().one_packet
    assert not errors(r2)


def test_sh_flags_only_after_sh_scheduler() -> None:
    v, r = vs(minimal(body=" sh-port\n sh-fallback").replace("lvs_sched rr", "lvs_sched sh"))
    assert v.service().sched_flag_names() == ["sh-fallback", "sh-port"]
    assert not errors(r)
    w, r2 = vs(minimal(body=" sh-port"))  # rr: ignored with an error
    assert not w.flags & ServiceFlags.SCHED2
    assert has(errors(r2), 5, "sh-port only applies to sh scheduler")


def test_quorum_and_hysteresis_clamps() -> None:
    text = minimal(body=" quorum 10\n hysteresis 20", rs_body="  weight 4")
    v, r = vs(text)
    # total weight 4 < quorum 10 -> quorum 4; hysteresis 20 >= 4 -> 3
    assert v.quorum == 4
    assert v.hysteresis == 3
    assert has(warnings(r), 1, "reducing quorum to 4")
    assert has(errors(r), 1, "setting hysteresis to 3")


def test_real_server_inherits_from_virtual_server() -> None:
    body = " weight 7\n delay_loop 9\n connect_timeout 2.5\n retry 4\n alpha\n inhibit_on_failure"
    v, r = vs(minimal(body=body))
    rs = v.real_servers[0]
    assert rs.server.weight == 7  # VS 'weight' is the default RS weight
    assert rs.delay_loop == 9.0 and rs.connect_timeout == 2.5 and rs.retry == 4
    assert rs.alpha and rs.inhibit_on_failure
    assert rs.smtp_alert  # RS default true for backward compatibility
    assert not v.smtp_alert  # VS default false
    assert not errors(r)


def test_real_server_own_values_win() -> None:
    v, _ = vs(minimal(body=" delay_loop 9\n weight 7", rs_body="  weight 0\n  delay_loop 3"))
    rs = v.real_servers[0]
    assert rs.server.weight == 0 and rs.delay_loop == 3.0


def test_duplicate_real_server_removed() -> None:
    text = (
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_method DR\n lvs_sched rr\n"
        " real_server 10.1.1.1 80 {\n }\n real_server 10.1.1.1 80 {\n }\n}\n"
    )
    v, r = vs(text)
    assert len(v.real_servers) == 1
    assert has(errors(r), 7, "is duplicated - removing second rs")


def test_port_fixups_dr_reset_and_nat_filled() -> None:
    text = (
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method DR\n"
        " real_server 10.1.1.1 8080 {\n }\n real_server 10.1.1.2 {\n lvs_method NAT\n }\n}\n"
    )
    v, r = vs(text)
    ports = [(str(x.address), x.port, x.server.method) for x in v.real_servers]
    assert ports == [
        ("10.1.1.1", 80, ForwardMethod.ROUTE),  # DR with a different port: reset to VS port
        ("10.1.1.2", 80, ForwardMethod.MASQ),  # NAT without port: VS port
    ]
    assert has(warnings(r), 5, "ports don't match - resetting")


def test_fwmark_service_clears_dr_ports_and_ignores_protocol() -> None:
    text = (
        "virtual_server fwmark 7 {\n protocol TCP\n lvs_sched rr\n lvs_method DR\n"
        " real_server 10.1.1.1 80 {\n }\n}\n"
    )
    v, r = vs(text)
    assert v.protocol is None and v.fwmark == 7
    assert v.real_servers[0].port == 0
    assert str(v.key) == "FWM 7"
    assert has(warnings(r), 1, "protocol specified for fwmark")
    assert has(warnings(r), 5, "has port specified - clearing")


def test_tunnel_method_options() -> None:
    v, r = vs(minimal().replace("lvs_method NAT", "lvs_method TUN type gue port 6080 csum"))
    t = v.real_servers[0].server.tunnel
    assert t is not None and t.type is TunnelType.GUE and t.port == 6080
    assert not errors(r)
    w, r2 = vs(minimal().replace("lvs_method NAT", "lvs_method TUN type gue"))
    assert w.method is ForwardMethod.TUNNEL and w.tunnel is None  # keeps TUN, default ipip
    assert has(errors(r2), 4, "gue tunnels require port")


def test_family_mismatch_skips_real_server() -> None:
    text = minimal().replace(" }\n}\n", " }\n real_server fe80::1 80 {\n }\n}\n")
    r = load(text)
    assert [str(x.address) for x in r.config.virtual_servers[0].real_servers] == ["10.1.1.1"]
    # reported where keepalived reports it: rs_end_handler, at the closing brace
    assert has(errors(r), 10, "Address family of virtual server and real server fe80::1")


def test_virtual_server_without_real_servers_is_dropped() -> None:
    r = load("virtual_server 10.0.0.1 80 {\n protocol TCP\n}\n")
    assert r.config.virtual_servers == ()
    assert has(errors(r), 1, "has no real servers - ignoring")


def test_bad_values_are_errors_at_the_word() -> None:
    r = load(minimal(body=" delay_loop abc", rs_body="  weight 99999999999"))
    e = errors(r)
    assert [(p.loc.line, p.loc.col) for p in e] == [(5, 13), (7, 10)]
    assert r.config.virtual_servers[0].delay_loop == 60.0
    assert r.config.virtual_servers[0].real_servers[0].server.weight == 1


def test_missing_parameter_is_an_error() -> None:
    r = load(minimal(body=" delay_loop"))
    assert has(errors(r), 5, "missing a parameter")


def test_sorry_server_inherits_method_and_port() -> None:
    v, r = vs(minimal(body=" sorry_server 10.9.9.9\n sorry_server_inhibit"))
    assert v.sorry_server is not None
    assert v.sorry_server.server.port == 80 and v.sorry_server.inhibit
    assert v.sorry_server.server.method is ForwardMethod.MASQ
    assert not errors(r)


def test_notify_scripts_split_and_user_checked() -> None:
    host = HostFacts(user_exists=lambda u: u == "root", group_exists=lambda g: False)
    rs_body = '  notify_up "/bin/up.sh arg 1" nobody\n  notify_down /bin/down.sh'
    v, r = vs(minimal(rs_body=rs_body), host)
    rs = v.real_servers[0]
    assert rs.notify_up is not None and rs.notify_up.argv == ("/bin/up.sh", "arg", "1")
    assert rs.notify_up.user == "nobody"
    assert rs.notify_down is not None and rs.notify_down.argv == ("/bin/down.sh",)
    assert has(warnings(r), 7, "user 'nobody' does not exist")


def test_ipv6_virtual_server_service() -> None:
    text = minimal(head="2001:db8::1 443").replace("10.1.1.1 80", "2001:db8::2 443")
    v, r = vs(text)
    assert v.address == ipaddress.ip_address("2001:db8::1")
    assert str(v.service().key) == "TCP [2001:db8::1]:443"
    assert not errors(r)


def test_script_keywords_given_twice_keep_the_first_with_an_error() -> None:
    v, r = vs(
        """\
        virtual_server 10.0.0.1 80 {
            protocol TCP
            quorum_up "/bin/first"
            quorum_up "/bin/second"
            real_server 10.0.0.2 80 {
                notify_up "/bin/up1"
                notify_up "/bin/up2"
            }
        }
        """
    )
    assert v.quorum_up is not None and v.quorum_up.argv == ("/bin/first",)
    assert v.real_servers[0].notify_up is not None
    assert v.real_servers[0].notify_up.argv == ("/bin/up1",)
    assert has(errors(r), 4, "quorum_up script already specified - ignoring")
    assert has(errors(r), 7, "notify_up script already specified - ignoring")
