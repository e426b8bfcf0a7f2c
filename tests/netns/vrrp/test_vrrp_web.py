"""VRRP on the HTTP surface: a `pylvs run` director in a namespace, its instance going
BACKUP -> MASTER -> BACKUP (a higher-priority peer appears), as /metrics, /api/v1/vrrp and the
event history show it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.root, pytest.mark.slow]

HTTP = 9180


def wait_until(pred: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def fetch(node, path: str) -> str:  # type: ignore[no-untyped-def]
    """GET from inside the node's namespace (the listener is bound to its address)."""
    url = f"http://{node.ip}:{HTTP}{path}"
    code = f"import urllib.request as u; print(u.urlopen({url!r}, timeout=5).read().decode())"
    done = subprocess.run(
        ["ip", "netns", "exec", node.ns, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout


def samples(node, name: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out = {}
    for family in text_string_to_metric_families(fetch(node, "/metrics")):
        for s in family.samples:
            if s.name == name:
                out[s.labels.get("kind", s.labels.get("iname", ""))] = s.value
    return out


def test_vrrp_state_metrics_and_events(lab, conf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = lab.node("a"), lab.node("b")
    text = conf.config(conf.instance(priority=100, advert_int=0.2, version=3))
    path = a.write("keepalived.conf", text)
    argv = [
        sys.executable,
        "-m",
        "pylvs",
        "run",
        "-n",
        "-f",
        str(path),
        "--dataplane",
        "proxy",
        "--http",
        f"{a.ip}:{HTTP}",
        "--control",
        str(tmp_path / "a.sock"),
        "--no-syslog",
        "-p",
        str(tmp_path / "p"),
        "-r",
        str(tmp_path / "r"),
        "-c",
        str(tmp_path / "c"),
    ]
    a.spawn(argv, "pylvs")
    assert wait_until(lambda: samples(a, "pylvs_vrrp_state").get("VI_1") == 2, 20)  # MASTER
    sent = samples(a, "pylvs_vrrp_advertisements_sent_total")["VI_1"]
    assert wait_until(lambda: samples(a, "pylvs_vrrp_advertisements_sent_total")["VI_1"] > sent, 5)
    (inst,) = json.loads(fetch(a, "/api/v1/vrrp"))["instances"]
    assert inst["state"] == "MASTER" and inst["vrid"] == 51 and inst["master"] == a.ip

    b.pylvs(conf.config(conf.instance(priority=150, advert_int=0.2, version=3)))  # takes over
    assert wait_until(lambda: samples(a, "pylvs_vrrp_state").get("VI_1") == 1, 20)  # BACKUP
    assert samples(a, "pylvs_vrrp_advertisements_received_total")["VI_1"] > 0
    assert samples(a, "pylvs_vrrp_release_master_total")["VI_1"] == 1
    assert samples(a, "pylvs_vrrp_errors_total")["checksum"] == 0
    events = json.loads(fetch(a, "/api/v1/events"))["events"]
    moves = [(e["old"], e["new"]) for e in events if e["kind"] == "vrrp"]
    assert moves == [("INIT", "BACKUP"), ("BACKUP", "MASTER"), ("MASTER", "BACKUP")]
    causes = [e["cause"] for e in events if e["kind"] == "vrrp"]
    assert causes[0] == "(VI_1) Entering BACKUP STATE (init)"
    assert causes[2].startswith(f"(VI_1) Master received advert from {b.ip} with higher priority")
    (inst,) = json.loads(fetch(a, "/api/v1/vrrp"))["instances"]
    assert inst["state"] == "BACKUP" and inst["master"] == b.ip
