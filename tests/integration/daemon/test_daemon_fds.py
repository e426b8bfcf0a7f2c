"""The daemon (on uvloop when installed, as in production) survives running out of descriptors."""

from __future__ import annotations

import resource
import socket
import time

from tests.integration.daemon.daemon_helpers import (
    Backends,
    StartDirector,
    free_port,
    http_get,
    one_service,
    wait_for,
)


def test_out_of_descriptors_then_recovery(backends: Backends, director: StartDirector) -> None:
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


def test_a_full_descriptor_table_recovers_at_once_and_checks_keep_passing(
    backends: Backends, director: StartDirector
) -> None:
    """Issue 18: with the limit at 1024, 600 idle clients filled it; the checks then failed
    for want of descriptors and took the real server out, its relays were held and their
    clients' FINs never read, and the daemon stayed at the limit for minutes.  Now the proxy
    stops short of the checks' reserve (later clients wait in the listen backlog), logs it
    once, and when the clients leave new ones are served at once."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 600 clients + their backends
    try:
        port = backends.start("rs1")
        vport = free_port()
        d = director(
            f"""
virtual_server 127.0.0.1 {vport} {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 1
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
}}
""",
            nofile=1024,
        )
        assert http_get(vport) == "rs1"
        hogs: list[socket.socket] = []
        try:
            for _ in range(600):
                s = socket.socket()
                s.settimeout(2)
                s.connect(("127.0.0.1", vport))
                hogs.append(s)
            # Several check rounds while the table is full: none may fail.
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                assert d.ipvsadm("-Ln").stdout.count("127.0.0.1:%d" % port) == 1, d.output()
                time.sleep(0.5)
            assert d.output().count("descriptor limit reached") == 1, d.output()[-3000:]
        finally:
            for s in hogs:
                s.close()
        # Served at once, not minutes later: the 600 relays end as their clients' FINs are
        # read (well under a second alone; the bound leaves room for a busy machine).
        start = time.monotonic()
        assert http_get(vport, timeout=5) == "rs1", d.output()[-3000:]
        assert time.monotonic() - start < 5.0
        assert wait_for(lambda: "descriptors available again" in d.output()), d.output()[-3000:]
        out = d.output()
        assert "Removing service" not in out and "Disabling service" not in out, out[-3000:]
        assert "Too many open files" not in out, out[-3000:]
        assert d.proc.poll() is None
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
