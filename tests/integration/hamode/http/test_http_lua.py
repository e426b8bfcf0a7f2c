"""Lua scripts (`lua-load`) as a client sees them under `pylvs run` and the real
`haproxy -db`, same haproxy.cfg and script: a fetch (with arguments, reading another fetch
through `txn.f`), a converter, an `http-req` action editing the request and setting a
variable, an `http-res` action, `core.backends[...].servers[...]:get_stats()` and a fetch
whose script fails (no sample: the header is empty, the stream goes on).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import Client, HttpServer
from tests.integration.hamode.http.test_http_proxying import HEAD, both

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

SCRIPT = """\
core.register_fetches("greet", function(txn, who, punct)
    return "hello " .. who .. (punct or "") .. " at " .. txn.sf:path()
end)
core.register_converters("shout", function(s) return string.upper(s) .. "!" end)
core.register_fetches("count", function(txn) return 40 + 2 end)
core.register_fetches("broken", function(txn) error("no luck") end)
core.register_fetches("stats", function(txn)
    local s = core.backends["be"].servers["one"]:get_stats()
    return s.pxname .. "/" .. s.svname .. " " .. s.status
end)
core.register_action("tag", {"http-req"}, function(txn, value)
    txn.http:req_set_header("x-tag", value)
    txn.http:req_del_header("x-drop")
    txn:set_var("txn.seen", txn.f:req_hdr("host"))
end, 1)
core.register_action("stamp", {"http-res"}, function(txn)
    txn.http:res_add_header("x-seen", txn:get_var("txn.seen") or "none")
end)
"""

CONFIG = """\
frontend fe
    bind 127.0.0.1:{port}
    http-request lua.tag from-lua
    http-response set-header x-greet "%[lua.greet(you,?)]"
    http-response set-header x-shout "%[str(quiet),lua.shout]"
    http-response set-header x-count "%[lua.count]"
    http-response set-header x-broken "<%[lua.broken]>"
    http-response set-header x-stats "%[lua.stats]"
    http-response lua.stamp
    default_backend be
backend be
    server one 127.0.0.1:{s1}
"""


def test_lua_fetches_converters_and_actions(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    script = tmp_path / "t.lua"
    script.write_text(SCRIPT)

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        head = HEAD.replace("global\n", f"global\n    lua-load {script}\n")
        text = head + CONFIG.format(port=port, s1=servers["s1"].port)
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.send(b"GET /p?q=1 HTTP/1.1\r\nHost: example\r\nX-Drop: 1\r\n\r\n")
        head_bytes, _ = c.response(b"GET")
        c.close()
        request = servers["s1"].heads[-1].lower()
        return [line for line in head_bytes.split(b"\r\n") if line.startswith(b"x-")], [
            line for line in request.split(b"\r\n") if line.startswith(b"x-")
        ]

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"][0] == seen["haproxy"][0]
    assert seen["pylvs"][0] == [
        b"x-greet: hello you? at ",  # the request is gone in the response phase
        b"x-shout: QUIET!",
        b"x-count: 42",
        b"x-broken: <>",
        b"x-stats: be/one no check",
        b"x-seen: example",
    ]
    # the request the server got: the action's header, without the one it deleted
    assert seen["pylvs"][1] == seen["haproxy"][1] == [b"x-tag: from-lua"]


SERVICES = """\
core.register_service("hello", "http", function(applet)
    local body = "hello " .. applet.path .. " " .. applet.method .. " " .. applet.qs
    applet:set_status(201)
    applet:add_header("content-type", "text/plain")
    applet:start_response()
    applet:send(body)
    applet:send("!")
end)
core.register_service("sized", "http", function(applet)
    applet:add_header("content-length", "2")
    applet:start_response()
    applet:send("ok")
end)
core.register_service("slow", "http", function(applet)
    core.msleep(200)
    applet:add_header("content-length", "4")
    applet:start_response()
    applet:send("slow")
end)
core.register_action("pause", {"http-req"}, function(txn)
    core.msleep(150)
    txn.http:req_set_header("x-paused", "yes")
end)
core.register_service("echo", "http", function(applet)
    local h = applet.headers["x-paused"]
    applet:start_response()
    applet:send(h and h[0] or "none")
end)
core.register_service("fails", "http", function(applet)
    error("out of order")
end)
"""

SERVICE_CONFIG = """\
frontend fe
    bind 127.0.0.1:{port}
    http-request use-service lua.sized if {{ path /sized }}
    http-request use-service lua.slow if {{ path /slow }}
    http-request lua.pause if {{ path /pause }}
    http-request use-service lua.echo if {{ path /pause }}
    http-request use-service lua.fails if {{ path /fails }}
    http-request use-service lua.hello
"""


def test_lua_http_services_and_a_sleeping_action(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """The answers byte for byte, one kept-alive connection: a chunked answer (no
    Content-Length given: HAProxy's H1 writer chunks it, one chunk for what was sent), one
    with its Content-Length, a service and an action that sleep (the rules wait, then go
    on), and a service that fails (HAProxy's 500)."""
    script = tmp_path / "s.lua"
    script.write_text(SERVICES)

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        head = HEAD.replace("global\n", f"global\n    lua-load {script}\n")
        proxy(kind, head + SERVICE_CONFIG.format(port=port), ("127.0.0.1", port))
        c = Client(port)
        got = []
        for path in (b"/p?a=1", b"/sized", b"/slow", b"/pause", b"/fails"):
            c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
            got.append(c.response(b"GET"))
        c.close()
        return got

    seen = both(proxy, {}, run)
    assert seen["pylvs"] == seen["haproxy"]
    heads = [h for h, _ in seen["pylvs"]]
    bodies = [b for _, b in seen["pylvs"]]
    assert heads[0].startswith(b"HTTP/1.1 201 Created\r\ncontent-type: text/plain\r\n")
    assert b"transfer-encoding: chunked" in heads[0]
    assert bodies[:4] == [b"hello /p GET a=1!", b"ok", b"slow", b"yes"]
    assert heads[4].startswith(b"HTTP/1.1 500")


TASKS = """\
local ready = "no"
local ticks = 0
core.register_init(function() ready = "yes" end)
core.register_task(function()
    while true do
        ticks = ticks + 1
        core.msleep(20)
    end
end)
core.register_fetches("state", function(txn)
    return ready .. " " .. (ticks > 1 and "ticking" or "still")
end)
"""


def test_lua_init_functions_and_tasks_run(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    """register_init runs before traffic; a register_task coroutine runs on beside it,
    sleeping between its steps."""
    script = tmp_path / "t.lua"
    script.write_text(TASKS)

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        head = HEAD.replace("global\n", f"global\n    lua-load {script}\n")
        text = head + (
            f"frontend fe\n    bind 127.0.0.1:{port}\n"
            '    http-request return status 200 content-type text/plain lf-string "%[lua.state]"\n'
        )
        proxy(kind, text, ("127.0.0.1", port))
        import time

        time.sleep(0.3)
        c = Client(port)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got = c.response(b"GET")[1]
        c.close()
        return got

    seen = both(proxy, {}, run)
    assert seen["pylvs"] == seen["haproxy"] == b"yes ticking"


CLI = """\
core.register_cli({"show", "hello"}, "show hello <who> : say hello", function(applet, a, b, who)
    applet:send("hello " .. tostring(who) .. "\\n")
end)
"""


def test_a_lua_cli_command_on_the_stats_socket(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    """core.register_cli adds a command to the stats socket and to its `help`."""
    import socket

    script = tmp_path / "c.lua"
    script.write_text(CLI)

    def ask(path: Path, line: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
            s.sendall(line + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
            return out

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        sock = tmp_path / f"{kind}.sock"
        head = HEAD.replace(
            "global\n", f"global\n    lua-load {script}\n    stats socket {sock} level admin\n"
        )
        proxy(kind, head + f"frontend fe\n    bind 127.0.0.1:{port}\n", ("127.0.0.1", port))
        import time

        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        helped = [ln for ln in ask(sock, b"help").split(b"\n") if b"hello" in ln]
        return ask(sock, b"show hello world"), helped

    seen = both(proxy, {}, run)
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"] == (b"hello world\n\n", [b"  show hello <who> : say hello"])


ACTIONS = """\
core.register_action("deny", {"http-req"}, function(txn) return act.DENY end)
core.register_action("halt", {"http-req"}, function(txn) txn:done() end)
core.register_action("skip", {"http-req"}, function(txn) core.done() end)
core.register_action("where", {"http-req"}, function(txn)
    local s = core.backends["be"].servers["one"]
    txn.http:req_set_header("x-where", s:get_addr() .. " " .. s:is_draining())
end)
core.register_fetches("nothing", function(txn) end)
"""

ACTIONS_CONFIG = """\
frontend fe
    bind 127.0.0.1:{port}
    http-request lua.deny if {{ path /deny }}
    http-request lua.halt if {{ path /halt }}
    http-request lua.skip if {{ path /skip }}
    http-request return status 298 if {{ path /skip }}
    http-request lua.where
    http-request set-header x-nothing "<%[lua.nothing]>"
    default_backend be
backend be
    server one 127.0.0.1:{s1}
"""


def test_lua_action_results_and_server_methods(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    """act.DENY answers the deny (403), txn:done() ends the stream without an answer,
    core.done() only ends the function (the next rule answers), Server:get_addr() and
    is_draining(), and a fetch that returns nothing gives no sample."""
    script = tmp_path / "a.lua"
    script.write_text(ACTIONS)

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        head = HEAD.replace("global\n", f"global\n    lua-load {script}\n")
        proxy(
            kind,
            head + ACTIONS_CONFIG.format(port=port, s1=servers["s1"].port),
            ("127.0.0.1", port),
        )
        import socket

        got = []
        for path in (b"/deny", b"/halt", b"/skip", b"/"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
                    if b"\r\n\r\n" in out:
                        break
            got.append(out.split(b"\r\n", 1)[0])
        request = servers["s1"].heads[-1].lower()
        fields = [ln for ln in request.split(b"\r\n") if ln.startswith(b"x-")]
        return got, fields

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"][0] == seen["haproxy"][0]
    assert seen["pylvs"][0][:3] == [b"HTTP/1.1 403 Forbidden", b"", b"HTTP/1.1 298 Success"]
    assert re.fullmatch(rb"x-where: 127\.0\.0\.1:\d+ 0", seen["pylvs"][1][0])
    assert seen["pylvs"][1][1] == b"x-nothing: <>"
    assert [f.split(b":")[0] for f in seen["haproxy"][1]] == [b"x-where", b"x-nothing"]


PRIV = """\
core.register_action("setp", {"http-req"}, function(txn)
    txn:set_priv("kept")
    txn.http:req_rep_header("x-a", "(b+)-(c+)", "\\\\2+\\\\1")
    txn.http:req_rep_value("x-v", "^z", "Y")
    txn:set_var("txn.made", "yes", true)
end)
core.register_action("getp", {"http-req"}, function(txn)
    txn:set_var("txn.p", tostring(txn:get_priv()))
end)
"""


def test_lua_priv_header_replacement_and_variables(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """txn:set_priv is seen by the stream's later Lua calls, req_rep_header/req_rep_value
    replace as http_replace_hdrs does, set_var's ifexist only holds for proc."""
    script = tmp_path / "p.lua"
    script.write_text(PRIV)

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        head = HEAD.replace("global\n", f"global\n    lua-load {script}\n")
        text = head + (
            f"frontend fe\n    bind 127.0.0.1:{port}\n    http-request lua.setp\n"
            "    http-request lua.getp\n"
            '    http-request set-header x-p "%[var(txn.p)] %[var(txn.made)]"\n'
            f"    default_backend be\nbackend be\n    server one 127.0.0.1:{servers['s1'].port}\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        c = Client(port)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: aa bb-cc dd\r\nX-V: za, zb\r\n\r\n")
        c.response(b"GET")
        c.close()
        request = servers["s1"].heads[-1].lower()
        return [ln for ln in request.split(b"\r\n") if ln.startswith(b"x-")]

    seen = both(proxy, {"s1": "name"}, run)
    assert seen["pylvs"] == seen["haproxy"] == [b"x-a: cc+bb", b"x-v: y,y", b"x-p: kept yes"]
