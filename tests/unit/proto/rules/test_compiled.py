"""CompiledProxies compares by what it was compiled from, never by its live contents."""

from __future__ import annotations

from pylvs.proto.rules.compiled import CompiledProxies
from pylvs.proto.rules.ruleset import ProxyRules
from pylvs.proto.sample.stream import ProxyRef


def test_equal_sources_are_equal_whatever_the_compiled_objects() -> None:
    a = CompiledProxies({"x": ProxyRules("x", ProxyRef("x", 2))}, source=("x", 1))
    b = CompiledProxies({"x": ProxyRules("x", ProxyRef("x", 3))}, source=("x", 1))
    assert a == b and hash(a) == hash(b)
    assert a != CompiledProxies(source=("x", 2))


def test_without_a_source_only_itself_is_equal() -> None:
    a, b = CompiledProxies(), CompiledProxies()
    assert a == a and a != b
    assert a.proxy_names() == frozenset()


def test_a_pattern_file_read_otherwise_makes_them_differ() -> None:
    """A reload where only an ACL file changed must apply it (HAProxy reads every file again
    on reload); it compared equal, and the runtime kept the old list (found by review)."""
    from pylvs.proto.sample.pattern_ref import PatternStore

    def carrier(content: bytes) -> CompiledProxies:
        store = PatternStore(read_file=lambda path: content)
        store.file("bl.acl", is_map=False)
        return CompiledProxies(patterns=store, source=("x", 1))

    assert carrier(b"127.0.0.1\n") == carrier(b"127.0.0.1\n")
    assert carrier(b"127.0.0.1\n") != carrier(b"127.0.0.1\n127.0.0.2\n")


def test_the_global_set_var_and_every_named_proc_variable_exist_at_start() -> None:
    """reg-tests/sample_fetches/cond_set_var.vtc: the global section's set-var run in order
    (the second reads the first), and a proc. variable only a rule names exists, unset, so
    `set-var(proc.x,ifexists)` sets it where a sess. one would not be."""
    from pylvs.config.haproxy.reader import load_text
    from pylvs.proto.sample.stream import Process
    from tests.unit.proto.rules.rules_helpers import HEAD, compiled, stream

    text = (
        "global\n  set-var proc.int12 int(12)\n"
        "  set-var proc.int5 var(proc.str60,60),div(proc.int12)\n"
        "  set-var-fmt proc.fmt %[var(proc.int5)]-x\n" + HEAD.removeprefix("global\n")
    )
    text += "frontend fe\n  bind :80\n  http-request set-var(proc.named,ifexists) str(a)\n"
    text += "  http-request set-var(sess.other,ifexists) str(b)\n"
    rules = compiled(text, head="")
    carrier = rules.carrier(load_text(text, "t.cfg").config)
    process = Process()
    carrier.init_process(process)
    assert process.vars.get("int12") is not None and process.vars.get("int12").num == 12  # type: ignore[union-attr]
    assert process.vars.get("int5").num == 5  # type: ignore[union-attr]
    assert process.vars.get("fmt").text == b"5-x"  # type: ignore[union-attr]
    assert process.vars.get("named") is None and "named" in process.vars.values
    txn = stream(rules, "fe", b"GET / HTTP/1.1\r\n\r\n")
    txn.stream.sess.process.vars = process.vars
    from pylvs.proto.rules.http_flow import request

    request(txn, rules.proxies)
    assert process.vars.get("named").text == b"a"  # type: ignore[union-attr]
    assert txn.stream.sess.vars.get("other") is None


def test_a_global_set_var_that_does_not_compile_is_an_error_at_its_line() -> None:
    from pylvs.config.haproxy.compile_rules import compile_config
    from pylvs.config.haproxy.reader import load_text

    result = load_text("global\n  set-var proc.x nosuchfetch\n", "t.cfg")
    errors = compile_config(result.config).errors
    assert [(loc.line, "nosuchfetch" in msg) for loc, msg in errors] == [(2, True)]
