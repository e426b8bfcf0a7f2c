"""Lua's txn:reply / txn:done(reply), Map and core.parse_addr/match_addr, Server:set_addr, as
a client sees them under `pylvs run` and the real `haproxy -db` (same haproxy.cfg, script
and map files)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.http_helpers import HttpServer
from tests.integration.hamode.http.test_http_proxying import HEAD, both

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

SCRIPT = """\
local str = Map.new("{d}/s.map", Map._str)
local beg = Map.new("{d}/s.map", Map._beg)
local int = Map.new("{d}/i.map", Map._int)
local ip = Map.new("{d}/ip.map", Map._ip)
local lan = core.parse_addr("192.168.0.0/16")
core.register_action("rep", {{"http-req"}}, function(txn)
  local path = txn.sf:path()
  if path == "/teapot" then
    txn:done(txn:reply({{status=418, reason="ignored", body="tea\\n",
                        headers={{["x-multi"]={{"a","b"}}, ["content-length"]="99"}}}}))
  elseif path == "/made" then
    local r = txn:reply()
    r:set_status(201, "Made")
    r:add_header("x-two", "2")
    r:add_header("x-two", "3")
    r:set_body(tostring(r:set_status(700)) .. " " .. r.status)
    txn:done(r)
  elseif path == "/plain" then
    txn:done({{status=202, body="plain"}})
  elseif path == "/maps" then
    local src = core.parse_addr(txn.sf:req_hdr("x-ip"))
    local body = table.concat({{str:lookup("foo"), tostring(str:lookup("x")), "[" ..
      str:slookup("x") .. "]", beg:lookup("/api/v1"), int:lookup(25), ip:lookup("::1"),
      tostring(core.match_addr(lan, src)), tostring(core.match_addr(src, lan))}}, " ")
    local ok, err = pcall(Map.new, "{d}/s.map")
    txn:done(txn:reply({{body=body .. "\\n" .. err .. "\\n"}}))
  elseif path == "/addr" then
    local s = core.backends.be.servers.one
    txn:done(txn:reply({{body=tostring(s:set_addr("127.0.0.2", 81)) .. "\\n" ..
                       tostring(s:set_addr("bogus")) .. "\\n"}}))
  end
end)
"""

CONFIG = """\
frontend fe
    bind 127.0.0.1:{port}
    http-request lua.rep
    http-after-response set-header x-after yes
    http-request return status 298
backend be
    server one 127.0.0.1:{s1}
"""


def _get(port: int, path: str, extra: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % (path.encode(), extra)
        )
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_lua_replies_maps_and_addresses(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    """txn:done(reply) answers with the reply (its status's own reason from txn:reply, the
    body's length, http-after-response on it), Map lookups by method, parse/match_addr,
    Map.new refused once started, set_addr's message."""
    (tmp_path / "s.map").write_text("foo bar\n/api api-backend\n")
    (tmp_path / "i.map").write_text("10 ten\n20-30 range\n")
    (tmp_path / "ip.map").write_text("192.168.0.0/16 lan\n::1 six\n")
    script = tmp_path / "r.lua"
    script.write_text(SCRIPT.format(d=tmp_path))

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        head = HEAD.replace("global\n", f"global\n    lua-load {script}\n")
        proxy(kind, head + CONFIG.format(port=port, s1=servers["s1"].port), ("127.0.0.1", port))
        got = {p: _get(port, p) for p in ("/teapot", "/made", "/plain", "/addr", "/other")}
        got["/maps"] = _get(port, "/maps", b"X-IP: 192.168.7.7\r\n")
        return got

    seen = both(proxy, {"s1": "name"}, run)
    for path, hap in seen["haproxy"].items():
        mine = seen["pylvs"][path]
        # the header lines come in the script table's hash order: compared as sets
        h_head, _, h_body = hap.partition(b"\r\n\r\n")
        p_head, _, p_body = mine.partition(b"\r\n\r\n")
        assert sorted(p_head.split(b"\r\n")) == sorted(h_head.split(b"\r\n")), path
        # the server's port is each run's own
        assert re.sub(rb"'\d{4,5}'", b"PORT", p_body) == re.sub(rb"'\d{4,5}'", b"PORT", h_body)
    got = seen["pylvs"]
    assert got["/teapot"].startswith(b"HTTP/1.1 418 I'm a teapot\r\n")
    assert b"\r\ncontent-length: 4\r\n" in got["/teapot"] and got["/teapot"].endswith(b"tea\n")
    assert b"x-multi: a\r\nx-multi: b\r\n" in got["/teapot"] and b"x-after: yes" in got["/teapot"]
    assert got["/made"].startswith(b"HTTP/1.1 201 Made\r\n") and got["/made"].endswith(b"false 201")
    assert got["/plain"].startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert got["/other"].startswith(b"HTTP/1.1 298 ")
    assert got["/maps"].endswith(
        b"bar nil [] api-backend range six true true\n'new': map: cannot load map at runtime.\n"
    )
    assert re.search(
        rb"IP changed from '127\.0\.0\.1' to '127\.0\.0\.2', port changed from '\d+' to '81' "
        rb"by 'Lua script'\nInvalid addr 'bogus' by 'Lua script'\n$",
        got["/addr"],
    )
