"""The typed model of a haproxy.cfg: what a proxy runs with once defaults are inherited
(proxy.c proxy_defproxy_cpy: by side), times in ms, the seed's file, and server defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylvs.config.errors import Kind
from pylvs.config.haproxy.reader import load_text
from pylvs.proto.stick.keys import KeyType
from pylvs.sched.haproxy.params import HashType

SEED = Path("/work/shared/seeds/configs/seed004.haproxy.cfg")
D = "defaults\n mode tcp\n timeout connect 1s\n timeout client 2s\n timeout server 3s\n"


def test_defaults_are_inherited_by_side() -> None:
    text = (
        "defaults base\n mode http\n timeout connect 5s\n timeout client 30s\n"
        " timeout server 40s\n timeout queue 7s\n balance leastconn\n hash-type consistent\n"
        " maxconn 500\n retries 5\n option redispatch\n default-server inter 3s rise 4\n"
        "frontend f from base\n bind :8080\n default_backend b\n"
        "backend b from base\n balance source\n server s1 127.0.0.1:80 check\n"
        " server s2 127.0.0.1:81 weight 3 backup\n"
    )
    r = load_text(text, "t.cfg")
    assert r.ok, r.problems
    f, b = r.config.proxies
    assert (f.defaults, f.mode, f.maxconn, f.timeouts.client, f.timeouts.server) == (
        "base",
        "http",
        500,
        30000,
        None,
    )
    assert (b.timeouts.connect, b.timeouts.server, b.timeouts.queue, b.timeouts.client) == (
        5000,
        40000,
        7000,
        None,
    )
    # balance replaced, hash-type kept from the defaults (consistent: avalanche by default)
    assert (b.balance.registry_name, b.balance.hash_type, b.balance.avalanche) == (
        "haproxy:source",
        HashType.CONSISTENT,
        True,
    )
    assert (b.retries, b.options.redispatch) == (5, True)
    assert [
        (s.name, s.inter_ms, s.rise, s.fall, s.weight, s.backup, s.check) for s in b.servers
    ] == [
        ("s1", 3000, 4, 3, 1, False, True),
        ("s2", 3000, 4, 3, 3, True, False),
    ]
    assert b.fullconn == 50  # 10% of the maxconn of the frontends that use it


def test_the_last_defaults_section_applies_and_from_names_one() -> None:
    text = (
        "defaults a\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
        "defaults b\n mode tcp\n timeout connect 2s\n timeout client 2s\n timeout server 2s\n"
        "listen implicit\n bind :1\n server s 127.0.0.1:1\n"
        "listen named from a\n bind :2\n server s 127.0.0.1:1\n"
        "listen missing from nope\n bind :3\n"
    )
    r = load_text(text, "t.cfg")
    implicit, named = r.config.proxies
    assert (implicit.mode, implicit.defaults, implicit.timeouts.connect) == ("tcp", "b", 2000)
    assert (named.mode, named.defaults, named.timeouts.connect) == ("http", "a", 1000)
    assert [(p.loc.line, p.message) for p in r.problems] == [
        (17, "defaults section 'nope' not found for proxy 'missing'.")
    ]


def test_defaults_from_defaults_keeps_both_sides() -> None:
    """`defaults B from A` copies all of A (haproxy -c finds no missing timeout here, and the
    backend balances leastconn: A's settings reach proxies through B)."""
    text = (
        "defaults A\n mode tcp\n timeout connect 1s\n timeout client 2s\n timeout server 3s\n"
        " maxconn 77\n balance leastconn\n"
        "defaults B from A\n retries 5\n"
        "frontend f\n bind :1\n default_backend b\n"
        "backend b\n server s 127.0.0.1:1\n"
    )
    r = load_text(text, "t.cfg")
    assert r.ok, [str(p) for p in r.problems]
    f, b = r.config.proxies
    assert (f.defaults, f.maxconn, f.timeouts.client) == ("B", 77, 2000)
    assert (b.timeouts.connect, b.timeouts.server, b.retries) == (1000, 3000, 5)
    assert b.balance.algorithm == "leastconn"
    assert not [p for p in r.problems if "timeout" in p.message]


def test_the_seed_file() -> None:
    r = load_text(SEED.read_text(), SEED.name)
    assert r.ok
    # the two legacy `listen NAME ADDR` lines: read as binds, with what to write instead
    legacy = [p for p in r.problems if p.kind is Kind.EXTENSION]
    assert [p.loc.line for p in legacy] == [16, 35]
    assert "write 'listen Exchange2010' and a 'bind 192.168.8.248:80' line" in legacy[0].message
    g = r.config.global_
    assert (g.daemon, g.maxconn, g.ulimit_n, g.pidfile) == (
        True,
        40000,
        81000,
        "/var/run/haproxy.pid",
    )
    assert [(s.bind.endpoints[0].path, s.bind.level, s.bind.mode) for s in g.stats_sockets] == [
        ("/var/run/haproxy.stat", "admin", 0o600)
    ]
    ex, stats = r.config.proxies
    ports = sorted(e.port for b in ex.binds for e in b.endpoints if e.port is not None)
    assert ports == [
        25,
        80,
        110,
        135,
        139,
        443,
        993,
        994,
        995,
        6001,
        6002,
        6003,
        6004,
        60000,
        60001,
    ]
    assert (ex.mode, ex.maxconn, ex.fullconn, ex.timeouts.connect, ex.timeouts.client) == (
        "tcp",
        200000,
        20000,
        4000,
        3600000,
    )
    assert (ex.options.persist, ex.options.redispatch, ex.options.abortonclose) == (
        True,
        True,
        True,
    )
    assert ex.stick_table is not None
    assert (ex.stick_table.key.type, ex.stick_table.size, ex.stick_table.expire_ms) == (
        KeyType.IP,
        10240 * 1024,
        30 * 60_000,
    )
    assert [(r.kind, r.sample.fetch) for r in ex.stick_rules] == [("on", "src")]
    assert [
        (s.name, s.target.port, s.check_port, s.inter_ms, s.rise, s.fall) for s in ex.servers
    ] == [
        ("CAS0", None, 80, 5000, 2, 3),
        ("CAS1", None, 80, 5000, 2, 3),
        ("CAS2", None, 80, 5000, 2, 3),
    ]
    assert (stats.mode, stats.stats.enabled, stats.stats.uri) == ("http", True, "/")
    assert r.config.listeners == 17


@pytest.mark.parametrize(
    ("value", "ms", "problem"),
    [
        ("4000", 4000, None),
        ("5s", 5000, None),
        ("1m", 60000, None),
        ("2h", 7_200_000, None),
        ("1d", 86_400_000, None),
        ("1500us", 2, None),  # rounded up
        ("10sec", 10000, "unexpected character 'e' after the timer value '10sec'"),
        ("1x", None, "unexpected character 'x' in 'timeout connect'"),
        ("25d", None, "timer overflow in argument '25d' to 'timeout connect'"),
    ],
)
def test_timeouts(value: str, ms: int | None, problem: str | None) -> None:
    r = load_text(f"{D}backend b\n timeout connect {value}\n", "t.cfg")
    assert r.config.proxies[0].timeouts.connect == (ms if ms is not None else 1000)
    messages = [p.message for p in r.problems]
    if problem is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0].startswith(problem), messages


def test_binds_lists_ranges_and_families() -> None:
    text = (
        f"{D}frontend f\n bind 127.0.0.1:8000-8002,[::1]:9000 name n maxconn 10 accept-proxy\n"
        " bind unix@/tmp/s mode 660\n bind ipv4@:7000\n default_backend b\n"
        "backend b\n server s 127.0.0.1:+10\n server u 10.0.0.1\n server p unix@/tmp/x\n"
    )
    r = load_text(text, "t.cfg")
    assert r.ok, r.problems
    f, b = r.config.proxies
    assert [(e.family, e.host, e.port) for e in f.binds[0].endpoints] == [
        ("ipv4", "127.0.0.1", 8000),
        ("ipv4", "127.0.0.1", 8001),
        ("ipv4", "127.0.0.1", 8002),
        ("ipv6", "::1", 9000),
    ]
    assert (f.binds[0].name, f.binds[0].maxconn, f.binds[0].accept_proxy) == ("n", 10, True)
    assert (f.binds[1].endpoints[0].path, f.binds[1].mode) == ("/tmp/s", 0o660)
    assert [(s.target.port, s.target.port_offset, s.target.family) for s in b.servers] == [
        (None, 10, "inet"),
        (None, None, "inet"),
        (None, None, "unix"),
    ]


def test_a_bad_port_range_is_an_error() -> None:
    r = load_text(f"{D}frontend f\n bind :9000-8000\n", "t.cfg")
    assert [p.loc.line for p in r.problems if p.severity.value == "error"] == [7]


def test_tls_options_are_kept_and_others_warned() -> None:
    """`ssl`, `crt`, `verify` are acted on (kept in order for the converter, no warning);
    a TLS option pylvs does not implement (`npn`, `allow-0rtt`) is warned and kept."""
    text = (
        f"{D}listen l\n bind :443 ssl crt /nonexistent.pem npn h2\n"
        " server s 127.0.0.1:443 ssl verify none allow-0rtt\n"
    )
    r = load_text(text, "t.cfg")
    assert r.ok
    kinds = [(p.loc.line, p.kind) for p in r.problems]
    assert kinds == [(7, Kind.UNSUPPORTED), (8, Kind.UNSUPPORTED)]
    p = r.config.proxies[0]
    assert p.binds[0].others == (("ssl", ()), ("crt", ("/nonexistent.pem",)), ("npn", ("h2",)))
    assert p.servers[0].others == (("ssl", ()), ("verify", ("none",)), ("allow-0rtt", ()))


def test_every_server_option_reaches_the_server() -> None:
    """A server is its options laid over default-server: every option has a server field."""
    import dataclasses

    from pylvs.config.haproxy.model import Server, ServerOptions

    server = {f.name for f in dataclasses.fields(Server)}
    assert {f.name for f in dataclasses.fields(ServerOptions)} <= server
    r = load_text(
        f"{D}listen l\n bind :80\n server s 127.0.0.1:1 non-stick source 127.0.0.2"
        " usesrc clientip\n",
        "t.cfg",
    )
    assert r.ok, r.problems
    s = r.config.proxies[0].servers[0]
    assert (s.non_stick, s.source) == (True, ("127.0.0.2", "usesrc", "clientip"))


def test_several_files_are_one_configuration() -> None:
    from pylvs.config.haproxy.reader import load_texts

    r = load_texts(
        [
            ("global\n setenv P 81\n" + D, "a.cfg"),
            ('listen l\n bind "127.0.0.1:${P}"\n server s 127.0.0.1:80\n', "b.cfg"),
            ("backend b\n server s 127.0.0.1:80 bogus\n", "c.cfg"),
        ]
    )
    listen = r.config.proxies[0]
    assert (listen.timeouts.server, listen.binds[0].endpoints[0].port) == (3000, 81)
    assert [(p.loc.file, p.loc.line) for p in r.problems] == [("c.cfg", 2)]


def test_a_check_port_keeps_its_16_low_bits_as_haproxy_does() -> None:
    """check.c srv_parse_check_port/agent_port: atol, no range; the connection's htons keeps
    16 bits (haproxy 2.6.12 -c takes `port 70000`: tests/data/haproxy/check/check_port_wraps)."""
    r = load_text(
        "defaults\n  mode tcp\nlisten l\n  bind 127.0.0.1:8080\n"
        "  server s1 127.0.0.1:80 check port 70000\n"
        "  server s2 127.0.0.1:80 check port -1 agent-check agent-port 65537\n"
        "  server s3 127.0.0.1:80 check port 65536\n",
        "h.cfg",
    )
    assert r.ok, [str(p) for p in r.problems]
    (px,) = r.config.proxies
    got = [(s.name, s.check_port, s.agent_port) for s in px.servers]
    assert got == [("s1", 70000 - 65536, None), ("s2", 65535, 1), ("s3", None, None)]
