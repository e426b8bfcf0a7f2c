"""haproxy.cfg -> DirectorSpec.proxies: frontends, backends, compiled layer-4 conditions."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pylvs.config.errors import Kind, Problems
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.source import load_paths
from pylvs.model.proxy_spec import ConnFacts, ProxiesSpec

SEED = Path(__file__).parents[3] / "data" / "haproxy" / "seed004.haproxy.cfg"

BASE = """\
global
    maxconn 100
    stats socket /tmp/pylvs-test.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 4s
    timeout client 1m
    timeout server 2m
    timeout queue 3s
"""


def convert(text: str) -> tuple[ProxiesSpec, Problems]:
    result = load_text(BASE + text, "h.cfg")
    assert result.ok, [str(p) for p in result.problems]
    spec = to_spec(result.config, result.problems)
    return spec.proxies, result.problems


def facts(src: str, sport: int, dst: str, dport: int) -> ConnFacts:
    return ConnFacts(ipaddress.ip_address(src), sport, ipaddress.ip_address(dst), dport)


def test_a_listen_is_a_frontend_and_a_backend_with_every_bound_port() -> None:
    spec, problems = convert(
        "listen app\n    bind 127.0.0.1:8000-8002,127.0.0.2:9000\n    bind :7000\n"
        "    server s1 127.0.0.1:81 weight 2 maxconn 3 maxqueue 4 send-proxy\n"
        "    server s2 127.0.0.1 backup disabled send-proxy-v2\n"
        "    retries 5\n    option redispatch\n    option abortonclose\n"
    )
    assert not problems.has_errors()
    (fe,) = spec.frontends
    assert [str(a) for a in fe.addresses] == [
        "127.0.0.1:8000", "127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.2:9000", "*:7000",
    ]  # fmt: skip
    assert fe.default_backend == "app" and fe.client_ms == 60000
    (be,) = spec.backends
    s1, s2 = be.servers
    assert (s1.weight, s1.maxconn, s1.maxqueue, s1.send_proxy, s1.port) == (2, 3, 4, True, 81)
    assert s2.port is None and s2.port_for(6001) == 6001 and s2.backup and s2.disabled
    assert s2.send_proxy_v2 and not s2.send_proxy
    assert (be.connect_ms, be.server_ms, be.queue_ms, be.retries) == (4000, 120000, 3000, 5)
    assert be.redispatch and be.abortonclose and not be.persist
    assert spec.maxconn == 100
    (sock,) = spec.stats_sockets
    assert (sock.address, sock.mode, sock.level) == ("/tmp/pylvs-test.sock", 0o600, "admin")


def test_connection_rules_and_switching_are_compiled() -> None:
    spec, problems = convert(
        "frontend f\n    bind 127.0.0.1:8000\n"
        "    acl lan src 10.0.0.0/8 127.0.0.1\n    acl lan src 192.168.0.0/16\n"
        "    acl low dst_port 1:1023\n    acl hi src_port 40000:\n"
        "    tcp-request connection reject if !lan\n"
        "    tcp-request connection accept if { dst 127.0.0.2 } || LOCALHOST\n"
        "    use_backend b2 if low hi\n    default_backend b1\n"
        "backend b1\n    server s 127.0.0.1:1\nbackend b2\n    server s 127.0.0.1:2\n"
    )
    assert not problems.has_errors()
    (fe,) = spec.frontends
    reject, accept = fe.conn_rules
    assert reject.action == "reject" and reject.condition is not None
    assert reject.condition.test(facts("8.8.8.8", 1, "127.0.0.1", 80))
    assert not reject.condition.test(facts("192.168.3.3", 1, "127.0.0.1", 80))
    assert not reject.condition.test(facts("10.1.2.3", 1, "127.0.0.1", 80))
    assert accept.condition is not None
    assert accept.condition.test(facts("8.8.8.8", 1, "127.0.0.2", 80))
    assert accept.condition.test(facts("127.9.9.9", 1, "127.0.0.3", 80))
    assert not accept.condition.test(facts("8.8.8.8", 1, "127.0.0.3", 80))
    (switch,) = fe.switches
    assert switch.backend == "b2" and switch.condition is not None
    assert switch.condition.test(facts("1.1.1.1", 40000, "1.1.1.1", 1023))
    assert not switch.condition.test(facts("1.1.1.1", 39999, "1.1.1.1", 1023))
    assert not switch.condition.test(facts("1.1.1.1", 40000, "1.1.1.1", 1024))
    assert fe.default_backend == "b1"


def test_a_fetch_the_runtime_cannot_evaluate_is_an_error_at_its_line() -> None:
    _spec, problems = convert(
        "frontend f\n    bind 127.0.0.1:8000\n    acl x req.len gt 0\n"
        "    tcp-request connection reject if x\n    default_backend b\n"
        "backend b\n    server s 127.0.0.1:1\n"
    )
    (err,) = problems.errors
    assert err.loc.line == BASE.count("\n") + 3 and err.kind is Kind.UNSUPPORTED
    assert "req.len" in err.message


def test_stick_rules_and_tables() -> None:
    spec, problems = convert(
        "listen app\n    bind 127.0.0.1:8000\n    option persist\n"
        "    stick-table type ip size 10240k expire 30m\n    stick on src\n"
        "    server s1 127.0.0.1:81\n"
    )
    assert not problems.has_errors()
    (be,) = spec.backends
    assert be.persist and be.stick_table is not None
    assert (be.stick_table.key_type, be.stick_table.size, be.stick_table.expire_ms) == (
        "ip", 10240 * 1024, 30 * 60000,
    )  # fmt: skip
    (rule,) = be.stick_rules
    assert rule.matches and rule.stores and rule.table == "app"
    assert rule.key.fetch(facts("10.0.0.7", 5, "127.0.0.1", 8000)) == ipaddress.ip_address(
        "10.0.0.7"
    )


def test_mode_http_proxies_are_named_as_not_served_and_stats_pages_are() -> None:
    spec, problems = convert(
        "listen web\n    mode http\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:81\n"
        "listen stats\n    mode http\n    bind 127.0.0.1:7000\n    stats enable\n"
        "    stats uri /\n    stats admin if LOCALHOST\n"
    )
    assert [f.name for f in spec.frontends] == ["stats"]
    page = spec.frontends[0].stats
    assert page is not None and page.uri == "/" and len(page.admin) == 1
    (warning,) = [w for w in problems.warnings if "mode http" in w.message]
    assert warning.kind is Kind.UNSUPPORTED


def test_names_instead_of_addresses_are_refused_with_the_server_line() -> None:
    _spec, problems = convert("listen app\n    bind :8000\n    server s1 localhost:81\n")
    (err,) = problems.errors
    assert "not resolved" in err.message and err.loc.line == BASE.count("\n") + 3


def test_seed_004_converts() -> None:
    loaded = load_paths([str(SEED)])
    assert loaded.ok, [str(p) for p in loaded.problems.errors]
    px = loaded.spec.proxies
    ex = px.frontend("Exchange2010")
    assert ex is not None and len(ex.addresses) == 15 and ex.maxconn == 200000
    be = px.backend("Exchange2010")
    assert be is not None and [s.name for s in be.servers] == ["CAS0", "CAS1", "CAS2"]
    assert all(s.port is None and s.check.enabled and s.check.port == 80 for s in be.servers)
    assert be.persist and be.redispatch and be.abortonclose and be.stick_rules
    stats = px.frontend("stats")
    assert stats is not None and stats.stats is not None and stats.stats.uri == "/"
    assert px.maxconn == 40000 and px.stats_sockets[0].level == "admin"


def test_unreadable_files_are_problems(tmp_path: Path) -> None:
    loaded = load_paths([str(tmp_path / "missing.cfg")])
    assert not loaded.ok and loaded.problems.errors[0].kind is Kind.FATAL
