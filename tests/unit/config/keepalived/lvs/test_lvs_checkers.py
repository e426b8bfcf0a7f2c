"""Checker blocks: common options, per-checker defaults and precedence (reference §3.11,
keepalived 2.2.7 check/check_api.c queue_checker and check/check_data.c validate_check_config)."""

from __future__ import annotations

import ipaddress

from pylvs.config.keepalived.lvs.checks import (
    BfdCheck,
    Checker,
    DnsCheck,
    FileCheck,
    HttpCheck,
    HttpProtocol,
    MiscCheck,
    PingCheck,
    SmtpCheck,
    TcpCheck,
    UdpCheck,
)
from pylvs.config.keepalived.parser import LoadResult
from pylvs.config.keywords import HostFacts
from tests.unit.config.keepalived.lvs.lvs_helpers import errors, has, minimal, vs, warnings


def checkers(
    rs_body: str, body: str = "", head: str = ""
) -> tuple[tuple[Checker, ...], LoadResult]:
    v, r = vs(head + minimal(body=body, rs_body=rs_body))
    return v.real_servers[0].checkers, r


def test_tcp_check_defaults_come_from_rs_and_checker_defaults() -> None:
    (c,), r = checkers("  TCP_CHECK {\n  }")
    assert isinstance(c, TcpCheck)
    assert c.conn.ip == ipaddress.ip_address("10.1.1.1") and c.conn.port == 80
    assert c.conn.timeout == 5.0  # VS default connect_timeout
    assert c.timing.retry == 1 and c.timing.delay_before_retry == 1.0  # queue_checker defaults
    assert c.timing.delay_loop == 60.0 and c.timing.warmup == 60.0  # warmup = delay_loop
    assert not errors(r) and not warnings(r)


def test_precedence_checker_over_rs_over_vs() -> None:
    body = " retry 5\n delay_before_retry 7\n connect_timeout 9"
    rs_body = "  retry 4\n  TCP_CHECK {\n   retry 2\n  }\n  TCP_CHECK {\n  }"
    (a, b), _ = checkers(rs_body, body)
    assert isinstance(a, TcpCheck) and isinstance(b, TcpCheck)
    assert a.timing.retry == 2  # checker
    assert b.timing.retry == 4  # real server
    assert b.timing.delay_before_retry == 7.0  # virtual server (via the real server)
    assert b.conn.timeout == 9.0


def test_nb_get_retry_in_tcp_check_is_a_deprecated_alias() -> None:
    (c,), r = checkers("  TCP_CHECK {\n   nb_get_retry 3\n   connect_port 8080\n  }")
    assert isinstance(c, TcpCheck)
    assert c.timing.retry == 3 and c.conn.port == 8080
    assert has(warnings(r), 8, "'nb_get_retry' is deprecated")
    assert not errors(r)


def test_http_get_defaults_and_urls() -> None:
    rs_body = (
        "  HTTP_GET {\n   url {\n    path /health\n    status_code 200 301-302\n"
        "    digest 640205B7B0FC66C1EA91C463FAC6334D\n   }\n   url {\n    path /\n   }\n"
        "   http_protocol 1.0C\n  }"
    )
    (c,), r = checkers(rs_body, body=" virtualhost www.example.com")
    assert isinstance(c, HttpCheck) and c.kind == "HTTP_GET"
    assert c.timing.delay_before_retry == 3.0  # HTTP default
    assert c.http_protocol is HttpProtocol.HTTP_1_0C
    first, second = c.urls
    assert first.status_codes == ((200, 200), (301, 302))
    assert first.accepts(302) and not first.accepts(300)
    assert first.digest == "640205b7b0fc66c1ea91c463fac6334d"
    assert second.status_codes == ((200, 299),)  # default when none given
    assert c.virtualhost == "www.example.com"  # inherited from the virtual server
    assert not errors(r)


def test_http_bad_status_and_url_without_path() -> None:
    rs_body = (
        "  SSL_GET {\n   url {\n    status_code 99 300-250 204\n   }\n"
        "   url {\n    path /ok\n    digest abc\n   }\n  }"
    )
    (c,), r = checkers(rs_body)
    assert isinstance(c, HttpCheck) and c.ssl
    assert [u.path for u in c.urls] == ["/ok"]
    e = errors(r)
    assert has(e, 9, "Invalid HTTP_GET status code '99'")
    assert has(e, 9, "Invalid HTTP_GET status code '300-250'")
    assert has(e, 10, "url has no path")  # at the url's closing brace
    assert has(e, 13, "digest 'abc' character length should be 32")


def test_http_without_urls_is_dropped_at_its_closing_brace() -> None:
    cs, r = checkers("  HTTP_GET {\n   connect_timeout 3\n  }")
    assert cs == ()
    assert has(errors(r), 9, "has no urls specified")


def test_dns_check_defaults() -> None:
    (c,), r = checkers("  DNS_CHECK {\n   type aaaa\n  }", body=" delay_loop 12")
    assert isinstance(c, DnsCheck)
    assert c.type == "AAAA" and c.name == "."
    assert c.timing.retry == 3  # DNS_DEFAULT_RETRY
    assert c.timing.delay_before_retry == 12.0  # defaults to delay_loop
    assert not errors(r)


def test_dns_check_bad_type_and_name() -> None:
    (c,), r = checkers("  DNS_CHECK {\n   type FOO\n   name a..b\n  }")
    assert isinstance(c, DnsCheck) and c.type == "SOA" and c.name == "."
    assert has(errors(r), 8, "Unknown DNS check type FOO")
    assert has(errors(r), 9, "has empty label")


def test_misc_check() -> None:
    host = HostFacts(user_exists=lambda u: False)
    rs_body = (
        '  MISC_CHECK {\n   misc_path "/usr/bin/check -p 80"\n   misc_dynamic\n   user ghost\n  }'
    )
    v, r = vs(minimal(rs_body=rs_body, body=" delay_loop 6"), host)
    (c,) = v.real_servers[0].checkers
    assert isinstance(c, MiscCheck)
    assert c.script.argv == ("/usr/bin/check", "-p", "80")
    assert c.script.user == "ghost" and c.dynamic
    assert c.timing.retry == 0  # MISC_CHECK default retry
    assert c.timeout == 6.0  # no misc_timeout: the checker's delay_loop
    assert has(warnings(r), 10, "user 'ghost' does not exist")


def test_misc_check_without_path_is_dropped() -> None:
    cs, r = checkers("  MISC_CHECK {\n   misc_timeout 5\n  }")
    assert cs == ()
    assert has(errors(r), 9, "No script path")


def test_udp_check_hex_and_wildcards() -> None:
    rs_body = (
        "  UDP_CHECK {\n   payload 01 02ff\n   require_reply 0aXx\n"
        "   min_reply_length 2\n   max_reply_length 1\n  }"
    )
    (c,), r = checkers(rs_body)
    assert isinstance(c, UdpCheck)
    assert c.payload == b"\x01\x02\xff"
    assert c.reply == b"\x0a\x00" and c.reply_mask == b"\x00\xff"
    assert has(errors(r), 12, "will always fail")
    ok = UdpCheck(c.loc, c.timing, c.conn, reply=c.reply, reply_mask=c.reply_mask)
    assert ok.reply_matches(b"\x0a\x77") and not ok.reply_matches(b"\x0b\x77")


def test_smtp_check_with_deprecated_hosts() -> None:
    rs_body = (
        "  SMTP_CHECK {\n   helo_name me.example\n   retry 2\n"
        "   host {\n    connect_ip 10.2.2.2\n    connect_port 25\n   }\n"
        "   host {\n    connect_ip 10.3.3.3\n   }\n  }"
    )
    cs, r = checkers(rs_body)
    # no connection option on the main block: the first host replaces it, the second is extra
    assert [type(c) for c in cs] == [SmtpCheck, SmtpCheck]
    a, b = cs
    assert isinstance(a, SmtpCheck) and isinstance(b, SmtpCheck)
    assert (str(a.conn.ip), a.conn.port) == ("10.2.2.2", 25)
    assert (str(b.conn.ip), b.conn.port) == ("10.3.3.3", 80)
    assert a.helo_name == b.helo_name == "me.example"
    assert a.timing.retry == b.timing.retry == 2
    assert has(warnings(r), 10, "'host' is deprecated")


def test_file_and_bfd_checks_need_defined_names() -> None:
    head = "track_file tf {\n file /tmp/x\n weight 5 reverse\n}\n"
    rs_body = "  FILE_CHECK {\n   track_file tf\n  }\n  BFD_CHECK {\n   name nobfd\n  }"
    (c,), r = checkers(rs_body, head=head)
    assert isinstance(c, FileCheck)
    assert c.weight == 5 and c.reverse  # from the track_file block
    assert has(errors(r), 15, "BFD_CHECK - BFD nobfd not configured")


def test_bfd_check_with_instance() -> None:
    head = "bfd_instance b1 {\n neighbor_ip 10.1.1.1\n}\n"
    (c,), r = checkers("  BFD_CHECK {\n   name b1\n   alpha\n  }", head=head)
    assert isinstance(c, BfdCheck) and c.name == "b1" and c.alpha
    assert not errors(r)


def test_link_local_without_bind_if_drops_checker() -> None:
    cs, r = checkers("  TCP_CHECK {\n   connect_ip fe80::1\n  }")
    assert cs == ()
    assert has(errors(r), 9, "requires a bind_if")


def test_bind_if_checked_against_host_interfaces() -> None:
    host = HostFacts(interfaces=frozenset({"lo", "eth0"}))
    v, r = vs(minimal(rs_body="  PING_CHECK {\n   bind_if ens33\n  }"), host)
    ping = v.real_servers[0].checkers[0]
    assert isinstance(ping, PingCheck) and ping.conn.bind_if == "ens33"
    assert has(warnings(r), 8, "interface ens33 does not exist")
