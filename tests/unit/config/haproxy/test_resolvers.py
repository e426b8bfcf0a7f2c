"""`resolvers` sections and the servers' resolve-* options (config/haproxy/resolvers.py,
server.py) into the model and the spec.  What haproxy -c says of broken ones is the check
corpus's (tests/data/haproxy/check/resolvers_*.cfg)."""

from __future__ import annotations

from pylvs.config.errors import Severity
from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts
from pylvs.model.resolvers import NameserverSpec, ResolveOptions, ResolversSpec

TAIL = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
listen li
    bind 127.0.0.1:8080
"""
RESOLV_CONF = (
    b"search x\nnameserver 10.0.0.53\nnameserver 10.0.0.53\nnameserver bad\nnameserverx 1\n"
)


def _read(path: str) -> bytes | None:
    return RESOLV_CONF if path == "/etc/resolv.conf" else None


FACTS = HostFacts(read_file=_read)


def test_section_values_and_defaults() -> None:
    r = load_text(
        "resolvers dns\n    nameserver ns1 127.0.0.1:5353\n    nameserver ns2 udp@[::1]:53\n"
        "    accepted_payload_size 8192\n    resolve_retries 5\n    timeout resolve 2s\n"
        "    timeout retry 300ms\n    hold valid 1m\n    hold obsolete 30s\n"
        "    nameserver ns3 tcp@127.0.0.1:53\n    nameserver ns4 tcp6@[::1]:5353\n" + TAIL,
        "h.cfg",
    )
    assert r.ok, r.problems
    assert not r.problems  # TCP nameservers are used, not warned about
    dns = r.config.resolvers[0]
    assert dns.nameservers == (
        NameserverSpec("ns1", "127.0.0.1", 5353, "h.cfg:2"),
        NameserverSpec("ns2", "::1", 53, "h.cfg:3"),
        NameserverSpec("ns3", "127.0.0.1", 53, "h.cfg:10", "tcp"),
        NameserverSpec("ns4", "::1", 5353, "h.cfg:11", "tcp"),
    )
    assert (dns.accepted_payload_size, dns.resolve_retries) == (8192, 5)
    assert (dns.timeout_resolve_ms, dns.timeout_retry_ms) == (2000, 300)
    assert (dns.hold_valid_ms, dns.hold_obsolete_ms, dns.hold_nx_ms) == (60000, 30000, 30000)
    # HAProxy's `default` section is there too, from /etc/resolv.conf (none read here)
    assert [s.name for s in r.config.resolvers] == ["dns", "default"]


def test_default_section_from_resolv_conf() -> None:
    r = load_text(TAIL, "h.cfg", host=FACTS)
    (default,) = r.config.resolvers
    assert default == ResolversSpec(
        "default",
        (NameserverSpec("10.0.0.53", "10.0.0.53", 53, "/etc/resolv.conf:2"),),
        where="<internal>:0",
    )
    assert not r.problems  # made quietly, as resolvers_create_default does


def test_parse_resolv_conf_warns_what_it_leaves_out() -> None:
    r = load_text("resolvers dns\n    parse-resolv-conf\n" + TAIL, "h.cfg", host=FACTS)
    assert [n.name for n in r.config.resolvers[0].nameservers] == ["10.0.0.53"]
    warned = [p.message for p in r.problems if p.severity is Severity.WARNING]
    assert any("appears to be a duplicate" in m for m in warned)
    assert any("address 'bad' could not be recognized" in m for m in warned)


def test_errors_name_their_line() -> None:
    r = load_text(
        "resolvers dns\n    nameserver ns1 127.0.0.1\n    hold nx 5q\n    timeout resolve\n"
        "resolvers dns\n" + TAIL,
        "h.cfg",
    )
    errors = [(p.loc.line, p.message) for p in r.problems if p.severity is Severity.ERROR]
    assert errors == [
        (2, "'nameserver ns1' : missing port specification in '127.0.0.1'"),
        (3, "unexpected character 'q' in argument to <hold>."),
        (4, "'timeout resolve' expects <time> as argument."),
        (5, "resolvers 'dns' has same name as another resolvers (declared at h.cfg:1)."),
    ]


def test_server_options_into_the_spec() -> None:
    r = load_text(
        "resolvers dns\n    nameserver ns1 127.0.0.1:53\n"
        + TAIL
        + "    server-template web 1-2 app.invalid:80 resolvers dns init-addr none"
        " resolve-prefer ipv4 resolve-net 10.0.0.0/8,fd00::/8"
        " resolve-opts allow-dup-ip,prevent-dup-ip,ignore-weight\n"
        "    server plain 127.0.0.1:80 resolvers dns\n",
        "h.cfg",
    )
    assert r.ok, r.problems
    spec = to_spec(r.config, r.problems)
    be = spec.proxies.backend("li")
    assert be is not None
    web1, web2, plain = be.servers
    want = ResolveOptions("dns", "ipv4", ("10.0.0.0/8", "fd00::/8"), False, True)
    assert web1.resolve == want and web2.resolve == want
    assert (web1.fqdn, web1.unresolved) == ("app.invalid", True)
    assert plain.resolve is None  # an address, not a name: nothing to resolve
    assert [s.name for s in spec.proxies.resolvers] == ["dns", "default"]


def test_unknown_section_refused_at_the_server() -> None:
    r = load_text(TAIL + "    server s1 app.invalid:80 resolvers nope init-addr none\n", "h.cfg")
    (p,) = [p for p in r.problems if p.severity is Severity.ERROR]
    assert (p.loc.line, p.message) == (
        8,
        "proxy 'li', server 's1': unable to find required resolvers 'nope'",
    )


def test_srv_record_names_are_resolved_as_srv_records() -> None:
    r = load_text(
        "resolvers dns\n    nameserver ns1 127.0.0.1:53\n"
        + TAIL
        + "    server s1 _http._tcp.app.invalid:80 resolvers dns init-addr none\n",
        "h.cfg",
    )
    assert not [p for p in r.problems if "SRV" in p.message]
    be = to_spec(r.config, r.problems).proxies.backend("li")
    assert be is not None
    s1 = be.servers[0]
    assert s1.resolve is not None and s1.resolve.srv_record == "_http._tcp.app.invalid"
    assert s1.fqdn is None  # the name comes from the record (srv_fqdn "-" until then)


def test_default_server_options_add_up() -> None:
    r = load_text(
        "resolvers dns\n    nameserver ns1 127.0.0.1:53\n"
        + TAIL
        + "    default-server resolvers dns resolve-opts allow-dup-ip resolve-net 10.0.0.0/8\n"
        "    server s1 app.invalid:80 init-addr none resolve-opts ignore-weight"
        " resolve-net 192.168.0.0/16\n",
        "h.cfg",
    )
    be = to_spec(r.config, r.problems).proxies.backend("li")
    assert be is not None
    assert be.servers[0].resolve == ResolveOptions(
        "dns", "ipv6", ("10.0.0.0/8", "192.168.0.0/16"), True, True
    )


def test_tcp_nameserver_server_keywords() -> None:
    """A TCP nameserver line's words are a server's (HAProxy's parse_server): maxconn used,
    an unknown word refused as on a server line."""
    r = load_text("resolvers dns\n    nameserver ns1 tcp@127.0.0.1:53 maxconn 2\n" + TAIL, "h.cfg")
    assert r.ok, r.problems
    assert r.config.resolvers[0].nameservers[0].maxconn == 2
    r = load_text("resolvers dns\n    nameserver ns1 tcp@127.0.0.1:53 foo 1\n" + TAIL, "h.cfg")
    (p,) = [p for p in r.problems if p.severity is Severity.ERROR]
    # haproxy 2.6.12 guesses as on a server line (srv_find_best_kw)
    said = "'server dns/ns1' : unknown keyword 'foo'; did you mean 'tfo' maybe ?"
    assert p.message == said and p.loc.line == 2
