"""The event history of a running daemon: `pylvs events` and `--events-log FILE`.

A real server dies (a health event with its checker's reason), an operator quiesces another
with `pylvs ipvsadm` (an operator event), the configuration is reloaded with one more real
server (a reload event naming the change) and then with an error (a refused reload).
"""

from __future__ import annotations

import json

import pytest

from tests.integration.daemon.daemon_helpers import Director, free_port, wait_for

CONFIG = """
virtual_server 127.0.0.1 {vport} {{
    delay_loop 0.3
    lvs_sched rr
    lvs_method NAT
    protocol TCP
{servers}
}}
"""
SERVER = """    real_server 127.0.0.1 {port} {{
        TCP_CHECK {{
            connect_timeout 0.5
            retry 1
            delay_before_retry 0.2
        }}
    }}
"""


def config(vport: int, *ports: int) -> str:
    return CONFIG.format(vport=vport, servers="".join(SERVER.format(port=p) for p in ports))


@pytest.mark.slow
def test_events_of_health_operator_and_reload(backends, tmp_path) -> None:  # type: ignore[no-untyped-def]
    p1, p2, p3 = backends.start("rs1"), backends.start("rs2"), backends.start("rs3")
    vport = free_port()
    log_path = tmp_path / "events.jsonl"
    d = Director(tmp_path, config(vport, p1, p2), flags=("--events-log", str(log_path)))
    try:
        backends.stop("rs1")

        def events() -> list[dict[str, object]]:
            out = d.pylvs("events", "--json").stdout
            return [json.loads(x) for x in out.splitlines()]

        assert wait_for(lambda: any(e["kind"] == "health" for e in events())), d.output()
        quiesce = ("-e", "-t", f"127.0.0.1:{vport}", "-r", f"127.0.0.1:{p2}", "-m", "-w", "0")
        assert d.ipvsadm(*quiesce).returncode == 0
        assert d.ipvsadm("-Ln").returncode == 0  # a listing is not an event
        d.conf.write_text(config(vport, p1, p2, p3))
        assert d.pylvs("reload").returncode == 0
        d.conf.write_text("virtual_server {\n")
        assert d.pylvs("reload").returncode == 1

        got = events()
        assert [e["kind"] for e in got] == ["health", "operator", "reload", "reload"]
        health, operator, reload, refused = got
        assert health["server"] == f"[127.0.0.1]:tcp:{p1}" and health["up"] is False
        assert health["checker"] == "TCP_CHECK" and health["reason"]
        assert operator["command"] == "ipvsadm " + " ".join(quiesce)
        assert operator["exit_code"] == 0 and operator["via"] == "ipvsadm"
        assert reload["ok"] is True
        assert reload["changes"] == [f"added 127.0.0.1:{p3} to TCP 127.0.0.1:{vport} (weight 1)"]
        assert refused["ok"] is False and refused["problems"]
        assert [e["seq"] for e in got] == [1, 2, 3, 4]

        text = d.pylvs("events", "-n", "2").stdout.splitlines()
        assert len(text) == 2
        assert text[0].split()[2] == "reload" and text[0].endswith("1 change(s) to the table")
        assert "reload refused (" in text[1]
        assert f"[127.0.0.1]:tcp:{p1} of " in d.pylvs("events").stdout
    finally:
        d.stop()
    written = [json.loads(x) for x in log_path.read_text().splitlines()]
    assert written == got
