"""Lua's core.tcp() sockets as a client sees them under `pylvs run` and the real
`haproxy -db` (same haproxy.cfg and script; `nbthread 1`: 2.6.12's sockets are not safe
across threads): an HTTP action and an HTTP service each connect to a line server, send,
read a line, a line with a prefix, then all up to the close; an init function's connect
gets nil (no stream to wait in).  The daemon serves other requests while a script waits
on its socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

SCRIPT = """\
local init_result = "?"
core.register_init(function()
  local ok, err = core.tcp():connect("127.0.0.1", {port})
  init_result = tostring(ok) .. " " .. tostring(err)
end)
local function talk()
  local out = {{}}
  local s = core.tcp()
  s:settimeout(5)
  out[#out+1] = tostring(s:connect("127.0.0.1", {port}))
  out[#out+1] = tostring(s:send("ping\\r\\n"))
  out[#out+1] = tostring(s:receive())
  out[#out+1] = tostring(s:send("xxhello\\r\\nxx", 3, -3))
  out[#out+1] = tostring(s:receive("*l", "pre:"))
  s:send("QUIT\\r\\n")
  out[#out+1] = tostring(s:receive("*l"))
  out[#out+1] = tostring(s:receive("*a"))
  s:close()
  return table.concat(out, "|")
end
core.register_service("svc", "http", function(applet)
  local body = "init=" .. init_result .. " svc=" .. talk() .. "\\n"
  applet:add_header("content-length", tostring(#body))
  applet:start_response()
  applet:send(body)
end)
core.register_action("act", {{"http-req"}}, function(txn)
  txn:set_var("txn.r", talk())
end)
"""

CONFIG = """\
global
    nbthread 1
    lua-load {script}
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string fast if {{ path /fast }}
    http-request use-service lua.svc if {{ path /svc }}
    http-request lua.act
    http-request return status 200 content-type text/plain lf-string "act=%[var(txn.r)]"
"""


class _LineServer(ThreadedServer):
    """Answers each line with `+LINE` upper-cased; `QUIT` gets `bye`, a partial line, the
    close.  Each answer waits `delay` seconds (the daemon must serve meanwhile); `reading`
    is set once a line came."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.reading = threading.Event()
        super().__init__(backlog=16)

    def serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as f:
            try:
                for line in f:
                    self.reading.set()
                    time.sleep(self.delay)
                    if line.startswith(b"QUIT"):
                        conn.sendall(b"bye\r\npartial")
                        return
                    conn.sendall(b"+" + line.strip().upper() + b"\r\n")
            except OSError:
                pass


def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.partition(b"\r\n\r\n")[2]


def test_lua_sockets_in_actions_and_services(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    for kind in ("haproxy", "pylvs"):
        server = _LineServer()
        try:
            script = tmp_path / f"{kind}.lua"
            script.write_text(SCRIPT.format(port=server.port))
            port = free_port()
            proxy(kind, CONFIG.format(script=script, port=port), ("127.0.0.1", port))
            seen[kind] = [_get(port, "/svc"), _get(port, "/act")]
        finally:
            server.close()
    assert seen["pylvs"] == seen["haproxy"]
    talk = b"1|6|+PING|7|pre:+HELLO|bye|partial"
    assert seen["pylvs"] == [b"init=nil nil svc=" + talk + b"\n", b"act=" + talk]


def test_a_script_waiting_on_its_socket_does_not_hold_the_daemon(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    server = _LineServer(delay=1.0)
    try:
        script = tmp_path / "s.lua"
        script.write_text(SCRIPT.format(port=server.port))
        port = free_port()
        proxy("pylvs", CONFIG.format(script=script, port=port), ("127.0.0.1", port))
        got: list[bytes] = []
        slow = threading.Thread(target=lambda: got.append(_get(port, "/act")))
        slow.start()
        assert server.reading.wait(10)  # the action now waits on its server's first answer
        assert _get(port, "/fast") == b"fast"
        # answered while the script still waits (its server takes 1 s per line, 4 lines)
        assert slow.is_alive() and not got
        slow.join(30)
        assert got == [b"act=1|6|+PING|7|pre:+HELLO|bye|partial"]
    finally:
        server.close()
