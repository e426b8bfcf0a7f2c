"""The stats socket's ACL and map commands on shared pattern references (src/map.c's
answers, as haproxy 2.6.12 gave them by hand on the same commands)."""

from __future__ import annotations

import re

from pylvs.control.haproxy.context import CliState, Context
from pylvs.control.haproxy.fake import FakeRuntime
from pylvs.control.haproxy.session import CliSession
from pylvs.proto.sample.pattern_ref import PatternStore

FILES = {"/agents.acl": b"Test\n", "/r.map": b"example.org https://www.example.org\n# c\nb  v w \n"}


def session() -> tuple[CliSession, PatternStore]:
    rt = FakeRuntime([], clock=lambda: 0.0)
    store = PatternStore(FILES.get)
    store.file("/agents.acl", is_map=False)
    store.inline([b"/x"], "acl 'path'")
    store.file("/r.map", is_map=True)
    rt.pattern_store = store
    return CliSession(Context(rt, CliState())), store


def cli(s: CliSession, line: str) -> str:
    s.closed = False
    return s.feed(line.encode() + b"\n").decode()


def test_show_lists_the_references_of_each_kind_and_dumps_one() -> None:
    s, _ = session()
    acls = cli(s, "show acl")
    assert acls.startswith("# id (file) description\n0 (/agents.acl) ")
    assert "\n1 () acl 'path'. curr_ver=0 next_ver=0 entry_cnt=1\n" in acls
    assert "/r.map" not in acls and "/r.map" in cli(s, "show map")
    dump = cli(s, "show map /r.map")
    assert re.fullmatch(
        r"0x[0-9a-f]+ example\.org https://www\.example\.org\n0x[0-9a-f]+ b v w\n\n", dump
    )
    assert cli(s, "show acl #0").endswith(" Test\n\n")
    assert cli(s, "show acl /r.map") == "Unknown ACL identifier. Please use #<id> or <file>.\n\n"


def test_add_acl_with_escaped_spaces_then_del_by_key_or_identifier() -> None:
    s, store = session()
    assert cli(s, r"add acl /agents.acl Mon\ User\ Agent\;") == "\n"
    ref = store.lookup("/agents.acl")
    assert ref is not None and [e.key for e in ref] == [b"Test", b"Mon User Agent;"]
    assert cli(s, r"del acl /agents.acl Mon\ User\ Agent\;") == "\n"
    assert cli(s, "del acl /agents.acl nothere") == "Key not found.\n\n"
    ident = cli(s, "show acl /agents.acl").split(" ")[0]
    assert cli(s, f"del acl /agents.acl #{ident}") == "\n" and len(ref) == 0
    assert cli(s, "del acl /agents.acl #0xzz") == (
        "Malformed identifier. Please use #<id> or <file>.\n\n"
    )


def test_add_map_from_a_payload_set_and_clear() -> None:
    s, store = session()
    ref = store.lookup("/r.map")
    assert ref is not None
    generation = ref.generation
    assert cli(s, "clear map /r.map") == "\n" and len(ref) == 0
    assert cli(s, "add map /r.map <<\nk1 v1\nk2   v 2\n") == "\n"
    assert [(e.key, e.value) for e in ref] == [(b"k1", b"v1"), (b"k2", b"v 2")]
    assert cli(s, "set map /r.map k1 new") == "\n"
    assert ref.entries[0].value == b"new" and ref.generation > generation
    assert cli(s, "add map /r.map a") == (
        "'add map' expects three parameters (map identifier, key and value)"
        " or one parameter (map identifier) and a payload\n\n"
    )
    assert cli(s, "add acl /r.map zz").startswith("This ACL is shared with a map")
    assert cli(s, "clear map") == "Missing map identifier.\n\n"
    assert cli(s, "add acl @1 /agents.acl x").startswith("pylvs keeps one version")


def test_show_acl_says_where_each_reference_comes_from_as_haproxy_does() -> None:
    from tests.unit.proto.rules.rules_helpers import compiled

    text = (
        "frontend fe\n  bind :8080\n  acl dom hdr_dom(host) -i example.com\n"
        "  http-request deny if { req.hdr(user-agent) -i -m str -f /agents.acl }\n"
        "  http-request deny if dom\n"
    )
    r = compiled(text, files=FILES)
    rt = FakeRuntime([], clock=lambda: 0.0)
    rt.pattern_store = r.patterns
    listing = cli(CliSession(Context(rt, CliState())), "show acl").splitlines()
    assert listing[1].startswith("0 () acl 'hdr_dom' file 't.cfg' line ")
    assert listing[2].startswith("1 (/agents.acl) pattern loaded from file '/agents.acl'")
    assert " used by acl at file 't.cfg' line " in listing[2]
    assert listing[3].startswith("2 () acl 'req.hdr' file 't.cfg' line ")
