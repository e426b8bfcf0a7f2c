"""config/haproxy/lua.py: HAProxy's Lua keywords as `haproxy -c` reads them — `lua-load`
runs the file while reading (a LuaHost the caller gives: a fake here), what the scripts
registered makes `lua.NAME` keywords known to the sections after it, the others are
refused with HAProxy's words; without a LuaHost they are taken unchecked."""

from __future__ import annotations

from dataclasses import replace

from pylvs.config.haproxy.lua import LuaNames
from pylvs.config.haproxy.reader import load_text
from pylvs.config.keywords import HostFacts
from pylvs.model.lua_spec import LuaSpec


class FakeHost:
    """Loads nothing: each path names what it registers, or fails."""

    def __init__(self) -> None:
        self.names = LuaNames()
        self.loaded: list[tuple[str, bool, tuple[tuple[str, str], ...]]] = []

    def load(self, path: str, per_thread: bool, prepend: tuple[tuple[str, str], ...]) -> str:
        self.loaded.append((path, per_thread, prepend))
        if path == "bad.lua":
            return "Lua runtime error: bad.lua:1: boom\n"
        self.names.fetches.add("hello")
        self.names.converters.add("up")
        self.names.actions["tag"] = (frozenset({"http-req"}), 1)
        self.names.services["svc"] = "http"
        return ""


HOSTS: list[FakeHost] = []


def host() -> HostFacts:
    def make() -> FakeHost:
        HOSTS.append(FakeHost())
        return HOSTS[-1]

    return HostFacts(lua=make)


HEAD = "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n"


def read(global_lines: str, fe_lines: str, *, checked: bool = True) -> tuple[list[str], object]:
    text = f"global\n{global_lines}{HEAD}frontend fe\n  bind 127.0.0.1:8080\n{fe_lines}"
    r = load_text(text, "t.cfg", host=host() if checked else None)
    return [f"{p.loc.line}: {p.message}" for p in r.problems.errors], r.config


def test_lua_settings_are_read_into_the_spec() -> None:
    errors, config = read(
        "  lua-prepend-path /opt/?.lua\n  lua-prepend-path /opt/?.so cpath\n"
        "  lua-load a.lua\n  lua-load-per-thread b.lua\n  tune.lua.maxmem 10\n"
        "  tune.lua.forced-yield 500\n  tune.lua.session-timeout 2s\n"
        "  tune.lua.task-timeout 1m\n  tune.lua.service-timeout 300\n",
        "",
    )
    assert errors == []
    assert config.global_.lua == LuaSpec(  # type: ignore[attr-defined]
        loads=("a.lua",),
        per_thread=("b.lua",),
        prepend=(("/opt/?.lua", "path"), ("/opt/?.so", "cpath")),
        maxmem=10 * 1024 * 1024,
        forced_yield=500,
        session_timeout_ms=2000,
        task_timeout_ms=60000,
        service_timeout_ms=300,
    )
    # one host per read, given the paths in order and the prepend paths read before them
    assert HOSTS[-1].loaded == [
        ("a.lua", False, (("/opt/?.lua", "path"), ("/opt/?.so", "cpath"))),
        ("b.lua", True, (("/opt/?.lua", "path"), ("/opt/?.so", "cpath"))),
    ]


def test_registered_names_are_known_after_the_load() -> None:
    errors, _ = read(
        "  lua-load a.lua\n",
        "  http-request lua.tag x\n  http-request set-header h %[lua.hello(a),lua.up]\n"
        "  http-request use-service lua.svc\n",
    )
    assert errors == []


def test_unregistered_names_are_haproxys_errors() -> None:
    errors, _ = read(
        "  lua-load a.lua\n",
        "  http-request set-header h %[lua.nope]\n  http-request set-header h %[str(x),lua.no]\n",
    )
    assert "unknown fetch method 'lua.nope'" in errors[0]
    assert "unknown converter 'lua.no'" in errors[1]


def test_a_failing_load_is_located_and_its_names_stay_unknown() -> None:
    errors, _ = read("  lua-load bad.lua\n", "  http-request set-header h %[lua.hello]\n")
    assert errors[0] == "2: Lua runtime error: bad.lua:1: boom"
    assert "unknown fetch method 'lua.hello'" in errors[1]


def test_an_action_takes_exactly_its_declared_arguments() -> None:
    errors, _ = read("  lua-load a.lua\n", "  http-request lua.tag\n")
    assert errors == [
        "10: error detected in frontend 'fe' while parsing 'http-request lua.tag' rule :"
        " expect 1 arguments."
    ]


def test_an_action_only_where_its_kinds_allow() -> None:
    errors, _ = read("  lua-load a.lua\n", "  http-response lua.tag x\n")
    assert errors and "but got 'lua.tag'" in errors[0]


def test_without_a_lua_host_names_are_not_checked() -> None:
    errors, config = read(
        "  lua-load a.lua\n", "  http-request set-header h %[lua.anything]\n", checked=False
    )
    assert errors == []
    assert config.global_.lua.loads == ("a.lua",)  # type: ignore[attr-defined]


def test_bad_keyword_values_get_hlua_c_messages() -> None:
    errors, _ = read(
        "  lua-load\n  lua-prepend-path /x weird\n  tune.lua.maxmem 12x\n"
        "  tune.lua.forced-yield abc\n",
        "",
    )
    assert errors == [
        "2: 'lua-load' expects a file name as parameter.",
        "3: 'lua-prepend-path' expects <type> to either be 'path' or 'cpath'",
        "4: tune.lua.maxmem: invalid number 12x (error at 'x')",
        "5: tune.lua.forced-yield: invalid number",
    ]


def test_the_spec_carries_the_lua_settings() -> None:
    from pylvs.config.errors import Problems
    from pylvs.config.haproxy.convert import to_spec

    _errors, config = read(
        "  lua-load a.lua\n", "  default_backend be\nbackend be\n  server s 127.0.0.1:1\n"
    )
    spec = to_spec(config, Problems())  # type: ignore[arg-type]
    assert spec.proxies.lua == replace(LuaSpec(), loads=("a.lua",))
