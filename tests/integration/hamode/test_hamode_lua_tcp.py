"""Lua `tcp` services (`tcp-request content use-service lua.NAME`) as a client sees them
under `pylvs run` and the real `haproxy -db`, same haproxy.cfg and script: an applet that
reads a line, a sized read and everything up to the client's close (across segments sent
apart), answers, reads the stream's variables and fetches; one that fails after sending
(the client gets what was sent, then the close; the error is logged as haproxy logs it);
one that sleeps before answering."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.server_helpers import ThreadedServer

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

SCRIPT = """\
core.register_service("echo", "tcp", function(applet)
  local line = applet:getline()
  applet:send("line=[" .. line .. "]\\n")
  applet:send("four=[" .. applet:receive(4) .. "]\\n")
  applet:set_var("txn.x", "v")
  applet:send("var=" .. tostring(applet:get_var("txn.x")) .. " src=" .. applet.f:src() .. "\\n")
  applet:send("rest=[" .. applet:receive() .. "]\\n")
  applet:send("after=[" .. applet:receive(10) .. "][" .. applet:getline() .. "]\\n")
end)
core.register_service("fail", "tcp", function(applet)
  applet:send("partial\\n")
  error("boom")
end)
core.register_service("slow", "tcp", function(applet)
  core.msleep(100)
  applet:send("bye\\n")
end)
"""

CONFIG = """\
global
    lua-load {script}
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend f1
    bind 127.0.0.1:{p1}
    tcp-request content use-service lua.echo
frontend f2
    bind 127.0.0.1:{p2}
    tcp-request content use-service lua.fail
frontend f3
    bind 127.0.0.1:{p3}
    tcp-request content use-service lua.slow
"""


def _read_all(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def test_lua_tcp_services(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    script = tmp_path / "t.lua"
    script.write_text(SCRIPT)
    seen: dict[str, Any] = {}
    for kind in ("haproxy", "pylvs"):
        ports = [free_port() for _ in range(3)]
        text = CONFIG.format(script=script, p1=ports[0], p2=ports[1], p3=ports[2])
        p = proxy(kind, text, ("127.0.0.1", ports[0]))
        with socket.create_connection(("127.0.0.1", ports[0]), timeout=10) as s:
            s.sendall(b"hello\nabcdEFGH")
            time.sleep(0.2)  # the rest comes apart: receive() waits for it
            s.sendall(b"IJ")
            time.sleep(0.2)
            s.shutdown(socket.SHUT_WR)
            got = [_read_all(s)]
        for port in ports[1:]:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                got.append(_read_all(s))
        seen[kind] = got, p
    got = seen["pylvs"][0]
    assert got == seen["haproxy"][0]
    assert got[0] == (
        b"line=[hello\n]\nfour=[abcd]\nvar=v src=127.0.0.1\nrest=[EFGHIJ]\nafter=[][]\n"
    )
    assert got[1:] == [b"partial\n", b"bye\n"]
    # the error as haproxy logs it (the line's head and pid are each process's own)
    lines = {}
    for kind in ("haproxy", "pylvs"):
        deadline = time.monotonic() + 5
        while "<lua.fail>" not in seen[kind][1].output() and time.monotonic() < deadline:
            time.sleep(0.05)
        out = seen[kind][1].output().splitlines()
        lines[kind] = next(ln for ln in out if "<lua.fail>" in ln).split(" : ", 1)[1]
    assert lines["pylvs"] == lines["haproxy"]
    assert lines["pylvs"].startswith("Lua applet tcp '<lua.fail>': [state-id 0] runtime error: ")
    assert "t.lua:12: boom from [C]: in global 'error', " in lines["pylvs"]


CHANNELS = """\
core.register_action("rw", {"tcp-req"}, function(txn)
  local r = txn.req
  local info = {r:input(), r:output(), tostring(r:is_resp()), tostring(txn.res:is_resp()),
                r:dup(), r:data(1, 3), r:data(-4), r:line(), tostring(r:may_recv())}
  local line = r:getline()
  r:set("NEW", 0, 3)
  r:insert("<ins>", 2)
  r:prepend("[pre]")
  r:append("[app]")
  local removed = r:remove(-2)
  r:send("SENT:")
  r:forward(3)
  local ok, err = pcall(r.data, r, 999)
  txn.res:send("info=" .. table.concat(info, "|") .. " line=" .. line .. " removed=" ..
    removed .. " err=" .. tostring(err) .. " out=" .. r:output() .. " in=" .. r:input() .. "\\n")
end)
core.register_action("bye", {"tcp-req"}, function(txn)
  txn.res:send("goodbye " .. txn.req:get() .. "\\n")
  txn:done()
end)
core.register_action("resp", {"tcp-res"}, function(txn)
  local got = txn.res:get()
  txn.res:send("server said: " .. got)
end)
core.register_action("h", {"http-req"}, function(txn)
  local ok, err = pcall(txn.req.dup, txn.req)
  local ok2, err2 = pcall(txn.res.send, txn.res, "x")
  txn:set_var("txn.h", tostring(err) .. " " .. tostring(err2) .. " " .. tostring(txn.req:is_resp()))
end)
"""

CHANNELS_CONFIG = """\
global
    lua-load {script}
defaults
    mode tcp
    timeout client 5s
    timeout server 5s
    timeout connect 5s
frontend f1
    bind 127.0.0.1:{p1}
    tcp-request inspect-delay 2s
    tcp-request content lua.rw if {{ req.len ge 20 }}
    default_backend echo
frontend f2
    bind 127.0.0.1:{p2}
    tcp-request inspect-delay 2s
    tcp-request content lua.bye if {{ req.len gt 0 }}
frontend f3
    bind 127.0.0.1:{p3}
    default_backend echo2
frontend f4
    mode http
    bind 127.0.0.1:{p4}
    http-request lua.h
    http-request return status 200 content-type text/plain lf-string "%[var(txn.h)]\\n"
backend echo
    server s 127.0.0.1:{echo}
backend echo2
    tcp-response inspect-delay 2s
    tcp-response content lua.resp if {{ res.len gt 0 }}
    server s 127.0.0.1:{echo}
"""


class _Echo(ThreadedServer):
    """A server that answers `echo:` and what it got once it saw END (or 1 s passed)."""

    def __init__(self) -> None:
        super().__init__(backlog=16)

    def serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1.0)
            data = b""
            try:
                while b"END" not in data and (d := conn.recv(4096)):
                    data += d
            except OSError:
                pass
            with contextlib.suppress(OSError):
                conn.sendall(b"echo:" + data + b"\n")


def _talk(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        return _read_all(s)


def test_lua_channels_in_tcp_and_http_rules(proxy: Callable[..., Proxy], tmp_path: Path) -> None:
    """txn.req read and rewritten in tcp-request content (what the server gets is the
    channel: 2.6's append inserts at the input's start), txn.res:send answering the client
    (then txn:done closes), a tcp-response action rewriting what the client gets, and the
    HTTP refusals."""
    script = tmp_path / "c.lua"
    script.write_text(CHANNELS)
    seen: dict[str, list[bytes]] = {}
    for kind in ("haproxy", "pylvs"):
        echo = _Echo()
        try:
            ports = [free_port() for _ in range(4)]
            names = {f"p{i + 1}": p for i, p in enumerate(ports)}
            text = CHANNELS_CONFIG.format(script=script, echo=echo.port, **names)
            proxy(kind, text, ("127.0.0.1", ports[0]))
            seen[kind] = [
                _talk(ports[0], b"GET x\nabcdefghijklmnopqrstuvwxyz END"),
                _talk(ports[1], b"hello"),
                _talk(ports[2], b"ping END"),
                _talk(ports[3], b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            ]
        finally:
            echo.close()
    assert seen["pylvs"] == seen["haproxy"]
    got = seen["pylvs"]
    assert got[0].endswith(b"\necho:SENT:[app][pre]NE<ins>Wdefghijklmnopqrstuvwxyz E\n")
    assert got[1:3] == [b"goodbye hello\n", b"server said: echo:ping END\n"]
    assert got[3].endswith(
        b"Cannot manipulate HAProxy channels in HTTP mode. "
        b"Cannot manipulate HAProxy channels in HTTP mode. false\n"
    )
