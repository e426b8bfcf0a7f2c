"""Health checks steer the daemon's live table: `pylvs ipvsadm -Ln` follows the checkers."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.integration.daemon.daemon_helpers import Backends, StartDirector, free_port, http_get


def wait_for(pred: Callable[[], object], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_dead_backend_leaves_and_returns(backends: Backends, director: StartDirector) -> None:
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


def test_ha_suspend_runs_checkers_only_where_the_address_is(
    backends: Backends, director: StartDirector
) -> None:
    p1 = backends.start("rs1")
    vport = free_port()
    # 192.0.2.10 is not on this host (the proxy listens on it with IP_FREEBIND, no traffic
    # goes there); 127.0.0.1 is.  Both virtual servers check the same real server.
    vs = """
virtual_server {addr} {port} {{
    delay_loop 0.2
    ha_suspend
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
        TCP_CHECK {{
            connect_timeout 0.5
            retry 0
        }}
    }}
}}
"""
    d = director(
        vs.format(addr="192.0.2.10", port=vport, p1=p1)
        + vs.format(addr="127.0.0.1", port=vport, p1=p1)
    )
    backends.stop("rs1")

    def dest_lines(addr: str) -> list[str]:
        out = d.ipvsadm("-Ln", "-t", f"{addr}:{vport}").stdout
        return [ln for ln in out.splitlines() if f"127.0.0.1:{p1}" in ln]

    # where the address is local the checker runs and takes the dead server out ...
    assert wait_for(lambda: not dest_lines("127.0.0.1")), d.output()
    # ... where it is not, the checker is suspended and the server stays as it was
    time.sleep(1.0)
    assert dest_lines("192.0.2.10"), d.output()
    assert "gone, suspending" in d.output()
