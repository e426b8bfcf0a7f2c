"""engine/lua/maps.py and prelude.lua's Map, core.parse_addr/match_addr, txn:reply and the
argument checks, as hlua.c and the real haproxy 2.6.12 answer them (the expected texts were
printed by haproxy running the same script)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pylvs.engine.lua.maps import LuaMaps, match_addr, parse_addr, read_file
from pylvs.engine.lua.state import LuaState
from pylvs.proto.sample.pattern_ref import PatternStore


def state(tmp_path: Path, maps: LuaMaps | None = None) -> tuple[LuaState, LuaMaps]:
    store = PatternStore(read_file)
    maps = maps or LuaMaps(lambda: store)
    bridge: dict[str, Any] = {
        "log": lambda level, msg: None,
        "map_new": maps.new,
        "map_lookup": maps.lookup,
    }
    return LuaState(0, bridge), maps


def run(st: LuaState, code: str) -> Any:
    return st.rt.execute(code.encode())


def maps(tmp_path: Path) -> Path:
    (tmp_path / "s.map").write_text("# c\nfoo bar\n/api api-backend\n^re.*x$ regex-hit\n")
    (tmp_path / "i.map").write_text("10 ten\n20-30 range\n")
    (tmp_path / "ip.map").write_text("192.168.0.0/16 lan\n::1 six\n")
    return tmp_path


def test_map_lookups_by_method(tmp_path: Path) -> None:
    d = maps(tmp_path)
    st, _ = state(tmp_path)
    got = run(
        st,
        f"""
        local s = Map.new("{d}/s.map", Map._str)
        local b = Map.new("{d}/s.map", Map.beg)
        local i = Map.new("{d}/i.map", Map._int)
        local ip = Map.new("{d}/ip.map", Map._ip)
        local r = Map.new("{d}/s.map", Map._reg)
        return table.concat({{s:lookup("foo"), tostring(s:lookup("nope")), "[" .. s:slookup("x")
          .. "]", b:lookup("/api/x"), i:lookup(10), i:lookup("25"), tostring(i:lookup(11)),
          ip:lookup("192.168.3.4"), ip:lookup("::1"), tostring(ip:lookup("10.0.0.1")),
          r:lookup("reabcx"), Map._str, Map._found, Map._regm}}, " ")
        """,
    )
    assert got == (b"bar nil [] api-backend ten range nil lan six nil regex-hit 6 0 13")


def test_map_errors_are_haproxys(tmp_path: Path) -> None:
    d = maps(tmp_path)
    st, m = state(tmp_path)
    (tmp_path / "bad.map").write_text("1 one\nfoo two\n")

    def err(call: str) -> bytes:
        ok, message = run(st, f"return pcall({call})")
        assert ok is False
        return bytes(message)

    assert err(f'Map.new, "{d}/none.map"') == (
        f"'new': failed to open pattern file <{d}/none.map>.".encode()
    )
    assert err("Map.new") == b"'new' needs at least 1 argument."
    assert err(f'Map.new, "{d}/s.map", 99') == b"'new' needs a valid match method."
    assert err(f'Map.new, "{d}/s.map", Map._regm') == b"'new' doesn't support this match mode."
    assert (
        err(f'Map.new, "{d}/s.map", "x"') == b"bad argument #2 to '?' (number expected, got string)"
    )
    assert err(f'Map.new, "{d}/bad.map", Map._int') == (
        f"'new': 'foo' is not a number at line 2 of file '{d}/bad.map'.".encode()
    )
    run(st, f'm = Map.new("{d}/i.map", Map._int)')
    assert err("m.lookup, m") == b"'lookup' needs 2 arguments"
    assert err('m.lookup, m, "abc"') == b"bad argument #2 to '?' (number expected, got string)"
    assert err('m.lookup, {}, "abc"') == b"bad argument #1 to '?' ((null))"
    # called from a script's line: the position first, the method's own name
    assert err('function() return m:lookup("abc") .. "" end').endswith(
        b":1: bad argument #1 to 'lookup' (number expected, got string)"
    )
    m.starting = False  # HAProxy has started: no more maps
    assert err(f'Map.new, "{d}/s.map"') == b"'new': map: cannot load map at runtime."


def test_a_map_follows_its_pattern_reference(tmp_path: Path) -> None:
    """The map shares the file's reference: `set map`/`add map` change what it finds."""
    d = maps(tmp_path)
    store = PatternStore(read_file)
    st, _ = state(tmp_path, LuaMaps(lambda: store))
    run(st, f'm = Map.new("{d}/s.map")')
    ref = store.lookup(f"{d}/s.map")
    assert ref is not None
    ref.add(b"new", b"value")
    ref.set(b"foo", b"baz")
    assert run(st, 'return m:lookup("new") .. m:lookup("foo")') == b"valuebaz"


def test_parse_addr_and_match_addr() -> None:
    a, b = parse_addr(b"10.0.0.0/8"), parse_addr(b"10.1.2.3")
    assert match_addr(a, b) and match_addr(b, a)
    assert not match_addr(b, parse_addr(b"10.1.2.4"))
    assert parse_addr(b"10.0.0.0/255.0.0.0") == a
    assert parse_addr(b"bogus") is None and parse_addr(b"1.2.3.4/33") is None
    v6 = parse_addr(b"2001:db8::/32")
    assert match_addr(v6, parse_addr(b"2001:db8:1::5"))
    assert not match_addr(a, parse_addr(b"::1")) and not match_addr(a, b"x")


def test_parse_addr_gives_scripts_a_userdata(tmp_path: Path) -> None:
    st, _ = state(tmp_path)
    got = run(
        st,
        'local a = core.parse_addr("10.0.0.0/8") '
        'return type(a), core.match_addr(a, core.parse_addr("10.9.9.9")), '
        'core.match_addr(a, "x"), core.parse_addr("bogus"), select(2, pcall(core.parse_addr))',
    )
    assert got == (
        b"userdata",
        True,
        False,
        None,
        b"bad argument #1 to '?' (string expected, got no value)",
    )
    # an opaque value: its fields are not the script's to read
    assert (
        run(st, 'return pcall(function() return core.parse_addr("1.2.3.4").family end)')[0] is False
    )


def test_core_argument_checks_as_hlua(tmp_path: Path) -> None:
    st, _ = state(tmp_path)
    cases = {
        'core.tokenize, "a,,b"': b"bad argument #2 to '?' (string expected, got no value)",
        "core.concat().add, {}, nil": b"bad argument #2 to '?' (string expected, got nil)",
        'core.set_nice, "x"': b"bad argument #1 to '?' (number expected, got string)",
        "core.register_init": b"'register_init' needs 1 arguments",
        'core.register_cli, {"a"}, "u"': b"'register_cli' needs 3 arguments",
        'core.register_fetches, "x", 1': b"bad argument #2 to '?' (function expected, got number)",
        'core.log, 9, "x"': b"bad argument #1 to '?' (Invalid loglevel.)",
        'core.log, "a", "b"': b"bad argument #1 to '?' (number expected, got string)",
        "core.Info, nil": b"bad argument #1 to '?' (string expected, got nil)",
    }
    for call, message in cases.items():
        assert run(st, f"return select(2, pcall({call}))") == message, call
    # a script's own line names the function as it called it (a method: one argument less)
    got = run(st, "return select(2, pcall(function() local c = core.concat(); c:add(nil) end))")
    assert got.endswith(b":1: bad argument #1 to 'add' (string expected, got nil)")
    got = run(st, 'return select(2, pcall(function() local x = core.tokenize("a") end))')
    assert got.endswith(b":1: bad argument #2 to 'tokenize' (string expected, got no value)")
