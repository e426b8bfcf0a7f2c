"""Addresses as str2sa_range reads them after the line reader: `$NAME` / `${NAME}` expanded
once more (src/tools.c env_expand, empty when unset), an empty host meaning any IPv4 address,
and init_srv_check's port rule for such servers.  The verdicts are haproxy 2.6.12's `-c` on the
same lines (reg-tests checks/agent-check.vtc and server/cli_delete_server.vtc write
`${S1_addr}:${S1_port}` unquoted, for a syslog or server vtest never declared)."""

from __future__ import annotations

import ipaddress

from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.values import env_expand

HEAD = "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n"
HEAD += "    timeout server 1s\n"


def test_env_expand_as_haproxy() -> None:
    env = {"A": "10.0.0.1", "P": "81"}
    assert env_expand("${A}:${P}", env) == "10.0.0.1:81"
    assert env_expand("$A:$P", env) == "10.0.0.1:81"
    assert env_expand("${nope}:${nope2}", env) == ":"
    assert env_expand("$$${A}", env) == "10.0.0.1"  # a `$` with no name expands to nothing
    assert env_expand("${A", env) == "10.0.0.1"  # no closing brace: the name ends anyway
    assert env_expand("plain", env) == "plain"


def test_unset_variables_leave_any_address_and_no_port() -> None:
    text = HEAD + "backend be\n    log ${S1_addr}:${S1_port} daemon\n"
    text += "    server s1 ${s1_addr}:${s1_port}\n"
    got = load_text(text, "h.cfg", env={})
    assert got.ok, [str(p) for p in got.problems]
    be = got.config.proxies[0]
    target = be.servers[0].target
    assert (target.ip, target.port) == (ipaddress.ip_address("0.0.0.0"), None)
    spec = be.logs[0].spec
    assert spec is not None and (spec.kind, spec.host, spec.port) == ("udp", "0.0.0.0", 514)


def test_set_variables_are_expanded_outside_quotes_in_addresses() -> None:
    text = "global\n    setenv SRV 127.0.0.5\n" + HEAD + "backend be\n    server s1 ${SRV}:81\n"
    got = load_text(text, "h.cfg", env={})
    assert got.ok, [str(p) for p in got.problems]
    target = got.config.proxies[0].servers[0].target
    assert (str(target.ip), target.port) == ("127.0.0.5", 81)


def test_an_address_that_expands_to_nothing_is_refused() -> None:
    got = load_text(HEAD + "backend be\n    server s1 ${NOPE}\n", "h.cfg", env={})
    assert not got.ok
    assert "resolves to an empty address" in str(got.problems.errors[0])


def test_a_checked_server_needs_a_port_only_when_its_address_is_set() -> None:
    ok = load_text(HEAD + "backend be\n    server s2 0.0.0.0 check\n", "h.cfg", env={})
    assert ok.ok, [str(p) for p in ok.problems]
    bad = load_text(HEAD + "backend be\n    server s3 1.2.3.4 check\n", "h.cfg", env={})
    assert [p.message for p in bad.problems.errors] == [
        "config: backend 'be': server 's3' has neither service port nor check port."
    ]


def test_socks4_addresses_and_where_checks_connect() -> None:
    from pylvs.config.haproxy.addresses import socks4_target

    assert socks4_target("127.0.0.1:1080", {}) == ("127.0.0.1", 1080)
    assert socks4_target("${P}:${Q}", {"P": "10.0.0.1", "Q": "9"}) == ("10.0.0.1", 9)
    assert socks4_target("127.0.0.1", {}) == "missing port specification in '127.0.0.1'"
    bad = load_text(HEAD + "backend be\n    server s 127.0.0.1:80 socks4 127.0.0.1\n", "h.cfg")
    assert [p.message for p in bad.problems.errors] == [
        "'server be/s' : 'socks4 127.0.0.1' : missing port specification in '127.0.0.1'"
    ]
