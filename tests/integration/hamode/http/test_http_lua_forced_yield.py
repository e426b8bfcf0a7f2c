"""Forced yields (`tune.lua.forced-yield`): a Lua task that computes forever without
sleeping, and an action that runs past `tune.lua.session-timeout`, do not hold the daemon:
other requests are answered meanwhile (as by haproxy 2.6.12, whose hook yields too), and
the action is cut with HAProxy's "execution timeout" message."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

SCRIPT = """\
core.register_task(function() local n = 0 while true do n = n + 1 end end)
core.register_action("loop", {"http-req"}, function(txn)
  local n = 0
  while true do n = n + 1 end
end)
"""

CONFIG = """\
global
    nbthread 1
    lua-load {script}
    tune.lua.session-timeout 2s
defaults
    mode http
    timeout client 20s
    timeout server 20s
    timeout connect 5s
frontend fe
    bind 127.0.0.1:{port}
    http-request lua.loop if {{ path /loop }}
    http-request return status 200 content-type text/plain lf-string "ok-%[path]"
"""


def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


@pytest.mark.parametrize("kind", ["haproxy", "pylvs"])
def test_busy_lua_does_not_hold_the_daemon(
    proxy: Callable[..., Proxy], tmp_path: Path, kind: str
) -> None:
    script = tmp_path / "busy.lua"
    script.write_text(SCRIPT)
    port = free_port()
    p = proxy(kind, CONFIG.format(script=script, port=port), ("127.0.0.1", port))
    # the task spins from the start: requests are still answered
    assert _get(port, "/a").endswith(b"ok-/a")
    looped: list[bytes] = []
    slow = threading.Thread(target=lambda: looped.append(_get(port, "/loop")))
    slow.start()
    try:
        # while the action spins towards its 2 s budget, another request is answered
        assert _get(port, "/b").endswith(b"ok-/b")
        assert slow.is_alive()
    finally:
        slow.join(30)
    # the action is cut at its budget; the rules go on (the next rule answers)
    assert looped and looped[0].endswith(b"ok-/loop")
    out = p.output()
    line = next(ln for ln in out.splitlines() if "Lua function 'loop'" in ln)
    assert ": Lua function 'loop': [state-id 0] runtime error: execution timeout from " in line
