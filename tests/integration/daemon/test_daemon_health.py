"""Health checks steer the daemon's live table: `pylvs ipvsadm -Ln` follows the checkers."""

from __future__ import annotations

import time

from daemon_helpers import free_port, http_get


def wait_for(pred, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_dead_backend_leaves_and_returns(backends, director) -> None:  # type: ignore[no-untyped-def]
    p1, p2 = backends.start("rs1"), backends.start("rs2")
    vport = free_port()
    check = """        TCP_CHECK {
            connect_timeout 0.5
            retry 1
            delay_before_retry 0.2
        }"""
    d = director(f"""
virtual_server 127.0.0.1 {vport} {{
    delay_loop 0.2
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
{check}
    }}
    real_server 127.0.0.1 {p2} {{
{check}
    }}
}}
""")

    def listed(port: int) -> bool:
        return f"127.0.0.1:{port} " in d.ipvsadm("-Ln").stdout

    assert listed(p1) and listed(p2)
    backends.stop("rs1")
    assert wait_for(lambda: not listed(p1)), d.output()
    assert "Removing service [127.0.0.1]:tcp:%d from VS" % p1 in d.output()
    assert {http_get(vport) for _ in range(6)} == {"rs2"}  # no new connection to the dead one
    status = d.pylvs("status").stdout
    assert "TCP_CHECK" in status
    backends.start("rs1", p1)
    assert wait_for(lambda: listed(p1)), d.output()
    assert "Adding service [127.0.0.1]:tcp:%d to VS" % p1 in d.output()
    assert {http_get(vport) for _ in range(6)} == {"rs1", "rs2"}
