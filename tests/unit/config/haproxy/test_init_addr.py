"""`init-addr` (config/haproxy/init_addr.py): what a server named by a host name starts with,
through a resolver given as a host fact.  What haproxy -c says of the same lines is the check
corpus's (tests/data/haproxy/check/init_addr*.cfg); the runtime's side is
tests/integration/hamode/test_hamode_init_addr.py, run beside the real haproxy."""

from __future__ import annotations

import ipaddress

from pylvs.config.errors import Severity
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts

HEAD = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend be
"""
NAMES = {("known.test", "inet"): "192.0.2.7", ("known.test", "ipv6"): "2001:db8::7"}
ASKED: list[tuple[str, str]] = []


def _address_of(name: str, family: str) -> str | None:
    ASKED.append((name, family))
    return NAMES.get((name, family))


FACTS = HostFacts(address_of=_address_of)


def _load(servers: str, facts: HostFacts = FACTS):  # type: ignore[no-untyped-def]
    return load_text(HEAD + servers, "h.cfg", host=facts)


def _server(servers: str, facts: HostFacts = FACTS):  # type: ignore[no-untyped-def]
    result = _load(servers, facts)
    assert result.ok, [str(p) for p in result.problems]
    (be,) = result.config.proxies
    return be.servers[0], result


def test_a_name_takes_the_address_libc_gives_and_keeps_its_name() -> None:
    s, result = _server("    server s1 known.test:80\n")
    assert s.target.ip == ipaddress.ip_address("192.0.2.7") and s.target.host == "192.0.2.7"
    assert s.fqdn == "known.test" and not s.init_none
    assert s.init_last  # the default `last,libc`: a state file's address would come first
    assert not result.problems.warnings
    spec = to_spec(result.config, result.problems).proxies.backends[0].servers[0]
    assert spec.fqdn == "known.test" and not spec.unresolved and spec.init_last
    assert str(spec.address) == "192.0.2.7"


def test_the_family_of_the_address_is_asked_for() -> None:
    ASKED.clear()
    s, _ = _server("    server s1 ipv6@known.test:80 init-addr libc\n")
    assert ASKED == [("known.test", "ipv6")]
    assert s.target.ip == ipaddress.ip_address("2001:db8::7") and not s.init_last


def test_none_leaves_the_server_without_an_address_in_maintenance() -> None:
    s, result = _server("    server s1 nowhere.test:80 init-addr none\n")
    assert s.target.ip is None and s.init_none and s.fqdn == "nowhere.test"
    assert not result.problems.warnings  # libc was not tried: nothing to say
    spec = to_spec(result.config, result.problems).proxies.backends[0].servers[0]
    assert spec.unresolved and spec.address is None and spec.port == 80


def test_a_failed_libc_before_none_or_an_address_is_a_warning() -> None:
    s, result = _server("    server s1 nowhere.test:80 init-addr libc,none\n")
    assert s.init_none
    (w,) = result.problems.warnings
    assert w.loc.line == 7 and w.message == (
        "'server be/s1' : could not resolve address 'nowhere.test', disabling server."
    )
    s, result = _server("    server s1 nowhere.test:80 init-addr libc,198.51.100.1\n")
    assert s.target.ip == ipaddress.ip_address("198.51.100.1") and not s.init_none
    (w,) = result.problems.warnings
    assert w.message.endswith("falling back to configured address.")


def test_an_address_first_is_taken_without_asking_libc() -> None:
    ASKED.clear()
    s, result = _server("    server s1 nowhere.test:80 init-addr 198.51.100.2,libc\n")
    assert s.target.ip == ipaddress.ip_address("198.51.100.2") and ASKED == []
    assert not result.problems.warnings


def test_default_server_gives_its_methods() -> None:
    s, _ = _server("    default-server init-addr none\n    server s1 nowhere.test:80\n")
    assert s.init_none and not s.init_last


def test_what_haproxy_refuses_at_start() -> None:
    result = _load("    server s1 nowhere.test:80\n    server s2 known.test:80 init-addr last\n")
    errors = [(p.loc.line, p.message) for p in result.problems if p.severity is Severity.ERROR]
    assert errors == [
        (7, "'server be/s1' : could not resolve address 'nowhere.test'."),
        (8, "'server be/s2' : no method found to resolve address 'known.test'."),
    ]  # fmt: skip


def test_haproxy_dr_puts_an_unresolved_server_in_maintenance() -> None:
    facts = HostFacts(address_of=_address_of, resolve_dontfail=True)
    s, result = _server("    server s1 nowhere.test:80\n", facts)
    assert s.init_none
    (w,) = result.problems.warnings
    assert w.message.endswith("disabling server.")


def test_without_a_resolver_names_are_not_refused_nor_taken() -> None:
    """A reader given no resolver (tests, the pure parse) does not guess; the converter says
    the server has no address."""
    result = _load("    server s1 nowhere.test:80\n", HostFacts())
    assert result.ok
    s = result.config.proxies[0].servers[0]
    assert s.target.ip is None and not s.init_none and s.fqdn == "nowhere.test"
    to_spec(result.config, result.problems)
    (err,) = result.problems.errors
    assert "was not resolved" in err.message


def test_literal_addresses_and_sockets_are_not_names() -> None:
    ASKED.clear()
    s, _ = _server("    server s1 127.0.0.1:80 init-addr none\n")
    assert s.fqdn is None and not s.init_none and ASKED == []
    s, _ = _server("    server s1 unix@/run/app.sock\n")
    assert s.fqdn is None and ASKED == []
