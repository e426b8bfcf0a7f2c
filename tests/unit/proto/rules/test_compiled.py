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
