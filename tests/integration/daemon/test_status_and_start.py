"""`pylvs status` shows the live table (operator edits included); `pylvs run` refuses a
configuration with errors, printing its problems, where it used to run an empty table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.daemon.daemon_helpers import Backends, StartDirector, free_port, pidfile_args


def test_status_shows_the_live_weight_after_an_operator_edit(
    backends: Backends, director: StartDirector
) -> None:
    p1 = backends.start("rs1")
    vport = free_port()
    d = director(f"""
virtual_server 127.0.0.1 {vport} {{
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
        weight 3
    }}
}}
""")
    rs = f"RS [127.0.0.1]:tcp:{p1}"
    assert f"{rs}: UP, weight 3\n" in d.pylvs("status").stdout
    r = d.ipvsadm("-e", "-t", f"127.0.0.1:{vport}", "-r", f"127.0.0.1:{p1}", "-m", "-w", "0")
    assert r.returncode == 0, r.stderr
    assert f"{rs}: UP, weight 0\n" in d.pylvs("status").stdout


def test_run_refuses_a_config_with_errors(tmp_path: Path) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(
        f"""virtual_server 127.0.0.1 {free_port()} {{
    lvs_sched wrr
    delay_loop often
    protocol TCP
}}
"""
    )
    control = tmp_path / "pylvs.sock"
    r = subprocess.run(
        [sys.executable, "-m", "pylvs", "run", "-n", "-f", str(conf), "--control", str(control),
         "--no-syslog", *pidfile_args(tmp_path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert r.returncode == 1
    assert f"{conf}:3:16: error: " in r.stderr
    assert "not starting" in r.stderr
    assert not control.exists()
