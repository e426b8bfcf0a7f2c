"""The JSON API of a running daemon, every answer held to web/assets/openapi.json.

Reads: the state, the table, the checkers, VRRP, the events, the connections.  Writes (an
admin's drain, weight, disable, enable) go through `pylvs ipvsadm`'s code: `ipvsadm -Ln`
shows them, the event history names the user and the ipvsadm command, and everything a
write needs (an admin credential, a JSON body, no foreign Origin) is refused without.
"""

from __future__ import annotations

import socket

import pytest

from tests.integration.daemon.daemon_helpers import Director, free_port, http_get, wait_for
from tests.integration.web.web_helpers import Spec, request

CONFIG = """
virtual_server 127.0.0.1 {vport} {{
    delay_loop 0.3
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
        weight 2
        TCP_CHECK {{
            connect_timeout 0.5
            retry 1
            delay_before_retry 0.2
        }}
    }}
    real_server 127.0.0.1 {p2} {{
        weight 1
    }}
}}
"""
ADMIN = ("ops", "s3cret")
READER = ("grafana", "pw")


@pytest.mark.slow
def test_api_reads_writes_and_refusals(backends, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = Spec()
    p1, p2 = backends.start("rs1"), backends.start("rs2")
    vport, http = free_port(), free_port()
    users = tmp_path / "users"
    users.write_text("admin ops s3cret\nread grafana pw\n")
    flags = ("--http", f"127.0.0.1:{http}", "--http-users", str(users))
    d = Director(tmp_path, CONFIG.format(vport=vport, p1=p1, p2=p2), flags=flags)
    svc, rs1, rs2 = f"TCP:127.0.0.1:{vport}", f"127.0.0.1:{p1}", f"127.0.0.1:{p2}"
    try:
        for route, ops in spec.doc["paths"].items():
            if "get" in ops:
                assert spec.call(http, "GET", route)[0] == 401, route
        # Reads.
        assert http_get(vport) in ("rs1", "rs2")
        held = socket.create_connection(("127.0.0.1", vport))  # one live connection
        status, doc = spec.call(http, "GET", "/api/v1/services", user=READER)
        assert status == 200
        (service,) = doc["services"]
        assert service["id"] == svc and service["scheduler"] == "wrr"
        assert {s["id"]: s["weight"] for s in service["servers"]} == {rs1: 2, rs2: 1}
        assert service["stats"]["conns"] >= 1
        checked = next(s for s in service["servers"] if s["id"] == rs1)
        assert checked["health"]["alive"] and checked["health"]["checks"][0]["kind"] == "TCP_CHECK"
        status, doc = spec.call(http, "GET", "/api/v1/connections", user=READER)
        assert status == 200 and doc["total"] >= 1
        assert any(c["virtual"] == f"127.0.0.1:{vport}" for c in doc["connections"])
        assert spec.call(http, "GET", "/api/v1/connections?limit=-1", user=READER)[0] == 400
        held.close()
        status, doc = spec.call(http, "GET", "/api/v1/checkers", user=READER)
        assert [s["id"] for s in doc["servers"]] == [rs1, rs2]
        status, doc = spec.call(http, "GET", "/api/v1/vrrp", user=READER)
        assert status == 200 and doc == {"instances": []}  # VRRP needs root and instances
        status, doc = spec.call(http, "GET", "/api/v1/state", user=READER)
        assert doc["user"] == {"name": "grafana", "admin": False} and doc["plane"] == "proxy"

        # Writes, as an admin: the table shows them as `ipvsadm -e` would have made them.
        drain = {"action": "drain", "service": svc, "server": rs1}
        status, doc = spec.call(http, "POST", "/api/v1/actions", drain, user=ADMIN)
        assert status == 200
        assert doc["command"] == f"ipvsadm -e -t 127.0.0.1:{vport} -r {rs1} -m -w 0"
        assert f"  -> {rs1}" in d.ipvsadm("-Ln").stdout
        assert [x.split()[3] for x in d.ipvsadm("-Ln").stdout.splitlines() if rs1 in x] == ["0"]
        weight = {"action": "weight", "service": svc, "server": rs2, "weight": 5}
        assert spec.call(http, "POST", "/api/v1/actions", weight, user=ADMIN)[0] == 200
        disable = {"action": "disable", "service": svc, "server": rs2}
        status, doc = spec.call(http, "POST", "/api/v1/actions", disable, user=ADMIN)
        assert status == 200 and doc["command"] == f"ipvsadm -d -t 127.0.0.1:{vport} -r {rs2}"
        assert rs2 not in d.ipvsadm("-Ln").stdout
        status, doc = spec.call(http, "POST", "/api/v1/actions", disable, user=ADMIN)
        assert status == 404
        enable = {"action": "enable", "service": svc, "server": rs2}
        status, doc = spec.call(http, "POST", "/api/v1/actions", enable, user=ADMIN)
        assert (
            status == 200 and doc["command"] == f"ipvsadm -a -t 127.0.0.1:{vport} -r {rs2} -m -w 1"
        )
        assert spec.call(http, "POST", "/api/v1/actions", enable, user=ADMIN)[0] == 409
        gone = {"action": "drain", "service": "TCP:127.0.0.1:1", "server": rs1}
        assert spec.call(http, "POST", "/api/v1/actions", gone, user=ADMIN)[0] == 404

        # Refusals.
        assert spec.call(http, "POST", "/api/v1/actions", drain)[0] == 401
        assert spec.call(http, "POST", "/api/v1/actions", drain, user=READER)[0] == 403
        text = {"Content-Type": "text/plain"}
        assert spec.call(http, "POST", "/api/v1/actions", drain, user=ADMIN, headers=text)[0] == 415
        evil = {"Origin": "http://evil.example"}
        assert spec.call(http, "POST", "/api/v1/actions", drain, user=ADMIN, headers=evil)[0] == 403
        same = {"Origin": f"http://127.0.0.1:{http}"}
        assert spec.call(http, "POST", "/api/v1/actions", drain, user=ADMIN, headers=same)[0] == 200
        for bad in ({"action": "explode", "service": svc, "server": rs1},
                    {"action": "weight", "service": svc, "server": rs1, "weight": 70000},
                    {"action": "drain", "service": "HTTP:1.2.3.4:80", "server": rs1},
                    {"action": "drain", "service": svc, "server": "nowhere"}, [1, 2]):  # fmt: skip
            assert spec.call(http, "POST", "/api/v1/actions", bad, user=ADMIN)[0] == 400, bad
        status, headers, _ = request(http, "GET", "/api/v1/actions", user=ADMIN)
        assert status == 405 and headers["allow"] == "POST"

        # The history names the user and the command; a health event follows a dead server.
        backends.stop("rs1")
        status, doc = spec.call(http, "GET", "/api/v1/events?after=0", user=READER)
        http_events = [e for e in doc["events"] if e["kind"] == "operator"]
        assert http_events[0]["via"] == "http" and http_events[0]["who"] == "ops"
        assert http_events[0]["command"] == f"ipvsadm -e -t 127.0.0.1:{vport} -r {rs1} -m -w 0"
        last = doc["last_seq"]

        def died() -> bool:
            got = spec.call(http, "GET", f"/api/v1/events?after={last}", user=READER)[1]
            return any(e["kind"] == "health" and not e["up"] for e in got["events"])

        assert wait_for(died), d.output()
        status, doc = spec.call(http, "GET", "/api/v1/events?after=0&limit=1", user=READER)
        assert len(doc["events"]) == 1 and doc["events"][0]["kind"] == "health"
        assert spec.call(http, "GET", "/api/v1/events?after=x", user=READER)[0] == 400
        status, doc = spec.call(http, "GET", "/api/v1/services", user=READER)
        dead = next(s for s in doc["services"][0]["servers"] if s["id"] == rs1)
        assert dead["in_table"] is False and dead["health"]["alive"] is False
    finally:
        d.stop()
    documented = {
        (route, method.upper(), int(code))
        for route, ops in spec.doc["paths"].items()
        for method, op in ops.items()
        for code in op["responses"]
    }
    assert documented == spec.checked  # every documented answer was seen and validated
