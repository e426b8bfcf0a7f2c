"""engine/lua/state.py: a Lua state as HAProxy makes it — loading a file reports HAProxy's
messages (hlua_load_state), the scripts' registrations are kept, the `core` API checks its
arguments as hlua.c does, and scripts cannot reach Python's objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pylvs.engine.lua.state import LuaState


def state(log: list[tuple[int, bytes]] | None = None, warned: list[str] | None = None) -> LuaState:
    out = log if log is not None else []
    bridge: dict[str, Any] = {"log": lambda level, msg: out.append((level, msg))}
    return LuaState(0, bridge, warn=(warned if warned is not None else []).append)


def load(tmp_path: Path, text: str, st: LuaState | None = None) -> tuple[LuaState, str]:
    f = tmp_path / "s.lua"
    f.write_text(text)
    st = st or state()
    return st, st.load(str(f))


def test_a_syntax_error_is_haproxys_message(tmp_path: Path) -> None:
    _st, error = load(tmp_path, "x = = 1\n")
    # Lua shortens a long chunk name with "..." (LUA_IDSIZE), as in HAProxy
    assert error.startswith(f"error in Lua file '{tmp_path}/s.lua': ")
    assert error.endswith("s.lua:1: unexpected symbol near '='")


def test_a_runtime_error_at_load_is_haproxys_message(tmp_path: Path) -> None:
    _st, error = load(tmp_path, 'error("boom")\n')
    assert error.startswith("Lua runtime error: ")
    assert error.endswith("s.lua:1: boom\n")


def test_a_missing_file(tmp_path: Path) -> None:
    st = state()
    error = st.load(str(tmp_path / "nope.lua"))
    assert error.startswith(f"error in Lua file '{tmp_path}/nope.lua': cannot open ")


def test_registrations_are_kept_with_their_kinds_and_arguments(tmp_path: Path) -> None:
    st, error = load(
        tmp_path,
        'core.register_fetches("f", function() end)\n'
        'core.register_converters("c", function() end)\n'
        'core.register_action("a", {"http-req", "tcp-req"}, function() end, 2)\n'
        'core.register_service("s", "http", function() end)\n'
        "core.register_init(function() end)\n"
        "core.register_task(function() end)\n",
    )
    assert error == ""
    assert set(st.reg.fetches) == {"f"} and set(st.reg.converters) == {"c"}
    _fn, kinds, nargs = st.reg.actions["a"]
    assert kinds == {"http-req", "tcp-req"} and nargs == 2
    assert st.reg.services["s"][1] == "http"
    assert len(st.reg.inits) == 1 and len(st.reg.tasks) == 1


def test_registering_twice_warns_as_haproxy_does(tmp_path: Path) -> None:
    warned: list[str] = []
    st = state(warned=warned)
    load(tmp_path, 'core.register_fetches("f", function() end)\n' * 2, st)
    assert warned == [
        "Trying to register sample-fetch 'lua.f' more than once. "
        "This will become a hard error in version 2.5."
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'core.register_action("a", {"nope"}, function() end)',
            "Lua action environment 'nope' is unknown",
        ),
        (
            'core.register_action("a", "http-req", function() end)',
            "second argument must be a table of strings",
        ),
        (
            'core.register_service("s", "udp", function() end)',
            "Lua service environment 'udp' is unknown",
        ),
        ('core.register_fetches("f")', "'register_fetches' needs 2 arguments"),
        ('core.log(99, "x")', "Invalid loglevel."),
    ],
)
def test_bad_calls_are_lua_errors_with_hlua_c_words(
    tmp_path: Path, line: str, message: str
) -> None:
    _st, error = load(tmp_path, line + "\n")
    assert error.startswith("Lua runtime error: ")
    assert message in error


def test_core_log_reaches_the_bridge(tmp_path: Path) -> None:
    out: list[tuple[int, bytes]] = []
    load(tmp_path, 'core.log(core.notice, "n")\ncore.Alert("a")\ncore.Debug("d")\n', state(out))
    assert out == [(5, b"n"), (1, b"a"), (7, b"d")]


def test_scripts_cannot_reach_python(tmp_path: Path) -> None:
    _st, error = load(tmp_path, "return python.eval('1')\n")
    assert "attempt to index a nil value" in error


def test_lua_prepend_path_puts_the_path_first(tmp_path: Path) -> None:
    st = state()
    st.prepend_path("/opt/lua/?.lua", "path")
    assert bytes(st.rt.globals()[b"package"][b"path"]).startswith(b"/opt/lua/?.lua;")


def test_a_call_runs_in_a_coroutine_that_may_wait_and_resume(tmp_path: Path) -> None:
    st, _ = load(
        tmp_path, 'core.register_fetches("f", function(x) core.msleep(5); return x .. "!" end)\n'
    )
    got = st.api[b"start"](st.reg.fetches["f"], 1000, b"a")
    co, kind, delay, why = got
    assert (kind, delay, why) == (b"wait", 5, b"sleep")
    assert st.api[b"resume"](co) == (b"done", b"a!")


def test_a_runaway_call_is_cut_by_its_budget(tmp_path: Path) -> None:
    st, _ = load(tmp_path, 'core.register_fetches("f", function() while true do end end)\n')
    got = st.api[b"start"](st.reg.fetches["f"], 50)
    # hlua_hook raises a plain runtime error (no position), shown with the script's frames
    assert got[1] == b"error"
    assert got[2].startswith(b"[state-id 0] runtime error: execution timeout from ")
    assert b"pylvs-lua" not in got[2]


def test_a_runtime_error_names_the_state_and_where(tmp_path: Path) -> None:
    st, _ = load(tmp_path, 'core.register_fetches("f", function() error("no luck") end)\n')
    got = st.api[b"start"](st.reg.fetches["f"], 1000)
    assert got[1] == b"error"
    assert got[2].startswith(b"[state-id 0] runtime error: ")
    assert b"s.lua:1: no luck from " in got[2]
