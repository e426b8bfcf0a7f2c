"""`add server`'s words read as a server line (config/haproxy/dynamic.py): the options of the
configuration's `server` lines, HAProxy's answers for what is wrong (captured from haproxy
2.6.12's runtime API), no `default-server`."""

from __future__ import annotations

from pylvs.config.haproxy.dynamic import dynamic_server
from pylvs.config.haproxy.model import Server
from pylvs.model.proxy_spec import ServerSpec


def test_a_server_line_with_its_options() -> None:
    got = dynamic_server("be", "s9", ["[::1]:8080", "weight", "7", "maxconn", "3", "backup"])
    assert isinstance(got, ServerSpec)
    assert (got.name, got.host, got.port, got.weight, got.maxconn, got.backup) == (
        "s9",
        "::1",
        8080,
        7,
        3,
        True,
    )
    plain = dynamic_server("be", "s", ["127.0.0.1"])
    assert isinstance(plain, ServerSpec) and plain.port is None and plain.weight == 1


def test_haproxy_s_answers() -> None:
    assert dynamic_server("be", "s", []) == (
        "'server' expects <name> and <addr>[:<port>] as arguments.\n"
    )
    assert dynamic_server("be", "s", ["127.0.0.1:1", "bogus"]) == "unknown keyword 'bogus'.\n"
    assert dynamic_server("be", "s", ["127.0.0.1:1", "wieght", "2"]) == (
        "unknown keyword 'wieght'; did you mean 'weight' maybe ?\n"
    )
    assert dynamic_server("be", "s", ["127.0.0.1:1", "weight", "300"]) == (
        "weight of server s is not within 0 and 256 (300)..\n"
    )
    # run-time DNS is for the configuration's servers only (haproxy 2.6.12's answers)
    assert dynamic_server("be", "s", ["app.test:80", "resolvers", "dns"]) == (
        "'resolvers' option is not accepted for dynamic server\n"
    )
    assert dynamic_server("be", "s", ["127.0.0.1:80", "resolve-net", "10.0.0.0/8"]) == (
        "'resolve-net' option is not accepted for dynamic server\n"
    )


def test_what_pylvs_cannot_run_is_refused() -> None:
    assert "not one" in str(dynamic_server("be", "s", ["somehost:80"]))


def test_track_proto_and_the_line_travel_for_the_engine() -> None:
    got = dynamic_server("be", "s", ["127.0.0.1:1", "track", "be/s1", "proto", "h2", "check"])
    assert isinstance(got, ServerSpec)
    assert (got.track, got.proto, got.check.enabled) == ("be/s1", "h2", True)
    line = got.line
    assert isinstance(line, Server) and line.name == "s" and line.track == "be/s1"
