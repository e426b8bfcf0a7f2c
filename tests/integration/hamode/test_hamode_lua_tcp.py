"""Lua `tcp` services (`tcp-request content use-service lua.NAME`) as a client sees them
under `pylvs run` and the real `haproxy -db`, same haproxy.cfg and script: an applet that
reads a line, a sized read and everything up to the client's close (across segments sent
apart), answers, reads the stream's variables and fetches; one that fails after sending
(the client gets what was sent, then the close; the error is logged as haproxy logs it);
one that sleeps before answering."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port

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
