"""Lua scripts (`lua-load`) as a client sees them under `pylvs run` and the real
`haproxy -db`, same haproxy.cfg and script: a fetch (with arguments, reading another fetch
through `txn.f`), a converter, an `http-req` action editing the request and setting a
variable, an `http-res` action, `core.backends[...].servers[...]:get_stats()` and a fetch
whose script fails (no sample: the header is empty, the stream goes on).
"""

from __future__ import annotations

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


def test_lua_fetches_converters_and_actions(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
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
