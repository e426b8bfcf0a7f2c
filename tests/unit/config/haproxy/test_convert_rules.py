"""The compiled rules reach the spec (`ProxiesSpec.rules`): every proxy's ProxyRules, the
stick tables with what stick rules store, equal across two loads of the same file, and a
rule that cannot be compiled named at its line."""

from __future__ import annotations

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.model.proxy_spec import ProxiesSpec
from pylvs.proto.rules.compiled import CompiledProxies

TEXT = """\
defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:8080
    tcp-request connection reject if { src 10.0.0.0/8 }
    tcp-request inspect-delay 2s
    tcp-request content accept if { req.len gt 0 }
    use_backend be if { dst_port 8080 }
    default_backend be
backend be
    stick-table type ip size 10 expire 30s store conn_cur
    stick on src
    server s1 127.0.0.1:80
"""


def _spec(text: str = TEXT) -> tuple[ProxiesSpec, list[str]]:
    result = load_text(text, "r.cfg", env={})
    spec = to_spec(result.config, result.problems).proxies
    return spec, [str(p) for p in result.problems]


def test_every_proxys_rules_travel_with_the_spec() -> None:
    spec, _ = _spec()
    rules = spec.rules
    assert isinstance(rules, CompiledProxies)
    assert rules.proxy_names() == {"fe", "be"}
    fe = rules.proxies["fe"]
    assert [r.name for r in fe.tcp_connection] == ["reject"]
    assert [r.name for r in fe.tcp_content] == ["accept"]
    assert fe.inspect_delay_ms == 2000
    assert len(fe.switching) == 1 and fe.default_backend == "be"
    assert [s.kind for s in rules.proxies["be"].stick] == ["on"]


def test_a_table_named_by_a_stick_rule_also_stores_the_server() -> None:
    spec, _ = _spec()
    assert isinstance(spec.rules, CompiledProxies)
    table = spec.rules.tables["be"]
    assert table.spec.stores("conn_cur")
    assert table.spec.stores("server_id") and table.spec.stores("server_key")


def test_two_loads_of_one_file_compare_equal_and_a_changed_rule_does_not() -> None:
    a, _ = _spec()
    b, _ = _spec()
    assert a.rules is not b.rules and a == b  # a reload that changes nothing keeps the runtime
    c, _ = _spec(TEXT.replace("req.len gt 0", "req.len gt 3"))
    assert c.rules != a.rules and c != a


def test_a_rule_that_cannot_be_compiled_is_named_at_its_line() -> None:
    """An error in a proxy the runtime serves, mode tcp or http (it would run without it),
    a warning in a disabled one."""
    text = TEXT.replace("req.len gt 0", "req.ssl_hello_type 1")
    spec, problems = _spec(text)
    assert [p for p in problems if "req.ssl_hello_type" in p] == [
        "r.cfg:10:5: error: 'tcp-request content accept': pylvs does not implement the sample"
        " fetch 'req.ssl_hello_type'"
    ]
    assert isinstance(spec.rules, CompiledProxies)
    assert spec.rules.proxies["fe"].tcp_content == ()
    _, problems = _spec(text.replace("    mode tcp\n", "    mode http\n"))
    assert next(p for p in problems if "ssl_hello" in p).startswith("r.cfg:10:5: error: ")
