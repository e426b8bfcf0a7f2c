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
def test_seed_configs_read_with_warnings_only(path: Path) -> None:
    r = check("-f", str(path), "--config-id", "node")
    assert "Traceback" not in r.stderr
    assert all(sev == "warning" for _, _, sev in problems(r.stderr)), r.stderr
    # keepalived 2.2.7 -t reports the seeds' old spellings (nb_get_retry, vrrp_garp_interval
    # 0) and exits 5, and 6 for scripts without script security; pylvs exits as it does
    # (tests/integration/test_check_exit_oracle.py)
    assert r.returncode in (0, 5, 6), r.stderr


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
    assert r.returncode == 5  # keepalived -t: vrrp_garp_interval '0' is invalid
    # vrrp_garp_interval 0 means off
    assert any(line == 14 for _, line, _ in problems(r.stderr)), r.stderr


def test_exit_status_is_keepalived_t_and_strict_adds_pylvs_warnings(tmp_path: Path) -> None:
    seed = DATA / "seeds" / "seed000-master.keepalived.conf"
    assert check("-f", str(seed)).returncode == 5  # nb_get_retry: unknown to keepalived 2.2.7
    conf = tmp_path / "k.conf"
    text = seed.read_text().replace("nb_get_retry", "retry")
    conf.write_text(text)  # lb_algo/lb_kind: deprecated, accepted by keepalived silently
    assert check("-f", str(conf)).returncode == 0
    assert check("-f", str(conf), "--strict").returncode == 0
    conf.write_text("global_defs {\n    enable_snmp_vrrp\n}\n" + text)
    assert check("-f", str(conf)).returncode == 0
    r = check("-f", str(conf), "--strict")  # pylvs does not do SNMP
    assert r.returncode == 5 and "pylvs does not do 'enable_snmp_vrrp'" in r.stderr


def test_broken_config_points_at_file_and_line() -> None:
    path = BROKEN / "lvs-values.conf"
    r = check("-f", str(path))
    assert r.returncode == 5
    errs = {(f, line) for f, line, sev in problems(r.stderr) if sev == "error"}
    assert (str(path), 4) in errs  # lb_algo fastest
    assert (str(path), 13) in errs  # real server weight 99999999999
    assert (str(path), 17) in errs  # connect_port 99999


def test_error_inside_include_names_the_included_file() -> None:
    r = check("-f", str(BROKEN / "lvs-include.conf"))
    assert r.returncode == 5
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
    assert r.returncode == 4 and "Traceback" not in r.stderr  # KEEPALIVED_CHK_EXIT_CONFIG
    binary = tmp_path / "bin.conf"
    binary.write_bytes(bytes(range(256)) * 4)
    r2 = check("-f", str(binary))
    assert "Traceback" not in r2.stderr
    assert r2.returncode in (0, 5)
