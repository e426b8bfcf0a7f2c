"""haproxy.cfg -> DirectorSpec.proxies: frontends, backends, and their rules compiled for
the rules engine (ProxiesSpec.rules)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pylvs.config.errors import Kind, Problems
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.haproxy.source import load_paths
from pylvs.dataplane.haproxy.rules import compiled
from pylvs.model.proxy_spec import ProxiesSpec
from pylvs.proto.rules import tcp_flow
from pylvs.proto.rules.engine import Txn
from pylvs.proto.rules.ruleset import Drop, Go
from pylvs.proto.sample import Process, Session, Stream

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


def txn(spec: ProxiesSpec, fe: str, src: str, sport: int, dst: str, dport: int) -> Txn:
    rules = compiled(spec)
    process = Process()
    process.tables = dict(rules.tables)
    ip = ipaddress.ip_address
    sess = Session(process, rules.proxies[fe].ref, src=ip(src), src_port=sport, dst=ip(dst),
                   dst_port=dport)  # fmt: skip
    return Txn(Stream(sess))


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
    rules = compiled(spec).proxies["f"]

    def connection(src: str, dst: str) -> object:
        return tcp_flow.connection(txn(spec, "f", src, 1, dst, 80), rules)

    assert connection("8.8.8.8", "127.0.0.1") == Drop()  # reject if !lan
    assert connection("192.168.3.3", "127.0.0.1") == Go()
    assert connection("10.1.2.3", "127.0.0.1") == Go()

    def route(sport: int, dport: int) -> object:
        t = txn(spec, "f", "1.1.1.1", sport, "1.1.1.1", dport)
        return tcp_flow.request(t, compiled(spec).proxies, final=True)

    assert route(40000, 1023) == Go("b2")
    assert route(39999, 1023) == Go("b1")
    assert route(40000, 1024) == Go("b1")
    assert fe.default_backend == "b1"


def test_a_rule_the_runtime_cannot_run_is_an_error_at_its_line() -> None:
    _spec, problems = convert(
        "frontend f\n    bind 127.0.0.1:8000\n    tcp-request inspect-delay 1s\n"
        "    tcp-request content reject if { req.ssl_hello_type 1 }\n    default_backend b\n"
        "backend b\n    server s 127.0.0.1:1\n"
    )
    (err,) = problems.errors
    assert err.loc.line == BASE.count("\n") + 4 and err.kind is Kind.UNSUPPORTED
    assert "req.ssl_hello_type" in err.message


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
    (rule,) = compiled(spec).proxies["app"].stick
    assert rule.kind == "on" and rule.table == "app"
    smp = rule.expr.eval(txn(spec, "app", "10.0.0.7", 5, "127.0.0.1", 8000).stream)
    assert smp is not None and ipaddress.ip_address(smp.text) == ipaddress.ip_address("10.0.0.7")


def test_mode_http_proxies_are_served_and_stats_pages_too() -> None:
    spec, problems = convert(
        "listen web\n    mode http\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:81\n"
        "listen stats\n    mode http\n    bind 127.0.0.1:7000\n    stats enable\n"
        "    stats uri /\n    stats admin if LOCALHOST\n"
    )
    assert [f.name for f in spec.frontends] == ["web", "stats"]
    web = spec.frontends[0]
    assert web.mode == "http" and web.http is not None and web.http.conn_mode == "keep-alive"
    page = spec.frontends[1].stats
    assert page is not None and page.uri == "/"
    (admin,) = compiled(spec).proxies["stats"].stats_admin
    assert admin.holds(txn(spec, "stats", "127.0.0.5", 1, "127.0.0.1", 7000).stream)
    assert not admin.holds(txn(spec, "stats", "10.0.0.5", 1, "127.0.0.1", 7000).stream)
    assert not [w for w in problems.warnings if "mode http" in w.message]


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
    assert be.persist and be.redispatch and be.abortonclose
    assert compiled(px).proxies["Exchange2010"].stick
    stats = px.frontend("stats")
    assert stats is not None and stats.stats is not None and stats.stats.uri == "/"
    assert px.maxconn == 40000 and px.stats_sockets[0].level == "admin"


def test_unreadable_files_are_problems(tmp_path: Path) -> None:
    loaded = load_paths([str(tmp_path / "missing.cfg")])
    assert not loaded.ok and loaded.problems.errors[0].kind is Kind.FATAL


def test_proxy_ids_start_at_1_unless_a_stats_keyword_made_the_cli_frontend() -> None:
    """As haproxy 2.6.12's stats CSV shows them (`iid`): a `listen`, a frontend and a backend
    are 1, 2, 3 without a global `stats` keyword; any of `stats socket|timeout|maxconn|
    bind-process` creates the CLI frontend, which takes 1, and they are 2, 3, 4."""
    body = (
        "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
        "listen l\n bind 127.0.0.1:1\n server s 127.0.0.1:2\n"
        "frontend fe\n bind 127.0.0.1:3\n default_backend be\n"
        "backend be\n server s 127.0.0.1:4\n"
    )
    for head, first in (("", 1), ("global\n stats maxconn 5\n", 2)):
        result = load_text(head + body, "h.cfg")
        spec = to_spec(result.config, result.problems).proxies
        assert [(f.name, f.id) for f in spec.frontends] == [("l", first), ("fe", first + 1)]
        assert [(b.name, b.id) for b in spec.backends] == [("l", first), ("be", first + 2)]


def test_the_default_maxconn_is_haproxys_from_the_descriptor_limit() -> None:
    """haproxy 2.6.12 under `ulimit -n 1024` (show info, the stats CSV's slim): a listener, a
    stats socket and a checked server: Maxconn 497 (498 without the check, 499 with one
    thread, 494 with `stats maxconn 20`); a stats page and a frontend, no stats socket:
    503, the backend's fullconn 51 (10% rounded up)."""
    from pylvs.dataplane.haproxy.backend import BackendRuntime
    from pylvs.model.proxy_spec import ideal_maxconn

    head = "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
    sock = "global\n stats socket /tmp/pylvs-test-mc.sock level admin\n"
    listen = "listen l\n bind 127.0.0.1:18131\n server s1 127.0.0.1:18103{}\n"

    def maxsock(text: str) -> tuple[int, int]:
        result = load_text(text, "h.cfg")
        px = to_spec(result.config, result.problems).proxies
        return px.maxsock, px.nbthread

    assert maxsock(sock + head + listen.format(" check")) == (23, 0)
    assert maxsock(sock + head + listen.format("")) == (22, 0)
    one_thread = sock.replace("global\n", "global\n nbthread 1\n")
    assert maxsock(one_thread + head + listen.format("")) == (22, 1)
    assert maxsock(sock + " stats maxconn 20\n" + head + listen.format("")) == (32, 0)
    assert ideal_maxconn(1024, 23, 2) == 497
    assert ideal_maxconn(1024, 22, 2) == 498
    assert ideal_maxconn(1024, 22, 1) == 499
    assert ideal_maxconn(1024, 32, 1) == 494
    assert ideal_maxconn(20000, 23, 2) == 9985
    assert ideal_maxconn(50, 23, 2) == 100  # DEFAULT_MAXCONN at least
    page = (
        head.replace("tcp", "http") + "listen stats\n bind 127.0.0.1:18101\n stats enable\n"
        " stats uri /s\nfrontend fe\n bind 127.0.0.1:18102\n default_backend be\n"
        "backend be\n server s1 127.0.0.1:18103\n"
    )
    assert maxsock(page) == (12, 0)
    assert ideal_maxconn(1024, 12, 2) == 503
    result = load_text(page, "h.cfg")
    be_spec = to_spec(result.config, result.problems).proxies.backend("be")
    assert be_spec is not None
    be = BackendRuntime(be_spec, {})
    be.set_fullconn(503)
    assert be.pool.lb.fullconn == 51


def test_buffer_sizes_with_haproxys_defaults() -> None:
    """tune.bufsize 16384, tune.maxrewrite 1024 but at most half the buffer (haproxy.c),
    tune.http.maxhdr 101: what mode http messages are measured against."""

    def sizes(tune: str) -> tuple[int, int, int]:
        px, _problems = convert(f"global\n{tune}defaults\n mode http\n")
        return px.bufsize, px.maxrewrite, px.http_maxhdr

    assert sizes("") == (16384, 1024, 101)
    assert sizes(" tune.bufsize 2048\n tune.maxrewrite 128\n") == (2048, 128, 101)
    assert sizes(" tune.bufsize 1500\n") == (1500, 750, 101)
    assert sizes(" tune.maxrewrite 9000\n tune.http.maxhdr 64\n") == (16384, 8192, 64)


def test_a_backend_with_stats_enable_carries_its_page() -> None:
    px, _problems = convert(
        "defaults\n mode http\nbackend be\n stats enable\n stats uri /st\n"
        " stats auth a:b\n server s 127.0.0.1:80\n"
    )
    be = px.backend("be")
    assert be is not None and be.stats is not None
    assert (be.stats.uri, be.stats.auth) == ("/st", (("a", "b"),))


def test_proxy_v2_options_reach_the_server_and_add_to_default_server() -> None:
    spec, problems = convert(
        "listen app\n    bind :8000\n    default-server proxy-v2-options crc32c\n"
        "    server s1 127.0.0.1:81 send-proxy-v2 proxy-v2-options unique-id,authority\n"
        "    server s2 127.0.0.1:82 proxy-v2-options ssl\n    server s3 127.0.0.1:83\n"
    )
    assert not problems.has_errors()
    s1, s2, s3 = spec.backends[0].servers
    assert s1.proxy_v2_options == {"crc32c", "unique-id", "authority"}
    assert s1.proxy_version == 2
    # options without send-proxy-v2: HAProxy sends a v1 line (pp_opts set, no SRV_PP_V2)
    assert (s2.proxy_v2_options, s2.proxy_version) == (frozenset({"crc32c", "ssl"}), 1)
    assert (s3.proxy_v2_options, s3.proxy_version) == (frozenset({"crc32c"}), 1)


def test_an_unknown_proxy_v2_option_is_haproxys_error() -> None:
    for value, name in (("crc32c,foo", "foo"), ('""', "")):
        text = f"listen a\n    bind :1\n    server s1 127.0.0.1:2 proxy-v2-options {value}\n"
        result = load_text(text, "h.cfg")
        (error,) = result.problems.errors
        assert error.loc.line == 3
        assert error.message == f"'server a/s1' : '{name}' : proxy v2 option not implemented."


def test_unix_and_abns_binds_and_servers() -> None:
    spec, problems = convert(
        "listen a\n    bind abns@here accept-proxy\n    bind unix@/run/x.sock accept-proxy\n"
        "    server s1 abns@there send-proxy-v2\n    server s2 unix@/run/y.sock\n"
    )
    assert not problems.has_errors()
    (fe,) = spec.frontends
    assert [(a.path, str(a)) for b in fe.binds for a in b.addresses] == [
        ("\0here", "abns@here"), ("/run/x.sock", "unix@/run/x.sock"),
    ]  # fmt: skip
    s1, s2 = spec.backends[0].servers
    assert (s1.path, s1.address, s2.path) == ("\0there", None, "/run/y.sock")


def test_what_unix_listeners_and_servers_cannot_do_is_named() -> None:
    """A unix client has no IP address (accept-proxy gives one; connection rules would run
    before it), and unix servers get no health checks."""
    for lines, line, words in (
        ("    bind abns@x\n", 3, "served with 'accept-proxy' only"),
        (
            "    bind abns@x accept-proxy\n    tcp-request connection accept\n",
            4,
            "'tcp-request connection' rules are not run",
        ),
        ("    bind :1\n    server s abns@y check\n", 4, "health checks of unix@/abns@"),
    ):
        result = load_text(BASE + f"listen a\n{lines}", "h.cfg")
        assert result.ok
        to_spec(result.config, result.problems)
        (error,) = result.problems.errors
        assert (error.loc.line, words in error.message) == (BASE.count("\n") + line - 1, True)
