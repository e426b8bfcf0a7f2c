"""/metrics of a running `pylvs run`, scraped while traffic flows and a real server dies.

The values are read with prometheus_client's own parser and must move as the traffic and the
transition say: connections and bytes per service and real server, the dead server's health,
its checker's failures and transition time, its leaving the live table, a reload counted.
"""

from __future__ import annotations

import time

import pytest

from tests.integration.daemon.daemon_helpers import (
    Director,
    free_port,
    http_get,
    one_service,
    wait_for,
)
from tests.integration.web.web_helpers import Samples, request, scrape, value

CONFIG = """
global_defs {{
    pylvs_http 127.0.0.1:{http}
}}
virtual_server 127.0.0.1 {vport} {{
    delay_loop 0.3
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
        TCP_CHECK {{
            connect_timeout 0.5
            retry 1
            delay_before_retry 0.2
        }}
    }}
    real_server 127.0.0.1 {p2} {{
        TCP_CHECK {{
            connect_timeout 0.5
            retry 1
            delay_before_retry 0.2
        }}
    }}
}}
"""


def counted(samples: Samples, svc: dict[str, str]) -> float | None:
    return value(samples, "pylvs_ipvs_service_connections_total", **svc)


@pytest.mark.slow
def test_scrape_follows_traffic_and_a_health_transition(backends, tmp_path) -> None:  # type: ignore[no-untyped-def]
    p1, p2 = backends.start("rs1"), backends.start("rs2")
    vport, http = free_port(), free_port()
    d = Director(tmp_path, CONFIG.format(http=http, vport=vport, p1=p1, p2=p2))
    try:
        svc = {"proto": "TCP", "local_address": "127.0.0.1", "local_port": str(vport)}
        rs1 = {**svc, "remote_address": "127.0.0.1", "remote_port": str(p1)}
        rs2 = {**svc, "remote_address": "127.0.0.1", "remote_port": str(p2)}
        before = scrape(http)
        assert value(before, "pylvs_ipvs_service_connections_total", **svc) == 0
        assert value(before, "pylvs_ipvs_backend_weight", **rs1) == 1
        assert value(before, "pylvs_build_info", dataplane="proxy") == 1
        assert value(before, "process_start_time_seconds") is not None

        answers = [http_get(vport) for _ in range(6)]
        assert sorted(answers) == ["rs1"] * 3 + ["rs2"] * 3
        # A scrape may share the previous one's rendering for a few milliseconds (web/app.py).
        assert wait_for(lambda: counted(scrape(http), svc) == 6)
        after = scrape(http)
        assert value(after, "pylvs_ipvs_backend_connections_total", **rs1) == 3
        assert value(after, "pylvs_ipvs_backend_connections_total", **rs2) == 3
        got = value(after, "pylvs_ipvs_service_incoming_bytes_total", **svc) or 0
        assert got >= 6 * len(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (value(after, "pylvs_ipvs_service_outgoing_bytes_total", **svc) or 0) > 0
        assert value(after, "pylvs_real_server_up", remote_port=str(p1)) == 1
        assert value(after, "pylvs_dataplane_flows", plane="proxy") is not None
        # The live plane's descriptors: the six relays closed, a cap measured at start.
        assert wait_for(
            lambda: value(scrape(http), "pylvs_dataplane_descriptors", plane="proxy") == 0
        )
        assert (value(after, "pylvs_dataplane_descriptor_cap", plane="proxy") or 0) > 100
        assert value(after, "pylvs_dataplane_descriptor_cap_reached_total", plane="proxy") == 0

        stopped = time.time()
        backends.stop("rs1")

        def rs1_down() -> bool:
            return value(scrape(http), "pylvs_real_server_up", remote_port=str(p1)) == 0

        assert wait_for(rs1_down), d.output()
        down = scrape(http)
        assert value(down, "pylvs_real_server_up", remote_port=str(p2)) == 1
        failed = value(down, "pylvs_check_probes_total", remote_port=str(p1), result="failed")
        assert failed is not None and failed >= 1
        since = value(down, "pylvs_real_server_transition_timestamp_seconds", remote_port=str(p1))
        assert since is not None and since >= stopped - 1
        duration = value(down, "pylvs_check_duration_seconds", remote_port=str(p1))
        assert duration is not None and 0 <= duration < 1
        # Health took it out of the live table: no backend series for it any more.
        assert value(down, "pylvs_ipvs_backend_weight", **rs1) is None
        assert value(down, "pylvs_ipvs_backend_weight", **rs2) == 1
        assert {http_get(vport) for _ in range(4)} == {"rs2"}
        assert wait_for(lambda: counted(scrape(http), svc) == 10)
        later = scrape(http)
        assert value(later, "pylvs_ipvs_backend_connections_total", **rs2) == 7
        assert value(later, "pylvs_ipvs_service_connections_total", **svc) == 10

        assert d.pylvs("reload").returncode == 0
        reloads = {"result": "ok"}
        assert wait_for(lambda: value(scrape(http), "pylvs_config_reloads_total", **reloads) == 1)
        reloaded = scrape(http)
        assert value(reloaded, "pylvs_config_reloads_total", result="ok") == 1
        assert value(reloaded, "pylvs_config_last_reload_successful") == 1

        # A reload that changes pylvs_http moves the listener.
        moved = free_port()
        d.conf.write_text(CONFIG.format(http=moved, vport=vport, p1=p1, p2=p2))
        assert d.pylvs("reload").returncode == 0
        assert value(scrape(moved), "pylvs_config_reloads_total", result="ok") == 2
        try:
            request(http, "GET", "/metrics")
            raise AssertionError("the old address still answers")
        except ConnectionRefusedError:
            pass
    finally:
        d.stop()


def test_no_listener_unless_asked(backends, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Off by default; `--http` opens it (and wins over nothing in the config)."""
    p1 = backends.start("rs1")
    vport, http = free_port(), free_port()
    conf = one_service(vport, p1)
    d = Director(tmp_path, conf)
    try:
        try:
            request(http, "GET", "/metrics")
            raise AssertionError("something listens without --http")
        except ConnectionRefusedError:
            pass
    finally:
        d.stop()
    d = Director(tmp_path, conf, flags=("--http", f"127.0.0.1:{http}"))
    try:
        status, _, body = request(http, "GET", "/metrics")
        assert status == 200 and b"pylvs_ipvs_backend_weight{" in body
        assert f"HTTP surface on http://127.0.0.1:{http}/" in d.output()
    finally:
        d.stop()
