"""The daemon (on uvloop when installed, as in production) survives running out of descriptors."""

from __future__ import annotations

import socket
import time

from daemon_helpers import free_port, http_get, one_service


def test_out_of_descriptors_then_recovery(backends, director) -> None:  # type: ignore[no-untyped-def]
    port = backends.start("rs1")
    vport = free_port()
    d = director(one_service(vport, port), nofile=64)
    assert http_get(vport) == "rs1"
    hogs: list[socket.socket] = []
    try:
        # Each idle proxied client costs the daemon two descriptors: 60 clients exhaust 64.
        for _ in range(60):
            s = socket.socket()
            s.settimeout(0.3)  # once the daemon stops accepting, the backlog fills up
            try:
                s.connect(("127.0.0.1", vport))
            except OSError:
                s.close()
                continue
            hogs.append(s)
        time.sleep(0.5)
        assert d.proc.poll() is None, d.output()
        # the limit was really reached: some clients were cut off (EOF or reset)
        cut = 0
        for s in hogs:
            try:
                cut += s.recv(1, socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                pass
            except OSError:
                cut += 1
        assert cut + (60 - len(hogs)) > 0
    finally:
        for s in hogs:
            s.close()
    # Descriptors come back: the daemon serves again (accept back-off is about a second).
    deadline = time.monotonic() + 10
    answer = ""
    while time.monotonic() < deadline and answer != "rs1":
        try:
            answer = http_get(vport, timeout=2)
        except OSError:
            time.sleep(0.2)
    assert answer == "rs1", d.output()[-2000:]
    assert d.ipvsadm("-Ln").returncode == 0
    assert d.proc.poll() is None
