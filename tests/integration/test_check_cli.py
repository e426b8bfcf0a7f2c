"""`pylvs check` as a user runs it: a subprocess on the seed configs and on broken ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "keepalived"
SEEDS = sorted((DATA / "seeds").glob("*.keepalived.conf"))
BROKEN = DATA / "broken"


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylvs", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def problems(out: str) -> list[tuple[str, int, str]]:
    """(file, line, severity) of each `FILE:LINE:COL: severity: message` line."""
    found = []
    for line in out.splitlines():
        parts = line.split(":", 4)
        if len(parts) == 5 and parts[3].strip() in ("error", "warning"):
            found.append((parts[0], int(parts[1]), parts[3].strip()))
    return found


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_configs_pass_with_warnings_only(path: Path) -> None:
    r = check("-f", str(path), "--config-id", "node")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert all(sev == "warning" for _, _, sev in problems(r.stderr)), r.stderr


def test_seed000_expected_warnings() -> None:
    path = DATA / "seeds" / "seed000-master.keepalived.conf"
    r = check("-f", str(path))
    found = {(line, sev) for _, line, sev in problems(r.stderr)}
    # lb_algo (35), lb_kind (36), nb_get_retry in TCP_CHECK (44, 53)
    assert found == {(35, "warning"), (36, "warning"), (44, "warning"), (53, "warning")}
    assert "'nb_get_retry' is deprecated" in r.stderr


def test_seed001_annotated_warns_about_missing_script_user() -> None:
    path = DATA / "seeds" / "seed001-annotated.keepalived.conf"
    r = check("-f", str(path))
    assert r.returncode == 0
    # vrrp_garp_interval 0 means off
    assert any(line == 14 for _, line, _ in problems(r.stderr)), r.stderr


def test_strict_makes_warnings_fail() -> None:
    r = check("-f", str(DATA / "seeds" / "seed000-master.keepalived.conf"), "--strict")
    assert r.returncode == 1


def test_broken_config_points_at_file_and_line() -> None:
    path = BROKEN / "lvs-values.conf"
    r = check("-f", str(path))
    assert r.returncode == 1
    errs = {(f, line) for f, line, sev in problems(r.stderr) if sev == "error"}
    assert (str(path), 4) in errs  # lb_algo fastest
    assert (str(path), 13) in errs  # real server weight 99999999999
    assert (str(path), 17) in errs  # connect_port 99999


def test_error_inside_include_names_the_included_file() -> None:
    r = check("-f", str(BROKEN / "lvs-include.conf"))
    assert r.returncode == 1
    assert problems(r.stderr) == [(str(BROKEN / "inc" / "vs.conf"), 6, "error")]


def test_dump_prints_json_with_the_ipvs_table() -> None:
    r = check("-f", str(DATA / "seeds" / "seed000-master.keepalived.conf"), "--dump")
    doc = json.loads(r.stdout)
    (svc,) = doc["ipvs"]
    assert svc["service"]["key"]["address"] == "61.164.122.8"
    assert svc["service"]["scheduler"] == "wrr" and svc["service"]["timeout"] == 60
    assert [d["weight"] for d in svc["dests"]] == [3, 3]
    vs = doc["config"]["virtual_servers"][0]
    assert vs["real_servers"][0]["checkers"][0]["kind"] == "TCP_CHECK"


def test_missing_and_binary_files_give_errors_not_tracebacks(tmp_path: Path) -> None:
    r = check("-f", str(tmp_path / "nope.conf"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    binary = tmp_path / "bin.conf"
    binary.write_bytes(bytes(range(256)) * 4)
    r2 = check("-f", str(binary))
    assert "Traceback" not in r2.stderr
    assert r2.returncode in (0, 1)
