"""Issue 18: a virtual service whose port another process holds at start was silently
absent forever.  Now it is in the table, `status` says it does not listen and why, `reload`
fails while it does not, and it takes traffic as soon as the port is free."""

from __future__ import annotations

import socket

from tests.integration.daemon.daemon_helpers import Backends, StartDirector, http_get, wait_for


def test_a_busy_port_is_shown_reported_and_taken_once_free(
    backends: Backends, director: StartDirector
) -> None:
    port = backends.start("rs1")
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    vport = blocker.getsockname()[1]
    try:
        d = director(
            f"""
virtual_server 127.0.0.1 {vport} {{
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 1
    }}
}}
"""
        )
        status = d.pylvs("status")
        assert status.returncode == 0, status.stderr
        assert f"TCP 127.0.0.1:{vport} rr: 1 dest(s); not listening: Address already in use " in (
            status.stdout
        ), status.stdout
        assert f"TCP  127.0.0.1:{vport} rr" in d.ipvsadm("-Ln").stdout  # in the table
        r = d.pylvs("reload")
        assert r.returncode == 1
        assert f"pylvs: TCP 127.0.0.1:{vport}: not listening: Address already in use" in r.stderr
    finally:
        blocker.close()
    assert wait_for(lambda: "not listening" not in d.pylvs("status").stdout), d.output()
    assert http_get(vport) == "rs1"
    r = d.pylvs("reload")
    assert r.returncode == 0, r.stderr
    assert d.output().count("cannot listen: Address already in use") == 1, d.output()
